"""The reporter hears back (issue #13, points 4 and 5), with a running hub (real Redis, both
databases) and a clock the test controls: DKE's kvittering meets the 6-working-day receipt clock,
a missing one breaches it; feedback is minimised and only for a professional notifier after a
decision; a private reporter gets no receipt clock and is recorded under the general duty; the
§ 133 notification says which duty it carries on; `hub triage receipt`/`feedback` exit codes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.schemas import streams
from hub.schemas.events import DEADLINE_BREACHED
from hub.schemas.reporter import FEEDBACK_GIVEN, REPORT_ACKNOWLEDGED
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, cloudevent, entry, report_data
from tests.integration.wire import read_events, stream_events

SCHOOL, PRIVATE = "herstedlund-skole", "borgere"
runner = CliRunner()


def env_for(settings: Any) -> dict[str, str]:
    return {
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_LOG_LEVEL": "WARNING",
    }


async def cli(env: dict[str, str], *args: str) -> Any:
    """The hub runs on this event loop: a command that waits for the outcome runs in a thread."""
    return await asyncio.to_thread(runner.invoke, app, ["triage", *args, "--wait", "20"], env=env)


async def events(
    hub: Any, client: aredis.Redis, stream: str, type_: str | None = None, at_least: int = 1
) -> list[dict[str, Any]]:
    """The stream's events (`type_`: only those) once there are `at_least` (up to 10 s: the worker
    publishes after its commit, which the CLI has already seen), or what there is then."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        await hub.relay.drain()
        found = [e for e in await stream_events(client, stream) if type_ is None or e["type"] == type_]
        if len(found) >= at_least or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def report_from(client: aredis.Redis, source: str, data: dict[str, Any]) -> str:
    await client.xadd(streams.intake(source), entry(cloudevent(source, data)))  # type: ignore[arg-type]
    [receipt] = await read_events(client, streams.receipts(source), 1)
    return str(receipt["data"]["report_ref"])


def personal(data: dict[str, Any]) -> list[str]:
    return [data["subject"]["cpr"], CHILD_NAME, CHILD_DESCRIPTION, data["reporter"]["name"]]


async def test_a_kvittering_meets_the_receipt_clock_and_feedback_follows_a_decision(hub: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    env = env_for(hub.settings)
    data = report_data()
    ref = await report_from(client, SCHOOL, data)
    [notification] = await read_events(client, streams.CHILDREN_NOTIFICATIONS, 1)
    assert notification["data"]["duty"] == "enhanced" and notification["data"]["duty_citation"] == "Barnets lov § 133"
    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert "Kvittering (6 hverdage): løber" in shown.output, shown.output  # no longer met at intake
    assert "Indberetteren har ikke fået kvittering" in shown.output

    # Feedback before a decision is refused, with a Danish reason and exit code 1.
    early = await cli(env, "feedback", ref, "--outcome", "investigation", "--by", "AB")
    assert early.exit_code == 1 and "feedback_before_decision" in early.output, early.output
    assert "ikke afgjort endnu" in early.output

    sent = await cli(env, "receipt", ref, "--by", "AB")
    assert sent.exit_code == 0 and "Kvittering sendt til indberetteren" in sent.output, sent.output
    [acknowledged] = await events(hub, client, streams.receipts(SCHOOL), REPORT_ACKNOWLEDGED)
    body = acknowledged["data"]
    assert body["report_ref"] == ref and body["message_da"].startswith("Kommunen har modtaget din underretning")
    assert body["report_event_id"] and body["received_at"] and "Kriminalpræventive" in body["contact"]
    assert body["legal_basis"] == ["Barnets lov § 137, stk. 1"]
    text = json.dumps(acknowledged, ensure_ascii=False)
    assert not [p for p in personal(data) if p in text]
    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert "Kvittering (6 hverdage): overholdt" in shown.output and "Kvittering, sendt af AB" in shown.output

    again = await cli(env, "receipt", ref, "--by", "AB")
    assert again.exit_code == 1 and "already_acknowledged" in again.output

    decided = await cli(env, "decide", ref, "--level", "I", "--pillar", "reactive", "--by", "AB")
    assert decided.exit_code == 0, decided.output
    fed = await cli(env, "feedback", ref, "--outcome", "measures", "--by", "AB")
    assert fed.exit_code == 0 and "Førte til hjælp og støtte" in fed.output, fed.output
    [feedback] = await events(hub, client, streams.receipts(SCHOOL), FEEDBACK_GIVEN)
    assert feedback["data"]["outcome"] == "measures"
    assert set(feedback["data"]) == {
        "report_ref", "report_event_id", "received_at", "message_da", "contact", "legal_basis", "outcome",
    }  # fmt: skip
    text = json.dumps(feedback, ensure_ascii=False)
    assert not [p for p in personal(data) if p in text] and "bkv" not in text
    # The kvittering went once: the decision did not send a second one.
    kinds = [e["type"] for e in await events(hub, client, streams.receipts(SCHOOL), at_least=3)]
    assert kinds.count(REPORT_ACKNOWLEDGED) == 1

    # A clock seven working days on: the met receipt clock never fires.
    assert hub.clocks is not None
    hub.clocks.now = lambda: datetime.now(UTC) + timedelta(days=12)
    await hub.clocks.tick()
    await asyncio.sleep(0.3)
    assert not [e for e in await events(hub, client, streams.DEADLINES, at_least=0) if e["data"]["kind"] == "receipt"]
    await client.aclose()


async def test_a_missing_kvittering_breaches_and_a_decision_sends_it_late(hub: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    env = env_for(hub.settings)
    ref = await report_from(client, SCHOOL, report_data())
    assert hub.clocks is not None
    hub.clocks.now = lambda: datetime.now(UTC) + timedelta(days=12)  # past the sixth working day
    await hub.clocks.tick()
    breaches = await events(hub, client, streams.DEADLINES, DEADLINE_BREACHED, at_least=2)
    assert {(e["data"]["kind"], e["data"]["rule_id"]) for e in breaches} == {
        ("assessment", "BL-ASSESS-24H"),
        ("receipt", "BL-RECEIPT-6D"),
    }
    # The first decision sends the kvittering that was not sent: late, but sent, and recorded.
    decided = await cli(env, "decide", ref, "--level", "I", "--pillar", "reactive", "--by", "CD")
    assert decided.exit_code == 0, decided.output
    acks = await events(hub, client, streams.receipts(SCHOOL), REPORT_ACKNOWLEDGED)
    assert [a["data"]["report_ref"] for a in acks] == [ref]
    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert "Kvittering (6 hverdage): overskredet" in shown.output and "Kvittering, sendt af CD" in shown.output
    await client.aclose()


async def test_a_private_reporter_has_the_general_duty_no_clock_and_no_feedback(hub: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    env = env_for(hub.settings)
    data = report_data(reporter={"name": "Nabo Testesen", "role": "nabo", "public_employee": False})
    ref = await report_from(client, PRIVATE, data)
    [notification] = await read_events(client, streams.CHILDREN_NOTIFICATIONS, 1)
    assert notification["data"]["duty"] == "general" and notification["data"]["duty_citation"] == "Barnets lov § 134"
    assert "BL134-GENERAL" in notification["data"]["rule_ids"] and notification["data"].get("receipt_due_by") is None
    [queued] = [e for q in streams.Queue for e in await stream_events(client, streams.triage(q))]
    assert queued["data"]["reporter_duty"] == "general"
    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert "Kvittering (6 hverdage)" not in shown.output  # no receipt clock

    decided = await cli(env, "decide", ref, "--level", "I", "--pillar", "reactive", "--by", "EF")
    assert decided.exit_code == 0, decided.output
    await asyncio.sleep(0.3)
    assert not await events(hub, client, streams.receipts(PRIVATE), REPORT_ACKNOWLEDGED, at_least=0)
    refused = await cli(env, "feedback", ref, "--outcome", "no_action", "--by", "EF")
    assert refused.exit_code == 1 and "feedback_not_professional" in refused.output
    # A courtesy kvittering may still be sent; it cites no statutory receipt.
    sent = await cli(env, "receipt", ref, "--by", "EF")
    assert sent.exit_code == 0, sent.output
    [ack] = await events(hub, client, streams.receipts(PRIVATE), REPORT_ACKNOWLEDGED)
    assert ack["data"]["legal_basis"] == []
    # Refusals are kept for review: dead letters with the code.
    dead = [e["data"]["reason"] for e in await events(hub, client, streams.DEADLETTER)]
    assert "feedback_not_professional" in dead
    await client.aclose()


async def test_unknown_reference_and_bad_outcome(hub: Any) -> None:
    env = env_for(hub.settings)
    unknown = await cli(env, "receipt", "DKE-FINDESIKKE", "--by", "AB")
    assert unknown.exit_code == 1 and "unknown_report" in unknown.output
    bad = await cli(env, "feedback", "DKE-X", "--outcome", "anbragt", "--by", "AB")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_no_answer_within_the_wait_exits_3_and_no_wait_exits_0(settings: Any) -> None:
    """No hub is running: the action is sent but nobody answers."""
    env = env_for(settings)
    waited = runner.invoke(app, ["triage", "receipt", "DKE-INGENSVAR", "--by", "AB", "--wait", "0.3"], env=env)
    assert waited.exit_code == 3 and "hubben har ikke svaret endnu" in waited.output, waited.output
    sent = runner.invoke(app, ["triage", "feedback", "DKE-INGENSVAR", "--outcome", "measures", "--by", "AB",
                               "--wait", "0"], env=env)
    assert sent.exit_code == 0 and "Sendt (" in sent.output, sent.output

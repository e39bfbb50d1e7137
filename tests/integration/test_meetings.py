"""Meetings by level on the wire: a Niveau III decision convenes members of the Operativgruppe;
each gets `meeting.convened` on its own referral stream with the fields the disclosure policy
allows it (or DKE gets `meeting.withheld`), each is in the disclosure log and the audit chain;
a partner outside the level's meeting is refused with a receipt and a dead letter.
Real Redis, both databases, plain redis-py as the partners."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import redis.asyncio as aredis
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.schemas import streams
from hub.schemas.events import MEETING_CONVENED, MEETING_WITHHELD, REFERRAL_ISSUED
from hub.store import audit_verify
from hub.store.models import AuditChain, Decision, Disclosure
from tests.factories import cloudevent, decision, entry, report_data
from tests.integration.wire import pending_count, read_events, stream_events

SCHOOL = "herstedlund-skole"
TRIAGE = "dke-triage"
runner = CliRunner()
CONVENED = ["politi-vestegn", "bkv", "skoler", "kultur-fritid"]


async def _report(client: aredis.Redis) -> str:
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    return str(receipt["data"]["report_ref"])


async def test_a_niveau_iii_decision_convenes_the_chosen_operativgruppe_members(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client)
    meeting = {
        "convene": CONVENED,
        "structure": "ssp",
        "proposed_at": "2026-12-03T09:00:00+01:00",
        "agenda": "Fordeling af ansvar og opgaver",
    }
    made = decision(ref, [("ssp", "politi-vestegn")], level="III", meeting=meeting)
    await client.xadd(streams.DECISIONS, entry(made))

    # The police: its referral and its invitation, on the one stream it reads already.
    referral, police = await read_events(client, streams.referrals("ssp", "politi-vestegn"), 2)
    assert referral["type"] == REFERRAL_ISSUED and police["type"] == MEETING_CONVENED
    [bkv] = await read_events(client, streams.referrals("ssp", "bkv"), 1)
    [schools] = await read_events(client, streams.referrals("ssp", "skoler"), 1)
    for invite, partner in ((police, "politi-vestegn"), (bkv, "bkv"), (schools, "skoler")):
        data = invite["data"]
        assert data["partner_id"] == partner and data["forum"] == "operativgruppe" and data["level"] == "III"
        assert data["meeting_ref"] == made["id"] and data["convened"] == CONVENED
        assert data["agenda"] == "Fordeling af ansvar og opgaver"
        assert datetime.fromisoformat(data["proposed_at"]) == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
        assert "RPL115-1-1" in data["rule_ids"] and data["legal_basis"]
    # Minimised per recipient, as for a referral: the police no description, the schools no CPR.
    assert "subject.cpr" in police["data"]["fields"] and "concern.description" not in police["data"]["fields"]
    assert "subject.cpr" not in schools["data"]["fields"] and "subject.name" in schools["data"]["fields"]
    assert set(police["data"]["fields"]) == set(referral["data"]["fields"])
    assert set(bkv["data"]["fields"]) != set(police["data"]["fields"])
    # A department outside SSP without consent gets nothing: DKE sees why, the partner nothing.
    [withheld] = await read_events(client, streams.REFERRALS_WITHHELD, 1)
    assert withheld["type"] == MEETING_WITHHELD and withheld["data"]["partner_id"] == "kultur-fritid"
    assert withheld["data"]["effect"] == "withhold" and withheld["data"]["reasons"]
    assert "Testbarn" not in json.dumps(withheld)
    assert await stream_events(client, streams.referrals("ssp", "kultur-fritid")) == []

    with Session(hub.engine) as s:
        [row] = s.exec(select(Decision).where(Decision.report_ref == ref)).all()
        assert row.meeting is not None
        assert row.meeting["convened"] == CONVENED and row.meeting["forum"] == "operativgruppe"
        logged = s.exec(
            select(Disclosure).where(Disclosure.kind == "meeting").order_by(col(Disclosure.id))
        ).all()
        assert [(d.recipient, d.effect, d.decision_id) for d in logged] == [
            ("politi-vestegn", "share", row.id),
            ("bkv", "share", row.id),
            ("skoler", "share", row.id),
            ("kultur-fritid", "withhold", row.id),
        ]
        by_ref = {d.ref: d for d in logged}
        for invite in (police, bkv, schools):
            assert by_ref[invite["id"]].fields == sorted(invite["data"]["fields"])
        chained = set(s.exec(select(AuditChain.record_key).where(AuditChain.kind == "disclosure")).all())
        assert set(by_ref) <= chained  # each invitation is a tamper-evident record
    verdict = audit_verify.verify(hub.engine)
    assert verdict.problem is None
    await client.aclose()


async def test_a_niveau_i_meeting_convenes_the_standing_participants_by_default(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client)
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "bkv")], level="I", meeting={})))
    [_, invite] = await read_events(client, streams.referrals("ssp", "bkv"), 2)
    assert invite["type"] == MEETING_CONVENED and invite["data"]["forum"] == "coordination"
    assert invite["data"]["convened"] == ["skoler", "bkv", "politi-vestegn"]  # the registry's, in its order
    [police] = await read_events(client, streams.referrals("ssp", "politi-vestegn"), 1)
    assert police["type"] == MEETING_CONVENED
    await client.aclose()


async def test_a_partner_outside_the_level_s_meeting_is_refused_with_a_receipt_and_a_dead_letter(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client)
    meeting = {"convene": ["bkv", "kriminalforsorgen"], "structure": "ssp"}
    refused = decision(ref, [("ssp", "bkv")], level="I", meeting=meeting)
    entry_id = (await client.xadd(streams.DECISIONS, entry(refused))).decode()

    [receipt] = await read_events(client, streams.receipts(TRIAGE), 1)
    assert receipt["data"]["status"] == "rejected" and receipt["data"]["code"] == "meeting_not_member"
    assert receipt["data"]["report_event_id"] == refused["id"]
    assert "ikke er med i mødet" in receipt["data"]["message_da"]
    problem = "kriminalforsorgen: meeting_not_member"
    assert receipt["data"]["errors"] == [{"field": "meeting.convene", "problem": problem}]
    [dead] = await read_events(client, streams.DEADLETTER, 1)
    assert dead["data"]["entry_id"] == entry_id and dead["data"]["reason"] == "meeting_not_member"
    assert await pending_count(client, streams.DECISIONS, streams.DECISIONS_GROUP) == 0
    # Refused as a whole: no referral, no invitation, no decision.
    assert await stream_events(client, streams.referrals("ssp", "bkv")) == []
    with Session(hub.engine) as s:
        assert s.exec(select(Decision).where(Decision.report_ref == ref)).all() == []
    await client.aclose()


async def test_niveau_iii_without_a_chosen_member_is_refused(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client)
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "bkv")], level="III", meeting={})))
    [receipt] = await read_events(client, streams.receipts(TRIAGE), 1)
    assert receipt["data"]["code"] == "meeting_nobody" and "Operativgruppen" in receipt["data"]["message_da"]
    await client.aclose()


async def test_cli_decide_convenes_the_operativgruppe_and_show_prints_the_meeting(hub) -> None:
    """`hub triage decide --convene ID` (repeatable): the outcome and `hub triage show` say who
    was convened, what each got, and why a member got nothing."""
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client)
    env = {
        "HUB_REDIS_URL": hub.settings.redis_url,
        "HUB_DATABASE_URL": hub.settings.database_url,
        "HUB_DATA_DIR": str(hub.settings.data_dir),
        "HUB_LOG_LEVEL": "WARNING",
    }
    args = ["triage", "decide", ref, "--level", "III", "--pillar", "reactive", "--by", "TT", "--refer", "ssp:bkv"]
    args += ["--justification", "Nødvendigt for at fordele ansvar og opgaver i Operativgruppen."]
    args += ["--convene", "politi-vestegn", "--convene", "kultur-fritid", "--meeting-at", "2026-12-03 09:00"]
    decided = await asyncio.to_thread(runner.invoke, app, [*args, "--agenda", "Fordeling af opgaver"], env=env)
    assert decided.exit_code == 0, decided.output
    assert "Operativgruppemøde (niveau III) i SSP, foreslået 03.12.2026 09:00:" in decided.output
    assert "Indkaldt: Københavns Vestegns Politi, får " in decided.output
    assert "Indkaldt: By, Kultur & Fritid, men oplysningerne er tilbageholdt:" in decided.output
    [invite] = [e for e in await stream_events(client, streams.referrals("ssp", "politi-vestegn"))]
    assert invite["type"] == MEETING_CONVENED and invite["data"]["convened"] == ["politi-vestegn", "kultur-fritid"]

    shown = await asyncio.to_thread(runner.invoke, app, ["triage", "show", ref], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Formål med mødet: Fordeling af opgaver" in shown.output and "[RPL115-OUTSIDE]" in shown.output

    outside = ["triage", "decide", ref, "--level", "I", "--pillar", "reactive", "--by", "TT", "--refer", "ssp:bkv"]
    outside += ["--revision-reason", "Ny vurdering.", "--convene", "kriminalforsorgen"]
    refused = await asyncio.to_thread(runner.invoke, app, outside, env=env)
    assert refused.exit_code == 1 and "Afvist af hubben (meeting_not_member)" in refused.output
    await client.aclose()

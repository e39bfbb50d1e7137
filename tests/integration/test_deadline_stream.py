"""A running hub (`hub serve`'s parts, real Redis, both databases): its scheduler loop fires a
breached deadline to DKE on `hub.deadlines.v1` once, through the outbox relay; `hub triage`
shows the clock's state in Danish; the cross-agency flag shows there and nowhere else."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.schemas import streams
from hub.schemas.events import DEADLINE_BREACHED
from tests.factories import CHILD_NAME, cloudevent, entry, report_data
from tests.integration.wire import read_events, stream_events

SCHOOL, POLICE = "herstedlund-skole", "politi-vestegn"
runner = CliRunner()


def env_for(settings: Any) -> dict[str, str]:
    return {
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_LOG_LEVEL": "WARNING",
    }


async def test_the_running_hub_sends_a_breach_to_dke_once(hub: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    data = report_data()
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, data)))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    ref = receipt["data"]["report_ref"]
    env = env_for(hub.settings)
    listed = runner.invoke(app, ["triage", "list"], env=env)
    assert listed.exit_code == 0 and re.search(rf"{ref} .* frist \S+ \S+ \(løber\)", listed.output), listed.output

    assert hub.clocks is not None
    hub.clocks.now = lambda: datetime.now(UTC) + timedelta(hours=25)  # a day later, for the loop in `hub serve`
    [breach] = await read_events(client, streams.DEADLINES, 1, timeout_s=hub.settings.deadline_interval_s + 10)
    assert breach["type"] == DEADLINE_BREACHED and breach["data"]["report_ref"] == ref
    assert breach["data"]["kind"] == "assessment" and breach["data"]["rule_id"] == "BL-ASSESS-24H"
    text = json.dumps(breach, ensure_ascii=False)
    assert data["subject"]["cpr"] not in text and CHILD_NAME not in text  # a reference only

    await hub.clocks.tick()  # the loop and another tick: still one event
    await asyncio.sleep(0.3)
    assert len(await stream_events(client, streams.DEADLINES)) == 1

    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Lovbestemte frister:" in shown.output
    assert re.search(r"Vurdering \(24 timer\): overskredet", shown.output), shown.output
    # No kvittering yet (`report.accepted` is the hub's, not DKE's): the receipt clock still runs.
    assert re.search(r"Kvittering \(6 hverdage\): (løber|nærmer sig), frist", shown.output), shown.output
    listed = runner.invoke(app, ["triage", "list"], env=env)
    assert re.search(rf"{ref} .*\(overskredet\)", listed.output), listed.output
    await client.aclose()


async def test_two_agencies_about_one_person_flag_the_triage_item_for_dke_only(hub: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    first, second = report_data(), report_data()  # the same person (same CPR)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, first)))
    await read_events(client, streams.receipts(SCHOOL), 1)
    await client.xadd(streams.intake(POLICE), entry(cloudevent(POLICE, second)))
    [receipt] = await read_events(client, streams.receipts(POLICE), 1)
    ref = receipt["data"]["report_ref"]

    queued = [e for q in streams.Queue for e in await stream_events(client, streams.triage(q))]
    flagged = {e["data"]["report_ref"]: e["data"].get("pattern") for e in queued}
    reason = "To eller flere myndigheder har indberettet bekymring om samme person inden for 30 dage"
    assert flagged[ref] == {"rule_id": "DKE-PATTERN-AGENCIES", "da": reason, "en": flagged[ref]["en"]}
    assert [r for r, p in flagged.items() if p is None and r != ref]  # the first report is not flagged

    # Nothing outside DKE's triage carries it: not the receipts, not the notification to
    # children's services, not the police alert stream.
    for stream in (streams.receipts(SCHOOL), streams.receipts(POLICE), streams.CHILDREN_NOTIFICATIONS):
        for event in await stream_events(client, stream):
            assert "DKE-PATTERN" not in json.dumps(event) and "myndigheder" not in json.dumps(event), stream

    env = env_for(hub.settings)
    listed = runner.invoke(app, ["triage", "list"], env=env)
    assert listed.exit_code == 0 and "flere myndigheder" in listed.output and reason in listed.output
    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert f"! Mønster: {reason} [DKE-PATTERN-AGENCIES]" in shown.output, shown.output
    as_json = json.loads(runner.invoke(app, ["triage", "list", "--json"], env=env).output)
    assert {d["report_ref"]: d["pattern_reason_da"] for d in as_json}[ref] == reason
    await client.aclose()

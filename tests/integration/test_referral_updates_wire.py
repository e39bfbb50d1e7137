"""Partners' updates end to end on a running hub, real Redis and both databases: a partner
XADDs to its own update stream as any Redis client would, the hub answers on the partner's
referral-receipts stream; another partner's referral is refused with a receipt and a dead
letter; the state shows through the query layer and `hub referrals`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.entrypoints.cli.main import app
from hub.schemas import streams
from hub.schemas.lifecycle import (
    ALERT_ACKNOWLEDGED,
    ALERT_ESCALATED,
    REFERRAL_ACCEPTED,
    REFERRAL_DECLINED,
    UPDATE_ACCEPTED,
    UPDATE_REJECTED,
)
from hub.store import queries
from hub.store.queries.referrals import referral_state
from tests.factories import cloudevent, decision, entry, planned_crime_data, report_data
from tests.integration.wire import read_events, stream_events

SCHOOL = "herstedlund-skole"


async def test_partners_answer_referrals_over_redis(hub: Any, monkeypatch: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    ref = receipt["data"]["report_ref"]
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "bkv"), ("ssp", "politi-vestegn")])))
    [to_bkv] = await read_events(client, streams.referrals("ssp", "bkv"), 1)
    [to_police] = await read_events(client, streams.referrals("ssp", "politi-vestegn"), 1)

    # The police try to answer BKV's referral: refused, answered on their own receipts stream, kept.
    forged = cloudevent("politi-vestegn", {"referral_ref": to_bkv["id"]}, type_=REFERRAL_ACCEPTED)
    await client.xadd(streams.referral_updates("politi-vestegn"), entry(forged))
    [refused] = await read_events(client, streams.referral_receipts("politi-vestegn"), 1)
    assert refused["type"] == UPDATE_REJECTED and refused["data"]["code"] == "not_your_referral"
    assert refused["data"]["report_event_id"] == forged["id"]
    [dead] = await read_events(client, streams.DEADLETTER, 1)
    assert dead["data"]["reason"] == "not_your_referral"
    assert dead["data"]["stream"] == streams.referral_updates("politi-vestegn")

    # BKV accepts its referral, the police decline theirs: each answered.
    await client.xadd(
        streams.referral_updates("bkv"),
        entry(cloudevent("bkv", {"referral_ref": to_bkv["id"]}, type_=REFERRAL_ACCEPTED)),
    )
    declined = {"referral_ref": to_police["id"], "reason": {"code": "no_capacity"}}
    await client.xadd(
        streams.referral_updates("politi-vestegn"),
        entry(cloudevent("politi-vestegn", declined, type_=REFERRAL_DECLINED)),
    )
    [accepted] = await read_events(client, streams.referral_receipts("bkv"), 1)
    assert accepted["type"] == UPDATE_ACCEPTED and accepted["data"]["report_ref"] == ref
    _, answered = await read_events(client, streams.referral_receipts("politi-vestegn"), 2)
    assert answered["type"] == UPDATE_ACCEPTED
    await client.aclose()

    with queries.reading(hub.engine) as session:
        bkv, police = referral_state(session, to_bkv["id"]), referral_state(session, to_police["id"])
    assert bkv is not None and (bkv.partner_id, bkv.state) == ("bkv", "accepted")
    assert police is not None and (police.state, police.code) == ("declined", "no_capacity")

    # `hub referrals` shows it in Danish.
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.effective_database_url)
    monkeypatch.setenv("HUB_REDIS_URL", hub.redis_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(hub.settings.data_dir))
    listed = CliRunner().invoke(app, ["referrals", "list"])
    assert listed.exit_code == 0, listed.output
    assert "accepteret" in listed.output and "afvist (ingen kapacitet)" in listed.output
    shown = CliRunner().invoke(app, ["referrals", "show", to_police["id"]])
    assert shown.exit_code == 0, shown.output
    assert "afvist (ingen kapacitet)" in shown.output and "Frist for kvittering" in shown.output
    case = CliRunner().invoke(app, ["triage", "show", ref])  # and beside each referral in the case
    assert case.exit_code == 0, case.output
    assert "Status fra modtageren: accepteret" in case.output
    assert "Status fra modtageren: afvist (ingen kapacitet)" in case.output
    unknown = CliRunner().invoke(app, ["referrals", "show", "no-such"])
    assert unknown.exit_code == 1 and "Ukendt henvisning" in unknown.output


async def test_the_running_hub_sends_an_unacknowledged_alert_again_and_escalates_once(hub: Any) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, planned_crime_data())))
    [alert] = await read_events(client, streams.POLICE_ALERTS, 1)
    assert hub.clocks is not None
    hub.clocks.now = lambda: datetime.now(UTC) + timedelta(minutes=16)  # past the agreement's 15 minutes
    first, reminder = await read_events(
        client, streams.POLICE_ALERTS, 2, timeout_s=hub.settings.deadline_interval_s + 10
    )
    assert first["id"] == alert["id"] and reminder["data"]["reminder_of"] == alert["id"]
    [escalated] = await read_events(client, streams.DEADLINES, 1)
    assert escalated["type"] == ALERT_ESCALATED and escalated["data"]["reminder_event_id"] == reminder["id"]
    await hub.clocks.tick()  # the loop and another tick: still once
    await asyncio.sleep(0.3)
    assert len(await stream_events(client, streams.POLICE_ALERTS)) == 2
    assert len(await stream_events(client, streams.DEADLINES)) == 1
    # The police acknowledge the first alert (late): recorded, and nothing more is sent.
    ack = cloudevent("politi-vestegn", {"alert_ref": alert["id"]}, type_=ALERT_ACKNOWLEDGED)
    await client.xadd(streams.referral_updates("politi-vestegn"), entry(ack))
    [answer] = await read_events(client, streams.referral_receipts("politi-vestegn"), 1)
    assert answer["type"] == UPDATE_ACCEPTED
    await client.aclose()

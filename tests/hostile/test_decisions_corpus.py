"""The corpus on `hub.decisions.v1`: written at once after a report to decide on is stored; each
case dead-lettered with its code (row and event), nothing left pending, within seconds; the good
decisions among and after them issue their referrals. Every wrong answer is listed at once."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aredis

from hub.schemas import streams
from hub.store.models import Decision
from tests.hostile.builders import BASE_EVENT_ID, POLICE, SCHOOL, decision_doc, dumps, report
from tests.hostile.cases import DECISIONS, Case
from tests.hostile.corpus import cases_for
from tests.hostile.harness import (
    DEADLINE_S,
    LogCapture,
    Mismatches,
    check_dead_letters,
    dead_letter_events,
    dead_letter_rows,
    events_of,
    pending,
    receipts,
    wait_for,
)
from tests.reliability.helpers import count_rows

REFERRALS = streams.referrals("ssp", POLICE)


async def _base_report(client: aredis.Redis) -> None:
    """The report every corpus decision refers to, stored and accepted."""
    await client.xadd(streams.intake(SCHOOL), {b"event": dumps(report(BASE_EVENT_ID.removeprefix("hostile-")))})

    async def accepted() -> bool:
        return any(r.get("report_event_id") == BASE_EVENT_ID for r in await receipts(client, SCHOOL))

    assert await wait_for(accepted, 10), "the report to decide on was not accepted"


async def _run(hub: Any, cases: list[Case], goods: list[str], title: str) -> Mismatches:
    client = aredis.Redis.from_url(hub.redis_url)
    await _base_report(client)
    pipe = client.pipeline(transaction=True)
    step = max(1, len(cases) // len(goods))
    order: list[Case | str] = list(cases)
    for k, g in enumerate(goods):  # spread among the cases, the last one after them all
        order.insert(len(order) if k == len(goods) - 1 else (k + 1) * step + k, g)
    for item in order:
        fields = item.entry_fields() if isinstance(item, Case) else {b"event": dumps(decision_doc(item))}
        pipe.xadd(streams.DECISIONS, fields)  # type: ignore[arg-type]
    started = time.monotonic()
    ids = [i.decode() for i in await pipe.execute()]
    sent = {c.id: (c, streams.DECISIONS, i) for c, i in zip(order, ids, strict=True) if isinstance(c, Case)}
    refused = {(s, i) for c, s, i in sent.values() if not c.accepted}

    async def answered() -> bool:
        return (
            refused <= set(await dead_letter_events(client))
            and len(await events_of(client, REFERRALS)) >= len(goods)
            and await pending(client, streams.DECISIONS, streams.DECISIONS_GROUP) == 0
        )

    found = Mismatches(title)
    if not await wait_for(answered, DEADLINE_S):
        found.add("(all)", "deadline", f"answered within {DEADLINE_S} s", "not all answered")
    elapsed = time.monotonic() - started

    await client.xadd(streams.DECISIONS, {b"event": dumps(decision_doc("decision-alive-after"))})

    async def alive() -> bool:
        return len(await events_of(client, REFERRALS)) >= len(goods) + 1

    if not await wait_for(alive, 10):
        found.add("(alive)", "referral", "issued", "no referral for a good decision after the corpus")
    referred = sorted(e["data"]["report_ref"] for e in await events_of(client, REFERRALS))
    if len(referred) != len(goods) + 1:
        found.add("(good decisions)", "referrals", len(goods) + 1, len(referred))
    check_dead_letters(found, sent, dead_letter_rows(hub), await dead_letter_events(client))
    if left := await pending(client, streams.DECISIONS, streams.DECISIONS_GROUP):
        found.add("(all)", "pending", 0, left)
    if (stored := count_rows(hub.settings.effective_database_url, Decision)) != len(goods) + 1:
        found.add("(all)", "decisions", len(goods) + 1, stored)
    await client.aclose()
    print(f"{title}: {len(cases)} cases answered in {elapsed:.1f} s")
    return found


async def test_every_decisions_case_is_dead_lettered_within_seconds(
    hostile_hub: Any, captured_logs: LogCapture
) -> None:
    found = await _run(
        hostile_hub, cases_for(DECISIONS, own_batch=False), ["decision-good-1", "decision-good-2"], "decisions corpus"
    )
    captured_logs.assert_no_personal_data(must_contain=["decisions.batch"])
    found.assert_none()


async def test_faststream_envelope_on_decisions_costs_only_itself(hostile_hub: Any, captured_logs: LogCapture) -> None:
    found = await _run(
        hostile_hub, cases_for(DECISIONS, own_batch=True), ["decision-fs-1", "decision-fs-2"], "decisions envelope"
    )
    captured_logs.assert_no_personal_data(must_contain=[])
    found.assert_none()

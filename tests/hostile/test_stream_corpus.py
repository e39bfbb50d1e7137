"""The corpus on the intake streams: the whole of it written at once, as plain redis-py clients
would, then every case checked: its receipt (`report.rejected` with the code, or accepted for a
control case), its dead-letter row and event, nothing left pending, all within seconds, and a
good report after it accepted. Every wrong answer is listed in one failure message."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aredis

from hub.schemas import streams
from hub.store.models import Report
from tests.hostile.builders import SCHOOL, dumps, event_id, report
from tests.hostile.cases import STREAM, Case
from tests.hostile.corpus import cases_for
from tests.hostile.harness import (
    DEADLINE_S,
    LogCapture,
    Mismatches,
    check_dead_letters,
    check_receipts,
    dead_letter_events,
    dead_letter_rows,
    pending,
    receipts,
    wait_for,
)
from tests.reliability.helpers import count_rows

INTAKE = streams.intake(SCHOOL)


async def _send(client: aredis.Redis, items: list[Case | bytes]) -> dict[str, tuple[Case, str, str]]:
    """Write every item (a case, or a good report's event) in one transaction; case id ->
    (case, stream, entry id)."""
    pipe = client.pipeline(transaction=True)
    for item in items:
        if isinstance(item, Case):
            pipe.xadd(item.intake_stream, item.entry_fields())  # type: ignore[arg-type]
        else:
            pipe.xadd(INTAKE, {b"event": item})
    ids = [i.decode() for i in await pipe.execute()]
    return {
        item.id: (item, item.intake_stream, entry_id)
        for item, entry_id in zip(items, ids, strict=True)
        if isinstance(item, Case)
    }


async def _run(hub: Any, cases: list[Case], goods: list[str], title: str) -> Mismatches:
    """Send `cases` with good reports (named `goods`) among them; wait until every case
    and good report is answered (or the deadline); then a good report more; compare."""
    client = aredis.Redis.from_url(hub.redis_url)
    good_ids = {event_id(g) for g in [*goods, "alive-after"]}
    items: list[Case | bytes] = list(cases)
    step = max(1, len(cases) // len(goods))
    for k, g in enumerate(goods):  # spread among the cases, the last one after them all
        at = len(items) if k == len(goods) - 1 else (k + 1) * step + k
        items.insert(at, dumps(report(g)))
    started = time.monotonic()
    sent = await _send(client, items)
    refused = {(stream, entry_id) for c, stream, entry_id in sent.values() if not c.accepted}
    controls = {c.event_id for c, _, _ in sent.values() if c.accepted} | {event_id(g) for g in goods}

    async def answered() -> bool:
        dead = await dead_letter_events(client)
        accepted = {r["report_event_id"] for r in await receipts(client, SCHOOL) if r["status"] == "accepted"}
        left = await pending(client, INTAKE, streams.INTAKE_GROUP)
        return refused <= set(dead) and controls <= accepted and left == 0

    found = Mismatches(title)
    if not await wait_for(answered, DEADLINE_S):
        found.add("(all)", "deadline", f"answered within {DEADLINE_S} s", "not all answered")
    elapsed = time.monotonic() - started

    # The worker is alive: a good report written now is accepted.
    await client.xadd(INTAKE, {b"event": dumps(report("alive-after"))})

    async def alive() -> bool:
        return any(r.get("report_event_id") == event_id("alive-after") for r in await receipts(client, SCHOOL))

    if not await wait_for(alive, 10):
        found.add("(alive)", "receipt", "accepted", "no receipt for a good report after the corpus")

    got = await receipts(client, SCHOOL)
    for g in [*goods, "alive-after"]:
        mine = [r["status"] for r in got if r.get("report_event_id") == event_id(g)]
        if mine != ["accepted"]:
            found.add(f"(good report {g})", "receipt", "accepted", mine or "no receipt")
    rows = dead_letter_rows(hub)
    dead = {c.id: rows.get((stream, entry_id), []) for c, stream, entry_id in sent.values()}
    others = [r for r in got if r.get("report_event_id") not in good_ids]
    check_receipts(found, [c for c, _, _ in sent.values()], others, dead)
    check_dead_letters(found, sent, rows, await dead_letter_events(client))
    left = await pending(client, INTAKE, streams.INTAKE_GROUP)
    if left:
        found.add("(all)", "pending", 0, left)
    stored = count_rows(hub.settings.effective_database_url, Report)
    wanted = len(goods) + 1 + sum(c.accepted for c in cases)
    if stored != wanted:
        found.add("(all)", "reports", wanted, stored)
    await client.aclose()
    print(f"{title}: {len(cases)} cases answered in {elapsed:.1f} s")  # shown with -s
    return found


async def test_every_stream_case_is_answered_within_seconds(hostile_hub: Any, captured_logs: LogCapture) -> None:
    found = await _run(hostile_hub, cases_for(STREAM, own_batch=False), ["good-1", "good-2"], "intake corpus")
    captured_logs.assert_no_personal_data(must_contain=["intake.batch"])
    found.assert_none()


async def test_faststream_envelope_entries_cost_only_themselves(hostile_hub: Any, captured_logs: LogCapture) -> None:
    """FastStream's own `__data__` key with garbage: answered `extra_fields`, and the good
    reports written around it are accepted at once (today its parser fails the whole batch)."""
    found = await _run(
        hostile_hub, cases_for(STREAM, own_batch=True), ["fs-good-1", "fs-good-2", "fs-good-3"], "faststream envelope"
    )
    captured_logs.assert_no_personal_data(must_contain=[])
    found.assert_none()

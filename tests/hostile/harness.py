"""Sending the corpus and reading the hub's answers: receipts, dead letters (stream and database),
pending entries; and the comparison that lists every case whose answer is wrong, at once.

The HTTP app is built in one place (`http_app`): its signature is changing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aredis
from fastapi import FastAPI
from sqlmodel import Session, select

from hub.schemas import streams
from hub.store.models import DeadLetterRecord
from hub.store.tokens import TokenStore
from tests import logcapture
from tests.hostile.builders import CPR, SECRETS, event_id
from tests.hostile.cases import ACCEPTED, Case
from tests.reliability.helpers import assert_no_personal_data

# The whole corpus of a channel is answered within this; no reclaim round may be needed.
DEADLINE_S = 15.0


def http_app(hub: Any, tokens: TokenStore) -> FastAPI:
    """`POST /v1/reports` of the running hub (the one place the app is constructed), with its
    policy engine (for refusals the policy makes at once) and the parser's limits."""
    from hub.entrypoints.http import create_http_app

    settings = hub.settings
    return create_http_app(
        hub.client,
        hub.registry,
        tokens,
        settings.max_body_bytes,
        policy=hub.policy,
        limits=settings.limits,
        engine=hub.engine,
    )


# --- waiting ----------------------------------------------------------------------------------


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.05) -> bool:
    """Poll `check` until it holds or `timeout` seconds have passed; whether it held. The caller
    then says what was missing (all of it at once), instead of failing at the first gap."""
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)


# --- what the hub answered ------------------------------------------------------------------


async def events_of(client: aredis.Redis, stream: str) -> list[dict[str, Any]]:
    out = []
    for _, fields in await client.xrange(stream):
        assert set(fields) == {b"event"}, f"{stream}: fields {sorted(fields)}"  # the wire contract
        out.append(json.loads(fields[b"event"]))
    return out


async def receipts(client: aredis.Redis, source: str) -> list[dict[str, Any]]:
    """The data of every receipt on the source's receipt stream."""
    return [e["data"] for e in await events_of(client, streams.receipts(source))]


async def dead_letter_events(client: aredis.Redis) -> dict[tuple[str, str], list[str]]:
    """(stream, entry id) -> reasons, from the redacted `message.deadlettered` events."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for event in await events_of(client, streams.DEADLETTER):
        assert event["type"] == "dk.albertslund.hub.message.deadlettered.v1", event["type"]
        out[event["data"]["stream"], event["data"]["entry_id"]].append(event["data"]["reason"])
    return out


def dead_letter_rows(hub: Any) -> dict[tuple[str, str], list[str]]:
    """(stream, entry id) -> reasons, from the `DeadLetterRecord` rows."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    with Session(hub.engine) as s:
        for row in s.exec(select(DeadLetterRecord)):
            out[row.stream, row.entry_id].append(row.reason)
    return out


async def pending(client: aredis.Redis, stream: str, group: str) -> int:
    if not await client.exists(stream):
        return 0
    return int((await client.xpending(stream, group))["pending"])


# --- the comparison ---------------------------------------------------------------------------


@dataclass
class Mismatches:
    """Every wrong answer of a run, reported together: case id, what, expected, got."""

    title: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, case_id: str, aspect: str, expected: object, got: object) -> None:
        self.rows.append((case_id, aspect, _show(expected), _show(got)))

    def report(self) -> str:
        lines = [f"{self.title}: {len(self.rows)} wrong answer(s), {len({r[0] for r in self.rows})} case(s)"]
        lines += [
            f"  {case_id:<32} {aspect:<12} expected {exp:<40} got {got}" for case_id, aspect, exp, got in self.rows
        ]
        return "\n".join(lines)

    def assert_none(self) -> None:
        assert not self.rows, self.report()


def _show(value: object) -> str:
    if isinstance(value, frozenset | set):
        return "|".join(sorted(value)) or "-"
    return str(value)


def check_dead_letters(
    found: Mismatches,
    sent: dict[str, tuple[Case, str, str]],
    rows: dict[tuple[str, str], list[str]],
    events: dict[tuple[str, str], list[str]],
) -> None:
    """A refused case has one dead-letter row and one dead-letter event, reason = its code; a
    control case has none."""
    for case, stream, entry_id in sent.values():
        for aspect, where in (("dead row", rows), ("dead event", events)):
            reasons = where.get((stream, entry_id), [])
            if case.accepted:
                if reasons:
                    found.add(case.id, aspect, "none", reasons)
            elif len(reasons) != 1 or reasons[0] not in case.codes:
                found.add(case.id, aspect, case.codes, reasons or "nothing")


def check_receipts(
    found: Mismatches, cases: Iterable[Case], got: list[dict[str, Any]], dead: dict[str, list[str]]
) -> None:
    """Each case gets one receipt with its code (`accepted` for a control case). A receipt that
    names a case's event id is that case's (and must, where the document is well-formed); the
    receipts that name none are matched to the remaining cases by code, first to the cases whose
    dead letter (`dead`: case id -> reasons) has that code: a receipt says nothing else that
    ties it to its entry, and the wrong case must not be blamed."""
    cases = [c for c in cases if c.receipt]
    own = {event_id(c.id): c.id for c in cases}
    mine: dict[str, list[str]] = defaultdict(list)
    pool: list[str] = []
    for receipt in got:
        case_id = own.get(receipt.get("report_event_id"))
        (mine[case_id] if case_id is not None else pool).append(_code(receipt))
    unnamed: list[Case] = []
    for case in cases:
        codes = mine.get(case.id, [])
        if codes:
            if len(codes) != 1 or codes[0] not in case.codes:
                found.add(case.id, "receipt", case.codes, codes)
        elif case.event_id is not None:
            found.add(case.id, "receipt", case.codes, "no receipt naming its event id")
        else:
            unnamed.append(case)
    unnamed.sort(key=lambda c: not set(dead.get(c.id, [])) & c.codes)
    owner = _matching(unnamed, pool)
    for n, case in enumerate(unnamed):
        if n not in owner.values():
            found.add(case.id, "receipt", case.codes, "no receipt with that code")
    if extra := [code for n, code in enumerate(pool) if n not in owner]:
        found.add("(extra-receipts)", "receipt", "none", sorted(extra))


def _matching(cases: list[Case], codes: list[str]) -> dict[int, int]:
    """A largest matching of receipts (by code) to cases that accept that code: receipt index
    -> case index (augmenting paths; a greedy match could pair a receipt with the wrong case)."""
    owner: dict[int, int] = {}

    def place(case: int, seen: set[int]) -> bool:
        for n, code in enumerate(codes):
            if code in cases[case].codes and n not in seen:
                seen.add(n)
                if n not in owner or place(owner[n], seen):
                    owner[n] = case
                    return True
        return False

    for case in range(len(cases)):
        place(case, set())
    return owner


def _code(receipt: dict[str, Any]) -> str:
    return ACCEPTED if receipt["status"] == "accepted" else str(receipt.get("code"))


# --- logs -------------------------------------------------------------------------------------


class LogCapture(logcapture.LogCapture):
    """The hub's JSON log lines of an in-process run, checked for the corpus's personal data."""

    def assert_no_personal_data(self, must_contain: Iterable[str]) -> None:
        """No name, address or CPR number of the corpus, in any spelling, in any log line."""
        text = self.text
        assert_no_personal_data(text, [CPR], must_contain=list(must_contain))
        for secret in SECRETS:
            escaped = json.dumps(secret)[1:-1]
            assert secret not in text and escaped not in text, f"personal data in the logs: {secret!r}"

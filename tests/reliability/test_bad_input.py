"""Bad input, end to end against the running hub: every kind gets a rejection receipt that says
what is wrong and a dead-letter record, and the worker carries on with the good report after it.

The unit-level corpus is tests/unit/test_intake_parse.py; here the same kinds of entry go
through Redis, the worker, the database, the outbox relay and back, in one batch. Then a
Hypothesis fuzz test posts arbitrary bodies to `POST /v1/reports`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aredis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hub.entrypoints.http import create_http_app
from hub.schemas import streams
from hub.store.models import DeadLetterRecord, Report
from hub.store.tokens import TokenStore
from tests.factories import cloudevent, entry, json_paths, report_data
from tests.logcapture import LogCapture
from tests.reliability.helpers import (
    SCHOOL,
    assert_no_personal_data,
    count_rows,
    events,
    eventually,
    pending,
    personal_report,
)

INTAKE = streams.intake(SCHOOL)
LIMIT = 1_000_000  # Settings.max_body_bytes


def _event(**changes: Any) -> dict[str, Any]:
    data, _ = personal_report(900)
    doc = cloudevent(SCHOOL, data)
    for key, value in changes.items():
        if value is None:
            doc.pop(key)
        else:
            doc[key] = value
    return doc


def _report(**changes: Any) -> dict[str, Any]:
    """A report with one part of `data` changed: `concern__mood="x"`; None removes the field."""
    doc = _event()
    for path, value in changes.items():
        part, key = path.split("__")
        if value is None:
            doc["data"][part].pop(key)
        else:
            doc["data"][part][key] = value
    return doc


def _raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


NOW = datetime.now(UTC)
IN_TWO_DAYS = (NOW + timedelta(days=2)).isoformat()
NEXT_YEAR = (NOW + timedelta(days=400)).date().isoformat()
# name: (fields of the stream entry, expected code, a field the receipt must name or None)
CORPUS: dict[str, tuple[dict[bytes, bytes], str, str | None]] = {
    "truncated-json": ({b"event": _raw(_event())[:60]}, "invalid_json", None),
    "wrong-type-time": ({b"event": _raw(_event(time=12))}, "invalid_envelope", "time"),
    "wrong-type-flag": ({b"event": _raw(_report(concern__child_at_risk="maybe"))}, "invalid_report", "data.concern"),
    "missing-description": ({b"event": _raw(_report(concern__description=None))}, "invalid_report", "data.concern"),
    "missing-specversion": ({b"event": _raw(_event(specversion=None))}, "invalid_envelope", "specversion"),
    "unknown-report-field": ({b"event": _raw(_report(concern__mood="dårligt"))}, "invalid_report", "data.concern"),
    "unknown-envelope-field": ({b"event": _raw(_event(extra_attr="x"))}, "invalid_envelope", "extra_attr"),
    "over-1-mb": ({b"event": _raw(_report(concern__description="x" * (LIMIT + 10)))}, "too_large", None),
    "invalid-cpr": ({b"event": _raw(_report(subject__cpr="320199-1234"))}, "invalid_report", "data.subject.cpr"),
    "observed-in-future": (
        {b"event": _raw(_report(concern__observed_at=IN_TWO_DAYS))},
        "time_out_of_range",
        "data.concern.observed_at",
    ),
    "born-in-future": (
        {b"event": _raw(_report(subject__cpr=None, subject__birth_date=NEXT_YEAR))},
        "time_out_of_range",
        "data.subject.birth_date",
    ),
    "wrong-source": ({b"event": _raw(_event(source="politi-vestegn"))}, "source_mismatch", None),
    "unknown-source": ({b"event": _raw(_event(source="ukendt-kilde"))}, "source_mismatch", None),
    "unknown-type": ({b"event": _raw(_event(type="dk.albertslund.hub.other.v1"))}, "unknown_type", None),
    "unknown-category": (
        {b"event": _raw(_report(concern__categories=["parkering"]))},
        "invalid_report",
        "data.concern.categories",
    ),
    "not-utf8": ({b"event": b"\xff\xfe\xfa" + _raw(_event())[3:]}, "not_utf8", None),
    "no-event-field": ({b"payload": _raw(_event())}, "missing_event_field", None),
    "binary-garbage": ({b"event": bytes(range(256)) * 4}, "not_utf8", None),
    "json-not-an-object": ({b"event": b"[1, 2, 3]"}, "invalid_envelope", None),
}


async def test_every_kind_of_bad_entry_is_rejected_dead_lettered_and_the_worker_goes_on(
    hub: Any, captured_logs: LogCapture
) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    good_data, good_cpr = personal_report(901)
    good = cloudevent(SCHOOL, good_data)
    pipe = client.pipeline(transaction=True)  # the whole corpus, then the good report, in one batch
    for fields, _, _ in CORPUS.values():
        pipe.xadd(INTAKE, fields)  # type: ignore[arg-type]
    pipe.xadd(INTAKE, entry(good))
    ids = [i.decode() for i in await pipe.execute()]
    entry_ids = dict(zip(CORPUS, ids, strict=False))

    async def all_answered() -> bool:
        return (
            len(await events(client, streams.receipts(SCHOOL))) >= len(CORPUS) + 1
            and len(await events(client, streams.DEADLETTER)) >= len(CORPUS)
            and await pending(client, INTAKE, streams.INTAKE_GROUP) == 0
        )

    await eventually(all_answered, timeout=30, what="a receipt for every entry")

    receipts = await events(client, streams.receipts(SCHOOL))
    accepted = [r for r in receipts if r["data"]["status"] == "accepted"]
    rejected = [r for r in receipts if r["data"]["status"] == "rejected"]
    assert [r["data"]["report_event_id"] for r in accepted] == [good["id"]], "the good report after them"
    assert Counter(r["data"]["code"] for r in rejected) == Counter(code for _, code, _ in CORPUS.values())
    for r in rejected:
        assert r["data"]["message"], r  # says what is wrong, in words
    # Where the report could be read far enough to know its id and the field, the receipt says so.
    by_event = {r["data"]["report_event_id"]: r for r in rejected if r["data"].get("report_event_id")}
    for name, (fields, code, field) in CORPUS.items():
        if field is None:
            continue
        receipt = by_event[json.loads(fields[b"event"])["id"]]
        assert receipt["data"]["code"] == code, name
        assert any(e["field"].startswith(field) for e in receipt["data"]["errors"]), (name, receipt["data"])

    # A dead-letter record per bad entry: on the stream (redacted) and in the database (whole).
    dead = {d["data"]["entry_id"]: d["data"] for d in await events(client, streams.DEADLETTER)}
    for name, (_, code, _) in CORPUS.items():
        assert dead[entry_ids[name]]["reason"] == code, name
    assert good_cpr not in json.dumps(list(dead.values()))
    database = hub.settings.effective_database_url
    assert count_rows(database, DeadLetterRecord) == len(CORPUS)
    assert count_rows(database, Report) == 1

    # Receipts and dead letters do not echo personal data back; nor do the logs.
    data, cpr = personal_report(900)
    for text in (json.dumps(receipts), json.dumps(list(dead.values()))):
        assert data["subject"]["name"] not in text and cpr not in text and "320199" not in text
    assert_no_personal_data(captured_logs.text, [good_cpr, cpr], must_contain=["intake.batch"])
    await client.aclose()


# --- fuzzing POST /v1/reports ----------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_reports(draw: st.DrawFn) -> bytes:
    """A valid report with a few of its parts deleted or replaced by any JSON, maybe cut short."""
    doc = cloudevent(SCHOOL, report_data(), event_id=f"fuzz-{draw(st.uuids())}")
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(json_paths(doc)))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    raw = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()
    if draw(st.integers(0, 4)) == 0:
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw


BODIES = st.one_of(
    mutated_reports(),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
)


@pytest.fixture
async def api(hub: Any, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    app = create_http_app(hub.client, hub.registry, tokens, max_bytes=hub.settings.max_body_bytes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
        yield http, token


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
async def test_fuzz_post_reports_answers_every_body_and_the_worker_answers_every_entry(
    hub: Any, api: tuple[httpx.AsyncClient, str], body: bytes
) -> None:
    """Whatever is posted: 202, 413 or 422, never a server error; whatever reached the stream
    gets exactly one receipt from the worker, which keeps running."""
    http, token = api
    resp = await http.post(
        "/v1/reports", content=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    assert resp.status_code in (202, 413, 422), (resp.status_code, resp.text)
    event(f"HTTP {resp.status_code} {resp.json().get('code', '') if resp.status_code == 422 else ''}")
    if resp.status_code == 422:
        assert resp.json()["code"] and resp.json()["message"]

    async def answered() -> bool:
        written = await hub.client.xlen(INTAKE)
        receipts = await hub.client.xlen(streams.receipts(SCHOOL))
        return receipts == written and await pending(hub.client, INTAKE, streams.INTAKE_GROUP) == 0

    await eventually(answered, timeout=20, what="a receipt for every entry posted so far")

"""The bad-input corpus: every kind of broken entry gets a rejection that says what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.schemas.entry import Entry
from hub.services.envelope import ParsedReport, Rejection, parse_entry, report_ref
from hub.services.intake import flags_planned_crime
from tests.factories import CHILD_NAME, child_cpr, cloudevent, report_data

SRC = "herstedlund-skole"
NOW = datetime.now(UTC)
NOW_AT_RUN_TIME = True  # tests/unit/conftest.py takes NOW again as each test starts
LIMIT = 1_000_000


def parse(fields: dict[bytes, bytes]) -> ParsedReport | Rejection:
    return parse_entry(Entry("hub.intake.herstedlund-skole.v1", "1-0", fields), SRC, NOW, LIMIT)


def ev(**changes: Any) -> bytes:
    doc = cloudevent(SRC, report_data())
    for k, v in changes.items():
        if v is None:
            doc.pop(k)
        else:
            doc[k] = v
    return json.dumps(doc).encode()


def data(**changes: Any) -> bytes:
    d = report_data()
    for path, v in changes.items():
        part, key = path.split("__")
        if v is None:
            d[part].pop(key)
        else:
            d[part][key] = v
    return json.dumps(cloudevent(SRC, d)).encode()


def test_a_valid_report_parses() -> None:
    result = parse({b"event": ev()})
    assert isinstance(result, ParsedReport)
    assert result.ref == report_ref(SRC, result.event_id)


CORPUS = {
    "missing-event-field": ({b"payload": ev()}, "missing_event_field", None),
    "truncated-json": ({b"event": ev()[:40]}, "invalid_json", None),
    "not-utf8": ({b"event": b"\xff\xfe\xfa"}, "not_utf8", None),
    "binary-garbage": ({b"event": bytes(range(256))}, "not_utf8", None),
    "json-not-object": ({b"event": b"[1, 2, 3]"}, "invalid_envelope", None),
    "too-large": ({b"event": b" " * (LIMIT + 1)}, "too_large", None),
    "missing-specversion": ({b"event": ev(specversion=None)}, "invalid_envelope", "specversion"),
    "unknown-envelope-field": ({b"event": ev(extra_attr="x")}, "invalid_envelope", "extra_attr"),
    "wrong-type-time": ({b"event": ev(time=12)}, "invalid_envelope", "time"),
    "spoofed-source": ({b"event": ev(source="politi-vestegn")}, "source_mismatch", None),
    "unknown-source": ({b"event": ev(source="nobody")}, "source_mismatch", None),
    "wrong-event-type": ({b"event": ev(type="dk.albertslund.hub.other.v1")}, "unknown_type", None),
    "invalid-cpr": ({b"event": data(subject__cpr="320199-1234")}, "invalid_report", "data.subject.cpr"),
    "unknown-category": (
        {b"event": data(concern__categories=["parking"])},
        "invalid_report",
        "data.concern.categories",
    ),
    "unknown-report-field": ({b"event": data(concern__mood="bad")}, "invalid_report", "data.concern.mood"),
    "missing-description": ({b"event": data(concern__description=None)}, "invalid_report", "data.concern.description"),
    "wrong-type-flag": (
        {b"event": data(concern__child_at_risk="maybe")},
        "invalid_report",
        "data.concern.child_at_risk",
    ),
    "description-too-long": (
        {b"event": data(concern__description="x" * 5000)},
        "invalid_report",
        "data.concern.description",
    ),
    "observed-in-future": (
        {b"event": data(concern__observed_at=(NOW + timedelta(days=2)).isoformat())},
        "time_out_of_range",
        "data.concern.observed_at",
    ),
    "born-in-future": (
        {b"event": data(subject__birth_date=(NOW + timedelta(days=400)).date().isoformat(), subject__cpr=None)},
        "time_out_of_range",
        "data.subject.birth_date",
    ),
}


@pytest.mark.parametrize(("fields", "code", "field"), CORPUS.values(), ids=CORPUS.keys())
def test_bad_input_is_rejected_with_what_is_wrong(fields: dict[bytes, bytes], code: str, field: str | None) -> None:
    result = parse(fields)
    assert isinstance(result, Rejection), result
    assert result.code == code
    assert result.message
    if field is not None:
        assert any(e.field.startswith(field) for e in result.errors), result.errors


def test_rejections_never_quote_the_input() -> None:
    cpr = child_cpr()
    result = parse({b"event": data(subject__cpr=cpr[:6] + "-99", concern__categories=[CHILD_NAME])})
    assert isinstance(result, Rejection)
    text = json.dumps([e.model_dump() for e in result.errors]) + result.message
    assert CHILD_NAME not in text and cpr[:6] not in text


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.binary(max_size=10), st.binary(max_size=200), max_size=3))
def test_fuzz_any_fields_never_raise(fields: dict[bytes, bytes]) -> None:
    assert isinstance(parse(fields), ParsedReport | Rejection)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["specversion", "id", "source", "type", "time", "data", "x"]), json_values))
def test_fuzz_json_documents_never_raise(doc: dict[str, Any]) -> None:
    assert isinstance(parse({b"event": json.dumps(doc).encode()}), ParsedReport | Rejection)


def test_report_ref_is_the_base32_of_the_identity_digest() -> None:
    # References are stable forever (receipts, triage, partners quote them): they must keep
    # meaning the first 12 base32 letters of sha256(source NUL event id).
    import base64
    import hashlib

    for n in range(2000):
        source, event_id = f"source-{n % 7}", f"event-{n}-{n * 7919}"
        digest = hashlib.sha256(f"{source}\x00{event_id}".encode()).digest()
        assert report_ref(source, event_id) == "DKE-" + base64.b32encode(digest[:8]).decode()[:12]


@pytest.mark.parametrize(
    ("body", "urgent"),
    [
        (data(concern__planned_serious_crime=True), True),
        (data(concern__planned_serious_crime=False), False),
        (data(), False),
        (data(concern__description="planned_serious_crime: true"), False),  # the words alone are not the flag
        (data(concern__planned_serious_crime="true"), False),  # not a JSON true
        (b'{"data": {"concern": "planned_serious_crime"}}', False),
        (b'{"data": ["planned_serious_crime"]}', False),
        (b'["planned_serious_crime"]', False),
        (b"planned_serious_crime {not json", False),
        (b"\xff planned_serious_crime", False),
    ],
)
def test_the_urgent_hint_is_the_reports_planned_crime_flag_and_never_raises(body: bytes, urgent: bool) -> None:
    assert flags_planned_crime(Entry("s", "1-0", {b"event": body})) is urgent


def test_an_entry_without_an_event_field_is_not_urgent() -> None:
    assert flags_planned_crime(Entry("s", "1-0", {b"other": b"planned_serious_crime"})) is False

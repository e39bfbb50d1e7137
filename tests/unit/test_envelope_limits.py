"""Hostile input to the one parser: every limit and refusal has its own code, decided fast,
and no input whatever makes `parse_entry` or `parse_decision` raise."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config.registry import default_registry_path, load_registry
from hub.config.settings import Settings
from hub.schemas.cloudevents import CloudEvent
from hub.schemas.decision import TriageDecision
from hub.schemas.entry import Entry
from hub.schemas.limits import DEFAULT_LIMITS, Limits
from hub.services.envelope import ParsedReport, Rejection, event_id_of, parse_decision, parse_entry
from tests.factories import cloudevent, decision, report_data

SRC = "herstedlund-skole"
NOW = datetime.now(UTC)
NOW_AT_RUN_TIME = True  # tests/unit/conftest.py takes NOW again as each test starts
LIMIT = DEFAULT_LIMITS.max_bytes
REGISTRY = load_registry(default_registry_path())


def parse(fields: dict[bytes, bytes]) -> ParsedReport | Rejection:
    return parse_entry(Entry(f"hub.intake.{SRC}.v1", "1-0", fields), SRC, NOW, LIMIT)


def decide(fields: dict[bytes, bytes]) -> CloudEvent[TriageDecision] | Rejection:
    return parse_decision(Entry("hub.decisions.v1", "1-0", fields), REGISTRY, now=NOW)


def good() -> dict[str, Any]:
    return cloudevent(SRC, report_data())


def text(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def with_data(path: str, value: Any) -> bytes:
    """A good report with `value` at `path` (dotted, under `data`), as raw JSON text: the
    value is spliced in as text, so it can be anything, valid JSON or not."""
    doc = good()
    node = doc["data"]
    *parents, key = path.split(".")
    for p in parents:
        node = node[p]
    node[key] = "@@HERE@@"
    return text(doc).replace(b'"@@HERE@@"', value if isinstance(value, bytes) else json.dumps(value).encode())


def with_envelope(**changes: Any) -> bytes:
    return text({**good(), **changes})


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def iso(t: datetime) -> str:
    return t.isoformat()


CPR = "data.subject.cpr"

# One case per code (and per way of reaching it). (fields, code, field the errors name or None)
REPORT_CASES: dict[str, tuple[dict[bytes, bytes], str, str | None]] = {
    "missing-event-field": ({b"payload": text(good())}, "missing_event_field", None),
    "extra-field": ({b"event": text(good()), b"x": b"1"}, "extra_fields", None),
    "faststream-envelope": ({b"__data__": b"\x00\x01garbage"}, "extra_fields", None),
    "faststream-envelope-beside-event": ({b"event": text(good()), b"__data__": b"x"}, "extra_fields", None),
    "not-utf8": ({b"event": b"\xff" + text(good())}, "not_utf8", None),
    "lone-surrogate": ({b"event": with_data("concern.description", b'"a\\ud800b"')}, "not_utf8", None),
    "nan": ({b"event": with_data("concern.school_absence_pct", b"NaN")}, "invalid_json", None),
    "infinity": ({b"event": with_data("concern.school_absence_pct", b"-Infinity")}, "invalid_json", None),
    "duplicate-envelope-key": (
        {b"event": text(good())[:-1] + b', "source": "politi-vestegn"}'},
        "duplicate_key",
        None,
    ),
    "duplicate-data-key": (
        {b"event": with_data("concern", b'{"categories": ["crime"], "description": "a", "description": "b"}')},
        "duplicate_key",
        None,
    ),
    "too-large": ({b"event": with_data("concern.description", "x" * LIMIT)}, "too_large", None),
    "deep-in-data": ({b"event": with_data("concern.description", nested(50_000))}, "too_deep", None),
    "just-too-deep": ({b"event": with_data("concern.description", nested(DEFAULT_LIMITS.max_depth))}, "too_deep", None),
    "deep-envelope": ({b"event": nested(100_000)}, "too_deep", None),
    "huge-integer": ({b"event": with_data("concern.school_absence_pct", b"9" * 5000)}, "number_too_large", None),
    "huge-integer-id": (
        {b"event": with_envelope(id=None)[:-1] + b', "x": ' + b"1" * 4400 + b"}"},
        "number_too_large",
        None,
    ),
    "long-float": ({b"event": with_data("concern.school_absence_pct", b"1." + b"0" * 100)}, "number_too_large", None),
    "float-overflow": ({b"event": with_data("concern.school_absence_pct", b"1e999")}, "number_too_large", None),
    "long-string": ({b"event": with_data("concern.description", "x" * 20_000)}, "string_too_long", None),
    "long-key": ({b"event": with_data("concern." + "k" * 20_000, 1)}, "string_too_long", None),
    "wide-array": ({b"event": with_data("concern.categories", ["crime"] * 1001)}, "too_many_members", None),
    "many-values": (
        {b"event": with_data("consent", [[0] * 999] * 11)},
        "too_many_members",
        None,
    ),
    "wide-object": ({b"event": with_data("consent", {f"k{i}": 1 for i in range(1001)})}, "too_many_members", None),
    "nul-in-text": ({b"event": with_data("concern.description", "a\x00b")}, "control_character", None),
    "nul-in-key": ({b"event": with_data("concern", {"a\x00": 1})}, "control_character", None),
    "newline-in-id": ({b"event": with_envelope(id="abc\n")}, "control_character", "id"),
    "escape-in-source": ({b"event": with_envelope(source=SRC + "\x1b")}, "control_character", "source"),
    "bidi-override-in-subject": ({b"event": with_envelope(subject="case-\u202e1")}, "control_character", "subject"),
    "invalid-envelope": ({b"event": with_envelope(specversion="0.3")}, "invalid_envelope", "specversion"),
    "invalid-report": ({b"event": with_data("concern.categories", ["parking"])}, "invalid_report", "data.concern"),
    "arabic-indic-cpr": ({b"event": with_data("subject.cpr", "٠١٠١١٢-٤١٢٣")}, "invalid_report", CPR),
    "fullwidth-cpr": (
        {b"event": with_data("subject.cpr", "０１０１１２-４１２３")},
        "invalid_report",
        "data.subject.cpr",
    ),
    "cpr-trailing-newline": (
        {b"event": with_data("subject.cpr", "010112-4123\n")},
        "invalid_report",
        "data.subject.cpr",
    ),
    "time-year-9999": ({b"event": with_envelope(time="9999-12-31T23:59:59+00:00")}, "time_out_of_range", "time"),
    "time-year-1": ({b"event": with_envelope(time="0001-01-01T00:00:00+00:00")}, "time_out_of_range", "time"),
    "time-year-1-east": ({b"event": with_envelope(time="0001-01-01T00:00:00+14:00")}, "time_out_of_range", "time"),
    "time-two-years-old": ({b"event": with_envelope(time=iso(NOW - timedelta(days=730)))}, "time_out_of_range", "time"),
    "time-an-hour-ahead": ({b"event": with_envelope(time=iso(NOW + timedelta(hours=1)))}, "time_out_of_range", "time"),
    "observed-year-1": (
        {b"event": with_data("concern.observed_at", "0001-01-01T00:00:00Z")},
        "time_out_of_range",
        "data.concern.observed_at",
    ),
    "born-year-1": (
        {b"event": with_data("subject", {"name": "Test", "birth_date": "0001-01-01"})},
        "time_out_of_range",
        "data.subject.birth_date",
    ),
    "cpr-born-1860": ({b"event": with_data("subject.cpr", "010160-6123")}, "time_out_of_range", "data.subject.cpr"),
    "release-year-9999": (
        {b"event": with_data("subject.custody", {"kind": "prison", "release_date": "9999-12-31"})},
        "time_out_of_range",
        "data.subject.custody.release_date",
    ),
    "source-mismatch": ({b"event": with_envelope(source="politi-vestegn")}, "source_mismatch", None),
    "unknown-type": ({b"event": with_envelope(type="dk.albertslund.hub.other.v1")}, "unknown_type", None),
}


@pytest.mark.parametrize(("fields", "code", "field"), REPORT_CASES.values(), ids=REPORT_CASES.keys())
def test_each_refusal_has_its_code(fields: dict[bytes, bytes], code: str, field: str | None) -> None:
    result = parse(fields)
    assert isinstance(result, Rejection), result
    assert (result.code, bool(result.message)) == (code, True), result
    if field is not None:
        assert any(e.field.startswith(field) for e in result.errors), result.errors


def test_a_refusal_before_validation_still_names_the_event_for_the_receipt() -> None:
    doc = good()
    result = parse({b"event": text(doc)[:-1] + b', "x": ' + nested(500) + b"}"})
    assert isinstance(result, Rejection) and (result.code, result.event_id) == ("too_deep", doc["id"])


def test_the_limits_are_inclusive_and_a_good_report_passes() -> None:
    assert isinstance(parse({b"event": text(good())}), ParsedReport)
    at_depth = with_data("concern.description", nested(DEFAULT_LIMITS.max_depth - 3))  # data.concern.x: 3 levels
    result = parse({b"event": at_depth})
    assert isinstance(result, Rejection) and result.code == "invalid_report", result  # the depth was fine
    many = parse({b"event": with_data("concern.categories", ["crime"] * 1000)})
    assert isinstance(many, ParsedReport)
    escaped = good()
    escaped["data"]["concern"]["description"] = "Æblet 😀 \\u0000 er rødt"  # text that only looks like an escape
    assert isinstance(parse({b"event": json.dumps(escaped).encode()}), ParsedReport)  # ensure_ascii: \u escapes


DECISION_CASES: dict[str, tuple[dict[bytes, bytes], str]] = {
    "extra-field": ({b"event": text(decision("DKE-A", [])), b"y": b""}, "extra_fields"),
    "deep": ({b"event": text(decision("DKE-A", []))[:-1] + b', "x": ' + nested(10_000) + b"}"}, "too_deep"),
    "huge-integer": ({b"event": text(decision("DKE-A", [])).replace(b'"I"', b"1" * 5000)}, "number_too_large"),
    "duplicate-key": ({b"event": text(decision("DKE-A", []))[:-1] + b', "id": "x"}'}, "duplicate_key"),
    "nul": ({b"event": text(decision("DKE-A\x00", []))}, "control_character"),
    "tab-in-report-ref": ({b"event": text(decision("DKE-A\tB", []))}, "control_character"),
    "newline-in-decided-by": (
        {b"event": text(decision("DKE-A", [])).replace(b'"decided_by": "TT"', b'"decided_by": "TT\\n"')},
        "control_character",
    ),
    "partner-id-trailing-newline": ({b"event": text(decision("DKE-A", [("ssp", "skole\n")]))}, "control_character"),
    "partner-id-uppercase": ({b"event": text(decision("DKE-A", [("ssp", "Skole")]))}, "invalid_decision"),
    "time-year-9999": (
        {b"event": text({**decision("DKE-A", []), "time": "9999-01-01T00:00:00+00:00"})},
        "time_out_of_range",
    ),
}


@pytest.mark.parametrize(("fields", "code"), DECISION_CASES.values(), ids=DECISION_CASES.keys())
def test_each_decision_refusal_has_its_code(fields: dict[bytes, bytes], code: str) -> None:
    result = decide(fields)
    assert isinstance(result, Rejection), result
    assert result.code == code, result


def test_a_good_decision_parses() -> None:
    assert isinstance(decide({b"event": text(decision("DKE-A", [("ssp", "skole")]))}), CloudEvent)


def test_settings_build_the_limits_and_the_parser_uses_them() -> None:
    limits = Settings(max_json_depth=6, event_max_age_days=1).limits
    assert (limits.max_depth, limits.event_max_age) == (6, timedelta(days=1))
    assert Settings().limits == DEFAULT_LIMITS
    entry = Entry("s", "1-0", {b"event": with_data("concern.description", nested(4))})  # 3 + 4 > 6
    result = parse_entry(entry, SRC, NOW, LIMIT, limits=limits)
    assert isinstance(result, Rejection) and result.code == "too_deep"
    yesterday = Entry("s", "1-0", {b"event": with_envelope(time=iso(NOW - timedelta(days=2)))})
    result = parse_entry(yesterday, SRC, NOW, LIMIT, limits=limits)
    assert isinstance(result, Rejection) and result.code == "time_out_of_range"


def _hostile_at_the_limit() -> dict[str, bytes]:
    n = LIMIT - 100
    return {
        "deep": nested(n // 2),
        "wide-array": b"[" + b"0," * (n // 2 - 1) + b"0]",
        "many-small-arrays": b"[" + b",".join([b"[" + b"0," * 500 + b"0]"] * (n // 1004)) + b"]",  # 995 x 501
        "many-small-objects": b"[" + b",".join([b'{"a":1}'] * 900) * 1 + b"]",
        "many-strings": b"[" + b",".join([b'"\\u0041"'] * 999) + b"]",
        "long-string": b'"' + b"a" * (n - 2) + b'"',
        "long-number": b"1" * n,
        "duplicate-keys": b"{" + b",".join([b'"a":1'] * 999) + b"}",
        "floats-under-the-value-cap": b"[" + b",".join([b"[" + b",".join([b"0.5e-3"] * 999) + b"]"] * 9) + b"]",
        "strings-under-the-value-cap": b"["
        + b",".join([b"[" + b",".join([b'"' + b"\\u00e6" * 17 + b'"'] * 999) + b"]"] * 9)
        + b"]",
    }


@pytest.mark.parametrize(("name", "body"), _hostile_at_the_limit().items(), ids=_hostile_at_the_limit().keys())
def test_a_hostile_entry_at_the_size_limit_is_decided_quickly(name: str, body: bytes) -> None:
    start = time.process_time()
    result = parse({b"event": body})
    elapsed = time.process_time() - start
    assert isinstance(result, Rejection), name
    assert elapsed < 0.25, f"{name}: {elapsed * 1000:.0f} ms"  # a few ms alone; a wide margin for a busy CI


# --- property tests: no input of any kind makes the parser raise ------------------------------------------

FIELD_NAMES = st.sampled_from([b"event", b"__data__", b"x", b""])

SCALARS = st.one_of(
    st.just(b"null"),
    st.sampled_from([b"true", b"[]", b"{}"]),
    st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1E400", b"9" * 5000, b"0.1e-99999"]),
    st.integers().map(lambda i: str(i).encode()),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(f).encode()),
    st.text(max_size=30).map(lambda s: json.dumps(s, ensure_ascii=bool(len(s) % 2)).encode()),
    st.sampled_from([b'"\\u0000"', b'"\\ud800"', b'"\\udc00\\ud800"', b'"\\ud83d\\ude00"', b'"\\x"', b'"\x01"']),
    st.sampled_from(
        [b'"0001-01-01T00:00:00+14:00"', b'"9999-12-31T23:59:59-14:00"', b'"2026-02-30"', b'"010112-4123\\n"']
    ),
)
KEYS = st.sampled_from(
    ["specversion", "id", "source", "type", "time", "data", "subject", "reporter", "concern", "cpr", "x", "\x00"]
).map(lambda k: json.dumps(k).encode())


def _containers(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    arrays = st.lists(children, min_size=1, max_size=5).map(lambda items: b"[" + b",".join(items) + b"]")
    objects = st.lists(st.tuples(KEYS, children), min_size=1, max_size=5).map(
        lambda pairs: b"{" + b",".join(k + b":" + v for k, v in pairs) + b"}"
    )
    deep = st.tuples(st.integers(1, 3000), children).map(lambda t: b"[" * t[0] + t[1] + b"]" * t[0])
    return st.one_of(arrays, objects, deep)


JSONISH = st.recursive(SCALARS, _containers, max_leaves=25)


def _good_report_spliced() -> st.SearchStrategy[bytes]:
    """A real report with one value replaced by generated JSON-ish text."""
    paths = ["concern.description", "concern.categories", "subject.cpr", "subject", "reporter.name", "consent"]
    return st.tuples(st.sampled_from(paths), JSONISH).map(lambda t: with_data(t[0], t[1]))


def _mangled(doc: bytes) -> st.SearchStrategy[bytes]:
    return st.tuples(st.integers(0, len(doc)), st.integers(0, 40), st.binary(max_size=8)).map(
        lambda t: doc[: t[0]] + t[2] + doc[t[0] + t[1] :]
    )


DOCUMENTS = st.one_of(
    JSONISH,
    _good_report_spliced(),
    _mangled(text(good())),
    _mangled(text(decision("DKE-A", [("ssp", "skole")]))),
    st.binary(max_size=300),
)
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.dictionaries(FIELD_NAMES, st.one_of(st.binary(max_size=300), DOCUMENTS), max_size=3))
def test_any_fields_of_any_bytes_are_answered_without_raising(fields: dict[bytes, bytes]) -> None:
    entry = Entry(f"hub.intake.{SRC}.v1", "1-0", fields)
    assert isinstance(parse_entry(entry, SRC, NOW, LIMIT), ParsedReport | Rejection)
    assert isinstance(parse_decision(entry, REGISTRY, now=NOW), CloudEvent | Rejection)
    assert event_id_of(fields) is None or event_id_of(fields)


@PROPERTY
@given(DOCUMENTS)
def test_any_jsonish_document_is_answered_without_raising(doc: bytes) -> None:
    entry = Entry(f"hub.intake.{SRC}.v1", "1-0", {b"event": doc})
    result = parse_entry(entry, SRC, NOW, LIMIT)
    assert isinstance(result, ParsedReport | Rejection)
    if isinstance(result, Rejection):
        assert result.code and result.message
    else:  # what passes is safe to store: no NUL, encodable, identifiers printable
        stored = result.report.model_dump_json()
        assert "\\u0000" not in stored and result.event_id.isprintable()
        stored.encode("utf-8")
    assert isinstance(parse_decision(entry, REGISTRY, now=NOW), CloudEvent | Rejection)


def test_limits_refuse_a_depth_the_stdlib_parser_could_not_reach() -> None:
    with pytest.raises(ValueError):
        Limits(max_depth=10_000)

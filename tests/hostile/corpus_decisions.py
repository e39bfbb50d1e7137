"""The hostile corpus on `hub.decisions.v1`: triage decisions on the base report (stored by the
decisions test first), each broken in one way. Grouped by the classes of issue #16."""

from __future__ import annotations

from hub.schemas.report import CONCERN_REPORTED
from tests.hostile.builders import DROP, POLICE, SCHOOL, changed, decision_doc, digits, dumps, nested, spliced
from tests.hostile.cases import Case, case

MB = 1_000_000
DEEP = 5000
LONG = 900_000
MANY = 200_000


def _d(case_id: str, **paths: object) -> bytes:
    """A decision for the case, changed at the given paths, as JSON bytes."""
    return dumps(changed(decision_doc(case_id), **paths))


def _draw(case_id: str, **raw: str) -> bytes:
    """A decision for the case with raw JSON text spliced in at the given paths."""
    return spliced(decision_doc(case_id), **raw)


DECISION_CASES: list[Case] = [
    case(
        "deep-decision-data", "deep nesting", "D", "too_deep", _draw("deep-decision-data", data__referrals=nested(DEEP))
    ),
    case("deep-decision-top", "deep nesting", "D", "too_deep", nested(100_000, kind="object").encode()),
    case(
        "huge-int-decision-ref",
        "huge integers",
        "D",
        "number_too_large",
        _draw("huge-int-decision-ref", data__report_ref=digits(5000)),
    ),
    case(
        "huge-int-decision-level",
        "huge integers",
        "D",
        "number_too_large",
        _draw("huge-int-decision-level", data__level=digits(1000)),
    ),
    case(
        "nul-decision-justification",
        "control characters",
        "D",
        "control_character",
        _d("nul-decision-justification", data__justification="Nødvendigt\x00"),
    ),
    case(
        "newline-in-decision-id",
        "control characters",
        "D",
        "control_character",
        _d("newline-in-decision-id", id="hostile-decision\n"),
    ),
    case(
        "control-in-decision-ref",
        "control characters",
        "D",
        "control_character",
        _d("control-in-decision-ref", data__report_ref="DKE-\x01"),
    ),
    case(
        "faststream-decision",
        "faststream __data__",
        "D",
        "extra_fields",
        fields={b"__data__": b"\x80\x81garbage"},
        own_batch=True,
    ),
    case(
        "extra-field-decision",
        "extra entry fields",
        "D",
        "extra_fields",
        fields={b"event": _d("extra-field-decision"), b"x": b"1"},
    ),
    case("no-event-field-decision", "missing fields", "D", "missing_event_field", fields={b"payload": b"{}"}),
    case(
        "dup-decision-ref",
        "duplicate keys",
        "D",
        "duplicate_key",
        _draw("dup-decision-ref", data__level='"I", "level": "II"'),
    ),
    case(
        "decision-time-year-9999",
        "times",
        "D",
        "time_out_of_range",
        _d("decision-time-year-9999", time="9999-12-31T23:59:59+00:00"),
    ),
    case("nan-decision", "nan/infinity", "D", "invalid_json", _draw("nan-decision", data__level="NaN")),
    case("not-utf8-decision", "not utf-8", "D", "not_utf8", b"\xff" + _d("not-utf8-decision")),
    case("not-json-decision", "not json", "D", "invalid_json", b"level=I&report_ref=x"),
    case("array-decision", "not an object", "D", ("invalid_envelope", "invalid_decision"), b"[]"),
    case("decision-level-number", "wrong types", "D", "invalid_decision", _d("decision-level-number", data__level=1)),
    case(
        "decision-referrals-object",
        "wrong types",
        "D",
        "invalid_decision",
        _d("decision-referrals-object", data__referrals={"ssp": POLICE}),
    ),
    case(
        "decision-missing-decided-by",
        "missing fields",
        "D",
        "invalid_decision",
        _d("decision-missing-decided-by", data__decided_by=DROP),
    ),
    case(
        "long-decision-justification",
        "over-long strings",
        "D",
        "string_too_long",
        _d("long-decision-justification", data__justification="j" * LONG),
    ),
    case(
        "many-decision-referrals",
        "too many members",
        "D",
        "too_many_members",
        _draw("many-decision-referrals", data__referrals="[" + ",".join(["0"] * MANY) + "]"),
    ),
    case(
        "over-size-decision",
        "over-size",
        "D",
        "too_large",
        _d("over-size-decision", data__justification="j" * (MB + 10)),
    ),
    case(
        "type-report-on-decisions",
        "wrong event type",
        "D",
        "unknown_type",
        _d("type-report-on-decisions", type=CONCERN_REPORTED),
    ),
    case(
        "decision-unknown-report",
        "unknown decision refs",
        "D",
        "unknown_report",
        dumps(decision_doc("decision-unknown-report", ref="DKE-AAAAAAAAAAAA")),
    ),
    case(
        "decision-unknown-partner",
        "unknown decision refs",
        "D",
        "unknown_partner",
        dumps(decision_doc("decision-unknown-partner", partner="ukendt-partner")),
    ),
    case(
        "decision-unknown-source",
        "unknown decision refs",
        "D",
        "unknown_decision_source",
        _d("decision-unknown-source", source=SCHOOL),
    ),
    case("decision-bad-level", "wrong types", "D", "invalid_decision", _d("decision-bad-level", data__level="IV")),
]

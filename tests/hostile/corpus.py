"""The hand-written hostile corpus: one case per input, grouped by the classes of issue #16;
the intake stream and HTTP cases here, the decisions cases in `corpus_decisions`.

Sizes are far beyond any sensible limit and, where the case is about something else, below
the 1 MB entry limit (`Settings.max_body_bytes`): 5000 levels of nesting, numbers of
thousands of digits, strings of 900 000 characters, arrays of 200 000 members.
"""

from __future__ import annotations

from hub.schemas import streams
from hub.schemas.report import CONCERN_REPORTED
from tests.hostile.builders import (
    CPR,
    CPR_ARABIC_INDIC,
    CPR_DIGITS,
    CPR_EXTENDED_ARABIC,
    CPR_FULL_WIDTH,
    CPR_ONE_FULL_WIDTH,
    DROP,
    POLICE,
    SCHOOL,
    changed,
    digits,
    dumps,
    nested,
    report,
    spliced,
    with_duplicate,
)
from tests.hostile.cases import Case, case
from tests.hostile.corpus_decisions import DECISION_CASES

MB = 1_000_000
DEEP = 5000
LONG = 900_000
MANY = 200_000


def _r(case_id: str, **paths: object) -> bytes:
    """A report for the case, changed at the given paths, as JSON bytes."""
    return dumps(changed(report(case_id), **paths))


def _raw(case_id: str, **raw: str) -> bytes:
    """A report for the case with raw JSON text spliced in at the given paths."""
    return spliced(report(case_id), **raw)


def _subject_dup(case_id: str, first: str) -> bytes:
    doc = report(case_id)
    return spliced(doc, data__subject=with_duplicate(doc["data"]["subject"], "cpr", first))


def _event_dup(case_id: str, key: str, first: object) -> bytes:
    return with_duplicate(report(case_id), key, first).encode()


GOOD_EVENT = _r("fields-good-event")

CORPUS: list[Case] = [
    # --- deep nesting (RecursionError today: never answered; 500 over HTTP) -----------------
    case(
        "deep-data-array",
        "deep nesting",
        "SH",
        "too_deep",
        _raw("deep-data-array", data__concern__description=nested(DEEP)),
    ),
    case(
        "deep-data-object",
        "deep nesting",
        "S",
        "too_deep",
        _raw("deep-data-object", data__concern__location=nested(DEEP, kind="object")),
    ),
    case("deep-envelope", "deep nesting", "SH", "too_deep", _raw("deep-envelope", subject=nested(DEEP, kind="object"))),
    case("deep-top-level", "deep nesting", "SH", "too_deep", nested(100_000).encode()),
    case("deep-unclosed", "deep nesting", "SH", ("too_deep", "invalid_json"), b"[" * 100_000),
    # --- huge integers (int-conversion ValueError today: processing_failed after minutes) -----
    case(
        "huge-int-number",
        "huge integers",
        "SH",
        "number_too_large",
        _raw("huge-int-number", data__concern__school_absence_pct=digits(5000)),
    ),
    case(
        "huge-int-1000",
        "huge integers",
        "S",
        "number_too_large",
        _raw("huge-int-1000", data__concern__school_absence_pct=digits(1000)),
    ),
    case("huge-int-id", "huge integers", "SH", "number_too_large", _raw("huge-int-id", id=digits(5000))),
    case(
        "huge-int-negative-time",
        "huge integers",
        "S",
        "number_too_large",
        _raw("huge-int-negative-time", time="-" + digits(5000)),
    ),
    case(
        "huge-float-mantissa",
        "huge integers",
        "SH",
        "number_too_large",
        _raw("huge-float-mantissa", data__concern__school_absence_pct="0." + digits(5000)),
    ),
    case(
        "huge-int-cpr",
        "huge integers",
        "S",
        "number_too_large",
        _raw("huge-int-cpr", data__subject__cpr=digits(5000, "1")),
    ),
    # --- NUL and control characters (NUL reaches PostgreSQL today) ---------------------------
    case(
        "nul-description",
        "control characters",
        "SH",
        "control_character",
        _r("nul-description", data__concern__description="Bekymring\x00 om barnet"),
    ),
    case(
        "nul-reporter-name",
        "control characters",
        "S",
        "control_character",
        _r("nul-reporter-name", data__reporter__name="Lærer\x00Testesen"),
    ),
    case("nul-id", "control characters", "SH", "control_character", _r("nul-id", id="hostile-nul\x00id")),
    case(
        "nul-raw-byte",
        "control characters",
        "SH",
        ("control_character", "invalid_json"),
        _r("nul-raw-byte", data__concern__location="@@").replace(b"@@", b"\x00"),
    ),
    case(
        "nul-source",
        "control characters",
        "S",
        ("control_character", "source_mismatch"),
        _r("nul-source", source=SCHOOL + "\x00"),
    ),
    case("newline-in-id", "control characters", "SH", "control_character", _r("newline-in-id", id="hostile-newline\n")),
    case("escape-in-id", "control characters", "S", "control_character", _r("escape-in-id", id="hostile-\x1b[31mred")),
    case(
        "cr-in-subject-attr", "control characters", "S", "control_character", _r("cr-in-subject-attr", subject="sag\r1")
    ),
    case(
        "tab-in-type",
        "control characters",
        "S",
        ("control_character", "unknown_type"),
        _r("tab-in-type", type=CONCERN_REPORTED + "\t"),
    ),
    # --- FastStream's own envelope key (fails the whole batch in FastStream's parser today) ----
    case(
        "faststream-garbage",
        "faststream __data__",
        "S",
        "extra_fields",
        fields={b"__data__": b"\x00\xff\xfe\x89garbage"},
        own_batch=True,
    ),
    case(
        "faststream-with-event",
        "faststream __data__",
        "S",
        "extra_fields",
        fields={b"event": GOOD_EVENT, b"__data__": b"\xc3\x28"},
        own_batch=True,
    ),
    case(
        "faststream-json",
        "faststream __data__",
        "S",
        "extra_fields",
        fields={b"__data__": b'{"data": "x", "headers": {}}'},
        own_batch=True,
    ),
    # --- entry fields besides `event` ----------------------------------------------------------
    case(
        "extra-field", "extra entry fields", "S", "extra_fields", fields={b"event": _r("extra-field"), b"source": b"x"}
    ),
    case(
        "extra-field-cased",
        "extra entry fields",
        "S",
        "extra_fields",
        fields={b"event": _r("extra-field-cased"), b"Event": b"{}"},
    ),
    case("no-event-field", "missing fields", "S", "missing_event_field", fields={b"payload": _r("no-event-field")}),
    # --- duplicate JSON keys (last wins today) ------------------------------------------------
    case("dup-source", "duplicate keys", "SH", "duplicate_key", _event_dup("dup-source", "source", POLICE)),
    case(
        "dup-source-spoof-last",
        "duplicate keys",
        "S",
        "duplicate_key",
        _r("dup-source-spoof-last").replace(
            b'"source": "herstedlund-skole"', b'"source": "herstedlund-skole", "source": "politi-vestegn"'
        ),
    ),
    case("dup-cpr", "duplicate keys", "SH", "duplicate_key", _subject_dup("dup-cpr", "010190-1234")),
    case("dup-id", "duplicate keys", "S", "duplicate_key", _event_dup("dup-id", "id", "hostile-dup-id-first")),
    case(
        "dup-purpose",
        "duplicate keys",
        "H",
        "duplicate_key",
        _raw("dup-purpose", data__purpose='"investigation", "purpose": "crime_prevention"'),
    ),
    # --- CPR numbers in other digits or with a trailing newline (accepted today) --------------
    case(
        "cpr-arabic-indic",
        "cpr digits",
        "SH",
        "invalid_report",
        _r("cpr-arabic-indic", data__subject__cpr=CPR_ARABIC_INDIC),
    ),
    case(
        "cpr-extended-arabic",
        "cpr digits",
        "S",
        "invalid_report",
        _r("cpr-extended-arabic", data__subject__cpr=CPR_EXTENDED_ARABIC),
    ),
    case(
        "cpr-full-width", "cpr digits", "SH", "invalid_report", _r("cpr-full-width", data__subject__cpr=CPR_FULL_WIDTH)
    ),
    case(
        "cpr-one-full-width",
        "cpr digits",
        "S",
        "invalid_report",
        _r("cpr-one-full-width", data__subject__cpr=CPR_ONE_FULL_WIDTH),
    ),
    case(
        "cpr-trailing-newline",
        "cpr digits",
        "SH",
        ("invalid_report", "control_character"),
        _r("cpr-trailing-newline", data__subject__cpr=CPR + "\n"),
    ),
    # --- times outside a plausible window (accepted today) ------------------------------------
    case("time-year-9999", "times", "SH", "time_out_of_range", _r("time-year-9999", time="9999-12-31T23:59:59+00:00")),
    case("time-year-1", "times", "SH", "time_out_of_range", _r("time-year-1", time="0001-01-01T00:00:00+00:00")),
    case(
        "observed-year-1",
        "times",
        "S",
        ("time_out_of_range", "invalid_report"),
        _r("observed-year-1", data__concern__observed_at="0001-01-01T00:00:00+00:00"),
    ),
    # --- NaN and Infinity (not JSON; Python's parser takes them) ------------------------------
    case(
        "nan-number", "nan/infinity", "SH", "invalid_json", _raw("nan-number", data__concern__school_absence_pct="NaN")
    ),
    case(
        "infinity-number",
        "nan/infinity",
        "SH",
        "invalid_json",
        _raw("infinity-number", data__concern__school_absence_pct="Infinity"),
    ),
    case("minus-infinity-id", "nan/infinity", "S", "invalid_json", _raw("minus-infinity-id", id="-Infinity")),
    # --- not UTF-8 -------------------------------------------------------------------------------
    case("not-utf8-prefix", "not utf-8", "SH", "not_utf8", b"\xff\xfe" + _r("not-utf8-prefix")),
    case(
        "overlong-utf8",
        "not utf-8",
        "SH",
        "not_utf8",
        _r("overlong-utf8", data__concern__location="@@").replace(b"@@", b"\xc0\xaf"),
    ),
    case(
        "surrogate-utf8",
        "not utf-8",
        "S",
        "not_utf8",
        _r("surrogate-utf8", data__concern__location="@@").replace(b"@@", b"\xed\xa0\x80"),
    ),
    case("latin1-text", "not utf-8", "SH", "not_utf8", _r("latin1-text").replace("æ".encode(), b"\xe6")),
    # --- not JSON --------------------------------------------------------------------------------
    case("truncated", "not json", "SH", "invalid_json", _r("truncated")[:80]),
    case("empty", "not json", "SH", "invalid_json", b""),
    case("bom-prefix", "not json", "S", "invalid_json", "\ufeff".encode() + _r("bom-prefix")),
    case("python-repr", "not json", "SH", "invalid_json", repr(report("python-repr")).encode()),
    case("trailing-garbage", "not json", "S", "invalid_json", _r("trailing-garbage") + b" x"),
    case("two-documents", "not json", "S", "invalid_json", _r("two-documents") + _r("two-documents")),
    # --- not an object ---------------------------------------------------------------------------
    case("array", "not an object", "SH", "invalid_envelope", b"[1, 2, 3]"),
    case("string", "not an object", "S", "invalid_envelope", b'"a concern"'),
    case("number", "not an object", "S", "invalid_envelope", b"42"),
    case("null", "not an object", "SH", "invalid_envelope", b"null"),
    # --- wrong types -----------------------------------------------------------------------------
    case("time-number", "wrong types", "SH", "invalid_envelope", _r("time-number", time=1764662400)),
    case("id-number", "wrong types", "S", "invalid_envelope", _r("id-number", id=42)),
    case("specversion-number", "wrong types", "S", "invalid_envelope", _raw("specversion-number", specversion="1.0")),
    case(
        "data-string",
        "wrong types",
        "SH",
        ("invalid_report", "invalid_envelope"),
        _r("data-string", data="en bekymring"),
    ),
    case(
        "categories-string",
        "wrong types",
        "S",
        "invalid_report",
        _r("categories-string", data__concern__categories="crime"),
    ),
    case(
        "flag-string", "wrong types", "S", "invalid_report", _r("flag-string", data__reporter__public_employee="måske")
    ),
    # --- missing fields --------------------------------------------------------------------------
    case("missing-id", "missing fields", "SH", "invalid_envelope", _r("missing-id", id=DROP)),
    case("missing-source", "missing fields", "S", "invalid_envelope", _r("missing-source", source=DROP)),
    case("missing-data", "missing fields", "S", "invalid_envelope", _r("missing-data", data=DROP)),
    case("missing-reporter", "missing fields", "SH", "invalid_report", _r("missing-reporter", data__reporter=DROP)),
    case(
        "unidentifiable-subject",
        "missing fields",
        "S",
        "invalid_report",
        _r("unidentifiable-subject", data__subject={"district": "Herstedlund"}),
    ),
    # --- over-long strings -----------------------------------------------------------------------
    case(
        "long-description",
        "over-long strings",
        "SH",
        "string_too_long",
        _r("long-description", data__concern__description="x" * LONG),
    ),
    case(
        "long-key",
        "over-long strings",
        "S",
        "string_too_long",
        _raw("long-key", data__concern__location='"x", "' + "k" * LONG + '": 1'),
    ),
    case(
        "long-id",
        "over-long strings",
        "SH",
        "invalid_envelope",
        _r("long-id", id="hostile-" + "i" * 300),
        echo_id=False,
    ),
    case(
        "description-4001",
        "over-long strings",
        "S",
        "invalid_report",
        _r("description-4001", data__concern__description="x" * 4001),
    ),
    # --- too many members ------------------------------------------------------------------------
    case(
        "many-categories",
        "too many members",
        "SH",
        "too_many_members",
        _r("many-categories", data__concern__categories=["crime"] * (MANY // 2)),
    ),
    case(
        "many-array-members",
        "too many members",
        "S",
        "too_many_members",
        _raw("many-array-members", data__concern__location="[" + ",".join(["0"] * MANY) + "]"),
    ),
    case(
        "many-object-members",
        "too many members",
        "S",
        "too_many_members",
        _r("many-object-members", data__concern__location={f"k{n}": 0 for n in range(60_000)}),
    ),
    # --- over-size entries -----------------------------------------------------------------------
    case("over-size", "over-size", "SH", "too_large", _r("over-size", data__concern__description="x" * (MB + 200_000))),
    case("over-size-whitespace", "over-size", "S", "too_large", _r("over-size-whitespace") + b" " * (MB + 10)),
    case("over-size-chunked", "over-size", "H", "too_large", chunked=24 * MB),
    # --- spoofed source --------------------------------------------------------------------------
    case("spoof-police", "spoofed source", "SH", "source_mismatch", dumps(report("spoof-police", source=POLICE))),
    case(
        "spoof-unknown", "spoofed source", "S", "source_mismatch", dumps(report("spoof-unknown", source="ukendt-kilde"))
    ),
    case(
        "spoof-homoglyph",
        "spoofed source",
        "SH",
        "source_mismatch",
        dumps(report("spoof-homoglyph", source="herstedlund-sk\u043ele")),
    ),
    case(
        "spoof-case", "spoofed source", "S", "source_mismatch", dumps(report("spoof-case", source="Herstedlund-Skole"))
    ),
    # --- wrong event type ------------------------------------------------------------------------
    case(
        "type-decision-on-intake",
        "wrong event type",
        "SH",
        "unknown_type",
        _r("type-decision-on-intake", type="dk.albertslund.hub.decision.made.v1"),
    ),
    case(
        "type-unknown",
        "wrong event type",
        "S",
        "unknown_type",
        _r("type-unknown", type="dk.albertslund.hub.concern.reported.v2"),
    ),
    # --- unlawful purpose (202 over HTTP today) --------------------------------------------------
    case(
        "purpose-investigation",
        "unlawful purpose",
        "SH",
        "unlawful_purpose",
        _r("purpose-investigation", data__purpose="investigation"),
    ),
    # --- a planned offence not on the agreement's Straffeloven § 141 list -----------------------
    case(
        "offence-not-on-list",
        "unknown planned offence",
        "SH",
        "unknown_offence",
        _r("offence-not-on-list", data__concern__planned_offence="tyveri"),
    ),
    # --- decisions on unknown reports, partners and sources --------------------------------------
    # --- intake streams of unknown sources (never read today) -----------------------------------
    case(
        "unknown-stream",
        "unknown intake stream",
        "S",
        "unknown_source",
        _r("unknown-stream"),
        stream=streams.intake("ukendt-kilde"),
        receipt=False,
    ),
    case(
        "homoglyph-stream",
        "unknown intake stream",
        "S",
        "unknown_source",
        _r("homoglyph-stream"),
        stream=streams.intake("herstedlund-sk\u043ele"),
        receipt=False,
    ),
    case(
        "case-stream",
        "unknown intake stream",
        "S",
        "unknown_source",
        _r("case-stream"),
        stream=streams.intake("Herstedlund-Skole"),
        receipt=False,
    ),
    # --- HTTP transport --------------------------------------------------------------------------
    case(
        "text-plain",
        "http content type",
        "H",
        "unsupported_media_type",
        _r("text-plain"),
        headers={"content-type": "text/plain"},
    ),
    case(
        "form-encoded",
        "http content type",
        "H",
        "unsupported_media_type",
        b"a=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    case("no-token", "http auth", "H", (), _r("no-token"), token=False, status=401),
    # --- controls: odd but valid, accepted (limits must not be over-eager) ------------------------
    case(
        "ok-newlines-in-text",
        "controls",
        "SH",
        "accepted",
        _r("ok-newlines-in-text", data__concern__description="Linje 1\nLinje 2\tmed tab"),
    ),
    case("ok-cpr-without-dash", "controls", "S", "accepted", _r("ok-cpr-without-dash", data__subject__cpr=CPR_DIGITS)),
    case(
        "ok-danish-and-emoji",
        "controls",
        "SH",
        "accepted",
        _r("ok-danish-and-emoji", data__concern__description="Æble, øl og å 🙂"),
    ),
    case(
        "ok-description-4000",
        "controls",
        "S",
        "accepted",
        _r("ok-description-4000", data__concern__description="ø" * 4000),
    ),
    case(
        "ok-charset-param",
        "controls",
        "H",
        "accepted",
        _r("ok-charset-param"),
        headers={"content-type": "application/json; charset=utf-8"},
    ),
]


CORPUS += DECISION_CASES


def cases_for(channel: str, *, own_batch: bool | None = None) -> list[Case]:
    return [c for c in CORPUS if channel in c.channels and (own_batch is None or c.own_batch is own_batch)]


assert len({c.id for c in CORPUS}) == len(CORPUS), "case ids must be unique"

"""Builders for the hostile corpus: valid documents full of (fake) personal data, and the raw
JSON surgery valid documents cannot express (duplicate keys, huge numbers, NaN, deep nesting).

Every document is built at import from obviously fake test data; nothing here talks to Redis.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hub.schemas.decision import DECISION_MADE
from hub.services.envelope import report_ref
from tests.factories import CHILD_NAME, child_cpr, cloudevent, decision, report_data

SCHOOL = "herstedlund-skole"
POLICE = "politi-vestegn"
TRIAGE = "dke-triage"
ADDRESS = "Hyldespjældet 99, 2620 Albertslund"
# The report every corpus decision refers to: stored by the decisions test before the corpus.
BASE_EVENT_ID = "hostile-base-report"
BASE_REF = report_ref(SCHOOL, BASE_EVENT_ID)
# The corpus's subject: her CPR number (in every spelling) and name must never reach a log line.
CPR = child_cpr(serial=616)
CPR_DIGITS = CPR.replace("-", "")
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_EXTENDED_ARABIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CPR_ARABIC_INDIC = CPR.translate(_ARABIC_INDIC)
CPR_EXTENDED_ARABIC = CPR.translate(_EXTENDED_ARABIC)
CPR_FULL_WIDTH = CPR.translate(_FULL_WIDTH)
CPR_ONE_FULL_WIDTH = CPR[:-1] + CPR[-1].translate(_FULL_WIDTH)
SECRETS = (CHILD_NAME, ADDRESS, CPR, CPR_DIGITS, CPR_ARABIC_INDIC, CPR_EXTENDED_ARABIC, CPR_FULL_WIDTH)

_HOLE = "\u2603hole-{}\u2603"  # a string no document contains: replaced by raw JSON text


def event_id(case_id: str) -> str:
    return f"hostile-{case_id}"


def report(case_id: str, source: str = SCHOOL) -> dict[str, Any]:
    """A valid concern report about the corpus's subject, with the case's own event id."""
    data = report_data(subject={"cpr": CPR, "name": CHILD_NAME, "district": ADDRESS})
    return cloudevent(source, data, event_id=event_id(case_id))


def decision_doc(case_id: str, ref: str = BASE_REF, partner: str = POLICE) -> dict[str, Any]:
    """A valid triage decision on the base report, with the case's own event id. The corpus
    decides the one base report many times, so each decision is a revision with a reason (a
    decided report takes no other)."""
    doc = decision(ref, [("ssp", partner)], revision_reason="Korpusset afgør den samme rapport igen.")
    doc["id"] = event_id(case_id)
    assert doc["type"] == DECISION_MADE
    return doc


def changed(doc: dict[str, Any], **paths: Any) -> dict[str, Any]:
    """A copy of `doc` with values set at dotted paths (`data__concern__description=...`);
    the value `DROP` removes the key."""
    out = copy.deepcopy(doc)
    for path, value in paths.items():
        parent, key = _parent(out, path.split("__"))
        if value is DROP:
            parent.pop(key)
        else:
            parent[key] = value
    return out


DROP = object()


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def spliced(doc: dict[str, Any], **raw_values: str) -> bytes:
    """`doc` as JSON with the values at the given paths replaced by raw JSON text, which may be
    anything at all: `NaN`, a number of 5000 digits, an object with a duplicate key."""
    out = copy.deepcopy(doc)
    holes = {}
    for n, (path, raw) in enumerate(raw_values.items()):
        parent, key = _parent(out, path.split("__"))
        parent[key] = marker = _HOLE.format(n)
        holes[json.dumps(marker, ensure_ascii=False)] = raw
    text = json.dumps(out, ensure_ascii=False)
    for quoted, raw in holes.items():
        assert quoted in text
        text = text.replace(quoted, raw)
    return text.encode()


def with_duplicate(obj: dict[str, Any], key: str, first: Any) -> str:
    """`obj` as JSON text, with `key` written twice: first `first`, then its own value."""
    assert key in obj
    rest = json.dumps(obj, ensure_ascii=False)
    return "{" + json.dumps(key) + ":" + json.dumps(first, ensure_ascii=False) + "," + rest[1:]


def nested(depth: int, inner: str = "1", kind: str = "array") -> str:
    """`inner` inside `depth` levels of arrays (`[[[1]]]`) or objects (`{"a":{"a":1}}`)."""
    if kind == "array":
        return "[" * depth + inner + "]" * depth
    return '{"a":' * depth + inner + "}" * depth


def digits(n: int, first: str = "9") -> str:
    """An integer literal of `n` digits."""
    return first + "7" * (n - 1)


def _parent(doc: dict[str, Any], keys: list[str]) -> tuple[dict[str, Any], str]:
    parent = doc
    for key in keys[:-1]:
        parent = parent[key]
    return parent, keys[-1]

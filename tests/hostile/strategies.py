"""Hypothesis strategies for hostile input: random bytes, random JSON text (nested, odd numbers,
odd strings, duplicate keys, NaN) and mutations of a valid report (drop, duplicate or replace a
field, insert control characters, stretch strings, nest deeper). All produce raw bytes: the
point is text no JSON library would write."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.factories import json_paths
from tests.hostile.builders import report

# Keys the hub reads, so random documents collide with real attributes and duplicate them.
KEYS = st.sampled_from(["id", "source", "type", "time", "specversion", "data", "subject", "cpr", "a", "__data__"])
ODD_CHARS = st.characters(categories=["Cc", "Cs", "Nd", "Zs", "Lo", "So"]) | st.sampled_from(
    ["\x00", "\n", "\u202e", "\ufeff", "٣", "３"]
)
STRINGS = st.text(ODD_CHARS, max_size=20) | st.text(max_size=20)
NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(20, 6000).map(lambda n: "9" * n),  # beyond any digit limit, and beyond Python's 4300
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1E-400", "0.1e+5", "01", "+1", ".5"]),
    st.floats().map(json.dumps),
)
SCALARS = st.one_of(st.sampled_from(["null", "true", "false"]), NUMBERS, STRINGS.map(json.dumps))


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in pairs) + "}"


JSON_TEXT = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4).map(_array) | st.lists(st.tuples(KEYS | STRINGS, inner), max_size=5).map(_object)
    ),
    max_leaves=16,
)
DEEP_TEXT = st.tuples(st.integers(50, 5000), JSON_TEXT, st.booleans()).map(
    lambda t: ("[" * t[0] + t[1] + "]" * t[0]) if t[2] else ('{"a":' * t[0] + t[1] + "}" * t[0])
)


_HOLE = "\u2603hole\u2603"


@st.composite
def mutated_reports(draw: st.DrawFn) -> bytes:
    """A valid report with one to three of its parts dropped, replaced by raw JSON text,
    duplicated, salted with a control character, stretched, or nested deeper."""
    doc = report(f"gen-{draw(st.uuids())}")
    raw: dict[str, str] = {}
    for n in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(json_paths(doc)))
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, str | int | float | bool) or parent is None:
            continue  # an earlier mutation replaced the parent
        key, value = path[-1], parent[path[-1]]
        op = draw(st.sampled_from(["drop", "replace", "duplicate", "control", "stretch", "nest"]))
        hole = f"{_HOLE}{n}"
        if op == "drop" and isinstance(parent, dict):
            parent.pop(key)
            continue
        if op == "control" and isinstance(value, str):
            at = draw(st.integers(0, len(value)))
            parent[key] = value[:at] + chr(draw(st.sampled_from([*range(32), 127]))) + value[at:]
            continue
        if op == "stretch" and isinstance(value, str):
            # At least twice, up to about 200,000 characters (a value already stretched past that: twice).
            parent[key] = (value or "x") * draw(st.integers(2, max(2, 200_000 // max(1, len(value)))))
            continue
        if op == "duplicate" and isinstance(value, dict) and value:
            first = draw(JSON_TEXT)
            dup = draw(st.sampled_from(sorted(value)))
            text = json.dumps(value, ensure_ascii=False)
            raw[hole] = "{" + json.dumps(dup) + ":" + first + "," + text[1:]
        elif op == "nest":
            depth = draw(st.integers(10, 5000))
            raw[hole] = "[" * depth + json.dumps(value, ensure_ascii=False) + "]" * depth
        else:
            raw[hole] = draw(JSON_TEXT)
        parent[key] = hole
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    for hole, value in raw.items():
        text = text.replace(json.dumps(hole, ensure_ascii=False), value).replace(json.dumps(hole), value)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate: bytes that are not UTF-8


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


BODIES = st.one_of(
    mutated_reports(),
    JSON_TEXT.map(_encode),
    DEEP_TEXT.map(_encode),
    st.binary(max_size=300),
)


@st.composite
def entries(draw: st.DrawFn) -> dict[bytes, bytes]:
    """Stream entry fields: mostly one `event` field with a hostile body; sometimes other fields
    too (FastStream's `__data__` among them), or none called `event`."""
    fields = {b"event": draw(BODIES)}
    extra = draw(st.sampled_from([None, None, None, b"__data__", b"source", b"x"]))
    if extra is not None:
        fields[extra] = draw(st.binary(max_size=40))
        if draw(st.booleans()):
            fields.pop(b"event")
    return fields


# Bounded: a handful of batches per test, no shrinking (each example waits for the hub).
GENERATED = settings(
    max_examples=int(os.environ.get("HUB_HOSTILE_EXAMPLES", "20")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

"""JSON text to Python values under `Limits`, or the reason it is refused. Never raises.

The stdlib's C scanner does the parsing, with hooks that refuse duplicate keys, over-long
numbers and NaN/Infinity as they are read and a nesting limit it cannot recurse past. What
the hooks cannot see (depth, strings, array sizes, NUL, lone surrogates) is checked after, by
a walk that runs only when a cheap count over the bytes says a limit could be exceeded: a
well-formed report of a few hundred bytes is never walked.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from hub.schemas.limits import Limits


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a document was refused: a stable code and a message about `what` (e.g. "The body")."""

    code: str
    message: str


class _Stop(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")  # NUL, or a surrogate (maybe a lone one)
_CONTAINERS = (dict, list)


@functools.lru_cache(maxsize=8)
def _decoder(limits: Limits) -> json.JSONDecoder:
    max_members, max_number = limits.max_members, limits.max_number_chars

    def obj(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(pairs) > max_members:
            raise _Stop("too_many_members", f"An object has more than {max_members} members.")
        d = dict(pairs)
        if len(d) != len(pairs):
            raise _Stop("duplicate_key", "An object repeats a key; each key may appear once.")
        return d

    def integer(text: str) -> int:
        if len(text) > max_number:
            raise _Stop("number_too_large", f"A number has more than {max_number} characters.")
        return int(text)

    def real(text: str) -> float:
        if len(text) > max_number:
            raise _Stop("number_too_large", f"A number has more than {max_number} characters.")
        value = float(text)
        if math.isinf(value):
            raise _Stop("number_too_large", "A number is outside the range of a 64-bit float.")
        return value

    def constant(text: str) -> Any:
        raise _Stop("invalid_json_constant", text)

    return json.JSONDecoder(object_pairs_hook=obj, parse_int=integer, parse_float=real, parse_constant=constant)


def load(raw: bytes, limits: Limits, what: str) -> Any | Refused:
    """The JSON value in `raw` (UTF-8), or why it is refused. `what` names the text in messages."""
    if len(raw) > limits.max_bytes:
        return Refused("too_large", f"{what} is {len(raw)} bytes; the limit is {limits.max_bytes}.")
    # Every value after the first in a container follows a comma (commas in strings only add
    # to the count), so this bounds the parser's work; only a large document can get there.
    if len(raw) > 2 * limits.max_values and raw.count(b",") >= limits.max_values:
        return Refused("too_many_members", f"The JSON has more than {limits.max_values} values.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refused("not_utf8", f"{what} is not UTF-8 text.")
    try:
        value = _decoder(limits).decode(text)
    except _Stop as stop:
        if stop.code == "invalid_json_constant":
            return Refused("invalid_json", f"{what} is not valid JSON ({stop.message} is not a JSON number).")
        return Refused(stop.code, stop.message)
    except RecursionError:
        return _too_deep(limits)
    except json.JSONDecodeError as exc:
        return Refused("invalid_json", f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}).")
    if (problem := _shape(value, limits)) is not None:
        return problem
    # Strings need a look only if one could be too long, or an escape could hide a NUL or a
    # lone surrogate (raw control characters are invalid JSON already): rarely, so separately.
    suspect = len(raw) > limits.max_string_chars
    if not suspect and raw.find(b"\\") >= 0:
        suspect = _SUSPECT_ESCAPE.search(raw) is not None
    if suspect and (problem := _strings(_all_strings(value), limits)) is not None:
        return problem
    return value


def _too_deep(limits: Limits) -> Refused:
    return Refused("too_deep", f"The JSON is nested more than {limits.max_depth} levels deep.")


def _shape(root: Any, limits: Limits) -> Refused | None:
    """Nesting depth and array sizes (object sizes are checked while parsing), level by level
    without recursion. Large containers are scanned for containers in C (`map`), so a document
    at the size limit made of many small arrays is still decided in milliseconds."""
    level, depth = [root], 0
    while level:
        depth += 1
        if depth > limits.max_depth:
            return _too_deep(limits)
        below: list[Any] = []
        for node in level:
            if type(node) is dict:
                items: Any = node.values()
            elif type(node) is list:
                items = node
                if len(node) > limits.max_members:
                    return Refused("too_many_members", f"An array has more than {limits.max_members} members.")
            else:
                continue
            if len(items) > 16:  # scan in C; only containers need a look in Python
                kinds = set(map(type, items))
                if dict in kinds or list in kinds:
                    below.extend([v for v in items if type(v) in _CONTAINERS])
            else:
                for v in items:
                    if type(v) is dict or type(v) is list:
                        below.append(v)
        level = below
    return None


def _all_strings(root: Any) -> list[str]:
    """Every string and key in a document whose shape `_shape` has already bounded."""
    found: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if type(node) is str:
            found.append(node)
        elif type(node) is dict:
            found.extend(node)
            stack.extend(node.values())
        elif type(node) is list:
            stack.extend(node)
    return found


def _strings(strings: list[str], limits: Limits) -> Refused | None:
    if not strings:
        return None
    if max(map(len, strings)) > limits.max_string_chars:
        return Refused("string_too_long", f"A string is longer than {limits.max_string_chars} characters.")
    joined = "".join(strings)
    if "\x00" in joined:
        return Refused("control_character", "A string holds a NUL character (\\u0000), which is never allowed.")
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError:
            return Refused("not_utf8", "A string holds a lone surrogate escape (\\ud800-\\udfff), which is not text.")
    return None

"""Configuration problems as lines a person can act on: which `HUB_…` variable or file, what is
wrong, what to do.

pydantic's own text of a validation error quotes the input (`input_value=…`), and a URL setting
holds a password: so the lines are built from the error's type, location and constraints, never
from the value given, and are masked once more (`hub.errors.mask_secrets`) on the way out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import TypeVar, get_args

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticUndefined

from hub.errors import ConfigurationError

T = TypeVar("T")

# What is wrong, by pydantic's error type; anything else keeps pydantic's message (without input).
_PROBLEMS = {
    "int_parsing": "not a whole number",
    "int_type": "not a whole number",
    "int_from_float": "not a whole number",
    "float_parsing": "not a number",
    "float_type": "not a number",
    "bool_parsing": "not true or false",
    "bool_type": "not true or false",
    "enum": "not one of the allowed values",
    "greater_than": "too small",
    "greater_than_equal": "too small",
    "less_than": "too large",
    "less_than_equal": "too large",
    "path_type": "not a path",
    "string_type": "not text",
}


def variable(field: str) -> str:
    """The environment variable of a settings field (prefix `HUB_`)."""
    return f"HUB_{field.upper()}"


def _message(error: ErrorDetails) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


def expected(info: FieldInfo) -> str:
    """What a field takes, in words: its type and bounds."""
    base = next((a for a in (get_args(info.annotation) or (info.annotation,)) if a is not type(None)), str)
    if isinstance(base, type) and issubclass(base, Enum):
        return "one of " + ", ".join(str(m.value) for m in base)
    if base is bool:
        return "true or false"
    words = {int: "a whole number", float: "a number", Path: "a path"}.get(base, "a valid value")
    bounds = []
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            bounds.append(f"at least {m.ge}")
        elif isinstance(m, annotated_types.Gt):
            bounds.append(f"above {m.gt}")
        elif isinstance(m, annotated_types.Le):
            bounds.append(f"at most {m.le}")
        elif isinstance(m, annotated_types.Lt):
            bounds.append(f"below {m.lt}")
    return " ".join([words, " and ".join(bounds)]).strip()


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return "unset it to use the packaged default"
    if info.default is PydanticUndefined or info.default is None:
        return "unset it to use the default"
    value = info.default.value if isinstance(info.default, Enum) else info.default
    return f"unset it to use the default ({str(value).lower() if isinstance(value, bool) else value})"


def settings_lines(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """One line per bad setting of `model` (a `BaseSettings` with the prefix `HUB_`)."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        info = model.model_fields.get(field)
        if info is None:  # a check of the settings together: its message names the variables
            lines.append(f"HUB_* settings: {_message(error)}")
        elif error["type"] == "value_error":  # our own validators: the message says what to do
            lines.append(f"{variable(field)}: {_message(error)}")
        else:
            problem = _PROBLEMS.get(error["type"]) or _message(error)
            lines.append(f"{variable(field)}: {problem}; set it to {expected(info)}, or {_default(info)}")
    return lines


def _location(loc: Iterable[int | str]) -> str:
    return ".".join(str(p) for p in loc) or "(the file)"


def read_config_file(setting: str, path: Path, load: Callable[[Path], T], *, check: str = "") -> T:
    """`load(path)`, with an unreadable, malformed or invalid file raised as a
    `ConfigurationError` that names the setting and the file (one line per problem)."""
    fix = f"Fix the file{check}, or point {setting} at another (unset: the packaged file)."
    try:
        return load(path)
    except OSError as exc:
        raise ConfigurationError(
            f"{setting}: cannot read {path}: {exc.strerror or type(exc).__name__}. {fix}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{setting}: {path} is not UTF-8 text. {fix}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{setting}: {path} is not valid TOML ({exc}). {fix}") from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        lines = [f"{setting}: {path}: {_location(e['loc'])}: {_message(e)}" for e in errors]
        raise ConfigurationError(*lines, f"{setting}: {fix}") from None

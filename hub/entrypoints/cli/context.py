"""What every command shares: the process's container (opened once per command) and JSON output.

A command runs in a process of its own, so opening the container here is reading the settings
and configuring logging once per process (`hub.bootstrap.Container.open`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from hub.bootstrap import Container
from hub.config.registry import Registry

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@contextlib.contextmanager
def opened() -> Iterator[Container]:
    """The container for this command, closed (engine, Redis, an embedded server) at its end."""
    container = Container.open()
    try:
        yield container
    finally:
        container.close()


def source_kinds(registry: Registry) -> dict[str, str]:
    return {s.id: s.kind.value for s in registry.sources}


def jsonable(value: Any) -> Any:
    """A read model as JSON values: times in ISO 8601 (UTC), tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=2))

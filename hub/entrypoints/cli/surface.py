"""`hub sources`, `hub streams`, `hub schemas` and `hub asyncapi`: the hub's configured surface, for clients."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from hub.bootstrap import Container
from hub.config.registry import Registry
from hub.entrypoints.cli.context import JsonOpt
from hub.schemas import streams

app = typer.Typer()


def _settings() -> Container:
    """The process's container (named as before the CLI became a package, so the commands
    below read as they did)."""
    return Container.open()


def _registry(container: Container) -> Registry:
    return container.registry


@app.command()
def sources(as_json: JsonOpt = False) -> None:
    """List the configured sources and their intake and receipt streams."""
    registry = _registry(_settings())
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind.value,
            "intake": streams.intake(s.id),
            "receipts": streams.receipts(s.id),
        }
        for s in registry.sources
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['id']:<22} {r['kind']:<22} {r['name']}")
        typer.echo(f"{'':<22} skriver: {r['intake']}   læser: {r['receipts']}")


def stream_table(registry: Registry) -> list[dict[str, Any]]:
    """Every stream of the hub, from the stream catalogue (`hub.schemas.catalogue`)."""
    return registry.catalogue().table()


@app.command("streams")
def list_streams(as_json: JsonOpt = False) -> None:
    """List every stream of the hub: who writes it, who reads it, what it carries."""
    rows = stream_table(_registry(_settings()))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        groups = f"  [{', '.join(r['groups'])}]" if r["groups"] else ""
        typer.echo(f"{r['stream']:<48} {r['event']:<36} {r['writer']} → {', '.join(r['readers']) or '–'}{groups}")


@app.command()
def schemas(
    out: Annotated[str | None, typer.Option(help="Write one <type>.schema.json per event type here.")] = None,
) -> None:
    """JSON Schemas of every event type on the hub's streams, for clients in any language."""
    from pathlib import Path

    from hub.schemas.catalogue import event_models, json_schema

    types = list(event_models())  # every event type on the stream catalogue's streams
    if out is None:
        typer.echo(json.dumps({t: json_schema(t) for t in types}, ensure_ascii=False, indent=2))
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for event_type in types:
        path = folder / f"{event_type}.schema.json"
        path.write_text(json.dumps(json_schema(event_type), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        typer.echo(str(path))


@app.command("asyncapi")
def asyncapi_document(
    out: Annotated[str | None, typer.Option(help="Write the document to this file instead of standard output.")] = None,
) -> None:
    """The AsyncAPI 3.0 document of every stream (channels, messages, operations), for partners."""
    from pathlib import Path

    from hub.schemas.asyncapi import document

    text = json.dumps(document(_registry(_settings()).catalogue()), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    typer.echo(out)

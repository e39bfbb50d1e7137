"""`hub acl`: write the Redis ACL file for production from the registry (see `hub.services.acl`)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import typer

from hub.config.registry import default_registry_path, load_registry
from hub.services.acl import DEFAULT_USER, acl_lines, acl_users, render

app = typer.Typer(help="Redis ACL users: one per source, one per partner, one for the hub.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)


@app.callback()
def _acl() -> None:
    """Redis ACL users: one per source, one per partner, one for the hub."""


def _load_passwords(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--passwords-file") from None
    bad = sorted(k for k, v in raw.items() if not isinstance(v, str))
    if bad:
        raise typer.BadParameter(
            f"{path}: every entry must be `user = \"password or #sha256\"`; not a string: {', '.join(bad)}",
            param_hint="--passwords-file",
        )
    return {str(k): str(v) for k, v in raw.items()}


@app.command()
def generate(
    passwords_file: Annotated[Path | None, typer.Option(
        "--passwords-file", dir_okay=False,
        help="TOML: `<user> = \"<password>\"` or `<user> = \"#<sha256 hex>\"` per line; users "
             "are `hub`, source ids and `partner-<id>`. Users left out are written off.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", dir_okay=False, help="Write the ACL file here instead of printing it.")] = None,
    registry_file: Annotated[Path | None, typer.Option(
        "--registry", envvar="HUB_REGISTRY_FILE", dir_okay=False,
        help="Source and partner registry (default: the packaged sample).")] = None,
) -> None:
    """Print (or write) a Redis 7 ACL file for the registry's sources and partners.

    Plaintext passwords are written as SHA-256 hashes, never in clear.
    """
    registry = load_registry(registry_file or default_registry_path())
    passwords = _load_passwords(passwords_file) if passwords_file else {}
    try:
        lines = acl_lines(registry, passwords)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    text = render(lines)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(lines)} users to {out}", err=True)
    off = [u for u in acl_users(registry) if u != DEFAULT_USER and u not in passwords]
    if off:
        typer.echo(f"no password, written off (cannot log in): {', '.join(off)}", err=True)

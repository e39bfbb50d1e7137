"""The CLI reads through the query layer and starts from the composition root: no CLI module
imports the tables, SQLModel sessions or the settings class, builds `Settings()` or migrates
the database itself (`hub.bootstrap.Container` does, once per process)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hub.entrypoints.cli

CLI = Path(hub.entrypoints.cli.__file__).parent
MODULES = sorted(CLI.glob("*.py"))
FORBIDDEN_MODULES = {"hub.store.models", "sqlmodel", "hub.config.settings"}
FORBIDDEN_NAMES = {"Settings", "Session", "migrate", "load_agreement"}


def problems(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "sqlmodel" or a.name in FORBIDDEN_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in FORBIDDEN_MODULES or node.module.startswith("sqlmodel"):
                found.append(f"from {node.module} import ...")
            found += [f"from {node.module} import {a.name}" for a in node.names if a.name in FORBIDDEN_NAMES]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_NAMES:
            found.append(f"{node.func.id}(...)")
    return found


def test_the_check_sees_what_it_forbids() -> None:
    bad = (
        "from sqlmodel import Session\nfrom hub.config.settings import Settings\nimport hub.store.models\nSettings()\n"
    )
    assert problems(bad) == [
        "from sqlmodel import ...",
        "from sqlmodel import Session",
        "from hub.config.settings import ...",
        "from hub.config.settings import Settings",
        "import hub.store.models",
        "Settings(...)",
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_cli_module_goes_through_the_container_and_the_query_layer(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


def test_the_cli_is_a_package_of_small_modules() -> None:
    names = {p.name for p in MODULES}
    assert {"main.py", "triage.py", "access.py", "deadletter.py", "policy.py", "surface.py"} <= names
    for path in MODULES:
        if path.name != "policy.py":  # its length is the policy helper's
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 300, path.name

"""The layers of `hub/` import only downwards (docs/architecture.md).

Every module of the package is read as source (nothing is imported), and each `import hub.x`
or `from hub.x import ...` is checked against the order below: a module may import its own
layer and the layers under it, never one above. Imports under `if TYPE_CHECKING:` count too:
a type from a higher layer is a dependency on it all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hub

HUB = Path(hub.__file__).parent

# Bottom up. The foundation (errors, logs) may be imported from anywhere.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("hub.errors", "hub.logs", "hub.metrics", "hub.tracing", "hub.tracing_export"),
    ("hub.schemas",),
    ("hub.policies",),
    ("hub.config",),
    ("hub.store",),
    ("hub.services",),
    ("hub.runtime",),
    ("hub.bootstrap",),
    ("hub.entrypoints", "hub.web"),
)


def layer_of(module: str) -> int | None:
    """The layer index of a `hub` module, or None outside the package (and for `hub` itself)."""
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(HUB.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def hub_imports(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) of every import of a `hub` module, relative imports resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "hub"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name.split(".")[0] != "hub":
                continue
            if name == "hub":  # `from hub import store`: each name is a module
                found += [(node.lineno, f"hub.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, name))
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    own = layer_of(module)
    if own is None:
        return []
    problems = []
    for line, imported in hub_imports(source, module, is_package):
        target = layer_of(imported)
        if target is not None and target > own:
            problems.append(f"{module}:{line} imports {imported} (layer {target} > {own})")
    return problems


MODULES = sorted(p for p in HUB.rglob("*.py") if "migrations" not in p.parts)


def test_every_module_of_the_package_belongs_to_a_layer() -> None:
    unplaced = [module_name(p) for p in MODULES if module_name(p) != "hub" and layer_of(module_name(p)) is None]
    assert unplaced == [], "add these to a layer package (docs/architecture.md)"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    assert violations(path.read_text(), module_name(path), path.name == "__init__.py") == []


@pytest.mark.parametrize(
    ("source", "module", "bad"),
    [
        ("from hub.bootstrap import build", "hub.store.db", True),
        ("import hub.runtime.worker", "hub.services.intake", True),
        ("from hub import entrypoints", "hub.runtime.relay", True),
        ("from ..services import intake", "hub.store.rows", True),
        ("if TYPE_CHECKING:\n    from hub.runtime.transport import Entry", "hub.store.rows", True),
        ("from hub.store.db import UnitOfWork", "hub.services.intake", False),
        ("from hub.logs import get_logger", "hub.schemas.report", False),
        ("from . import queries", "hub.store.rows", False),
    ],
)
def test_the_check_catches_an_upward_import(source: str, module: str, bad: bool) -> None:
    assert bool(violations(source, module)) is bad

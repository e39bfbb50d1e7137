"""No test imports another test module.

A test module (`test_*.py`) or a `conftest.py` is for pytest to collect, not for others to
import: what several tests share lives in a helper module (`tests/fakes.py`, `factories.py`,
`logcapture.py`, `databases.py`, `tests/reliability/helpers.py`, `tests/integration/wire.py`)
and fixtures stay in their conftest. Every module under `tests/` is read as source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tests

TESTS = Path(tests.__file__).parent
MODULES = sorted(TESTS.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(TESTS.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_test_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def imported_test_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) of each test module that `source` imports, relative imports resolved
    (`from tests.x import conftest` and `from .test_y import z` count as well)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{a.name}") for a in node.names]  # `from pkg import test_x`
    return [(line, name) for line, name in found if name.startswith("tests.") and is_test_module(name)]


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_module_under_tests_imports_a_test_module(path: Path) -> None:
    found = imported_test_modules(path.read_text(), module_name(path), path.name == "__init__.py")
    assert found == [], f"{path.relative_to(TESTS.parent)} imports test modules: move what they share to a helper"


@pytest.mark.parametrize(
    ("source", "module", "bad"),
    [
        ("from tests.reliability.conftest import LogCapture", "tests.integration.test_urgent_watch", True),
        ("import tests.unit.test_services", "tests.unit.test_other", True),
        ("from tests.reliability import conftest", "tests.unit.test_x", True),
        ("from .test_poison import _dead_letters", "tests.reliability.test_x", True),
        ("from . import conftest", "tests.reliability.helpers", True),
        ("from tests.fakes import InMemoryDatabase", "tests.unit.test_services", False),
        ("from tests.logcapture import LogCapture", "tests.reliability.conftest", False),
        ("from .helpers import SCHOOL", "tests.reliability.test_x", False),
        ("from hub.services.pipeline import BatchPipeline", "tests.unit.test_x", False),
    ],
)
def test_the_check_catches_an_imported_test_module(source: str, module: str, bad: bool) -> None:
    assert bool(imported_test_modules(source, module)) is bad

"""The law is pure: hub/policies imports only the standard library (no I/O modules),
pydantic, holidays and hub.schemas / hub.policies, and never reads the clock or does I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import hub.policies

POLICIES = Path(hub.policies.__file__).parent
ALLOWED_PACKAGES = {"pydantic", "holidays"}
ALLOWED_HUB = ("hub.schemas", "hub.policies")
# Standard-library modules that do I/O, read the environment or the clock, or load code.
IO_STDLIB = {
    "os", "sys", "io", "pathlib", "shutil", "tempfile", "glob", "fileinput", "socket", "ssl", "select",
    "selectors", "subprocess", "signal", "threading", "multiprocessing", "concurrent", "asyncio", "logging",
    "time", "random", "secrets", "uuid", "urllib", "http", "smtplib", "ftplib", "sqlite3", "dbm", "shelve",
    "pickle", "marshal", "mmap", "ctypes", "importlib", "builtins", "platform", "getpass", "webbrowser",
    "zipfile", "tarfile", "gzip", "bz2", "lzma", "csv", "pty", "tty", "resource", "syslog",
}
FORBIDDEN_CALLS = {"open", "print", "input", "eval", "exec", "breakpoint", "__import__", "compile"}
CLOCK_METHODS = {"now", "utcnow", "today", "time", "time_ns", "monotonic", "perf_counter", "process_time"}


def module_allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top == "hub":
        return name.startswith(ALLOWED_HUB)
    if top in ALLOWED_PACKAGES or top == "__future__":
        return True
    return top in sys.stdlib_module_names and top not in IO_STDLIB


def _main_block(node: ast.AST) -> bool:
    """`if __name__ == "__main__":`, where a generator may print its one output."""
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def impurities(source: str) -> list[str]:
    tree = ast.parse(source)
    allowed_nodes = {id(n) for top in tree.body if _main_block(top) for n in ast.walk(top)}
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [f"import {a.name}" for a in node.names if not module_allowed(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and not module_allowed(node.module):
                problems.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call) and id(node) not in allowed_nodes:
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                problems.append(f"{func.id}() on line {node.lineno}")
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_METHODS:
                problems.append(f".{func.attr}() on line {node.lineno}")
    return problems


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.py")), ids=lambda p: p.name)
def test_policy_module_is_pure(path: Path) -> None:
    assert impurities(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    "import os", "from pathlib import Path", "import faststream", "from sqlmodel import Session",
    "import redis", "import structlog", "from hub.store import db", "from hub.config.registry import Registry",
    "import time\nx = time.time()", "from datetime import datetime\nx = datetime.now()",
    "from datetime import date\nx = date.today()", "open('x')", "print('x')",
])
def test_the_purity_check_catches(source: str) -> None:
    assert impurities(source)


def test_the_purity_check_allows_what_the_policies_may_use() -> None:
    ok = ("from __future__ import annotations\nimport hashlib, tomllib\nfrom datetime import datetime\n"
          "from pydantic import BaseModel\nimport holidays\nfrom hub.schemas.report import ConcernReport\n"
          "from hub.policies.rules import RULES\nx = datetime(2026, 1, 1).date()\n"
          "if __name__ == '__main__':\n    print(x)\n")
    assert impurities(ok) == []

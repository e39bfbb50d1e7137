#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11+.

    python3 tasks.py demo     # run the hub's demo on the embedded default (Redis + SQLite)
    python3 tasks.py test     # run the whole test suite (extra args go to pytest)
    python3 tasks.py serve    # run the hub (workers + HTTP API) on the embedded default
    python3 tasks.py bench    # run the benchmark
    python3 tasks.py lint     # ruff and mypy

Each creates `.venv` on first use and installs the project with the pinned versions in
`constraints.txt`; it reinstalls only when pyproject.toml or constraints.txt change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_env() -> None:
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()
    ).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if stamp.exists():
        return
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("installing the hub and its pinned dependencies ...", flush=True)
    subprocess.run([*pip, "-c", "constraints.txt", "-e", ".[dev]"], cwd=ROOT, check=True)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def run(*args: str) -> int:
    return subprocess.run(list(args), cwd=ROOT, check=False).returncode


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036  (this file must run, and say so, on an old Python)
        print(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
        return 2
    if not argv or argv[0] not in {"demo", "test", "serve", "bench", "lint"}:
        print(__doc__)
        return 2
    ensure_env()
    task, rest = argv[0], argv[1:]
    if task == "demo":
        return run(str(BIN / "hub"), "demo", *rest)
    if task == "serve":
        return run(str(BIN / "hub"), "serve", *rest)
    if task == "test":
        return run(str(BIN / "python"), "-m", "pytest", *rest)
    if task == "bench":
        return run(str(BIN / "python"), "-m", "bench", *rest)
    lint = run(str(BIN / "ruff"), "check", "hub", "tests", "bench", "examples", "tasks.py")
    return lint or run(str(BIN / "mypy"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

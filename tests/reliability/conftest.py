"""Fixtures for the reliability tests: worker processes that are always stopped, and log capture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.logcapture import LogCapture
from tests.reliability.helpers import HubProcess


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    capture.attach()
    yield capture
    capture.detach()


@pytest.fixture
def signal_dir(tmp_path: Path) -> Path:
    path = tmp_path / "signals"
    path.mkdir()
    return path


@pytest.fixture
def workers(tmp_path: Path, signal_dir: Path) -> Iterator[Callable[..., HubProcess]]:
    """Start worker processes by name and environment; all are stopped after the test."""
    started: list[HubProcess] = []

    def start(name: str, env: dict[str, str]) -> HubProcess:
        process = HubProcess(name, tmp_path, signal_dir, env).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()

"""Fixtures for the unit tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture(autouse=True)
def _now_at_run_time(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module with `NOW_AT_RUN_TIME = True` gets its `NOW` taken as each test starts, not at
    import: the factories stamp events with the clock at run time, and in a slow full run (more
    than the 5-minute clock-skew window between collection and the test) an import-time `NOW`
    put them "in the future" (`time_out_of_range`)."""
    if getattr(request.module, "NOW_AT_RUN_TIME", False):
        monkeypatch.setattr(request.module, "NOW", datetime.now(UTC))

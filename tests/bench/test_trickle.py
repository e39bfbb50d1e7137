"""`python -m bench.trickle` at smoke size: it stores each kind of event alone, back to back
and spaced, and reports the transaction's CPU and its ratio to back to back. No speed is
asserted; only that every figure is there and that the pause is never counted in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.trickle import main

pytestmark = pytest.mark.integration


def test_each_kind_is_measured_back_to_back_and_spaced_without_the_pause(tmp_path: Path) -> None:
    out = main(["--events", "3", "--gaps", "0,0.06", "--json-out", str(tmp_path / "t.json")])

    assert out == json.loads((tmp_path / "t.json").read_text())
    assert out["database"] == "sqlite" and out["events"] == 3
    for kind in ("urgent_report", "decision"):
        figures = out["ms_cpu_per_event"][kind]
        assert set(figures) == {"gap_0s", "gap_0.06s"}
        assert all(0 < ms < 60 for ms in figures.values()), figures  # 60 ms of sleep are not CPU
        assert out["vs_back_to_back"][kind]["gap_0.06s"] > 0

"""The README's quarterly report line: `hub demo --data-dir DIR` leaves its data, and
`hub report quarterly` renders the quarter the demo ran in from it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.entrypoints.demo import run_demo
from hub.services.reporting.quarters import Quarter


async def test_the_report_renders_for_the_demo_data(tmp_path: Path) -> None:
    data, out = tmp_path / "demo", tmp_path / "rapport"
    assert await run_demo(str(data)) == 0
    quarter = Quarter.containing(datetime.now(UTC))
    env = {"HUB_DATA_DIR": str(data), "HUB_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(app, ["report", "quarterly", str(quarter), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    with (out / "kilde.csv").open(encoding="utf-8-sig", newline="") as f:
        total = next(r for r in csv.reader(f, delimiter=";") if r[0] == "I alt")[-1]
    assert total.isdigit() and int(total) >= 5  # the demo's reports, counted (a grand total under 5 is hidden)
    assert (out / "index.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 11

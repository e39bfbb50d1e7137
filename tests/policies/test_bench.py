"""The benchmark still runs (a smoke test with a tiny corpus; it measures nothing here)."""

from __future__ import annotations

import pytest

from bench.policy_bench import main


def test_policy_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--reports", "30", "--repeat", "1"])
    assert "assess+disclose decisions per second" in capsys.readouterr().out

"""The benchmark's derived figures, from figures given by hand."""

from __future__ import annotations

import pytest

from bench.pipeline import entry_ms
from bench.summary import cpu_budget, redis_clock_p99


def test_the_raw_target_as_a_cpu_budget_for_the_hub() -> None:
    burst = {
        "hub": 300.0,
        "urgent_watch": 20.0,
        "postgres": 180.0,
        "redis": 20.0,
        "load_generator": 60.0,
        "other": 10.0,
    }

    budget = cpu_budget(burst, raw_per_s=4000.0, cores=2)

    assert budget is not None
    # 580 µs per report of the benchmark's own processes (not `other`): two cores do 3,448 a second
    assert budget["ceiling_reports_per_s"] == pytest.approx(2e6 / 580, abs=0.1)
    assert (budget["hub_us"], budget["others_us"]) == (320, 260)
    # 1.2 x 4,000 = 4,800 reports/s is 416.7 µs per report on two cores; 260 of them are not the hub's
    assert budget["hub_us_allowed"] == 157


def test_no_budget_without_a_burst_or_a_raw_rate() -> None:
    assert cpu_budget({}, raw_per_s=4000.0, cores=2) is None
    assert cpu_budget({"hub": 300.0}, raw_per_s=0.0, cores=2) is None


def test_an_entry_ids_time_is_its_millisecond_part() -> None:
    assert entry_ms(b"1764789000123-0") == 1764789000123
    assert entry_ms("1764789000123-17") == 1764789000123


def test_the_redis_clock_p99_is_left_out_of_results_without_it() -> None:
    assert redis_clock_p99({"p99": 30.0}) is None  # a result from before the figure
    assert redis_clock_p99({"p99": 30.0, "redis_clock": {"count": 0, "p99": 0.0}}) is None
    assert redis_clock_p99({"p99": 30.0, "redis_clock": {"count": 200, "p99": 12.0}}) == 12.0

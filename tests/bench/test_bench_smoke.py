"""The benchmark's own code path, end to end at smoke size: it runs and writes complete figures.

No timing is asserted (this machine's speed is not the subject); only that every phase
finished and every figure the report promises is there and positive, in each of two rounds
(`--repeat 2`), and that the summary's medians and spreads are those of the rounds.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import main
from bench.summary import HEADLINE, headline

pytestmark = pytest.mark.integration

FIGURES = {
    "end_to_end_reports_per_s",
    "urgent_alert_ms",
    "urgent_behind_burst",
    "decision_referral_ms",
    "policy_decisions_per_s",
    "raw_per_message_per_s",
    "raw_batched_per_s",
    "faststream_per_message_reports_per_s",
    "cpu_us_per_report",
    "cpu_load_vs_burst",
    "cpu_budget",
    "cpu_background_only_vs_burst",
    "idle_share_throughput",
    "idle_share_under_load",
    "idle_share_background_only",
}
RATIOS = {"hub_vs_raw_per_message", "hub_vs_raw_batched", "hub_vs_faststream_per_message"}
TARGETS = {
    "end_to_end_reports_per_s",
    "end_to_end_vs_raw_per_message",
    "urgent_alert_p99_ms",
    "cpu_load_vs_burst",
    "idle_share_under_load",
    "policy_decisions_per_s",
}
PHASES = {"raw_per_message", "raw_batched", "faststream_per_message", "hub_throughput", "hub_latency", "policy"}


def test_quick_run_writes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "latest.json"
    code = main(
        [
            "--quick",
            "--reports", "200",
            "--baseline-reports", "60",
            "--urgent-samples", "6",
            "--urgent-rate", "20",
            "--background-rate", "50",
            "--json-out", str(out),
            "--repeat", "2",
        ]
    )  # fmt: skip

    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("end-to-end (intake XADD") == 2  # each round's table
    assert "median of 2 rounds" in printed and "cores idle, under load" in printed
    repeated = json.loads(out.read_text(encoding="utf-8"))
    assert repeated["repeat"] == 2 and len(repeated["runs"]) == 2
    for result in repeated["runs"]:
        check_run(result)
    check_summary(repeated)


def check_summary(repeated: dict[str, Any]) -> None:
    """Each headline figure's median and spread are those of the rounds' own figures; the
    targets are judged on the medians."""
    summary, runs = repeated["summary"], repeated["runs"]
    assert set(summary) == set(HEADLINE)
    for name, s in summary.items():
        values = [headline(run)[name] for run in runs]
        assert s["values"] == values, name
        seen = [v for v in values if v is not None]
        assert seen, name  # every figure was measured in at least one round
        assert s["min"] == min(seen) and s["max"] == max(seen), name
        assert s["min"] <= s["median"] <= s["max"], name
        assert s["median"] == pytest.approx(statistics.median(seen), abs=1e-3), name
    # ratios are taken within a round, then their median: not a ratio of medians
    ratio = summary["hub_vs_raw_per_message"]
    assert ratio["values"] == [run["ratios"]["hub_vs_raw_per_message"] for run in runs]
    load, alone = summary["cpu_load_vs_burst"], summary["cpu_background_only_vs_burst"]
    for run, value, alone_value in zip(runs, load["values"], alone["values"], strict=True):
        cpu = run["figures"]["cpu_us_per_report"]
        ours = {phase: sum(v for k, v in cpu[phase].items() if k != "other") for phase in cpu}
        assert value == pytest.approx(ours["under_load"] / ours["throughput"], abs=0.01)  # not someone else's work
        assert alone_value == pytest.approx(ours["background_only"] / ours["throughput"], abs=0.01)
    assert set(repeated["targets"]) == TARGETS
    assert repeated["targets"]["cpu_load_vs_burst"]["measured"] == load["median"]
    assert repeated["targets"]["idle_share_under_load"]["measured"] == summary["idle_share_under_load"]["median"]


def check_run(result: dict[str, Any]) -> None:
    assert set(result) >= {"figures", "ratios", "targets", "phases", "versions", "machine", "config"}
    figures = result["figures"]
    assert set(figures) == FIGURES
    structured = {"urgent_alert_ms", "urgent_behind_burst", "decision_referral_ms", "cpu_us_per_report", "cpu_budget"}
    idle = {"idle_share_throughput", "idle_share_under_load", "idle_share_background_only"}  # 0 on a full machine
    for name in FIGURES - structured - idle:
        assert figures[name] > 0, name
    alerts, referrals = figures["urgent_alert_ms"], figures["decision_referral_ms"]
    assert alerts["count"] == 6 and alerts["lost"] == 0
    assert referrals["count"] + referrals["withheld"] == 6 and referrals["lost"] == 0
    for latency in (alerts, referrals):
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
        assert latency["redis_clock"]["count"] == latency["count"]
    # Every sample twice: by Redis's clock (entry ids, whole milliseconds) it lies within the
    # interval this process measured (taken before the XADD, after the reply), give or take
    # the millisecond each id is truncated to.
    samples = result["phases"]["hub_latency"]["samples"]
    assert [kind for kind, *_ in samples] == ["urgent", "decision"] * 6
    for _, _, measured, by_redis in samples:
        assert measured is not None and by_redis is not None
        assert 0 <= by_redis <= measured + 1
    assert set(result["ratios"]) == RATIOS and all(v > 0 for v in result["ratios"].values())
    assert set(result["phases"]) == PHASES
    for name in ("raw_per_message", "raw_batched", "faststream_per_message", "hub_throughput"):
        assert result["phases"][name]["complete"], name
    # the cores cannot do more than their CPU seconds over the CPU per report allow
    budget = figures["cpu_budget"]
    assert 0 < figures["end_to_end_reports_per_s"] <= budget["ceiling_reports_per_s"] * 1.05, budget
    assert budget["hub_us"] == figures["cpu_us_per_report"]["throughput"]["hub"] + figures["cpu_us_per_report"][
        "throughput"
    ].get("urgent_watch", 0)
    behind = figures["urgent_behind_burst"]  # one planned-crime report written after the 200
    assert behind["alert_ms"] > 0 and 0 <= behind["receipts_before"] <= 201
    throughput = result["phases"]["hub_throughput"]
    assert throughput["reports"] == 201 and throughput["published"]["receipts"] == 201
    assert throughput["published"]["triage"] == throughput["accepted"]
    # CPU by kind of process (Linux): the hub (one process here, the watch inside it) and the
    # load generator did work in both phases; the machine cannot have been busier than full.
    latency = result["phases"]["hub_latency"]
    alone = latency["background_only"]  # the phase's first seconds: background reports only
    assert alone["reports"] > 0 and latency["background_reports"] > 0
    for name, cpu in (
        ("throughput", throughput["cpu"]),
        ("under_load", latency["cpu"]),
        ("background_only", alone["cpu"]),
    ):
        assert figures["cpu_us_per_report"][name]["hub"] > 0, name
        assert figures["cpu_us_per_report"][name]["load_generator"] > 0, name
        assert 0 < cpu["cpu_s"]["hub"] <= cpu["total_cpu_s"] <= cpu["available_cpu_s"] * 1.1, (name, cpu)
        # the machine's own count (processes that ended meanwhile too) is at least the sum
        # over the processes seen at both ends; the idle share is taken from it
        assert cpu["machine_busy_cpu_s"] >= cpu["total_cpu_s"] * 0.9 - 0.1, (name, cpu)
        idle = figures[f"idle_share_{name}"]
        assert 0 <= idle < 1
        assert idle == pytest.approx(max(0.0, 1 - cpu["machine_busy_cpu_s"] / cpu["available_cpu_s"]), abs=0.01)
    assert figures["cpu_load_vs_burst"] > 0
    assert set(result["versions"]) >= {"python", "redis_server", "faststream", "sqlalchemy", "database"}
    assert result["machine"]["cpu_count"] >= 1 and result["machine"]["platform"]
    assert set(result["targets"]) == TARGETS

"""Figures anyone can trust: the headline figures of one run, and their median and spread over
`--repeat N` runs.

This machine's speed changes by up to 2x within minutes, so a single figure says little. With
`--repeat N` every phase runs N times, in rounds (each round runs every phase once, in order),
and each ratio is computed within its own round (hub and baseline minutes apart, not a round
apart) before the median is taken. The spread is the smallest and the largest value.
"""

from __future__ import annotations

import statistics
from typing import Any

# name -> (label, unit, format): the order is the table's
HEADLINE: dict[str, tuple[str, str, str]] = {
    "end_to_end_reports_per_s": ("end-to-end", "reports/s", ",.0f"),
    "urgent_alert_p50_ms": ("urgent alert p50", "ms", ".1f"),
    "urgent_alert_p95_ms": ("urgent alert p95", "ms", ".1f"),
    "urgent_alert_p99_ms": ("urgent alert p99", "ms", ".1f"),
    "urgent_alert_redis_p99_ms": ("  p99 by Redis's clock (intake entry -> alert entry)", "ms", ".0f"),
    "urgent_alerts_lost": ("urgent alerts lost", "", ",.0f"),
    "urgent_behind_burst_ms": ("urgent alert behind the burst", "ms", ",.0f"),
    "decision_referral_p50_ms": ("decision -> referral p50", "ms", ",.1f"),
    "decision_referral_p99_ms": ("decision -> referral p99", "ms", ",.1f"),
    "decision_referral_redis_p99_ms": ("  p99 by Redis's clock", "ms", ",.0f"),
    "policy_decisions_per_s": ("policy decisions (one core)", "/s", ",.0f"),
    "raw_per_message_per_s": ("raw redis-py, per message", "msg/s", ",.0f"),
    "raw_batched_per_s": ("raw redis-py, batched", "msg/s", ",.0f"),
    "faststream_per_message_reports_per_s": ("FastStream per message", "reports/s", ",.0f"),
    "hub_vs_raw_per_message": ("hub ÷ raw per message", "x", ".2f"),
    "hub_vs_raw_batched": ("hub ÷ raw batched", "x", ".2f"),
    "hub_vs_faststream_per_message": ("hub ÷ FastStream per message", "x", ".1f"),
    "cpu_us_per_report_throughput": ("CPU per report, burst (benchmark's processes)", "µs", ",.0f"),
    "cpu_us_per_report_under_load": ("CPU per background report, under load", "µs", ",.0f"),
    "hub_cpu_us_per_report_throughput": ("  of which hub processes, burst", "µs", ",.0f"),
    "hub_cpu_us_per_report_under_load": ("  of which hub processes, under load", "µs", ",.0f"),
    "cpu_load_vs_burst": ("CPU per report, under load ÷ burst", "x", ".2f"),
    "cpu_ceiling_reports_per_s": ("what the cores allow at the burst's CPU per report", "reports/s", ",.0f"),
    "hub_cpu_us_per_report_for_raw_target": ("  hub processes' CPU per report 1.2 x raw allows", "µs", ",.0f"),
    "cpu_us_per_report_background_only": ("CPU per background report, background alone", "µs", ",.0f"),
    "hub_cpu_us_per_report_background_only": ("  of which hub processes, background alone", "µs", ",.0f"),
    "cpu_background_only_vs_burst": ("CPU per report, background alone ÷ burst", "x", ".2f"),
    "idle_share_throughput": ("cores idle, burst", "", ".0%"),
    "idle_share_under_load": ("cores idle, under load", "", ".0%"),
    "idle_share_background_only": ("cores idle, background alone", "", ".0%"),
}


def cpu_total(per_report: dict[str, float]) -> float:
    """CPU per report of the benchmark's own processes: the hub's, the watch's, PostgreSQL's
    (its backends for the benchmark's database and its server processes), Redis's and the
    load generator's; not `other` (on a shared machine, someone else's work)."""
    return float(sum(v for k, v in per_report.items() if k != "other"))


def idle_share(cpu: dict[str, Any] | None) -> float | None:
    """The share of the cores' CPU seconds unused in the phase (0 = the machine was full): from
    the machine's own count when there is one (it includes processes that ended meanwhile),
    else from the sum over the processes seen at both ends."""
    if not cpu or not cpu.get("available_cpu_s"):
        return None
    used = cpu.get("machine_busy_cpu_s", cpu["total_cpu_s"])
    return round(max(0.0, 1.0 - used / cpu["available_cpu_s"]), 3)


def load_vs_burst(cpu_us: dict[str, dict[str, float]], phase: str = "under_load") -> float | None:
    """CPU per background report under load (or in `phase`) ÷ CPU per report in the burst, the
    benchmark's processes (`cpu_total`)."""
    burst, load = cpu_total(cpu_us.get("throughput", {})), cpu_total(cpu_us.get(phase, {}))
    return round(load / burst, 2) if burst and load else None


# Point 3 of issue #17: end-to-end at least this many times the raw per-message loop.
RAW_TARGET = 1.2
HUB_KINDS = ("hub", "urgent_watch")  # the hub's own processes; the rest is PostgreSQL, Redis, the load generator


def cpu_budget(burst_us: dict[str, float], raw_per_s: float, cores: int) -> dict[str, float] | None:
    """What the burst's CPU per report allows, and what the raw-loop target leaves the hub.

    In the burst the cores are full, so the end-to-end rate is at most the cores' CPU seconds
    over the CPU per report (`ceiling_reports_per_s`). `RAW_TARGET` times the raw loop's rate
    then leaves the hub's processes (hub and watch) `hub_us_allowed` µs per report, if
    PostgreSQL, Redis and the load generator keep their own cost per report (`others_us`); it
    is negative where they alone use more than that rate allows."""
    total = cpu_total(burst_us)
    if not total or not raw_per_s or cores < 1:
        return None
    hub = float(sum(burst_us.get(k, 0.0) for k in HUB_KINDS))
    others = total - hub
    return {
        "ceiling_reports_per_s": round(cores * 1e6 / total, 1),
        "hub_us": round(hub),
        "others_us": round(others),
        "hub_us_allowed": round(cores * 1e6 / (RAW_TARGET * raw_per_s) - others),
    }


def headline(out: dict[str, Any]) -> dict[str, float | None]:
    """The flat headline figures of one run (`bench.pipeline.summarise`'s output)."""
    f, r = out["figures"], out["ratios"]
    behind = f.get("urgent_behind_burst") or {}
    cpu_us = f["cpu_us_per_report"]
    budget = f.get("cpu_budget") or {}
    return {
        "end_to_end_reports_per_s": f["end_to_end_reports_per_s"],
        "urgent_alert_p50_ms": f["urgent_alert_ms"]["p50"],
        "urgent_alert_p95_ms": f["urgent_alert_ms"]["p95"],
        "urgent_alert_p99_ms": f["urgent_alert_ms"]["p99"],
        "urgent_alert_redis_p99_ms": redis_clock_p99(f["urgent_alert_ms"]),
        "urgent_alerts_lost": f["urgent_alert_ms"]["lost"],
        "urgent_behind_burst_ms": behind.get("alert_ms"),
        "decision_referral_p50_ms": f["decision_referral_ms"]["p50"],
        "decision_referral_p99_ms": f["decision_referral_ms"]["p99"],
        "decision_referral_redis_p99_ms": redis_clock_p99(f["decision_referral_ms"]),
        "policy_decisions_per_s": f["policy_decisions_per_s"],
        "raw_per_message_per_s": f["raw_per_message_per_s"],
        "raw_batched_per_s": f["raw_batched_per_s"],
        "faststream_per_message_reports_per_s": f["faststream_per_message_reports_per_s"],
        **{name: r[name] for name in ("hub_vs_raw_per_message", "hub_vs_raw_batched", "hub_vs_faststream_per_message")},
        "cpu_us_per_report_throughput": cpu_total(cpu_us.get("throughput", {})) or None,
        "cpu_us_per_report_under_load": cpu_total(cpu_us.get("under_load", {})) or None,
        "hub_cpu_us_per_report_throughput": cpu_us.get("throughput", {}).get("hub"),
        "hub_cpu_us_per_report_under_load": cpu_us.get("under_load", {}).get("hub"),
        "cpu_load_vs_burst": f["cpu_load_vs_burst"],
        "cpu_ceiling_reports_per_s": budget.get("ceiling_reports_per_s"),
        "hub_cpu_us_per_report_for_raw_target": budget.get("hub_us_allowed"),
        "cpu_us_per_report_background_only": cpu_total(cpu_us.get("background_only", {})) or None,
        "hub_cpu_us_per_report_background_only": cpu_us.get("background_only", {}).get("hub"),
        "cpu_background_only_vs_burst": f.get("cpu_background_only_vs_burst"),
        "idle_share_throughput": f["idle_share_throughput"],
        "idle_share_under_load": f["idle_share_under_load"],
        "idle_share_background_only": f.get("idle_share_background_only"),
    }


def redis_clock_p99(latency: dict[str, Any]) -> float | None:
    """A latency's p99 by Redis's clock (`bench.pipeline.entry_ms`); None in older results."""
    stamped = latency.get("redis_clock") or {}
    return stamped.get("p99") if stamped.get("count") else None


def spread(runs: list[dict[str, float | None]]) -> dict[str, dict[str, Any]]:
    """Per figure: the median, the smallest and largest value, and every value in run order
    (a figure a run could not measure is left out of its median and shown as None)."""
    out: dict[str, dict[str, Any]] = {}
    for name in HEADLINE:
        values = [run.get(name) for run in runs]
        seen = [v for v in values if v is not None]
        out[name] = {
            "median": round(statistics.median(seen), 3) if seen else None,
            "min": min(seen) if seen else None,
            "max": max(seen) if seen else None,
            "values": values,
        }
    return out


def spread_table(summary: dict[str, dict[str, Any]], rounds: int) -> str:
    """The figures' medians and spreads as a text table."""
    head = f"median of {rounds} rounds (min - max), each ratio computed within its round"
    rows = []
    for name, (label, unit, fmt) in HEADLINE.items():
        s = summary[name]
        if s["median"] is None:
            rows.append((label, "not measured", ""))
            continue
        rows.append((label, f"{s['median']:{fmt}} {unit}", f"({s['min']:{fmt}} - {s['max']:{fmt}})"))
    width = max(len(r[0]) for r in rows)
    return "\n".join([head, "-" * len(head), *(f"{a:<{width}}  {b:>18}  {c}" for a, b, c in rows)])


def targets(h: dict[str, float | None]) -> dict[str, dict[str, Any]]:
    """The targets (issue #17) against headline figures: one run's, or the medians of several
    (then `urgent_alerts_lost` is the largest of any round)."""

    def at_least(name: str, target: float, **extra: Any) -> dict[str, Any]:
        measured = h.get(name)
        return {"target": target, **extra, "measured": measured, "met": measured is not None and measured >= target}

    p99, lost = h.get("urgent_alert_p99_ms"), h.get("urgent_alerts_lost")
    load = h.get("cpu_load_vs_burst")
    return {
        "end_to_end_reports_per_s": at_least(
            "end_to_end_reports_per_s", 5000.0, stretch=10000.0, applies_to="postgresql"
        ),
        "end_to_end_vs_raw_per_message": at_least("hub_vs_raw_per_message", RAW_TARGET),
        "urgent_alert_p99_ms": {
            "target": 20.0,
            "measured": p99,
            "met": p99 is not None and 0 < p99 < 20.0 and lost == 0,
        },
        # under the background load: CPU per report at most twice the burst's, a third of the cores idle
        "cpu_load_vs_burst": {"target": 2.0, "measured": load, "met": load is not None and load <= 2.0},
        "idle_share_under_load": at_least("idle_share_under_load", 0.30),
        "policy_decisions_per_s": at_least("policy_decisions_per_s", 100000.0),
    }

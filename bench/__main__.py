"""`python -m bench`: the whole pipeline's throughput and latency against raw Redis.

    python -m bench                                   # embedded Redis, SQLite, 20,000 reports
    python -m bench --redis-url redis://127.0.0.1:6379/12 \\
                    --database-url postgresql://postgres@127.0.0.1:5432/bench
    python -m bench --quick                           # a small smoke run
    python -m bench --repeat 3                        # every phase 3 times: medians and spread

Prints a table and writes every figure, the ratios to the baselines, the versions and the
machine to `--json-out` (bench/results/latest.json). The benchmark deletes the `hub.*` and
`bench.*` keys of the Redis database it is given, and empties the hub's tables in a
PostgreSQL database: point it at scratch ones (it refuses non-empty ones without --wipe).
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.pipeline import BenchError, Config, run
from bench.summary import RAW_TARGET, headline, idle_share, spread, spread_table, targets
from hub.config.settings import default_processes

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None = None) -> tuple[Config, Path, int]:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--reports", type=int, default=None, help="reports for end-to-end throughput (20000)")
    p.add_argument("--redis-url", help="default: an embedded Redis on a unix socket in a temporary directory")
    p.add_argument("--database-url", help="default: SQLite in a temporary directory; a PostgreSQL URL is allowed")
    p.add_argument("--background-rate", type=float, default=None, help="reports/s during the latency phase (1000)")
    p.add_argument("--urgent-samples", type=int, default=None, help="urgent reports and decisions timed (200)")
    p.add_argument("--urgent-rate", type=float, default=None, help="urgent samples per second (20)")
    p.add_argument("--baseline-reports", type=int, default=None, help="reports for the FastStream baseline (5000)")
    p.add_argument("--json-out", type=Path, default=DEFAULT_OUT)
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of every phase; prints each figure's median and spread (min - max) over them",
    )
    p.add_argument("--quick", action="store_true", help="a small smoke run (seconds, not minutes)")
    p.add_argument("--wipe", action="store_true", help="run even if the Redis database or PostgreSQL has data")
    p.add_argument("--profile-dir", type=Path, help="py-spy the hub process (if installed) into this directory")
    p.add_argument(
        "--hub-processes",
        type=int,
        default=None,
        help="hub processes in the same consumer groups (default: as `hub serve` would run, HUB_PROCESSES unset)",
    )
    p.add_argument(
        "--hub-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a HUB_* setting for the hub processes, e.g. HUB_READ_LINGER_MS=0 (repeatable)",
    )
    a = p.parse_args(argv)
    cfg = Config()
    if a.quick:
        cfg = Config(
            reports=500,
            background_rate=200.0,
            urgent_samples=20,
            urgent_rate=20.0,
            baseline_reports=200,
            policy_reports=200,
            policy_repeat=1,
            phase_timeout_s=60.0,
            background_only_s=2.0,
        )
    for name in ("reports", "background_rate", "urgent_samples", "urgent_rate", "baseline_reports"):
        value = getattr(a, name)
        if value is not None:
            setattr(cfg, name, value)
    cfg.baseline_reports = min(cfg.baseline_reports, cfg.reports)
    cfg.redis_url, cfg.database_url = a.redis_url, a.database_url
    cfg.wipe, cfg.quick, cfg.profile_dir = a.wipe, a.quick, a.profile_dir
    for setting in a.hub_setting:
        name, eq, value = setting.partition("=")
        if not (eq and name.startswith("HUB_")):
            p.error(f"--hub-setting {setting!r}: expected HUB_NAME=VALUE")
        cfg.hub_settings[name] = value
    cfg.hub_processes = a.hub_processes or default_processes(cfg.database_url or "sqlite://")
    counts = (cfg.reports, cfg.urgent_samples, cfg.hub_processes, a.repeat)
    if min(counts) < 1 or min(cfg.background_rate, cfg.urgent_rate) <= 0:
        p.error(
            "--reports, --urgent-samples, --hub-processes, --repeat, --background-rate and --urgent-rate "
            "must be positive"
        )
    return cfg, a.json_out, a.repeat


def _redis_clock_row(label: str, latency: dict[str, Any]) -> tuple[str, str, str]:
    # Entry ids are stamped in whole milliseconds by Redis: the hub's part of the latency, free of
    # any delay in the benchmark's own process, which holds the clock of the row above.
    s = latency.get("redis_clock") or {}
    if not s.get("count"):
        return (label, "not measured", "")
    return (label, f"{s['p50']:.0f} / {s['p95']:.0f} / {s['p99']:.0f} ms", f"max {s['max']:.0f} ms")


def table(out: dict[str, Any]) -> str:
    f, ratios, ph = out["figures"], out["ratios"], out["phases"]
    cfg = out["config"]
    alert, ref = f["urgent_alert_ms"], f["decision_referral_ms"]
    lat = ph["hub_latency"]
    behind = f.get("urgent_behind_burst")
    rows = [
        (
            "end-to-end (intake XADD -> triage + receipts published)",
            f"{f['end_to_end_reports_per_s']:>10,.0f} reports/s",
            f"{cfg['reports']:,} reports",
        ),
        (
            "urgent alert latency p50 / p95 / p99",
            f"{alert['p50']:.1f} / {alert['p95']:.1f} / {alert['p99']:.1f} ms",
            f"n={alert['count']}, bg {lat['background_rate_achieved']:,.0f}/s",
        ),
        _redis_clock_row("  by Redis's clock, intake entry -> alert entry", alert),
        (
            "urgent alert behind the burst (written after its last report)",
            f"{behind['alert_ms']:.1f} ms" if behind and behind["alert_ms"] is not None else "not seen",
            f"{behind['receipts_before']:,} of {cfg['reports']:,} stored by then" if behind else "",
        ),
        (
            "decision -> referral latency p50 / p99",
            f"{ref['p50']:.1f} / {ref['p99']:.1f} ms",
            f"n={ref['count']}, withheld {ref['withheld']}",
        ),
        _redis_clock_row("  by Redis's clock, decision entry -> referral entry", ref),
        ("policy decisions (one core)", f"{f['policy_decisions_per_s']:>10,.0f} /s", ""),
        *(_cpu_row(name, ph[phase].get("cpu"), f["cpu_us_per_report"][name]) for name, phase in _CPU_PHASES),
        _cpu_row(
            "background_only",
            (ph["hub_latency"].get("background_only") or {}).get("cpu"),
            f["cpu_us_per_report"].get("background_only", {}),
        ),
        (
            "CPU per report, under load / throughput (all processes)",
            f"x{f['cpu_load_vs_burst']}" if f.get("cpu_load_vs_burst") is not None else "not measured",
            "",
        ),
        (
            "CPU per report, background alone / throughput",
            f"x{f['cpu_background_only_vs_burst']}" if f.get("cpu_background_only_vs_burst") else "not measured",
            "the under-load phase's first seconds, before its urgent reports and decisions",
        ),
        (
            "baseline: raw redis-py XREADGROUP+XACK, per message",
            f"{f['raw_per_message_per_s']:>10,.0f} msg/s",
            f"hub x{ratios['hub_vs_raw_per_message']}",
        ),
        _budget_row(f.get("cpu_budget")),
        (
            f"baseline: raw redis-py, batched (COUNT {ph['raw_batched']['batch']})",
            f"{f['raw_batched_per_s']:>10,.0f} msg/s",
            f"hub x{ratios['hub_vs_raw_batched']}",
        ),
        (
            "baseline: FastStream per-message subscriber, hub's work",
            f"{f['faststream_per_message_reports_per_s']:>10,.0f} reports/s",
            f"hub x{ratios['hub_vs_faststream_per_message']}",
        ),
    ]
    v, m = out["versions"], out["machine"]
    head = (
        f"hub pipeline benchmark ({cfg['hub_processes']} hub process{'es' if cfg['hub_processes'] > 1 else ''}"
        f"{' + urgent watch' if cfg['hub_processes'] > 1 else ''}): "
        f"{cfg['database']}, "
        f"Redis {v['redis_server']} ({cfg['redis']}), "
        f"{m['cpu_count']} CPU {m['cpu_model']}, Python {v['python']}, FastStream {v['faststream']}"
    )
    width = max(len(r[0]) for r in rows)
    lines = [head, "-" * len(head)]
    lines += [f"{a:<{width}}  {b:>24}  {c}" for a, b, c in rows]
    lines.append("")
    lines += target_lines(out["targets"])
    incomplete = [k for k, p in ph.items() if isinstance(p, dict) and p.get("complete") is False]
    if incomplete:
        lines.append(f"INCOMPLETE phases (timed out): {', '.join(incomplete)}")
    return "\n".join(lines)


def target_lines(targets: dict[str, Any]) -> list[str]:
    return [
        f"target {name}: {t['measured']} vs {t['target']} -> {'met' if t['met'] else 'MISSED'}"
        for name, t in targets.items()
    ]


def _budget_row(budget: dict[str, float] | None) -> tuple[str, str, str]:
    """Point 3 as CPU (`bench.summary.cpu_budget`): the rate the burst's CPU per report allows
    on these cores, and what the hub's processes may spend for 1.2 x the raw loop."""
    label = "  what the cores allow at the burst's CPU per report"
    if budget is None:
        return (label, "not measured", "")
    return (
        label,
        f"{budget['ceiling_reports_per_s']:>10,.0f} reports/s",
        f"{RAW_TARGET} x raw needs hub + watch <= {budget['hub_us_allowed']:,.0f} µs per report "
        f"(now {budget['hub_us']:,.0f}; PostgreSQL, Redis, load generator {budget['others_us']:,.0f})",
    )


_CPU_PHASES = (("throughput", "hub_throughput"), ("under_load", "hub_latency"))


def _cpu_row(name: str, cpu: dict[str, Any] | None, per_report: dict[str, float]) -> tuple[str, str, str]:
    """CPU microseconds per report by kind of process, and how full the machine was."""
    if not cpu or not per_report:
        return (f"CPU per report, {name.replace('_', ' ')}", "not measured", "")
    kinds = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(per_report.items(), key=lambda kv: -kv[1]) if v >= 1)
    idle = idle_share(cpu)
    busy = f"{cpu['total_cpu_s']:.1f} of {cpu['available_cpu_s']:.1f} CPU s"
    if idle is not None:
        busy += f", {idle:.0%} idle"
    return (f"CPU per report, {name.replace('_', ' ')} (µs)", busy, kinds)


def repeated(cfg: Config, rounds: int) -> dict[str, Any]:
    """Every phase `rounds` times (each round as a single run, printed as it ends); the median
    and spread of each headline figure and ratio, and the targets against the medians."""
    runs: list[dict[str, Any]] = []
    for i in range(rounds):
        out = run(cfg)
        cfg.wipe = True  # the next round empties what this one left behind
        print(f"\nround {i + 1} of {rounds}\n{table(out)}\n", flush=True)
        runs.append(out)
    figures = [headline(out) for out in runs]
    summary = spread(figures)
    last = runs[-1]
    median = {name: s["median"] for name, s in summary.items()}
    lost = [f["urgent_alerts_lost"] for f in figures if f["urgent_alerts_lost"] is not None]
    median["urgent_alerts_lost"] = max(lost) if lost else None
    return {
        "benchmark": last["benchmark"],
        "when": last["when"],
        "repeat": rounds,
        "summary": summary,
        "targets": targets(median),
        "config": last["config"],
        "versions": last["versions"],
        "machine": last["machine"],
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    cfg, json_out, rounds = parse_args(argv)
    try:
        if rounds == 1:
            out = run(cfg)
            print(table(out))
        else:
            out = repeated(cfg, rounds)
            print(spread_table(out["summary"], rounds))
            print("\n".join(["", *target_lines(out["targets"])]))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

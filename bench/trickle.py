"""What a lone event costs: one transaction per event, back to back, then spaced apart.

Run from the repository root:
    python -m bench.trickle [--database-url URL] [--events N] [--gaps 0,0.005,0.05]

Under a steady trickle the hub stores an urgent report, or a triage decision, alone, tens of
milliseconds after its last piece of work. This measures the same transaction in this one
process (`BatchPipeline.process` with one entry, as the urgent watch and the decisions worker
call it): first `events` of them back to back, then each after a pause of `gap` seconds
(`time.sleep`: the process idles, as the hub does between events). The figure is the thread
CPU time inside the transaction alone, so the pause itself is never counted; the database's
own CPU is not in it either. Issue #17's point 2 compares CPU per report under a trickle with
the burst's: this shows how much of the difference a machine charges for nothing but the pause
(caches and the CPU's idle states), whatever the code does.

The database is emptied first (a temporary SQLite file unless `--database-url` is given; for
PostgreSQL use a scratch database, as for `python -m bench`). At least 3,000 reports are stored
first, so that look-ups find rows as they do in use.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.pipeline import reset_database
from bench.workload import Report, build_reports, decision_entry
from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.decisions import DecisionService
from hub.services.envelope import StaffEvent
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store.db import make_engine

STORED = 3_000  # at least this many reports in the database before anything is timed
GRACE = timedelta(seconds=10)


def _entry(stream: str, entry_id: str, fields: dict[str, bytes]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v for k, v in fields.items()})


def _timed(events: list[Callable[[], None]], gap_s: float) -> float:
    """Median thread CPU milliseconds of one event's transaction, each after `gap_s` of sleep."""
    spent = []
    for run in events:
        if gap_s:
            time.sleep(gap_s)
        started = time.thread_time()
        run()
        spent.append((time.thread_time() - started) * 1000)
    return round(statistics.median(spent), 3)


def measure(database_url: str, events: int, gaps: list[float]) -> dict[str, Any]:
    reset_database(database_url)
    registry, agreement = load_registry(default_registry_path()), load_agreement(default_agreement_path())
    policy = PolicyEngine(agreement)
    engine = make_engine(database_url)
    intake = BatchPipeline(engine, IntakeService(registry, policy, 1 << 20), publish_grace=GRACE)
    decisions = BatchPipeline[StaffEvent](
        engine, DecisionService(registry, policy), publish_grace=GRACE, name="decisions"
    )
    now = datetime.now(UTC)
    rounds = len(gaps) + 1  # a warm-up round first, untimed
    # About one report in six can be decided on (a child at risk): enough for every round.
    stored = build_reports(max(STORED, 7 * events * rounds), registry, agreement, now, seed=1).reports
    by_stream: dict[str, list[Entry]] = {}
    for i, r in enumerate(stored):
        by_stream.setdefault(r.stream, []).append(_entry(r.stream, f"{i + 1}-0", r.fields))
    for stream, entries in by_stream.items():
        for k in range(0, len(entries), 100):
            intake.process(stream, entries[k : k + 100], now)

    urgent: list[Report] = build_reports(
        events * rounds, registry, agreement, now, seed=4, planned_crime=True, serial_base=3_000_000
    ).reports
    decidable = [r.ref for r in stored if r.decidable]
    if len(decidable) < events * rounds:
        raise SystemExit(f"only {len(decidable)} reports to decide on: ask for at most {len(decidable) // rounds}")
    rng = random.Random(7)

    def store_urgent(r: Report, n: int) -> Callable[[], None]:
        entry = _entry(r.stream, f"{n}-1", r.fields)
        return lambda: _one(intake.process(entry.stream, [entry], datetime.now(UTC), look_first=False).accepted)

    def decide(ref: str, n: int) -> Callable[[], None]:
        entry = _entry(streams.DECISIONS, f"{n}-0", decision_entry(ref, now, rng))
        return lambda: _one(decisions.process(streams.DECISIONS, [entry], datetime.now(UTC)).accepted)

    kinds = {
        "urgent_report": [store_urgent(r, n) for n, r in enumerate(urgent, 1)],
        "decision": [decide(ref, n) for n, ref in enumerate(decidable[: events * rounds], 1)],
    }
    out: dict[str, Any] = {"events": events, "database": engine.dialect.name, "ms_cpu_per_event": {}}
    for kind, runs in kinds.items():
        _timed(runs[:events], 0.0)  # warm-up: caches, prepared statements
        figures = {}
        for i, gap in enumerate(gaps, 1):
            figures[f"gap_{gap:g}s"] = _timed(runs[i * events : (i + 1) * events], gap)
        back_to_back = figures.get("gap_0s")
        out["ms_cpu_per_event"][kind] = figures
        if back_to_back:
            out.setdefault("vs_back_to_back", {})[kind] = {
                k: round(v / back_to_back, 2) for k, v in figures.items() if k != "gap_0s"
            }
    engine.dispose()
    return out


def _one(accepted: int) -> None:
    if accepted != 1:
        raise RuntimeError("an event was not stored: the measurement would time something else")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.trickle", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a scratch database (default: a temporary SQLite file)")
    parser.add_argument("--events", type=int, default=200, help="transactions per kind and gap")
    parser.add_argument("--gaps", default="0,0.005,0.02,0.05", help="seconds between events, comma-separated")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    gaps = [float(g) for g in args.gaps.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'trickle.sqlite3'}"
        out = measure(url, args.events, gaps)
    for kind, figures in out["ms_cpu_per_event"].items():
        cells = ", ".join(f"{k.removeprefix('gap_')} apart {v:.2f} ms" for k, v in figures.items())
        print(f"{kind:<14} thread CPU per transaction (median of {args.events}): {cells}")
    if args.json_out:
        args.json_out.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()

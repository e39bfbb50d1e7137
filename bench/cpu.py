"""Where the machine's CPU goes during a phase: CPU seconds per kind of process, from /proc.

The hub's targets are set for a 2-core machine on which the hub, PostgreSQL, Redis and the
load generator all run. Whether a figure is limited by the hub's own work or by the machine
being full shows only in these numbers: `cpu_by_kind` before and after a phase, `spent` the
difference, `per_report` the same in microseconds per report.

Kinds: the consumer processes under test by the name the benchmark gives them (`hub`,
`urgent_watch`), `postgres` (its backends and background processes), `redis` (redis-server),
`load_generator` (this process: the writers, readers and counters) and `other` (everything
else on the machine). A database or Redis on another machine does not show here. Linux only;
elsewhere every figure is empty.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(stat: str) -> float:
    # The fields after the command name (which may hold spaces and parentheses): utime and
    # stime are the 12th and 13th of them.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _kind(pid: int, stat: str, named: dict[int, str]) -> str:
    if pid in named:
        return named[pid]
    if pid == os.getpid():
        return "load_generator"
    command = stat[stat.find("(") + 1 : stat.rfind(")")]
    if command.startswith("postgres"):
        return "postgres"
    if command.startswith("redis-server"):
        return "redis"
    return "other"


def cpu_by_kind(named: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far of every process on the machine, summed by kind (`named`: pid -> kind
    for the processes under test)."""
    out: dict[str, float] = {}
    if not PROC.is_dir():
        return out
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        kind = _kind(int(entry.name), stat, named)
        out[kind] = out.get(kind, 0.0) + _cpu_seconds(stat)
    return out


def spent(before: dict[str, float], after: dict[str, float], wall_s: float) -> dict[str, object]:
    """CPU seconds per kind between two samples (processes that ended meanwhile are missed),
    with the total and what the machine's cores offered in `wall_s`."""
    by_kind = {k: round(after[k] - before.get(k, 0.0), 2) for k in sorted(after) if after[k] - before.get(k, 0.0) > 0}
    cores = os.cpu_count() or 1
    return {
        "cpu_s": by_kind,
        "total_cpu_s": round(sum(by_kind.values()), 2),
        "available_cpu_s": round(cores * wall_s, 2),
        "wall_s": round(wall_s, 3),
    }


def per_report(phase: dict[str, object], reports: int) -> dict[str, float]:
    """Microseconds of CPU per report, by kind."""
    cpu = phase.get("cpu_s")
    if not isinstance(cpu, dict) or reports <= 0:
        return {}
    return {k: round(v / reports * 1e6) for k, v in cpu.items()}

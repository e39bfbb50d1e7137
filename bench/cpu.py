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


def _kind(pid: int, stat: str, named: dict[int, str], database: str | None) -> str:
    if pid in named:
        return named[pid]
    if pid == os.getpid():
        return "load_generator"
    command = stat[stat.find("(") + 1 : stat.rfind(")")]
    if command.startswith("postgres"):
        return "postgres" if database is None or _serves(pid, database) else "other"
    if command.startswith("redis-server"):
        return "redis"
    return "other"


MACHINE = "_machine"  # in `cpu_by_kind`'s answer: the whole machine's busy CPU seconds (/proc/stat)


def machine_busy() -> float | None:
    """CPU seconds all cores have been busy since boot (/proc/stat: everything but idle and
    iowait). Unlike the sum over processes it includes processes that ended meanwhile."""
    try:
        fields = (PROC / "stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


def _serves(pid: int, database: str) -> bool:
    """Whether a PostgreSQL process works for `database`: a backend's title is "postgres:
    [cluster:] <user> <database> <client>(<port>) <state>"; the server's own processes
    (writers, checkpointer, autovacuum) serve every database and count as ours."""
    try:
        title = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return True
    for i, word in enumerate(title[3:], start=3):
        if "(" in word or word == "[local]":  # the client: the database is the word before it
            return title[i - 1] == database
    return True


def cpu_by_kind(named: dict[int, str], database: str | None = None) -> dict[str, float]:
    """CPU seconds so far of every process on the machine, summed by kind (`named`: pid -> kind
    for the processes under test), and the machine's busy seconds under `MACHINE`. With
    `database`, PostgreSQL backends of other databases (another user's tests on the same
    server) count as `other`."""
    out: dict[str, float] = {}
    if not PROC.is_dir():
        return out
    if (busy := machine_busy()) is not None:
        out[MACHINE] = busy
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        kind = _kind(int(entry.name), stat, named, database)
        out[kind] = out.get(kind, 0.0) + _cpu_seconds(stat)
    return out


def spent(before: dict[str, float], after: dict[str, float], wall_s: float) -> dict[str, object]:
    """CPU seconds per kind between two samples (processes that ended meanwhile are missed),
    with the total and what the machine's cores offered in `wall_s`."""
    by_kind = {
        k: round(after[k] - before.get(k, 0.0), 2)
        for k in sorted(after)
        if k != MACHINE and after[k] - before.get(k, 0.0) > 0
    }
    cores = os.cpu_count() or 1
    out: dict[str, object] = {
        "cpu_s": by_kind,
        "total_cpu_s": round(sum(by_kind.values()), 2),
        "available_cpu_s": round(cores * wall_s, 2),
        "wall_s": round(wall_s, 3),
    }
    if MACHINE in before and MACHINE in after:
        # what the cores did in all, processes that came and went meanwhile included (another
        # user's test run): the idle share is taken from this
        out["machine_busy_cpu_s"] = round(after[MACHINE] - before[MACHINE], 2)
    return out


def per_report(phase: dict[str, object], reports: int) -> dict[str, float]:
    """Microseconds of CPU per report, by kind."""
    cpu = phase.get("cpu_s")
    if not isinstance(cpu, dict) or reports <= 0:
        return {}
    return {k: round(v / reports * 1e6) for k, v in cpu.items()}

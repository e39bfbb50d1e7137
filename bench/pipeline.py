"""The whole-pipeline benchmark: the hub against raw Redis, on a real Redis and database.

Every consumer under test runs as its own process (`bench.procs`), so the load generator,
the latency readers and the counting in this process never take the consumer's core or
its GIL (a source system and a partner are other machines in real life). Phases, in order,
each on emptied streams and an emptied database:

1. policy decisions per second on one core (`bench.policy_bench` when present);
2. raw redis-py XREADGROUP + XACK, no work: per message, then batched (COUNT = batch size);
3. the per-message FastStream subscriber doing the hub's work without batching (`bench.naive`);
4. the hub: end-to-end throughput (pipelined XADD of N reports by a "school" client until every
   triage entry and receipt is on its output stream), then, on the same running hub,
   urgent-alert and decision-to-referral latency under a steady background load.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aredis
from sqlalchemy import make_url, text

from bench.cpu import cpu_by_kind, per_report, spent
from bench.summary import cpu_budget, headline, idle_share, load_vs_burst, targets
from bench.workload import DECISION_TARGET, Report, Workload, build_reports, decision_entry
from hub.bootstrap import load_settings
from hub.config.registry import Registry, default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.config.settings import Settings, UrgentWatch
from hub.entrypoints.processes import roles
from hub.runtime.embedded_redis import EmbeddedRedis
from hub.schemas import catalogue, streams
from hub.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
KEY_PATTERNS = ("hub.*", "bench.*")
RAW_STREAM = "bench.raw.v1"
XADD_CHUNK = 500  # entries per pipelined round trip from the load generator
READY_TIMEOUT_S = 90.0


@dataclass
class Config:
    reports: int = 20_000
    redis_url: str | None = None
    database_url: str | None = None
    background_rate: float = 1000.0
    urgent_samples: int = 200
    urgent_rate: float = 20.0  # urgent reports (and decisions) per second during the latency phase
    # The latency phase's first seconds of background load alone, before the urgent reports and
    # decisions begin: the CPU a background report costs without them.
    background_only_s: float = 8.0
    baseline_reports: int = 5_000  # the per-message FastStream baseline (slow: fewer reports)
    policy_reports: int = 2_000
    policy_repeat: int = 3
    phase_timeout_s: float = 120.0
    wipe: bool = False
    profile_dir: Path | None = None
    hub_processes: int = 1  # hub processes in the same consumer groups (the design's way to scale out)
    quick: bool = False
    batch_size: int = field(default_factory=lambda: Settings.model_fields["batch_size"].default)
    hub_settings: dict[str, str] = field(default_factory=dict)  # HUB_* for the hub processes (`--hub-setting`)


class BenchError(RuntimeError):
    """The benchmark cannot run as configured (the message says why and what to do)."""


# --- measuring -----------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        # Nearest rank: the smallest sample with at least q of all samples at or below it.
        rank = max(1, -(-len(ordered) * q // 100))
        return round(ordered[int(rank) - 1], 3)

    return {
        "count": len(ordered),
        "p50": pick(50),
        "p95": pick(95),
        "p99": pick(99),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


# --- processes -----------------------------------------------------------------------------


class Proc:
    """A consumer process: started, waited on until it prints READY, stopped with SIGTERM."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bench.procs", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self) -> None:
        assert self.popen.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline()
            if line.strip() == b"READY":
                return
            if not line and self.popen.poll() is not None:
                break
        self.stop()
        raise BenchError(f"a consumer process did not start; see {self.log_path}")

    def done(self) -> bool:
        return self.popen.poll() is not None

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


@contextlib.contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy on the consumer while the block runs (when asked for and installed)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if out is None or not Path(spy).exists():
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    # --gil: only the thread holding the GIL (what the process spends its one core on);
    # BENCH_PROFILE_WALL=1: every thread, idle or not (where the time is spent waiting)
    mode = ["--idle"] if os.environ.get("BENCH_PROFILE_WALL") else ["--gil"]
    args = ["record", "--pid", str(pid), "--rate", "100", "--nonblocking", *mode, "--format", "raw", "--threads"]
    proc = subprocess.Popen(
        [spy, *args, "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)  # attached before the clock starts
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Redis and database housekeeping --------------------------------------------------------


def bench_keys(client: redis.Redis) -> list[bytes]:
    keys: list[bytes] = []
    for pattern in KEY_PATTERNS:
        keys += list(client.scan_iter(match=pattern, count=1000))
    return keys


def clear_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    keys = bench_keys(client)
    for i in range(0, len(keys), 500):
        client.unlink(*keys[i : i + 500])
    client.close()


def reset_database(url: str) -> None:
    """An empty hub schema: SQLite files are new per phase; PostgreSQL tables are truncated."""
    migrate(url)
    if url.startswith("sqlite"):
        return
    from sqlmodel import SQLModel

    import hub.store.models  # noqa: F401  (registers the tables)

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def database_has_rows(url: str) -> bool:
    from sqlalchemy import inspect

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                if name == "alembic_version":
                    continue
                if conn.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
                    return True
        return False
    finally:
        engine.dispose()


# --- the load generator and the readers -----------------------------------------------------


async def xadd_all(client: aredis.Redis, items: list[tuple[str, dict[str, bytes]]]) -> bytes | None:
    """Pipelined XADD of every item; the id of the last entry written."""
    last = None
    for i in range(0, len(items), XADD_CHUNK):
        pipe = client.pipeline(transaction=False)
        for stream, fields in items[i : i + XADD_CHUNK]:
            pipe.xadd(stream, fields)  # type: ignore[arg-type]
        ids = await pipe.execute()
        last = ids[-1] if ids else last
    return last


def output_streams(registry: Registry) -> tuple[list[str], list[str]]:
    """The triage queues and the sources' receipt streams, from the stream catalogue."""
    streams_of = registry.catalogue().of
    return streams_of(catalogue.TRIAGE), streams_of(catalogue.RECEIPTS)


async def count_outputs(client: aredis.Redis, registry: Registry) -> dict[str, int]:
    triage, receipts = output_streams(registry)
    streams_of = registry.catalogue().of
    pipe = client.pipeline(transaction=False)
    for s in [*triage, *receipts, *streams_of(catalogue.POLICE_ALERTS), *streams_of(catalogue.CHILDREN_NOTIFICATIONS)]:
        pipe.xlen(s)
    lens = await pipe.execute()
    return {
        "triage": sum(lens[: len(triage)]),
        "receipts": sum(lens[len(triage) : len(triage) + len(receipts)]),
        "alerts": lens[-2],
        "notifications": lens[-1],
    }


async def pipeline_throughput(
    url: str, registry: Registry, workload: Workload, timeout_s: float, behind: Report | None = None
) -> dict[str, Any]:
    """Pipelined XADD of every report (a school system's client) until every triage entry and
    receipt is published. The clock runs from the first XADD to the last output counted.

    `behind`: a planned-crime report written right after the last XADD, to its source's stream,
    behind everything not yet stored (`urgent_behind_burst`)."""
    client = aredis.Redis.from_url(url)
    counter = aredis.Redis.from_url(url)
    n, accepted = len(workload.reports), workload.accepted
    items = [(r.stream, r.fields) for r in workload.reports]
    t0 = time.perf_counter()
    ingest = asyncio.create_task(_timed(xadd_all(client, items)))
    urgent = asyncio.create_task(_urgent_behind(url, registry, ingest, behind, timeout_s)) if behind else None
    if behind is not None:  # its receipt and triage entry are counted with the burst's
        n, accepted = n + 1, accepted + behind.accepted
    counts: dict[str, int] = {}
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline:
        counts = await count_outputs(counter, registry)
        if counts["receipts"] >= n and counts["triage"] >= accepted:
            break
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - t0
    ingest_s = round(await ingest - t0, 3)
    await client.aclose()
    await counter.aclose()
    complete = counts.get("receipts", 0) >= n and counts.get("triage", 0) >= accepted
    return {
        **({"urgent_behind_burst": await urgent} if urgent is not None else {}),
        "reports": n,
        "accepted": accepted,
        "expected_alerts": workload.alerts,
        "expected_notifications": workload.notifications,
        "published": counts,
        "complete": complete,
        "seconds": round(elapsed, 3),
        "reports_per_s": round(n / elapsed, 1) if complete else 0.0,
        "outputs_per_s": round(sum(counts.values()) / elapsed, 1),
        "ingest_seconds": ingest_s,
    }


async def _urgent_behind(
    url: str, registry: Registry, ingest: asyncio.Task[float], report: Report, timeout_s: float
) -> dict[str, Any]:
    """Once the burst is written: XADD `report` and time its police alert; and how many of the
    burst's reports had their receipts by then (the rest was still waiting ahead of it)."""
    await ingest
    client = aredis.Redis.from_url(url)
    last = "0-0"
    if await client.exists(streams.POLICE_ALERTS):
        last = (await client.xinfo_stream(streams.POLICE_ALERTS))["last-generated-id"]
    t0 = time.perf_counter()
    await client.xadd(report.stream, report.fields)  # type: ignore[arg-type]
    latency_ms: float | None = None
    while latency_ms is None and time.perf_counter() - t0 < timeout_s:
        for _, entries in await client.xread({streams.POLICE_ALERTS: last}, block=1000, count=500):
            for entry_id, fields in entries:
                last = entry_id
                if json.loads(fields[b"event"])["data"]["report_ref"] == report.ref:
                    latency_ms = (time.perf_counter() - t0) * 1000
    receipts = (await count_outputs(client, registry))["receipts"]
    await client.aclose()
    return {"alert_ms": round(latency_ms, 1) if latency_ms is not None else None, "receipts_before": receipts}


async def _timed(work: Awaitable[Any]) -> float:
    await work
    return time.perf_counter()


async def raw_throughput(url: str, payloads: list[dict[str, bytes]], proc: Proc, timeout_s: float) -> dict[str, Any]:
    """Pipelined XADD of the same payloads to one stream until the raw consumer acked them all
    (its group has delivered the last entry and nothing is pending)."""
    client = aredis.Redis.from_url(url)
    n = len(payloads)
    t0 = time.perf_counter()
    ingest = asyncio.create_task(xadd_all(client, [(RAW_STREAM, p) for p in payloads]))
    deadline = t0 + timeout_s
    complete = False
    while time.perf_counter() < deadline:
        if ingest.done():
            last = ingest.result()
            [group] = await client.xinfo_groups(RAW_STREAM)
            if group["last-delivered-id"] == last and int(group["pending"]) == 0:
                complete = True
                break
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - t0
    await ingest
    await client.aclose()
    return {
        "messages": n,
        "complete": complete,
        "seconds": round(elapsed, 3),
        "messages_per_s": round(n / elapsed, 1) if complete else 0.0,
    }


async def latency_under_load(
    url: str,
    background: Workload,
    urgent: Workload,
    decide: list[str],
    rate: float,
    sample_rate: float,
    timeout_s: float,
    sample: Callable[[], dict[str, float]],
    observer: Proc,
    background_only_s: float = 0.0,
) -> dict[str, Any]:
    """Urgent reports and decisions, spaced evenly, while background reports arrive at `rate`.

    A reader blocked in XREAD on the alert and referral streams (`observer`, a process of its
    own: `observe` in `bench.procs`) timestamps each arrival; latency is arrival minus the
    moment just before the XADD, on the machine's monotonic clock. First, for `background_only_s`
    seconds, the background load alone, with the CPU it used (`sample`, as `cpu_by_kind`): 20
    urgent reports and 20 decisions a second, each stored in a small transaction of its own, are
    far more than a municipality makes, and they cost more than the background itself."""
    writer = aredis.Redis.from_url(url)
    bg_writer = aredis.Redis.from_url(url)
    sent_alert: dict[str, float] = {}
    sent_decision: dict[str, float] = {}
    alert_ms: list[float] = []
    referral_ms: list[float] = []
    # Redis's own clock: the millisecond part of the intake entry's id and of its alert's or
    # referral's id, per report reference. Their difference is the hub's part of a latency,
    # free of any delay on the benchmark's side (a process's wake-up on a busy machine).
    stamped_in: dict[str, int] = {}
    stamped_out: dict[str, int] = {}
    measured: dict[str, float] = {}  # ref -> latency in ms by the observer's clock
    withheld = 0
    stop = asyncio.Event()
    bg_sent = 0
    arrivals: list[str] = []  # the observer's lines, appended by the thread that reads them
    lines = threading.Thread(target=_collect_lines, args=(observer, arrivals), daemon=True)
    lines.start()

    async def read() -> None:
        nonlocal withheld
        while not stop.is_set():
            await asyncio.sleep(0.01)  # the arrival time is the observer's: matching can wait
            taken, arrivals[:] = arrivals[:], []
            for line in taken:
                name, ref, at, entry_id = line.rstrip("\n").split("\t")
                arrived = float(at)
                if name == streams.POLICE_ALERTS and ref in sent_alert:
                    alert_ms.append((arrived - sent_alert.pop(ref)) * 1000)
                    measured[ref] = alert_ms[-1]
                    stamped_out[ref] = entry_ms(entry_id)
                elif ref in sent_decision:
                    stamped_out[ref] = entry_ms(entry_id)
                    if name == streams.REFERRALS_WITHHELD:
                        withheld += 1
                        sent_decision.pop(ref)
                    else:
                        referral_ms.append((arrived - sent_decision.pop(ref)) * 1000)
                        measured[ref] = referral_ms[-1]

    bg_seconds = 0.0

    async def load() -> None:
        nonlocal bg_sent, bg_seconds
        t0 = time.perf_counter()
        items = background.reports
        while not stop.is_set() and bg_sent < len(items):
            due = min(len(items), int((time.perf_counter() - t0) * rate))
            if due > bg_sent:
                pipe = bg_writer.pipeline(transaction=False)
                for r in items[bg_sent:due]:
                    pipe.xadd(r.stream, r.fields)  # type: ignore[arg-type]
                await pipe.execute()
                bg_sent = due
            bg_seconds = time.perf_counter() - t0
            await asyncio.sleep(0.005)

    reader_task = asyncio.create_task(read())
    load_task = asyncio.create_task(load())
    await asyncio.sleep(1.0)  # the background load is steady before anything is measured
    alone = None
    if background_only_s > 0:
        cpu0, sent0, t0 = await asyncio.to_thread(sample), bg_sent, time.perf_counter()
        await asyncio.sleep(background_only_s)
        cpu1, sent1, t1 = await asyncio.to_thread(sample), bg_sent, time.perf_counter()
        alone = {"seconds": round(t1 - t0, 2), "reports": sent1 - sent0, "cpu": spent(cpu0, cpu1, t1 - t0)}
    # Under load: from here to the end, a second of background alone first, as before there was
    # a background-alone window (the figures stay comparable with earlier series).
    cpu0, sent0, t0 = await asyncio.to_thread(sample), bg_sent, time.perf_counter()
    await asyncio.sleep(1.0)
    rng = random.Random(7)
    now = datetime.now(UTC)
    period = 1.0 / sample_rate
    t_start = time.perf_counter()
    samples = len(urgent.reports)
    urgent_refs = [r.ref for r in urgent.reports]
    order: list[tuple[str, str]] = []
    for i in range(samples):
        await _sleep_until(t_start + i * period)
        report = urgent.reports[i]
        sent_alert[report.ref] = monotonic()
        order.append(("urgent", report.ref))
        stamped_in[report.ref] = entry_ms(await writer.xadd(report.stream, report.fields))  # type: ignore[arg-type]
        if i < len(decide):
            await _sleep_until(t_start + (i + 0.5) * period)
            entry = decision_entry(decide[i], now, rng)
            sent_decision[decide[i]] = monotonic()
            order.append(("decision", decide[i]))
            stamped_in[decide[i]] = entry_ms(await writer.xadd(streams.DECISIONS, entry))  # type: ignore[arg-type]
    deadline = time.perf_counter() + timeout_s
    while (sent_alert or sent_decision) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    stop.set()
    await load_task
    await reader_task
    cpu = spent(cpu0, await asyncio.to_thread(sample), time.perf_counter() - t0)
    # Samples still open when the timeout struck are reported as lost.
    first_ms = min(stamped_in.values(), default=0)
    for c in (writer, bg_writer):
        await c.aclose()
    return {
        "background_rate_target": rate,
        "background_rate_achieved": round(bg_sent / bg_seconds, 1) if bg_seconds else 0.0,
        "background_reports": bg_sent - sent0,  # in the under-load window (`cpu`)
        "cpu": cpu,
        "background_only": alone,
        "urgent_alert_ms": percentiles(alert_ms)
        | {"lost": len(sent_alert), "redis_clock": _stamped(urgent_refs, stamped_in, stamped_out)},
        "decision_referral_ms": percentiles(referral_ms)
        | {
            "withheld": withheld,
            "lost": len(sent_decision),
            "redis_clock": _stamped(decide[:samples], stamped_in, stamped_out),
        },
        # every sample in the order written: kind, ms since the first, ms by this process's
        # clock and by Redis's (None if it never arrived): where a stall lies, and on whose side
        "samples": [
            [kind, stamped_in[ref] - first_ms, measured.get(ref), _diff(stamped_out.get(ref), stamped_in[ref])]
            for kind, ref in order
            if ref in stamped_in
        ],
    }


def _diff(out: int | None, into: int) -> int | None:
    return None if out is None else out - into


def monotonic() -> float:
    """CLOCK_MONOTONIC: one clock for every process on the machine (the observer's too)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _collect_lines(proc: Proc, into: list[str]) -> None:
    assert proc.popen.stdout is not None
    for raw in proc.popen.stdout:  # until the observer stops
        into.append(raw.decode())


def observed_streams() -> list[str]:
    """What the latency phase's observer reads: police alerts, the decisions' referrals and
    referrals withheld."""
    return [streams.POLICE_ALERTS, streams.referrals(*DECISION_TARGET), streams.REFERRALS_WITHHELD]


def entry_ms(entry_id: bytes | str) -> int:
    """The millisecond part of a stream entry's id: when Redis added it, by Redis's clock."""
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(raw.split("-", 1)[0])


def _stamped(refs: list[str], stamped_in: dict[str, int], stamped_out: dict[str, int]) -> dict[str, float]:
    """Latency by Redis's clock (whole milliseconds, so each sample is within one of the truth)."""
    return percentiles([float(stamped_out[r] - stamped_in[r]) for r in refs if r in stamped_out and r in stamped_in])


async def _sleep_until(t: float) -> None:
    delay = t - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


# --- policy --------------------------------------------------------------------------------


_HEADLINE = re.compile(r"decisions per second[^:]*:\s*([\d,.]+)")


def policy_rate(reports: int, repeat: int) -> dict[str, Any]:
    """`bench.policy_bench` (one core, assess + disclose mix) when it is there, else our own."""
    if (ROOT / "bench" / "policy_bench.py").exists():
        proc = subprocess.run(
            [sys.executable, "-m", "bench.policy_bench", "--reports", str(reports), "--repeat", str(repeat)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        found = _HEADLINE.findall(proc.stdout)
        if proc.returncode == 0 and found:
            return {
                "decisions_per_s": float(found[-1].replace(",", "")),
                "measured_by": "bench.policy_bench (headline: hub mix, best of repeats, one core)",
                "output": proc.stdout.strip().splitlines(),
            }
    return _own_policy_rate(reports, repeat)


def _own_policy_rate(reports: int, repeat: int) -> dict[str, Any]:
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})  # one core, given back below
    try:
        return _own_policy_loop(reports, repeat)
    finally:
        if cores:
            os.sched_setaffinity(0, cores)


def _own_policy_loop(reports: int, repeat: int) -> dict[str, Any]:
    from hub.policies import PolicyEngine, Request
    from hub.schemas.report import ConcernReport

    registry = load_registry(default_registry_path())
    agreement = load_agreement(default_agreement_path())
    wl = build_reports(reports, registry, agreement, datetime.now(UTC), seed=11)
    parsed = []
    for r in wl.reports:
        doc = json.loads(r.fields["event"])
        source = registry.source(doc["source"])
        assert source is not None
        parsed.append((ConcernReport.model_validate(doc["data"]), source.facts))
    targets = [(p.recipient, s) for p in registry.partners for s in sorted(p.structures)]
    now = datetime.now(UTC)
    policy = PolicyEngine(agreement)
    best = 0.0
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        decisions = 0
        for i, (report, facts) in enumerate(parsed):
            policy.assess(report, facts, now)
            recipient, structure = targets[i % len(targets)]
            policy.disclose(
                Request(
                    report=report,
                    recipient=recipient,
                    structure=structure,
                    purpose=report.purpose,
                    justification="Nødvendigt for en koordineret indsats (benchmark).",
                ),
                now,
            )
            decisions += 2
        best = max(best, decisions / (time.perf_counter() - t0))
    return {"decisions_per_s": round(best, 1), "measured_by": "bench.pipeline (1 assess + 1 disclose per report)"}


# --- environment ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
    }


def versions(redis_url: str, database_url: str) -> dict[str, Any]:
    def v(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "-"

    client = redis.Redis.from_url(redis_url)
    server = client.info("server")
    client.close()
    if database_url.startswith("sqlite"):
        db = f"SQLite {sqlite3.sqlite_version}"
    else:
        engine = make_engine(database_url)
        with engine.connect() as conn:
            db = f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}"
        engine.dispose()
    return {
        "python": platform.python_version(),
        "redis_server": server.get("redis_version"),
        "database": db,
        "faststream": v("faststream"),
        "redis_py": v("redis"),
        "sqlalchemy": v("sqlalchemy"),
        "sqlmodel": v("sqlmodel"),
        "pydantic": v("pydantic"),
        "psycopg": v("psycopg"),
    }


# --- the run -------------------------------------------------------------------------------


def run(cfg: Config) -> dict[str, Any]:
    """Every phase, in order; returns the figures (also what `--json-out` writes)."""
    registry = load_registry(default_registry_path())
    agreement = load_agreement(default_agreement_path())
    with tempfile.TemporaryDirectory(prefix="hubb-") as tmp_s:  # short: unix socket paths are limited
        tmp = Path(tmp_s)
        embedded: EmbeddedRedis | None = None
        redis_url = cfg.redis_url
        if redis_url is None:
            embedded = EmbeddedRedis(tmp / "redis")
            redis_url = embedded.start()
        try:
            return _run(cfg, registry, agreement, tmp, redis_url, embedded is not None)
        finally:
            clear_redis(redis_url)
            if embedded is not None:
                embedded.stop()


def _run(cfg: Config, registry: Registry, agreement: Any, tmp: Path, redis_url: str, embedded: bool) -> dict[str, Any]:
    check = redis.Redis.from_url(redis_url)
    if bench_keys(check) and not cfg.wipe:
        raise BenchError(
            f"{redis_url} already holds keys matching {' or '.join(KEY_PATTERNS)}. The benchmark deletes "
            "them; point it at a scratch database (e.g. redis://127.0.0.1:6379/12) or pass --wipe."
        )
    check.close()
    if cfg.database_url and not cfg.database_url.startswith("sqlite"):
        migrate(cfg.database_url)
        if database_has_rows(cfg.database_url) and not cfg.wipe:
            raise BenchError(
                "the database already holds rows. The benchmark empties the hub's tables; use a scratch "
                "database (createdb -h 127.0.0.1 -U postgres bench) or pass --wipe."
            )

    phase_n = 0

    def database(phase: str) -> str:
        nonlocal phase_n
        phase_n += 1
        url = cfg.database_url or f"sqlite:///{tmp / f'{phase_n}-{phase}.sqlite3'}"
        clear_redis(redis_url)
        reset_database(url)
        return url

    def env(database_url: str, data_dir: Path) -> dict[str, str]:
        e = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        e.update(
            HUB_REDIS_URL=redis_url,
            HUB_DATABASE_URL=database_url,
            HUB_DATA_DIR=str(data_dir),
            HUB_LOG_LEVEL="INFO",
            HUB_LOG_JSON="true",
            PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        )
        e.update(cfg.hub_settings)
        return e

    now = datetime.now(UTC)
    t_build = time.perf_counter()
    main_wl = build_reports(cfg.reports, registry, agreement, now, seed=1)
    naive_wl = build_reports(cfg.baseline_reports, registry, agreement, now, seed=2, serial_base=1_000_000)
    load_seconds = cfg.urgent_samples / cfg.urgent_rate + 1.0 + cfg.background_only_s
    background = build_reports(
        int(cfg.background_rate * (load_seconds + 2)), registry, agreement, now, seed=3, serial_base=2_000_000
    )
    urgent = build_reports(
        cfg.urgent_samples, registry, agreement, now, seed=4, planned_crime=True, serial_base=3_000_000
    )
    behind = build_reports(1, registry, agreement, now, seed=5, planned_crime=True, serial_base=4_000_000)
    decide = [r.ref for r in main_wl.reports if r.decidable][: cfg.urgent_samples]
    build_s = time.perf_counter() - t_build
    payloads = [r.fields for r in main_wl.reports]
    results: dict[str, Any] = {}
    timeout = cfg.phase_timeout_s

    # 1. policy decisions per second on one core, first: the machine is quietest now (no
    #    database still busy with the phases before)
    results["policy"] = policy_rate(cfg.policy_reports, cfg.policy_repeat)

    # 2. raw redis-py loops, no work
    for name, batch in (("raw_per_message", 1), ("raw_batched", cfg.batch_size)):
        database(name)
        proc = Proc(
            [
                "raw",
                "--redis-url",
                redis_url,
                "--stream",
                RAW_STREAM,
                "--batch",
                str(batch),
                "--count",
                str(len(payloads)),
                "--deadline-s",
                str(timeout),
            ],
            env(cfg.database_url or "sqlite://", tmp / name),
            tmp / f"{name}.log",
        )
        proc.wait_ready()
        try:
            results[name] = asyncio.run(raw_throughput(redis_url, payloads, proc, timeout)) | {"batch": batch}
        finally:
            proc.stop()

    # 3. per-message FastStream subscriber doing the hub's work
    url = database("faststream_per_message")
    proc = Proc(["naive", "--deadline-s", str(timeout * 2)], env(url, tmp / "naive"), tmp / "naive.log")
    proc.wait_ready()
    try:
        results["faststream_per_message"] = asyncio.run(pipeline_throughput(redis_url, registry, naive_wl, timeout))
    finally:
        proc.stop()

    # 4. the hub (one or more processes in the same consumer groups): throughput, then
    #    latency under load on the same running hub
    url = database("hub")
    # As `hub serve` runs them (`hub.processes.roles`): with more than one hub process, one more
    # runs the urgent watch.
    first, others = roles(load_settings(processes=cfg.hub_processes, urgent_watch=UrgentWatch.INLINE))
    processes = [first, *others]
    hubs = [
        Proc(
            ["hub", "--deadline-s", str(timeout * 4)],
            {**env(url, tmp / f"hub{i}"), "HUB_URGENT_WATCH": s.urgent_watch.value},
            tmp / f"hub{i}.log",
        )
        for i, s in enumerate(processes)
    ]
    # Where the machine's CPU goes in each phase (bench.cpu): the hub's targets are for a machine
    # the hub shares with PostgreSQL, Redis and the load generator.
    named = {proc.pid: s.role for proc, s in zip(hubs, processes, strict=True)}
    ours = None if url.startswith("sqlite") else make_url(url).database  # its backends, not others'
    sample = functools.partial(cpu_by_kind, named, ours)
    observer: Proc | None = None
    try:
        for proc in hubs:
            proc.wait_ready()
        prof = cfg.profile_dir / "hub-throughput.txt" if cfg.profile_dir else None
        with profiled(hubs[0].pid, prof):
            cpu0, t0 = sample(), time.perf_counter()
            results["hub_throughput"] = asyncio.run(
                pipeline_throughput(redis_url, registry, main_wl, timeout, behind=behind.reports[0])
            )
            results["hub_throughput"]["cpu"] = spent(cpu0, sample(), time.perf_counter() - t0)
        prof = cfg.profile_dir / "hub-latency.txt" if cfg.profile_dir else None
        # The urgent watch too, if it has a process of its own (the last): where an alert waits.
        watch = cfg.profile_dir / "watch-latency.txt" if cfg.profile_dir and len(hubs) > 1 else None
        # The reader of alerts and referrals is a process of its own, counted as the load
        # generator's (the benchmark's side); it starts at the streams' ends.
        observer = Proc(
            ["observe", "--redis-url", redis_url, "--stream", ",".join(observed_streams())],
            env(url, tmp / "observe"),
            tmp / "observe.log",
        )
        observer.wait_ready()
        named[observer.pid] = "load_generator"
        with profiled(hubs[0].pid, prof), profiled(hubs[-1].pid, watch):
            results["hub_latency"] = asyncio.run(
                latency_under_load(
                    redis_url,
                    background,
                    urgent,
                    decide,
                    cfg.background_rate,
                    cfg.urgent_rate,
                    timeout_s=30.0,
                    sample=sample,
                    observer=observer,
                    background_only_s=cfg.background_only_s,
                )
            )
    finally:
        for proc in [*hubs, *([observer] if observer else [])]:
            proc.stop()
        if cfg.profile_dir:
            cfg.profile_dir.mkdir(parents=True, exist_ok=True)
            for log in tmp.glob("*.log"):
                shutil.copy(log, cfg.profile_dir / log.name)

    return summarise(cfg, results, redis_url, url, embedded, build_s)


def summarise(
    cfg: Config, r: dict[str, Any], redis_url: str, database_url: str, embedded: bool, build_s: float
) -> dict[str, Any]:
    hub_rate = r["hub_throughput"]["reports_per_s"]

    def ratio(base: float) -> float | None:
        return round(hub_rate / base, 2) if base else None

    lat = r["hub_latency"]
    alone = lat.get("background_only")
    db_kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    figures = {
        "end_to_end_reports_per_s": hub_rate,
        "urgent_alert_ms": lat["urgent_alert_ms"],
        "urgent_behind_burst": r["hub_throughput"].get("urgent_behind_burst"),
        "decision_referral_ms": lat["decision_referral_ms"],
        "policy_decisions_per_s": r["policy"]["decisions_per_s"],
        "raw_per_message_per_s": r["raw_per_message"]["messages_per_s"],
        "raw_batched_per_s": r["raw_batched"]["messages_per_s"],
        "faststream_per_message_reports_per_s": r["faststream_per_message"]["reports_per_s"],
        # CPU microseconds per report by kind of process: in the burst, per background report
        # under load (the urgent reports and decisions of that phase included), and per
        # background report in the phase's first seconds, before those begin
        "cpu_us_per_report": {
            "throughput": per_report(r["hub_throughput"].get("cpu", {}), r["hub_throughput"]["reports"]),
            "under_load": per_report(r["hub_latency"].get("cpu", {}), r["hub_latency"]["background_reports"]),
            "background_only": per_report(alone.get("cpu", {}), alone["reports"]) if alone else {},
        },
    }
    figures["cpu_load_vs_burst"] = load_vs_burst(figures["cpu_us_per_report"])
    figures["cpu_budget"] = cpu_budget(
        figures["cpu_us_per_report"]["throughput"], figures["raw_per_message_per_s"], os.cpu_count() or 1
    )
    figures["cpu_background_only_vs_burst"] = load_vs_burst(figures["cpu_us_per_report"], "background_only")
    figures["idle_share_throughput"] = idle_share(r["hub_throughput"].get("cpu"))
    figures["idle_share_under_load"] = idle_share(lat.get("cpu"))
    figures["idle_share_background_only"] = idle_share(alone.get("cpu")) if alone else None
    ratios = {
        "hub_vs_raw_per_message": ratio(figures["raw_per_message_per_s"]),
        "hub_vs_raw_batched": ratio(figures["raw_batched_per_s"]),
        "hub_vs_faststream_per_message": ratio(figures["faststream_per_message_reports_per_s"]),
    }
    out = {"figures": figures, "ratios": ratios}
    return {
        "benchmark": "hub pipeline vs raw Redis",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
        | {
            "redis": "embedded (unix socket)" if embedded else _redact_url(redis_url),
            "database": db_kind,
            "consumers": "separate processes (bench.procs)",
            "workload_build_s": round(build_s, 2),
        },
        "figures": figures,
        "ratios": ratios,
        "targets": targets(headline(out)),
        "phases": r,
        "versions": versions(redis_url, database_url),
        "machine": machine(),
    }


def _redact_url(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)

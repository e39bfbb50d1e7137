"""The consumers under test, each run as its own process: `python -m bench.procs <kind> ...`.

- `hub`: the hub itself (`hub.app.running`), configured from `HUB_*` like `hub serve`.
- `raw`: a plain redis-py XREADGROUP + XACK loop that does no work (`--batch 1`: one entry
  per read and one XACK per entry; `--batch N`: COUNT N and one XACK per batch).
- `observe`: the latency phase's reader, a partner's consumer: a blocking XREAD on the alert
  and referral streams from their ends, one line per entry on stdout with the moment it
  arrived (`observed_line`). In a process of its own so that the benchmark's load generator
  never delays its clock.
- `naive`: what a user would write first with FastStream: a per-message `StreamSub`
  (group, `batch=False`) per intake stream that parses, assesses, stores each report in
  its own transaction and XADDs its outputs one by one (see `bench.naive`).

Each prints `READY` on stdout once it is connected and its groups exist, so the benchmark
starts its clock on a consumer that is already waiting, and stops on SIGTERM (or, for
`raw`, after `--count` entries). Every loop is bounded by `--deadline-s`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time

import redis

from hub.runtime.transport import consumer_name

STOP_GRACE_S = 20.0


def _ready() -> None:
    sys.stdout.write("READY\n")
    sys.stdout.flush()


def _exit_soon(code: int) -> None:
    """Leave even if a clean stop hangs (a cancelled task that never finishes)."""
    timer = threading.Timer(STOP_GRACE_S, lambda: os._exit(code))
    timer.daemon = True
    timer.start()


async def _until_signalled(deadline_s: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), deadline_s)
    _exit_soon(0)


def run_hub(deadline_s: float) -> None:
    from hub.bootstrap import Container, running
    from hub.runtime import collector

    container = Container.open(log_json=True)

    async def main() -> None:
        async with running(container):
            collector.settle()  # as `hub serve` does in each of its processes
            _ready()
            await _until_signalled(deadline_s)

    asyncio.run(main())


def run_raw(url: str, stream: str, group: str, batch: int, count: int, deadline_s: float) -> None:
    """XREADGROUP (COUNT `batch`) and XACK, nothing else, until `count` entries are acked."""
    client = redis.Redis.from_url(url)
    with contextlib.suppress(redis.ResponseError):
        client.xgroup_create(stream, group, id="0", mkstream=True)
    consumer = consumer_name()
    _ready()
    done = 0
    deadline = time.monotonic() + deadline_s
    while done < count and time.monotonic() < deadline:
        reply = client.xreadgroup(group, consumer, {stream: ">"}, count=batch, block=100)
        if not reply:
            continue
        ids = [entry_id for entry_id, _ in reply[0][1]]
        if batch == 1:
            for entry_id in ids:
                client.xack(stream, group, entry_id)
        else:
            client.xack(stream, group, *ids)
        done += len(ids)
    client.close()
    if done < count:
        sys.exit(1)  # out of time: the benchmark reports the phase as incomplete


def observed_line(stream: str, entry_id: bytes, fields: dict[bytes, bytes], arrived: float) -> str:
    """`stream`, the report reference, the arrival (CLOCK_MONOTONIC, system-wide: comparable
    with the writer's in the benchmark's process), and the entry id, tab-separated."""
    ref = (json.loads(fields.get(b"event") or b"{}").get("data") or {}).get("report_ref") or ""
    return f"{stream}\t{ref}\t{arrived:.6f}\t{entry_id.decode()}\n"


def run_observe(url: str, streams: list[str], deadline_s: float) -> None:
    client = redis.Redis.from_url(url)
    ids: dict[str, bytes | str] = {}
    for name in streams:  # from each stream's end: what was there before is not the phase's
        last = client.xrevrange(name, count=1)
        ids[name] = last[0][0] if last else "0"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _ready()
    deadline = time.monotonic() + deadline_s
    out = sys.stdout
    while not stop.is_set() and time.monotonic() < deadline:
        reply = client.xread(ids, block=200, count=500)  # type: ignore[arg-type]
        arrived = time.clock_gettime(time.CLOCK_MONOTONIC)
        for name_b, entries in reply or []:
            name = name_b.decode()
            for entry_id, fields in entries:
                ids[name] = entry_id
                out.write(observed_line(name, entry_id, fields, arrived))
        out.flush()
    client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.procs")
    parser.add_argument("kind", choices=["hub", "raw", "observe", "naive"])
    parser.add_argument("--redis-url")
    parser.add_argument("--stream", default="bench.raw.v1", help="raw: its stream; observe: comma-separated")
    parser.add_argument("--group", default="bench-raw")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--deadline-s", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.kind == "hub":
        run_hub(args.deadline_s)
    elif args.kind == "observe":
        run_observe(args.redis_url, args.stream.split(","), args.deadline_s)
    elif args.kind == "raw":
        run_raw(args.redis_url, args.stream, args.group, args.batch, args.count, args.deadline_s)
    else:
        from bench.naive import run_naive

        run_naive(args.deadline_s, _ready, _until_signalled)


if __name__ == "__main__":
    main()

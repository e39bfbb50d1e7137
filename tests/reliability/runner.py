"""A hub worker process for the reliability tests: `python -m tests.reliability.runner`.

It runs `hub.app.running(Settings())` (settings from `HUB_*` variables, as in production),
logs JSON to stderr, and stops on SIGTERM or SIGINT. The hooks below are test-only: they
are read here and patch the process from outside; nothing in `hub/` knows about them.

- `HUB_TEST_SIGNAL_DIR`: once running, write `ready-<pid>.json` there (the consumer name).
- `HUB_TEST_STALL=before_commit|after_commit`: once `<dir>/arm` exists, a unit of work that
  commits first writes `stalled-<pid>-<n>.json` and then stalls (before or after its real
  commit), so a kill lands in the middle of a batch; it waits until `<dir>/release` exists.
- `HUB_TEST_FETCH_BACKOFF_S`: FastStream's pause after a failed read (5 s in the library).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import threading
import time
from pathlib import Path

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.logs import configure
from hub.store.db import UnitOfWork

_count = itertools.count(1)
_count_lock = threading.Lock()


def _write(path: Path, doc: dict[str, object]) -> None:
    """Whole or not at all: the test polls for the file and reads it at once."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.rename(path)


def install_stall(mode: str, signal_dir: Path) -> None:
    if mode not in ("before_commit", "after_commit"):
        raise SystemExit(f"HUB_TEST_STALL must be before_commit or after_commit, not {mode!r}")
    real_commit = UnitOfWork.commit

    def commit(self: UnitOfWork) -> None:
        if not (signal_dir / "arm").exists():
            real_commit(self)
            return
        if mode == "after_commit":
            real_commit(self)
        with _count_lock:
            n = next(_count)
        _write(signal_dir / f"stalled-{os.getpid()}-{n}.json", {"pid": os.getpid(), "mode": mode})
        while not (signal_dir / "release").exists():
            time.sleep(0.01)  # in a worker thread: the event loop (relay, reclaimer, reads) runs on
        if mode == "before_commit":
            real_commit(self)

    UnitOfWork.commit = commit  # type: ignore[method-assign]


def install_fetch_backoff(seconds: float) -> None:
    from faststream.redis.subscriber.usecases import basic, stream_subscriber

    basic.CONSUME_ERROR_BACKOFF_SECONDS = seconds  # type: ignore[assignment]
    stream_subscriber.CONSUME_ERROR_BACKOFF_SECONDS = seconds  # type: ignore[assignment]


async def main() -> None:
    settings = Settings()
    configure(json=True, level=settings.log_level)
    signal_dir = Path(os.environ["HUB_TEST_SIGNAL_DIR"])
    if stall := os.environ.get("HUB_TEST_STALL"):
        install_stall(stall, signal_dir)
    if backoff := os.environ.get("HUB_TEST_FETCH_BACKOFF_S"):
        install_fetch_backoff(float(backoff))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(settings) as hub:
        _write(signal_dir / f"ready-{os.getpid()}.json", {"pid": os.getpid(), "consumer": hub.intake.consumer})
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())

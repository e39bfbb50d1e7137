"""More hub processes beside `hub serve`'s own, in the same consumer groups.

The GIL keeps one process on one core, so `hub serve` starts `HUB_PROCESSES - 1` more (one per
CPU on PostgreSQL by default): each reads, stores and publishes like the first, under its own
consumer name; the HTTP API runs in the first only. With more than one, one process more runs
the urgent watch alone (`HUB_URGENT_WATCH=only`): idle but for planned-crime reports, so the
busy ones cannot hold up a police alert. They share the first one's Redis (also an embedded
one) and database. A process that dies is started again; its pending entries are reclaimed by
the others meanwhile, as after any crash.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from multiprocessing.process import BaseProcess

from hub.config.settings import Settings, UrgentWatch
from hub.errors import ConfigurationError
from hub.logs import get_logger

log = get_logger("hub.entrypoints.processes")

_CONTEXT = multiprocessing.get_context("spawn")  # no forked event loop, threads or sockets
STOP_TIMEOUT_S = 30.0


def _run(settings: Settings, parent: int) -> None:
    """A worker process: the hub without the HTTP API, until SIGTERM or SIGINT, or until the
    first process is gone (killed without a chance to stop it).

    It ends the way `hub` does on an error: a configuration error (the registry or agreement
    file, say) as its lines on stderr and exit code 2, which is not restarted; anything else
    as one redacted log line (type and frames) and exit code 1, restarted. Never the
    traceback `multiprocessing` would print, which quotes the exception's text."""
    try:
        _serve(settings, parent)
    except ConfigurationError as exc:
        for line in exc.lines:
            sys.stderr.write(f"hub: {line}\n")  # as `hub` prints them
        log.error("worker_process.misconfigured", error=exc.lines[0], count=len(exc.lines))
        raise SystemExit(ConfigurationError.EXIT_CODE) from None
    except Exception as exc:  # the process ends either way; this only keeps the text out
        log.error("worker_process.failed", exc_info=exc)
        raise SystemExit(1) from None


def _serve(settings: Settings, parent: int) -> None:
    from hub.bootstrap import Container

    container = Container.open(settings)  # the settings `hub serve` read, once, for every process

    async def orphaned(stop: asyncio.Event) -> None:
        while os.getppid() == parent:
            await asyncio.sleep(1.0)
        stop.set()

    async def main() -> None:
        from hub.bootstrap import running
        from hub.runtime import collector

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watch = asyncio.create_task(orphaned(stop))
        async with running(container):
            collector.settle()  # this process runs this one hub until it ends
            await stop.wait()
        watch.cancel()

    try:
        asyncio.run(main())
    finally:
        container.close()


def roles(settings: Settings) -> tuple[Settings, list[Settings]]:
    """The first process's settings, and those of each further process `hub serve` starts."""
    extra = settings.effective_processes - 1
    if not extra:
        return settings, []  # one process: the urgent watch runs in it
    hub = settings.model_copy(update={"urgent_watch": UrgentWatch.OFF})
    return hub, [hub] * extra + [settings.model_copy(update={"urgent_watch": UrgentWatch.ONLY})]


class Workers:
    """The extra processes, one per settings given: started, watched and restarted, and stopped
    with the first."""

    def __init__(self, settings: list[Settings]) -> None:
        self.settings = settings
        self.procs: list[BaseProcess] = []
        self._stopping = False
        self.misconfigured: set[int] = set()  # indexes of processes that ended on a configuration error

    def start(self) -> None:
        self.procs = [self._spawn(s) for s in self.settings]

    def _spawn(self, settings: Settings) -> BaseProcess:
        proc = _CONTEXT.Process(target=_run, args=(settings, os.getpid()), name="hub-worker", daemon=False)
        proc.start()
        log.info("worker_process.started", pid=proc.pid, role=settings.role)
        return proc

    async def watch(self, interval_s: float = 1.0) -> None:
        """Start again any process that died (not while stopping), but not one that ended on a
        configuration error."""
        while not self._stopping:
            await asyncio.sleep(interval_s)
            for i, proc in enumerate(self.procs):
                if proc.is_alive() or self._stopping or i in self.misconfigured:
                    continue
                if proc.exitcode == ConfigurationError.EXIT_CODE:  # it would only fail again
                    log.error("worker_process.not_restarted", pid=proc.pid, status=proc.exitcode)
                    self.misconfigured.add(i)
                    continue
                log.error("worker_process.died", pid=proc.pid, status=proc.exitcode)
                self.procs[i] = self._spawn(self.settings[i])

    def stop(self) -> None:
        """SIGTERM to each; those still running after `STOP_TIMEOUT_S` are killed."""
        self._stopping = True
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs:
            proc.join(STOP_TIMEOUT_S)
            if proc.is_alive():
                log.warning("worker_process.killed", pid=proc.pid)
                proc.kill()
                proc.join()
        log.info("worker_processes.stopped", count=len(self.procs))

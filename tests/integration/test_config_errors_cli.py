"""The real `hub` command (the console script, in a process of its own) with bad settings: a line
per bad setting on stderr, exit code 2, no traceback, no pydantic dump, no password; and the
worker processes `hub serve` starts end the same way and are not restarted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from hub.config.settings import Settings
from hub.entrypoints.processes import Workers
from hub.logs import configure

REDIS_PASSWORD = "Rds-pw-7Qx2"
DATABASE_PASSWORD = "Db-pw-9Zk4"
LEAKS = (REDIS_PASSWORD, DATABASE_PASSWORD, "Traceback", "input_value", "errors.pydantic.dev", "validation error")


def hub_command() -> list[str]:
    """The `hub` console script installed beside this Python (`pip install -e .`)."""
    script = Path(sys.executable).with_name("hub")
    assert script.exists(), f"no `hub` console script beside {sys.executable}: install the package"
    return [str(script)]


def run_hub(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    clean.update(HUB_DATA_DIR=str(tmp_path / "data"), HUB_LOG_JSON="true")
    clean.update({f"HUB_{k.upper()}": v for k, v in env.items()})
    return subprocess.run(
        [*hub_command(), *args], env=clean, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
    )


def assert_no_leak(result: subprocess.CompletedProcess[str]) -> None:
    both = result.stdout + result.stderr
    for leak in LEAKS:
        assert leak not in both, (leak, both)


def test_serve_with_bad_settings_prints_a_line_per_setting_and_exits_2(tmp_path: Path) -> None:
    result = run_hub(
        tmp_path,
        "serve",
        env="production",
        redis_url=f"redis://hub:{REDIS_PASSWORD}@127.0.0.1:1/0",
        database_url=f"postgresql://hub:{DATABASE_PASSWORD}@127.0.0.1:1/hub",
        http_port="eighty",
        batch_size="0",
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["HUB_HTTP_PORT", "HUB_BATCH_SIZE"], lines
    assert all(line.startswith("hub: HUB_") and "set it to" in line for line in lines)
    assert result.stdout == ""
    assert_no_leak(result)


def test_bad_url_settings_are_named_and_masked(tmp_path: Path) -> None:
    result = run_hub(
        tmp_path,
        "sources",
        env="production",
        redis_url=f"tcp://hub:{REDIS_PASSWORD}@redis:6379",
        database_url=f"mysql://hub:{DATABASE_PASSWORD}@db/hub",
        max_deliveries="many",
    )
    assert result.returncode == 2
    named = [line.split(":")[1].strip() for line in result.stderr.splitlines()]
    assert named == ["HUB_REDIS_URL", "HUB_DATABASE_URL", "HUB_MAX_DELIVERIES"], result.stderr
    assert_no_leak(result)


def test_a_broken_registry_file_exits_2(tmp_path: Path) -> None:
    registry = tmp_path / "registry.toml"
    registry.write_text('municipality = "Albertslund"\nsources = [\n')
    result = run_hub(tmp_path, "sources", registry_file=str(registry))
    assert result.returncode == 2
    assert result.stderr.startswith(f"hub: HUB_REGISTRY_FILE: {registry} is not valid TOML")
    assert_no_leak(result)


def test_version(tmp_path: Path) -> None:
    result = run_hub(tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"hub {version('dke-hub')}"


def test_a_misconfigured_worker_process_ends_with_2_and_is_not_restarted(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A worker process of `hub serve` that meets a bad registry file: its lines on stderr, exit
    code 2, no traceback (multiprocessing would print one) and no restart loop."""
    registry = tmp_path / "registry.toml"
    registry.write_text('municipality = "Albertslund"\nsources = "none"\npartners = []\n')
    settings = Settings(
        env="test",
        data_dir=tmp_path / "data",
        redis_url=f"redis://hub:{REDIS_PASSWORD}@127.0.0.1:1/0",
        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        registry_file=registry,
        log_json=True,
    )
    configure(json=True, level="INFO")  # this process logs to the stderr captured here (not an earlier test's)
    workers = Workers([settings])
    workers.start()
    try:
        [proc] = workers.procs
        proc.join(60)
        assert proc.exitcode == 2

        async def watch_a_while() -> None:
            task = asyncio.create_task(workers.watch(interval_s=0.05))
            await asyncio.sleep(0.5)
            task.cancel()

        asyncio.run(watch_a_while())
        assert workers.procs == [proc]  # not started again
    finally:
        workers.stop()
        configure(json=False, level="WARNING")
    time.sleep(0.1)
    out, err = capfd.readouterr()
    assert f"hub: HUB_REGISTRY_FILE: {registry}: sources:" in err
    assert '"event": "worker_process.misconfigured"' in err + out  # the worker's log
    assert '"event": "worker_process.not_restarted"' in err + out  # the first process's
    for leak in LEAKS:
        assert leak not in out + err, leak

"""docker-compose.yml, the Dockerfile and the Redis configuration keep their invariants.

There is no Docker engine in the test environment: the compose file is checked as data, and
redis.conf is loaded by a real Redis 7 together with the generated ACL file.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.config.registry import default_registry_path, load_registry
from hub.services.acl import acl_lines, render
from tests.deploy.redis_server import require_redis7, running_redis

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
REQUIRED = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")  # ${VAR:?message}: no default, must be set
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|AUTH", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so the invariants can be checked"
    return {str(k): str(v) for k, v in env.items()}


def _conf(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            out[key.lower()] = value.strip()
    return out


def test_the_four_services_exist(services: dict[str, Any]) -> None:
    assert set(services) == {"redis", "postgres", "migrate", "hub"}
    assert services["redis"]["image"].startswith("redis:7")
    assert services["postgres"]["image"].startswith("postgres:")


@pytest.mark.parametrize("name", ["redis", "postgres", "hub"])
def test_long_running_services_have_healthchecks(services: dict[str, Any], name: str) -> None:
    check = services[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1
    assert services[name]["restart"] == "unless-stopped"


def test_hub_starts_after_healthy_stores_and_a_finished_migration(services: dict[str, Any]) -> None:
    assert services["hub"]["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    migrate = services["migrate"]
    assert migrate["command"] == ["hub", "db", "upgrade"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert services["hub"]["command"] == ["hub", "serve"]


def test_hub_and_migrate_run_the_image_built_from_the_repository(services: dict[str, Any]) -> None:
    for name in ("hub", "migrate"):
        assert services[name]["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
        assert services[name]["image"] == services["hub"]["image"]


def test_hub_runs_in_production_against_the_compose_stores(services: dict[str, Any]) -> None:
    env = _env(services["hub"])
    assert env["HUB_ENV"] == "production"
    assert env["HUB_HTTP_HOST"] == "0.0.0.0"
    assert re.fullmatch(r"redis://hub:\$\{[^}]+\}@redis:6379/0", env["HUB_REDIS_URL"])
    assert re.fullmatch(r"postgresql://hub:\$\{[^}]+\}@postgres:5432/hub", env["HUB_DATABASE_URL"])
    assert _env(services["migrate"])["HUB_DATABASE_URL"] == env["HUB_DATABASE_URL"]
    assert [p for p in services["hub"]["ports"] if str(p).endswith(":8000")]


def test_no_secret_is_written_in_the_compose_file(services: dict[str, Any]) -> None:
    """Every password is `${VAR:?...}`: taken from .env, and compose refuses to start without it."""
    seen = 0
    for name, service in services.items():
        for key, value in _env(service).items():
            for password in re.findall(r"://[^:/@]+:([^@]*)@", value):
                assert REQUIRED.match(password), f"{name}.{key} embeds a password that is not ${{VAR:?}}"
                seen += 1
            if SECRET_NAME.search(key):
                assert REQUIRED.match(value), f"{name}.{key} must be ${{VAR:?...}}, not a value"
                seen += 1
    assert seen >= 5  # redis URL x2, database URL x2, REDISCLI_AUTH, POSTGRES_PASSWORD, ...
    assert "POSTGRES_PASSWORD" in _env(services["postgres"])


def test_redis_uses_the_mounted_config_and_acl_file(services: dict[str, Any]) -> None:
    redis = services["redis"]
    targets = {m["target"]: m for m in redis["volumes"] if isinstance(m, dict)}
    conf_target = "/usr/local/etc/redis/redis.conf"
    assert redis["command"] == ["redis-server", conf_target]
    assert targets[conf_target]["source"] == "./deploy/redis/redis.conf"
    acl_target = _conf(DEPLOY / "redis" / "redis.conf")["aclfile"]
    assert targets[acl_target]["source"] == "./deploy/redis/users.acl"
    assert targets[acl_target]["read_only"] is True
    assert targets[acl_target]["bind"]["create_host_path"] is False
    assert any(str(v).startswith("redis-data:") and str(v).endswith(":/data") for v in redis["volumes"])
    assert (DEPLOY / "redis" / "users.acl.example").is_file()
    assert "users.acl" in (DEPLOY / "redis" / ".gitignore").read_text().split()


def test_redis_healthcheck_logs_in_as_the_hub(services: dict[str, Any]) -> None:
    check = " ".join(services["redis"]["healthcheck"]["test"])
    assert "--user hub" in check and "PONG" in check
    assert REQUIRED.match(_env(services["redis"])["REDISCLI_AUTH"])


def test_postgres_runs_the_init_script_and_keeps_its_data(services: dict[str, Any]) -> None:
    pg = services["postgres"]
    [init] = [m for m in pg["volumes"] if isinstance(m, dict)]
    assert init["source"] == "./deploy/postgres/init.sql"
    assert init["target"].startswith("/docker-entrypoint-initdb.d/")
    assert "postgres-data:/var/lib/postgresql/data" in pg["volumes"]
    assert "pg_isready" in pg["healthcheck"]["test"]
    sql = (DEPLOY / "postgres" / "init.sql").read_text()
    assert "CREATE ROLE hub LOGIN PASSWORD :'hub_password'" in sql
    assert "\\getenv hub_password HUB_POSTGRES_PASSWORD" in sql
    assert "CREATE DATABASE hub OWNER hub" in sql
    assert "HUB_POSTGRES_PASSWORD" in _env(pg)


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {"redis-data", "postgres-data", "hub-data"}


def test_redis_conf_persists_and_never_evicts() -> None:
    conf = _conf(DEPLOY / "redis" / "redis.conf")
    assert conf["appendonly"] == "yes"
    assert conf["appendfsync"] in ("everysec", "always")
    assert conf["maxmemory-policy"] == "noeviction"
    assert conf["protected-mode"] == "yes"
    assert conf["dir"] == "/data"
    assert "rename-command" not in conf


def test_dockerfile_runs_hub_serve_as_a_non_root_user_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    [user] = re.findall(r"^USER (\S+)$", runtime, flags=re.MULTILINE)
    assert not user.startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", runtime, flags=re.MULTILINE)
    assert runtime.rstrip().endswith('CMD ["hub", "serve"]')
    assert 'pip install -c constraints.txt ".[report]"' in text  # `hub report` draws charts in the image too
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text


@pytest.mark.integration
def test_redis_conf_and_the_generated_acl_load_in_a_real_redis(tmp_path: Path) -> None:
    """The committed redis.conf starts Redis 7 with AOF on, and the compose healthcheck passes.

    Only the paths a container provides (/data, /usr/local/etc/redis) are pointed at tmp_path.
    """
    binary = require_redis7()
    password = "test-hub-password-0001"  # obviously fake
    aclfile = tmp_path / "users.acl"
    aclfile.write_text(render(acl_lines(load_registry(default_registry_path()), {"hub": password})))
    conf = (DEPLOY / "redis" / "redis.conf").read_text()
    conf = re.sub(r"^dir /data$", f"dir {tmp_path}", conf, flags=re.MULTILINE)
    conf = re.sub(r"^aclfile .*$", f"aclfile {aclfile}", conf, flags=re.MULTILINE)
    (tmp_path / "redis.conf").write_text(conf)
    cli = Path(binary).with_name("redis-cli")
    with running_redis(binary, tmp_path, str(tmp_path / "redis.conf")) as socket:
        # appendonly yes took effect: Redis 7 creates the AOF directory in a background
        # rewrite at start-up, so it may appear a moment after the socket does.
        deadline = time.monotonic() + 10
        while not (tmp_path / "appendonlydir").is_dir() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "appendonlydir").is_dir()

        def ping(secret: str) -> str:
            return subprocess.run(
                [str(cli), "-s", str(socket), "--no-auth-warning", "--user", "hub", "ping"],
                env={"REDISCLI_AUTH": secret},
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()

        if cli.exists():
            assert ping(password) == "PONG"
            assert ping("wrong-password-0000") != "PONG"

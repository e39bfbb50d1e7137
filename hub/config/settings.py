"""Settings from the environment (prefix `HUB_`), built once in the composition root."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.config.redis_cluster import is_cluster_url, parse_cluster_url
from hub.config.registry import default_agreement_path, default_registry_path
from hub.errors import mask_secrets
from hub.schemas.limits import Limits


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class UrgentWatch(StrEnum):
    """Where the urgent watch runs: the second reading of every intake entry that stores
    planned-crime reports (Straffeloven § 141) at once, whatever waits ahead of them."""

    INLINE = "inline"  # in this hub, beside its intake (one hub process)
    ONLY = "only"  # this process does nothing else (`hub serve` with more processes)
    OFF = "off"  # another process runs it


def default_processes(database_url: str) -> int:
    """Hub processes in the same consumer groups: the GIL keeps one process on one core.
    SQLite takes one writer at a time, so more processes would only queue for its lock; on
    PostgreSQL at most 4 by default (each holds up to 10 connections)."""
    if database_url.startswith("sqlite"):
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0))))


_PLACEHOLDERS = ("changeme", "change-me", "password@", ":secret@")


def _no_placeholder(url: str, info: ValidationInfo) -> None:
    """Production refuses a URL whose password is a placeholder (a copied example)."""
    if info.data.get("env") is Environment.PRODUCTION and any(p in url for p in _PLACEHOLDERS):
        raise ValueError("the password in the URL is a placeholder; set the URL with the real password")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_file=None, extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default=Path(".hub-data"), description="embedded Redis, SQLite, tokens")
    # Checked even when unset (`validate_default`): production needs both.
    redis_url: str | None = Field(default=None, validate_default=True, description="unset: embedded Redis in data_dir")
    database_url: str | None = Field(default=None, validate_default=True, description="unset: SQLite in data_dir")
    registry_file: Path = Field(default_factory=default_registry_path)
    agreement_file: Path = Field(default_factory=default_agreement_path)

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_body_bytes: int = Field(1_000_000, ge=1_000, le=100_000_000, description="an entry's `event` or an HTTP body")
    # The staff workspace (`/arbejdsrum/`). Unset: Secure cookies unless serving on a loopback address.
    web_cookie_secure: bool | None = Field(default=None, description="session cookies only over HTTPS")
    web_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="a workspace session ends after this idle time")

    # What the parser admits (`Limits`); the defaults admit any real report with a wide margin.
    max_json_depth: int = Field(20, ge=4, le=200, description="JSON nesting levels (a report has 4)")
    max_number_chars: int = Field(40, ge=20, le=4000, description="characters of one JSON number")
    max_string_chars: int = Field(16_384, ge=4_000, le=10_000_000, description="characters of one JSON string or key")
    max_members: int = Field(1_000, ge=50, le=1_000_000, description="members of one JSON object or array")
    max_values: int = Field(10_000, ge=1_000, le=10_000_000, description="values in one JSON document")
    event_max_age_days: int = Field(365, ge=1, le=36_500, description="how old an event's `time` may be")
    clock_skew_s: int = Field(300, ge=0, le=86_400, description="how far ahead of the hub's clock a time may be")
    observed_max_age_days: int = Field(5 * 365, ge=1, le=36_500, description="how old `observed_at` may be")
    birth_max_age_years: int = Field(125, ge=1, le=150, description="the oldest birth date admitted")
    release_max_past_days: int = Field(10 * 365, ge=0, le=36_500, description="how long ago a release date may be")
    release_max_ahead_days: int = Field(30 * 365, ge=0, le=36_500, description="how far ahead a release date may be")

    processes: int | None = Field(
        None, ge=1, le=64, description="processes `hub serve` runs; unset: `default_processes`"
    )
    urgent_watch: UrgentWatch = Field(
        UrgentWatch.INLINE, description="`hub serve` sets it: with more processes, one of its own"
    )
    batch_size: int = Field(100, ge=1, le=10_000, description="XREADGROUP COUNT (max_records)")
    worker_threads: int = Field(2, ge=1, le=64, description="threads that store batches (intake and decisions)")
    batches_in_flight: int = Field(
        4, ge=1, le=64, description="per intake stream: batches read and being stored at a time"
    )
    poll_ms: int = Field(100, ge=1, description="XREADGROUP BLOCK in milliseconds")
    # Under a steady trickle a read per arriving report costs more than the report (issue #17):
    # after a read that was not full, the next waits until this long after its start.
    read_linger_ms: int = Field(
        200, ge=0, le=1_000, description="intake, partner updates: the least time between two reads that are not full"
    )
    urgent_linger_ms: int = Field(
        4, ge=0, le=100, description="urgent watch: least time between two reads (at most this added to an alert)"
    )
    urgent_head_start_ms: int = Field(
        500,
        ge=0,
        le=10_000,
        description="intake: planned-crime entries wait until the urgent watch has had this long to store them",
    )
    reclaim_idle_ms: int = Field(30_000, ge=100, description="pending this long: reclaimed by another consumer")
    reclaim_interval_s: float = Field(5.0, gt=0)
    max_deliveries: int = Field(5, ge=1, description="dead-letter an entry after this many deliveries")
    relay_interval_s: float = Field(0.2, gt=0, description="outbox poll for rows other processes wrote")
    relay_batch: int = Field(500, ge=1)
    deadline_interval_s: float = Field(
        5.0, gt=0, description="how often the scheduler looks for statutory deadlines near or passed"
    )
    audit_anchor_interval_s: float = Field(
        3600.0, gt=0, description="`hub serve` publishes the audit chain's head to hub.audit.anchor.v1 this often"
    )
    retention_interval_s: float = Field(
        86_400.0, ge=0, description="`hub serve` runs the retention job this often, one process at a time; 0: never"
    )
    publish_grace_s: float = Field(
        10.0, gt=0, description="workers publish their batches' events; the relay sends those still unsent after this"
    )

    traces_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (`/v1/traces` is added); unset: traces are off unless the "
        "standard OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set",
    )

    log_json: bool | None = Field(default=None, description="unset: JSON unless stdout is a TTY")
    log_level: str = "INFO"

    # Production guard: a redis URL with an inline password must not be a placeholder.
    redis_password: SecretStr | None = None

    # One check per URL setting, so that each bad one is named on a line of its own
    # (`hub.config.problems`). The messages never quote the URL: it may hold a password.
    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        example = "redis://HOST:6379/0 (a password goes before the host: USER:PASSWORD@HOST)"
        if url is None:
            if info.data.get("env") is Environment.PRODUCTION:
                raise ValueError(f"production needs a Redis server of its own; set it to {example}")
            return url
        if is_cluster_url(url):
            parse_cluster_url(url)  # its ValueError names what is wrong
        elif not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"not a Redis URL (redis://, rediss://, unix:// or redis+cluster://); set it like {example}"
            )
        _no_placeholder(url, info)
        return url

    @field_validator("traces_endpoint")
    @classmethod
    def _traces_endpoint(cls, url: str | None) -> str | None:
        if not url:
            return None  # an empty variable (`HUB_TRACES_ENDPOINT=` in a compose file) is unset
        if not url.startswith(("http://", "https://")):
            raise ValueError("not an HTTP URL; set it to the collector's OTLP/HTTP base URL, like http://HOST:4318")
        return url

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        example = "postgresql://HOST:5432/DATABASE (a password goes before the host: USER:PASSWORD@HOST)"
        if url is None:
            if info.data.get("env") is Environment.PRODUCTION:
                raise ValueError(f"production needs PostgreSQL; set it to {example}")
            return url
        if not url.startswith(("postgresql://", "postgresql+", "postgres://", "sqlite:")):
            raise ValueError(f"not a PostgreSQL or SQLite URL; set it like {example}, or unset it for SQLite")
        _no_placeholder(url, info)
        return url

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """`repr(settings)` (a debugger, a stray print) shows URLs without their passwords."""
        for name, value in super().__repr_args__():
            yield name, mask_secrets(value) if isinstance(value, str) else value

    tokens_file: Path | None = Field(default=None, description="unset: <data_dir>/tokens.toml")

    @property
    def tokens_path(self) -> Path:
        return self.tokens_file or self.data_dir / "tokens.toml"

    @property
    def limits(self) -> Limits:
        """The parser's limits (`hub.services.envelope`), for intake, decisions and HTTP."""
        return Limits(
            max_bytes=self.max_body_bytes,
            max_depth=self.max_json_depth,
            max_number_chars=self.max_number_chars,
            max_string_chars=self.max_string_chars,
            max_members=self.max_members,
            max_values=self.max_values,
            event_max_age=timedelta(days=self.event_max_age_days),
            clock_skew=timedelta(seconds=self.clock_skew_s),
            observed_max_age=timedelta(days=self.observed_max_age_days),
            birth_max_age=timedelta(days=self.birth_max_age_years * 366),
            release_max_past=timedelta(days=self.release_max_past_days),
            release_max_ahead=timedelta(days=self.release_max_ahead_days),
        )

    @property
    def role(self) -> str:
        """What this process is, for logs: a hub, or the urgent watch alone."""
        return "urgent_watch" if self.urgent_watch is UrgentWatch.ONLY else "hub"

    @property
    def effective_processes(self) -> int:
        return self.processes if self.processes is not None else default_processes(self.effective_database_url)

    @property
    def effective_cookie_secure(self) -> bool:
        if self.web_cookie_secure is not None:
            return self.web_cookie_secure
        return self.http_host not in ("127.0.0.1", "localhost", "::1")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

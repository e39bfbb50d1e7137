"""Structured logging with redaction: no personal data in a log line or a traceback, ever.

Three defences, in order: log calls pass only ids, codes, counts and durations (keys on an
allow-list; anything else is replaced); every string is scrubbed of CPR-shaped numbers; and
exceptions are rendered as type and frames only, never their message or locals (a
validation error's message can quote the input). `HubError` messages are written to be safe
and are kept.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import structlog

from hub.errors import HubError, mask_secrets

SAFE_KEYS = frozenset(
    {
        "event",
        "level",
        "timestamp",
        "logger",
        "logger_name",
        "report_ref",
        "referral_ref",
        "source_id",
        "partner_id",
        "structure",
        "stream",
        "group",
        "consumer",
        "entry_id",
        "event_id",
        "queue",
        "code",
        "codes",
        "rule_ids",
        "effect",
        "count",
        "accepted",
        "rejected",
        "duplicates",
        "dead",
        "deliveries",
        "sent",
        "claimed",
        "duration_ms",
        "batch",
        "level_",
        "pillar",
        "notifications",
        "exception",
        "error",
        "url",
        "path",
        "method",
        "status",
        "version",
        "policy_version",
        "pid",
        "host",
        "data_dir",
        "embedded",
        "socket",  # the embedded Redis's unix socket path (printed so redis-cli can reach it)
        "cli",  # a ready-to-copy redis-cli command line for it
        "role",
        "database",
        "redis",
        "port",
        "retry_in_s",
        "reason",
        "attempt",
        "exc_type",
        "frames",
        "token_id",  # a token's fingerprint (`hub.store.tokens`), never the token
        "expires",
    }
)
REDACTED = "[redacted]"
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
# A token's fingerprint (`hub.store.tokens`): 12 hex characters of a hash, made by the hub. One
# in about 120 has ten digits in a row, which is no CPR number; masked, the operator could
# not find the token the log speaks of.
_FINGERPRINT = re.compile(r"[0-9a-f]{12}")


def scrub(text: str) -> str:
    """CPR-shaped numbers, passwords in URLs and bearer tokens taken out (`mask_secrets`)."""
    return mask_secrets(_CPR_LIKE.sub("[cpr]", text))


def _safe_exception(exc: BaseException) -> dict[str, Any]:
    frames = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_tb(exc.__traceback__)]
    out: dict[str, Any] = {"exc_type": type(exc).__name__, "frames": frames[-8:]}
    if isinstance(exc, HubError):
        out["error"] = scrub(str(exc))
    return out


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: allow-listed keys, scrubbed strings, exceptions without messages."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        exc = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        if isinstance(exc_info, tuple):
            exc = exc_info[1]
        if exc is not None:
            event_dict.update(_safe_exception(exc))
    event_dict.pop("exception", None)
    for key in list(event_dict):
        if key.startswith("_"):
            continue
        if key not in SAFE_KEYS:
            event_dict[key] = REDACTED
            continue
        value = event_dict[key]
        if isinstance(value, str) and not (key == "token_id" and _FINGERPRINT.fullmatch(value)):
            event_dict[key] = scrub(value)
    return event_dict


def _stdlib_message(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Foreign (stdlib) log records: a library's message about a failure may quote the failing
    value (its exception text), so for those only the exception type is kept."""
    record = event_dict.get("_record")
    if record is not None:
        event_dict.setdefault("logger", record.name)
        if record.exc_info and record.exc_info[1] is not None:
            event_dict["event"] = f"{record.name}: {type(record.exc_info[1]).__name__}"
    return event_dict


def _not_a_pipeline_abort(record: logging.LogRecord) -> bool:
    """psycopg warns when a pipeline ends on an error that is already being raised: a unique
    violation that the hub handles (it looks up what is stored and tries again), so no news."""
    return not (record.name == "psycopg" and record.getMessage().startswith("error ignored terminating"))


def configure(*, json: bool | None = None, level: str = "INFO") -> None:
    """Configure structlog and route stdlib logging (FastStream, uvicorn) through the same chain."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _stdlib_message,
        redact,
    ]
    # The console renderer would print a traceback with rich, locals included, if one got past
    # `redact`: plain frames only, as a second guard.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_not_a_pipeline_abort)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("faststream", "uvicorn.access", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger

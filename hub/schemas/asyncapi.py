"""The AsyncAPI 3.0 document of the hub's streams, generated from the stream catalogue and the models.

Pure: `document(catalogue)` takes the catalogue expanded for a registry (`Registry.catalogue()`)
and returns the document as a JSON-ready dict; `hub asyncapi` writes it, `GET /asyncapi.json`
serves it, CI checks it with the official parser (`.ci/node/validate.mjs`).

Shape, from the hub's point of view (AsyncAPI describes one application):
- one **channel per row** of `STREAMS`, its `address` the row's pattern (`hub.intake.{source}.v1`)
  with one parameter per placeholder, its `enum` the values this registry configures. A pattern
  is the contract a partner codes against in any language; the concrete streams of this
  deployment are listed beside it (`x-streams`, with their writers and readers).
- one **message per event type**: the whole CloudEvent (envelope and `data`), its JSON Schema in
  `components/schemas` (pydantic's `$defs` hoisted there, so `$ref`s resolve in the document).
- one **operation per channel**: `receive` where the hub reads (with its consumer groups),
  `send` where it writes.
- Redis: the redis binding objects are empty by the binding's own definition, so the mechanics
  (one field `event`, XADD, XREADGROUP with consumer groups, XACK) are in the descriptions and in
  `x-redis` extensions.
- servers: a production Redis and the embedded default, as templates: no host, user or password
  of a real deployment.
"""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from hub import __version__
from hub.schemas import catalogue as table
from hub.schemas.cloudevents import EVENT_FIELD
from hub.schemas.stream_catalogue import HUB, Catalogue, StreamRow, short_type

ASYNCAPI_VERSION = "3.0.0"

# What each placeholder of a pattern stands for (`hub.schemas.stream_catalogue` fills them).
PARAMETERS = {
    "source": "A source's id (`hub sources`): the reporting system that owns this stream.",
    "decision_source": "A decision source's id: a triage system allowed to write decisions.",
    "queue": "One of DKE's triage queues (the PRO pillars and `urgent`).",
    "structure": "The cooperation structure: `ssp`, `psp` or `ksp` (Retsplejeloven § 115).",
    "partner": "A partner's id: the agency that reads its own referral stream.",
}

# Who a role is, in a channel's description (the concrete parties are in `x-streams`).
ROLES = {
    "hub": "the hub",
    "dke": "DKE's staff (through the hub's CLI and workspace)",
    "source": "the source named in the stream",
    "decision_source": "a decision source (the one named in the stream, where it names one)",
    "partner": "the partner named in the stream",
}

_WIRE = (
    f"Every entry has exactly one field, `{EVENT_FIELD}`, whose value is the message: a CloudEvents 1.0 "
    "JSON document in structured mode (UTF-8). Any other field, or FastStream's envelope, is refused. "
    "An event may carry the CloudEvents distributed-tracing extension (`traceparent`, `tracestate`: W3C Trace "
    "Context); a malformed one is ignored, never refused. The hub's events for a report carry the report's trace."
)
_READ = (
    "Create your own consumer group once (`XGROUP CREATE <stream> <group> 0 MKSTREAM`), read with "
    "`XREADGROUP GROUP <group> <consumer> COUNT <n> STREAMS <stream> >` and `XACK` what you have handled. "
    "Delivery is at least once: an event may come twice, so deduplicate on its `source` and `id`."
)

SERVERS: dict[str, Any] = {
    "production": {
        "host": "{host}:{port}",
        "protocol": "redis",
        "protocolVersion": "7",
        "title": "Production Redis",
        "description": (
            "The Redis the hub is configured with (`HUB_REDIS_URL`): AOF persistence, `noeviction`. "
            "Each source and partner has its own ACL user (`hub acl generate`) that may write only its own "
            "intake stream and read only its own streams. Ask the hub's operators for the host and your credentials."
        ),
        "variables": {
            "host": {"default": "redis", "description": "The Redis host the operators give you."},
            "port": {"default": "6379"},
        },
        "security": [{"$ref": "#/components/securitySchemes/aclUser"}],
        "bindings": {"redis": {}},
    },
    "embedded": {
        "host": "localhost",
        "pathname": "{dataDir}/redis.sock",
        "protocol": "redis",
        "protocolVersion": "7",
        "title": "Embedded Redis (the default)",
        "description": (
            "With no `HUB_REDIS_URL` the hub runs its own Redis on a unix socket in its data directory, "
            "not on a TCP port: reach it with `redis-cli -s <data dir>/redis.sock`. For development and demos."
        ),
        "variables": {"dataDir": {"default": ".hub-data", "description": "`HUB_DATA_DIR`"}},
        "bindings": {"redis": {}},
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "aclUser": {
        "type": "userPassword",
        "description": "A Redis ACL user (`AUTH <user> <password>`), one per source and partner.",
    },
}


def document(catalogue: Catalogue, *, version: str = __version__) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every row of `STREAMS` (looked up now), with the concrete
    streams of `catalogue` (the rows expanded for one registry) as parameter values and stream
    lists. A row this registry has no stream for (no partners yet) still has its channel."""
    rows = table.STREAMS
    models = table.event_models(rows)  # one model per event type, or a ValueError
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for row in rows:
        channel_id = channel_key(row.pattern)
        if channel_id in channels:
            raise ValueError(f"two stream patterns map to the channel id {channel_id!r}")
        channels[channel_id] = _channel(row, catalogue)
        for event_type, _ in row.events:
            message_id = short_type(event_type)
            if message_id not in messages:
                messages[message_id] = _message(event_type, models[event_type])
                _add_schemas(schemas, event_type)
        operation = _operation(row, channel_id)
        if operation is not None:
            operations[f"hub.{operation['action']}s.{channel_id}"] = operation
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:dk:albertslund:dke-hub",
        "info": {
            "title": "DKE referral hub: streams",
            "version": version,
            "description": (
                "Every Redis stream of the hub: concern reports in, receipts, triage queues, alerts, "
                "notifications and referrals out. Operations are the hub's own: `receive` where the hub "
                "reads (a source or decision source sends), `send` where it writes (you receive). " + _WIRE
            ),
            "license": {"name": "Proprietary: Albertslund Kommune"},
        },
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def channel_key(pattern: str) -> str:
    """`hub.intake.{source}.v1` -> `intake.source`: an id usable in a `$ref`."""
    return pattern.removeprefix("hub.").removesuffix(".v1").replace("{", "").replace("}", "")


def placeholders(pattern: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(pattern) if name]


def _values(pattern: str, names: Iterator[str]) -> dict[str, list[str]]:
    """Each placeholder's values, read back from the concrete stream names of the pattern."""
    regex = re.compile(
        "".join(
            re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
            for literal, name, _, _ in string.Formatter().parse(pattern)
        )
        + r"\Z"
    )
    out: dict[str, list[str]] = {name: [] for name in placeholders(pattern)}
    for stream in names:
        match = regex.match(stream)
        if match is None:
            raise ValueError(f"stream {stream!r} does not match its pattern {pattern!r}")
        for name, value in match.groupdict().items():
            if value not in out[name]:
                out[name].append(value)
    return out


def _channel(row: StreamRow, catalogue: Catalogue) -> dict[str, Any]:
    streams = [s for s in catalogue.streams if s.row is row]
    parameters: dict[str, Any] = {}
    for name, values in _values(row.pattern, (s.name for s in streams)).items():
        parameter: dict[str, Any] = {"description": PARAMETERS.get(name, f"The stream's {name}.")}
        if values:
            parameter["enum"] = values  # what this deployment configures; others are refused
        parameters[name] = parameter
    readers = [*(ROLES[r] for r in row.readers), *(f"partners of kind `{k}`" for k in row.reader_kinds)]
    channel: dict[str, Any] = {
        "address": row.pattern,
        "title": row.pattern,
        "summary": row.summary,
        "description": (
            f"Written by {ROLES[row.writer]}. Read by {', '.join(readers) or 'nobody yet'}. "
            + _WIRE
            + (f" Trimmed after the agreement's `retention_days.{row.retention}`." if row.retention else "")
        ),
        "messages": {short_type(t): {"$ref": f"#/components/messages/{short_type(t)}"} for t, _ in row.events},
        "bindings": {"redis": {}},
        "x-writer": row.writer,
        "x-readers": list(row.readers),
        "x-reader-kinds": list(row.reader_kinds),
        "x-retention": row.retention,
        "x-streams": [
            {"name": s.name, "writers": [p.id for p in s.writers], "readers": [p.id for p in s.readers]}
            for s in streams
        ],
    }
    if parameters:
        channel["parameters"] = parameters
    return channel


def _operation(row: StreamRow, channel_id: str) -> dict[str, Any] | None:
    refs = [{"$ref": f"#/channels/{channel_id}/messages/{short_type(t)}"} for t, _ in row.events]
    if row.writer == HUB:
        return {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": refs,
            "summary": f"The hub writes {row.pattern}.",
            "description": (
                f"The hub writes each event with `XADD <stream> * {EVENT_FIELD} <CloudEvent JSON>` from its "
                "transactional outbox, after the database commit. " + _READ
            ),
            "bindings": {"redis": {}},
            "x-redis": {"command": "XADD", "field": EVENT_FIELD, "readWith": "XREADGROUP"},
        }
    if HUB in row.readers:
        groups = [{"name": g.name, "start": g.start, "processes": g.processes} for g in row.groups]
        return {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": refs,
            "summary": f"The hub reads {row.pattern}.",
            "description": (
                f"Send each event with `XADD <stream> * {EVENT_FIELD} <CloudEvent JSON>` (exactly one field). "
                f"The hub reads with the consumer group(s) {', '.join(f'`{g.name}`' for g in row.groups) or '(none)'} "
                "(`XREADGROUP`, `XACK` once stored or refused); a refused entry is answered with a stable code "
                "and kept on `hub.deadletter.v1` for review."
            ),
            "bindings": {"redis": {}},
            "x-redis": {"command": "XREADGROUP", "field": EVENT_FIELD, "writeWith": "XADD", "groups": groups},
        }
    return None  # a stream the hub neither writes nor reads is not the hub's operation


def _message(event_type: str, model: type[BaseModel]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": event_type,
        "title": short_type(event_type),
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{event_type}"},
        "bindings": {"redis": {}},
        "x-cloudevents-type": event_type,
    }
    if model.__doc__:
        message["summary"] = inspect.cleandoc(model.__doc__).splitlines()[0]
    return message


def _add_schemas(schemas: dict[str, Any], event_type: str) -> None:
    """The envelope schema under its type name, its `$defs` beside it (one name, one schema)."""
    schema = _rebase(table.json_schema(event_type))
    for name, definition in schema.pop("$defs", {}).items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different JSON Schemas are named {name!r}")
    schemas[event_type] = schema


def _rebase(node: Any) -> Any:
    """`#/$defs/X` -> `#/components/schemas/X`: where the hoisted definitions live."""
    if isinstance(node, dict):
        return {
            k: (v.replace("#/$defs/", "#/components/schemas/", 1) if k == "$ref" and isinstance(v, str) else _rebase(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node

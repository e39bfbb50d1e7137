"""The AsyncAPI document (`hub.schemas.asyncapi`) describes every stream the catalogue lists, with
schemas a client can resolve, operations in the hub's direction, and servers without secrets.

The official parser's verdict is `tests/integration/test_asyncapi_parser.py`; these checks need no
network and no node, and cover what the parser does not check (parameters against the address,
the hub's direction of each operation)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from hub.config.registry import Registry, default_registry_path, load_registry
from hub.schemas import catalogue, streams
from hub.schemas.asyncapi import channel_key, document, placeholders
from hub.schemas.catalogue import EVENT_DATA, HubGroup, StreamRow, short_type

JSON_TYPES = {"array", "boolean", "integer", "null", "number", "object", "string"}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(default_registry_path())


@pytest.fixture(scope="module")
def doc(registry: Registry) -> dict[str, Any]:
    return document(registry.catalogue())


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """A local `$ref` (`#/a/b`) followed through the document (JSON Pointer escapes included)."""
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield path, value
            else:
                yield from refs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from refs(value, f"{path}/{i}")


def test_every_stream_of_the_catalogue_is_on_the_channel_of_its_pattern(doc, registry: Registry) -> None:
    channels = doc["channels"]
    assert [c["address"] for c in channels.values()] == [row.pattern for row in catalogue.STREAMS]
    listed = {s["name"]: (key, s) for key, c in channels.items() for s in c["x-streams"]}
    assert set(listed) == set(registry.catalogue().names())
    for stream in registry.catalogue().streams:
        key, entry = listed[stream.name]
        assert key == channel_key(stream.row.pattern)
        assert entry["writers"] == [p.id for p in stream.writers]
        assert entry["readers"] == [p.id for p in stream.readers]
    intake = channels["intake.source"]
    assert intake["address"] == "hub.intake.{source}.v1"
    assert {"name": "hub.intake.herstedlund-skole.v1", "writers": ["herstedlund-skole"], "readers": ["hub"]} in (
        intake["x-streams"]
    )


def test_each_placeholder_is_a_parameter_with_the_configured_values(doc, registry: Registry) -> None:
    for channel in doc["channels"].values():
        assert set(channel.get("parameters", {})) == set(placeholders(channel["address"])), channel["address"]
        for name, parameter in channel.get("parameters", {}).items():
            assert parameter["description"]
            for value in parameter.get("enum", []):
                concrete = channel["address"].replace("{" + name + "}", value)
                pattern = re.sub(r"\\\{\w+\\\}", ".+", re.escape(concrete))
                assert any(re.fullmatch(pattern, s["name"]) for s in channel["x-streams"]), (name, value)
    params = {c["address"]: c.get("parameters", {}) for c in doc["channels"].values()}
    assert params["hub.intake.{source}.v1"]["source"]["enum"] == [s.id for s in registry.sources]
    assert params["hub.triage.{queue}.v1"]["queue"]["enum"] == [q.value for q in streams.Queue]
    assert set(params["hub.referrals.{structure}.{partner}.v1"]["structure"]["enum"]) == {"ssp", "psp", "ksp"}
    assert params["hub.receipts.{decision_source}.v1"]["decision_source"]["enum"] == ["dke-triage"]
    assert params[streams.DECISIONS] == {}


def test_every_event_type_is_a_message_whose_payload_is_the_whole_cloudevent(doc) -> None:
    messages = doc["components"]["messages"]
    assert {m["name"] for m in messages.values()} == set(EVENT_DATA)
    for event_type in EVENT_DATA:
        message = messages[short_type(event_type)]
        payload = resolve(doc, message["payload"]["$ref"])
        assert payload["properties"]["type"]["const"] == event_type
        assert {"specversion", "id", "source", "type", "time", "data"} <= set(payload["required"])
        assert payload["additionalProperties"] is False
        assert "$defs" not in payload
    report = resolve(doc, resolve(doc, messages["concern.reported"]["payload"]["$ref"])["properties"]["data"]["$ref"])
    assert report["title"] == "ConcernReport" and report["additionalProperties"] is False
    for row in catalogue.STREAMS:  # each channel carries exactly its row's event types
        channel = doc["channels"][channel_key(row.pattern)]
        assert [resolve(doc, m["$ref"])["name"] for m in channel["messages"].values()] == [t for t, _ in row.events]


def test_every_ref_in_the_document_resolves(doc) -> None:
    found = list(refs(doc))
    assert len(found) > 50
    for path, ref in found:
        assert resolve(doc, ref) is not None, (path, ref)
    assert not [ref for _, ref in found if "$defs" in ref]  # pydantic's own refs are rebased


def schema_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every subschema of a JSON Schema (the keywords pydantic uses that hold subschemas)."""
    if not isinstance(node, dict):
        return
    yield node
    for key in ("properties", "$defs"):
        for sub in node.get(key, {}).values():
            yield from schema_nodes(sub)
    for key in ("anyOf", "allOf", "oneOf", "prefixItems"):
        for sub in node.get(key, []):
            yield from schema_nodes(sub)
    for key in ("items", "additionalProperties", "not"):
        yield from schema_nodes(node.get(key))


def test_every_schema_is_structurally_a_json_schema(doc) -> None:
    # The `jsonschema` package is not a dependency: these are the meta-schema's rules for the
    # keywords the hub's models produce (the official parser checks the full meta-schema in CI).
    for name, schema in doc["components"]["schemas"].items():
        assert re.fullmatch(r"[\w.\-]+", name), name
        for node in schema_nodes(schema):
            kind = node.get("type")
            assert kind is None or kind in JSON_TYPES or (isinstance(kind, list) and set(kind) <= JSON_TYPES), node
            if "required" in node:
                assert isinstance(node["required"], list) and set(node["required"]) <= set(node.get("properties", {}))
            if "enum" in node:
                assert isinstance(node["enum"], list) and node["enum"], node
            for key in ("anyOf", "allOf", "oneOf"):
                assert node.get(key, [{}]) and all(isinstance(s, dict) for s in node.get(key, [])), node
            for key in ("minLength", "maxLength", "minItems", "maxItems"):
                assert key not in node or (isinstance(node[key], int) and node[key] >= 0), node
            assert isinstance(node.get("additionalProperties", True), bool | dict), node


def test_operations_are_the_hubs_own_direction(doc) -> None:
    ops = doc["operations"]
    actions = {resolve(doc, op["channel"]["$ref"])["address"]: op["action"] for op in ops.values()}
    for row in catalogue.STREAMS:
        expected = "send" if row.writer == catalogue.HUB else "receive"
        assert actions[row.pattern] == expected, row.pattern
    intake = ops["hub.receives.intake.source"]
    assert intake["x-redis"]["groups"] == [
        {"name": streams.INTAKE_GROUP, "start": "0", "processes": True},
        {"name": streams.URGENT_GROUP, "start": "$", "processes": False},
    ]
    assert intake["x-redis"]["field"] == "event" and "XADD" in intake["description"]
    referrals = ops["hub.sends.referrals.structure.partner"]
    assert referrals["x-redis"]["command"] == "XADD" and "XREADGROUP" in referrals["description"]
    for op in ops.values():  # an operation names only messages of its own channel
        channel = resolve(doc, op["channel"]["$ref"])
        assert all(m["$ref"].startswith(op["channel"]["$ref"] + "/messages/") for m in op["messages"])
        assert len(op["messages"]) == len(channel["messages"])


def test_servers_hold_no_secrets(doc) -> None:
    servers = doc["servers"]
    assert set(servers) == {"production", "embedded"}
    text = json.dumps(servers)
    assert "@" not in text and "://" not in text  # no URL, no user:password@host
    assert not re.search(r"password\s*[:=]|requirepass", text, re.IGNORECASE)
    assert not re.search(r"hub_[a-z0-9-]+_[\w-]{16,}", text)  # the shape of an HTTP token
    for server in servers.values():
        assert server["protocol"] == "redis"
        hosted = server["host"] + server.get("pathname", "")
        assert set(re.findall(r"\{(\w+)\}", hosted)) == set(server.get("variables", {}))
    assert doc["components"]["securitySchemes"]["aclUser"]["type"] == "userPassword"


def test_info_carries_the_package_version(doc) -> None:
    import hub

    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["version"] == hub.__version__
    assert doc["defaultContentType"] == "application/json"


class ReplySent(BaseModel):
    """A made-up event on a made-up stream: what adding a row does to the document."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    referral_ref: str


REPLY_SENT = "dk.albertslund.hub.reply.sent.v1"
REPLIES = StreamRow(
    pattern="hub.replies.{structure}.{partner}.v1",
    writer=catalogue.PARTNER,
    readers=(catalogue.HUB,),
    events=((REPLY_SENT, ReplySent),),
    summary="a partner's reply to a referral",
    groups=(HubGroup("hub-replies"),),
)


def test_a_new_row_is_a_new_channel_message_and_operation(registry: Registry, monkeypatch) -> None:
    monkeypatch.setattr(catalogue, "STREAMS", (*catalogue.STREAMS, REPLIES))
    doc = document(registry.catalogue())
    channel = doc["channels"]["replies.structure.partner"]
    assert channel["address"] == REPLIES.pattern
    assert "hub.replies.ssp.bkv.v1" in {s["name"] for s in channel["x-streams"]}
    assert resolve(doc, channel["messages"]["reply.sent"]["$ref"])["name"] == REPLY_SENT
    assert resolve(doc, "#/components/schemas/" + REPLY_SENT)["properties"]["type"]["const"] == REPLY_SENT
    op = doc["operations"]["hub.receives.replies.structure.partner"]
    assert op["action"] == "receive" and op["x-redis"]["groups"][0]["name"] == "hub-replies"


def test_a_row_with_no_configured_stream_keeps_its_channel(registry: Registry) -> None:
    bare = registry.model_copy(update={"partners": ()})
    doc = document(bare.catalogue())
    referrals = doc["channels"]["referrals.structure.partner"]
    assert referrals["x-streams"] == []
    assert set(referrals["parameters"]) == {"structure", "partner"}
    assert "enum" not in referrals["parameters"]["partner"]


def test_two_models_under_one_schema_name_are_refused(registry: Registry, monkeypatch) -> None:
    other = type("ConcernReport", (BaseModel,), {"__annotations__": {"x": int}})
    clash = StreamRow(
        pattern="hub.clash.v1",
        writer=catalogue.HUB,
        readers=(catalogue.DKE,),
        events=(("dk.albertslund.hub.clash.made.v1", other),),
        summary="a data model named like another one",
    )
    monkeypatch.setattr(catalogue, "STREAMS", (*catalogue.STREAMS, clash))
    with pytest.raises(ValueError, match="ConcernReport"):
        document(registry.catalogue())

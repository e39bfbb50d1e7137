"""The stream catalogue and what derives from it; the published JSON Schemas describe what the hub
really writes and accepts."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from hub.config.registry import Registry, default_registry_path, load_registry
from hub.entrypoints.cli import app
from hub.runtime.stream_guard import guarded
from hub.schemas import catalogue, events, streams
from hub.schemas.catalogue import EVENT_DATA, HubGroup, StreamRow, json_schema
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from hub.services.acl import acl_lines
from hub.services.retention import RETENTION_KEYS, retained_streams
from tests.factories import cloudevent, report_data


def test_every_event_type_has_a_schema_with_the_cloudevent_envelope() -> None:
    for event_type in EVENT_DATA:
        schema = json_schema(event_type)
        assert schema["properties"]["type"]["const"] == event_type
        assert {"specversion", "id", "source", "type", "time", "data"} <= set(schema["required"])
        assert schema["additionalProperties"] is False


def test_report_schema_refuses_unknown_fields_like_the_hub_does() -> None:
    schema = json_schema(CONCERN_REPORTED)
    report = schema["$defs"]["ConcernReport"]
    assert report["additionalProperties"] is False
    assert set(cloudevent("herstedlund-skole", report_data())["data"]) <= set(report["properties"])


def test_cli_writes_one_file_per_type(tmp_path) -> None:
    result = CliRunner().invoke(app, ["schemas", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{t}.schema.json" for t in EVENT_DATA)
    assert json.loads((tmp_path / f"{CONCERN_REPORTED}.schema.json").read_text())["title"] == CONCERN_REPORTED


# --- the stream catalogue ---------------------------------------------------------------------


class ReplySent(BaseModel):
    """A made-up event for a made-up stream: what adding a row looks like."""

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


@pytest.fixture
def registry() -> Registry:
    return load_registry(default_registry_path())


def _names_the_hub_uses(registry: Registry) -> set[str]:
    """Every stream name, spelled with the functions the handlers write and read with."""
    names = {streams.DECISIONS, streams.POLICE_ALERTS, streams.CHILDREN_NOTIFICATIONS}
    names |= {streams.REFERRALS_WITHHELD, streams.DEADLETTER, streams.AUDIT_ANCHOR, streams.DEADLINES}
    names |= {streams.intake(s.id) for s in registry.sources} | {streams.receipts(s.id) for s in registry.sources}
    names |= {streams.receipts(d) for d in registry.decision_sources}  # decision.rejected receipts
    names |= {streams.triage(q) for q in streams.Queue}
    names |= {name for p in registry.partners for name in p.streams()}
    names |= {streams.referral_updates(p.id) for p in registry.partners}  # partners' updates on referrals
    names |= {streams.referral_receipts(p.id) for p in registry.partners}  # and the hub's answers
    return names


def test_the_catalogue_expands_to_exactly_the_streams_the_hub_uses(registry: Registry) -> None:
    names = registry.catalogue().names()
    assert len(names) == len(set(names))
    assert set(names) == _names_the_hub_uses(registry)
    assert "hub.receipts.dke-triage.v1" in names


def test_hub_streams_lists_every_stream_with_its_row(registry: Registry) -> None:
    result = CliRunner().invoke(app, ["streams", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["stream"]: r for r in json.loads(result.output)}
    assert set(rows) == _names_the_hub_uses(registry)
    triage = rows["hub.receipts.dke-triage.v1"]
    assert (triage["writer"], triage["readers"], triage["event"]) == ("hub", ["dke-triage"], "decision.rejected")
    assert triage["event_types"] == [events.DECISION_REJECTED] and triage["retention"] == "report"
    intake = rows[streams.intake("herstedlund-skole")]
    assert (intake["writer"], intake["readers"], intake["event"]) == ("herstedlund-skole", ["hub"], "concern.reported")
    assert intake["groups"] == [streams.INTAKE_GROUP, streams.URGENT_GROUP]
    assert rows[streams.POLICE_ALERTS]["readers"] == ["politi-vestegn"]
    assert rows[streams.CHILDREN_NOTIFICATIONS]["readers"] == ["bkv"]
    assert rows[streams.DECISIONS]["writer"] == "dke-triage"
    assert rows[streams.DEADLETTER]["retention"] == "deadletter"


def test_every_row_has_a_known_retention_key_and_its_events_a_model() -> None:
    for row in catalogue.STREAMS:
        assert row.retention is None or row.retention in RETENTION_KEYS, row.pattern
        assert row.events, row.pattern
    assert set(catalogue.event_models()) == set(EVENT_DATA)


def test_the_hub_groups_are_the_ones_the_workers_read_with(registry: Registry) -> None:
    groups = registry.catalogue().hub_groups()
    intake = registry.intake_streams()
    assert [(s, g.name, g.start) for s, g in groups] == [
        *(
            (s, name, start)
            for s in intake
            for name, start in ((streams.INTAKE_GROUP, "0"), (streams.URGENT_GROUP, "$"))
        ),
        (streams.DECISIONS, streams.DECISIONS_GROUP, "0"),
        *((streams.referral_updates(p.id), streams.REFERRAL_UPDATES_GROUP, "0") for p in registry.partners),
    ]
    # The urgent watch reads beside the intake group: the loss check and retention follow the one that stores.
    updates = [(streams.referral_updates(p.id), streams.REFERRAL_UPDATES_GROUP) for p in registry.partners]
    assert guarded(registry.catalogue()) == [(s, streams.INTAKE_GROUP) for s in intake] + [
        (streams.DECISIONS, streams.DECISIONS_GROUP),
        *updates,
    ]


def test_a_new_row_reaches_every_list_derived_from_the_catalogue(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr(catalogue, "STREAMS", (*catalogue.STREAMS, REPLIES))
    stream = "hub.replies.ssp.bkv.v1"
    cat = registry.catalogue()
    assert stream in cat.of(REPLIES) and len(cat.of(REPLIES)) == sum(len(p.structures) for p in registry.partners)

    result = CliRunner().invoke(app, ["streams", "--json"])  # hub streams
    [row] = [r for r in json.loads(result.output) if r["stream"] == stream]
    assert (row["writer"], row["readers"], row["groups"], row["event"]) == (
        "bkv",
        ["hub"],
        ["hub-replies"],
        "reply.sent",
    )
    assert (stream, HubGroup("hub-replies")) in cat.hub_groups()  # group creation at start-up
    assert (stream, "hub-replies") in guarded(cat)  # the check for trimmed streams
    assert (stream, "report") in retained_streams(registry)  # retention trimming
    partner_line = next(line for line in acl_lines(registry) if line.split()[1] == "partner-bkv")  # ACL
    [appends] = re.findall(r"\(\+xadd ([^)]*)\)", partner_line)
    assert f"%W~{stream}" in appends.split()
    result = CliRunner().invoke(app, ["schemas", "--out", str(tmp_path)])  # JSON Schemas
    assert (tmp_path / f"{REPLY_SENT}.schema.json").exists(), result.output
    assert json_schema(REPLY_SENT)["$defs"]["ReplySent"]["additionalProperties"] is False


def test_a_pattern_with_an_unknown_placeholder_is_refused() -> None:
    row = StreamRow(pattern="hub.x.{nobody}.v1", writer="hub", readers=(), events=(), summary="")
    with pytest.raises(ValueError, match="nobody"):
        catalogue.expand(catalogue.Inputs(), [row])


def test_one_event_type_cannot_have_two_models() -> None:
    twin = StreamRow(pattern="hub.x.v1", writer="hub", readers=(), events=((REPLY_SENT, ConcernReport),), summary="")
    with pytest.raises(ValueError, match="two data models"):
        catalogue.event_models([REPLIES, twin])

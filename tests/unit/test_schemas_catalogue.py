"""The published JSON Schemas describe what the hub really writes and accepts."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.schemas.catalogue import EVENT_DATA, json_schema
from hub.schemas.report import CONCERN_REPORTED
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

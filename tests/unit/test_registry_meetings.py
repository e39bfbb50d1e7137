"""The registry's `[meetings]`: each level's members are partner ids of `[[partners]]`, checked when
the file is read, with one line that names the setting, the file, the level and the bad ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config.problems import read_config_file
from hub.config.registry import Registry, default_registry_path, load_registry
from hub.errors import ConfigurationError
from hub.schemas.decision import Level

PARTNERS = """
municipality = "Testkommune"
sources = []

[[partners]]
id = "bkv"
name = "Børn"
kind = "social_services"
structures = ["ssp"]

[[partners]]
id = "politi"
name = "Politi"
kind = "police"
structures = ["ssp"]
"""


def _read(tmp_path: Path, meetings: str) -> Registry:
    path = tmp_path / "registry.toml"
    path.write_text(PARTNERS + meetings, encoding="utf-8")
    return read_config_file("HUB_REGISTRY_FILE", path, load_registry)


def test_members_of_each_level_are_read(tmp_path: Path) -> None:
    registry = _read(tmp_path, '[meetings.III]\nname = "Operativgruppen"\nmembers = ["politi", "bkv"]\n')
    assert registry.meeting_members() == {Level.III: ("politi", "bkv")}


def test_without_a_meetings_section_no_level_has_members(tmp_path: Path) -> None:
    assert _read(tmp_path, "").meeting_members() == {}


@pytest.mark.parametrize(
    ("meetings", "expected"),
    [
        ('[meetings.III]\nmembers = ["politi", "skolerne"]\n', "meetings: III.members: unknown partner id skolerne"),
        ('[meetings.I]\nmembers = ["bkv", "bkv"]\n', "meetings: I.members: bkv named twice"),
        ('[meetings.IV]\nmembers = ["bkv"]\n', "meetings.IV.[key]"),
        ('[meetings.II]\ndeltagere = ["bkv"]\n', "meetings.II.deltagere"),
    ],
    ids=["unknown-partner", "twice", "unknown-level", "unknown-key"],
)
def test_a_bad_meetings_section_is_one_line_naming_the_file_and_what_to_fix(
    tmp_path: Path, meetings: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _read(tmp_path, meetings)
    problem, fix = caught.value.lines
    assert problem.startswith(f"HUB_REGISTRY_FILE: {tmp_path / 'registry.toml'}: ") and expected in problem
    assert "input_value" not in problem
    if "unknown partner" in expected:
        assert "(the partner ids of [[partners]]: bkv, politi)" in problem
    assert fix.startswith("HUB_REGISTRY_FILE: Fix the file")


def test_the_shipped_registry_names_only_its_partners() -> None:
    registry = load_registry(default_registry_path())
    partners = {p.id for p in registry.partners}
    assert all(set(m) <= partners for m in registry.meeting_members().values())

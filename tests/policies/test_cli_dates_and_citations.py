"""`hub policy explain | check` show the Danish dates, the agreement's closed days and whether a
citation is confirmed (issue #15, points 1, 3 and 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hub.config.registry import default_agreement_path
from hub.entrypoints.cli.policy import app

runner = CliRunner()


def _report(tmp_path: Path, birth_date: str) -> Path:
    doc: dict[str, Any] = {
        "reporter": {"name": "Lærer Testesen", "role": "SSP-lærer", "contact": "ssp@skole.example",
                     "public_employee": True},
        "subject": {"name": "Testperson Testesen", "birth_date": birth_date},
        "concern": {"categories": ["wellbeing"], "description": "Testbeskrivelse.", "child_at_risk": True},
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_explain_at_0030_danish_time_on_the_18th_birthday_treats_them_as_an_adult(tmp_path: Path) -> None:
    file = _report(tmp_path, "2008-11-20")
    for now in ("2026-11-20T00:30", "2026-11-19T23:30:00Z"):  # the same instant, Danish and UTC
        result = runner.invoke(app, ["explain", str(file), "--source", "herstedlund-skole", "--now", now])
        assert result.exit_code == 0, result.output
        assert "Pligtige underretninger: ingen" in result.output and "[BL133-1-1]" not in result.output
    evening = runner.invoke(app, ["explain", str(file), "--source", "herstedlund-skole", "--now", "2026-11-19T23:30"])
    assert "[BL133-1-1]" in evening.output


def test_explain_shows_the_closed_days_and_marks_unconfirmed_citations(tmp_path: Path) -> None:
    file = _report(tmp_path, "2013-05-01")
    result = runner.invoke(app, ["explain", str(file), "--source", "herstedlund-skole", "--now", "2026-12-18T10:00"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert ("Frist for kvittering til indberetter: 2026-12-30 23:59 (6 hverdage; lukkedage efter aftalen: "
            "24.12., 31.12., 05.06.)") in out
    assert "[BL-RECEIPT-6D] Barnets lov § 137, stk. 1 (henvisningen er ikke bekræftet mod lovteksten)" in out
    assert "[BL133-1-1] Barnets lov § 133, stk. 1, nr. 1\n" in out  # checked: no note


def test_explain_json_carries_check_status_layer_and_closed_days(tmp_path: Path) -> None:
    file = _report(tmp_path, "2013-05-01")
    result = runner.invoke(app, ["explain", str(file), "--source", "herstedlund-skole", "--now", "2026-12-18T10:00",
                                 "--json"])
    doc = json.loads(result.output)
    a = doc["assessment"]
    assert a["closed_days"] == ["12-24", "12-31", "06-05"]
    reasons = {r["rule_id"]: r for r in a["reasons"]}
    assert reasons["BL-RECEIPT-6D"]["citation_checked"] == ["unconfirmed"]
    assert reasons["BL133-1-1"]["citation_checked"] == ["checked"]
    assert reasons["LEVEL-I"]["layer"] == "practice" and reasons["LEVEL-I"]["citation_checked"] == ["local"]


def test_check_lists_the_closed_days_and_refuses_a_bad_one(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["check", str(default_agreement_path())])
    assert ok.exit_code == 0 and "Lukkedage ud over weekender og helligdage: 24.12., 31.12., 05.06." in ok.output
    bad = tmp_path / "agreement.toml"
    text = default_agreement_path().read_text(encoding="utf-8")
    bad.write_text(text.replace('"06-05"]', '"06-31"]'), encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "working_days.closed_days: '06-31' er ikke en gyldig lukkedag" in result.output

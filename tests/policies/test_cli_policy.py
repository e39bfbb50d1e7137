"""`hub policy explain | check | simulate`, as the legal team and triage staff would run them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from hub.config.registry import Registry, default_agreement_path
from hub.entrypoints.cli.policy import app
from hub.policies import Agreement, PolicyEngine, Request
from hub.policies.examples import report
from hub.policies.fields import project
from hub.schemas.decision import Structure
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from hub.store.db import make_engine, migrate
from hub.store.models import Decision, Report
from hub.store.models import Disclosure as DisclosureRow

runner = CliRunner()
NOW = "2026-11-20T10:00:00+00:00"
JUSTIFICATION = "Nødvendigt for en koordineret indsats omkring den unge."


def _write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _report_data(age: int = 14) -> dict[str, Any]:
    """A teacher's report about a child in distress, as a source would send it."""
    rep = report(age, concern={"categories": ["wellbeing"], "child_at_risk": True})
    data: dict[str, Any] = rep.model_dump(mode="json", exclude_none=True)
    data["subject"]["name"] = "Testbarn Testesen"
    return data


def test_explain_shows_assessment_and_every_partner_in_danish(tmp_path: Path) -> None:
    file = _write(tmp_path, "report.json", _report_data())
    result = runner.invoke(app, ["explain", str(file), "--source", "herstedlund-skole", "--now", NOW])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "VURDERING" in out and "Kø: Reaktiv" in out and "Niveau I (risikoadfærd)" in out
    assert "Underretning til Børn, Kultur & Velfærd" in out and "[BL133-1-1] Barnets lov § 133, stk. 1, nr. 1" in out
    assert "Frist for kvittering til indberetter: 2026-11-30 23:59" in out
    # One decision per partner and structure in the registry, with the reason in Danish.
    assert "Københavns Vestegns Politi (politi-vestegn) i SSP: DELES" in out
    assert "Københavns Vestegns Politi (politi-vestegn) i PSP: TILBAGEHOLDES" in out
    assert "By, Kultur & Fritid (kultur-fritid) i SSP: TILBAGEHOLDES" in out
    assert "Der er ikke samtykke, så der deles intet." in out
    assert "antaget i forklaringen" in out  # the assumed justification is never hidden


def test_explain_a_planned_offence_raises_a_police_alert_naming_it(tmp_path: Path) -> None:
    data = _report_data(17)
    data["concern"] |= {"categories": ["weapons"], "planned_offence": "brandstiftelse"}
    result = runner.invoke(app, ["explain", str(_write(tmp_path, "r.json", data)), "--now", NOW])
    assert result.exit_code == 0, result.output
    assert "Kø: Akut" in result.output and "Politialarm (straffeloven § 141)" in result.output
    assert "Planlagt forbrydelse: brandstiftelse (straffeloven § 180)" in result.output
    assert "drab: manddrab (§ 237)" in result.output  # the agreement's list is shown


def test_explain_planned_danger_without_a_listed_offence_is_urgent_without_an_alert(tmp_path: Path) -> None:
    data = _report_data(17)
    data["concern"] |= {"categories": ["weapons"], "planned_serious_crime": True}
    result = runner.invoke(app, ["explain", str(_write(tmp_path, "r.json", data)), "--json", "--now", NOW])
    assert result.exit_code == 0, result.output
    a = json.loads(result.output)["assessment"]
    assert a["queue"] == "urgent" and "PLANNED-DANGER" in a["rule_ids"]
    assert "police_alert" not in {n["kind"] for n in a["notifications"]}
    assert not any("141" in r["citation"] for r in a["reasons"]), a["reasons"]


def test_explain_json_lists_the_offences_and_what_was_removed_for_whom(tmp_path: Path) -> None:
    data = _report_data(14)
    data["concern"] |= {"categories": ["mental_health", "crime"], "description": "Fritekst om hjemmet."}
    file = str(_write(tmp_path, "r.json", data))
    result = runner.invoke(app, ["explain", file, "--json", "--now", NOW])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    offences = {o["id"]: o for o in doc["straffeloven_141"]["offences"]}
    assert offences["brandstiftelse"]["sections"] == ["§ 180"] and offences["drab"]["label"] == "manddrab"
    pairs = {(d["partner_id"], d["structure"]): d for d in doc["disclosures"]}
    school = pairs[("skoler", "ssp")]
    assert school["effect"] == "share" and school["withheld_categories"] == ["mental_health"]
    assert {"field": "concern.categories:mental_health", "rule_id": "PRIVATE-CATEGORIES"} in [
        {k: r[k] for k in ("field", "rule_id")} for r in school["removed"]]
    assert all(r["da"] for r in school["removed"])
    social = pairs[("bkv", "ssp")]
    assert "concern.description" not in social["fields"]
    assert ("concern.description", "PRIVATE-DESCRIPTION") in {(r["field"], r["rule_id"]) for r in social["removed"]}
    with_reason = runner.invoke(app, ["explain", file, "--json", "--now", NOW, "--description-reason",
                                      "Beskrivelsen af hjemmet er nødvendig for sagsbehandlerens vurdering."])
    pairs = {(d["partner_id"], d["structure"]): d for d in json.loads(with_reason.output)["disclosures"]}
    social = pairs[("bkv", "ssp")]
    assert "concern.description" in social["fields"]
    text = runner.invoke(app, ["explain", file, "--now", NOW]).output
    assert "Fjernet: kategorien mental_health [PRIVATE-CATEGORIES] Rent private forhold" in text


def test_explain_accepts_a_whole_cloudevent_and_takes_its_source(tmp_path: Path, registry: Registry) -> None:
    event = {"specversion": "1.0", "id": "t-1", "source": "politi-vestegn", "type": CONCERN_REPORTED,
             "time": NOW, "datacontenttype": "application/json", "data": _report_data()}
    result = runner.invoke(app, ["explain", str(_write(tmp_path, "event.json", event)), "--json", "--now", NOW])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["source"] == {"id": "politi-vestegn", "kind": "police"}
    assert doc["assessment"]["queue"] == "reactive"
    assert doc["assessment"]["notifications"][0]["grounds"] == ["BL133-1-1"]
    pairs = {(d["partner_id"], d["structure"]): d for d in doc["disclosures"]}
    assert len(pairs) == sum(len(p.structures) for p in registry.partners)
    assert pairs[("skoler", "ssp")]["effect"] == "share" and "subject.cpr" not in pairs[("skoler", "ssp")]["fields"]
    assert pairs[("bkv", "psp")]["effect"] == "withhold"
    assert pairs[("bkv", "psp")]["reasons"][0]["citation"] == "Retsplejeloven § 115, stk. 1"


def test_explain_with_a_real_justification_and_another_agreement(tmp_path: Path) -> None:
    narrow = default_agreement_path().read_text(encoding="utf-8").replace("ssp_max_age = 18", "ssp_max_age = 12")
    agreement = tmp_path / "narrow.toml"
    agreement.write_text(narrow.replace("ssp_plus_max_age = 25", "ssp_plus_max_age = 13"), encoding="utf-8")
    args = ["explain", str(_write(tmp_path, "r.json", _report_data())), "--json", "--now", NOW]
    short = runner.invoke(app, [*args, "--justification", "ok"])
    assert {d["effect"] for d in json.loads(short.output)["disclosures"]} == {"withhold"}  # RPL115-4
    narrowed = runner.invoke(app, [*args, "--agreement", str(agreement)])
    ssp = [d for d in json.loads(narrowed.output)["disclosures"] if d["structure"] == "ssp"]
    assert {d["effect"] for d in ssp} == {"withhold"} and "RPL115-NOMATCH" in ssp[0]["rule_ids"]


@pytest.mark.parametrize(("doc", "args", "message"), [
    ({"reporter": {"name": "X"}}, [], "henvendelsen er ikke gyldig"),
    ("not json", [], "ikke gyldig JSON"),
    (None, ["--source", "ukendt-kilde"], "kilden 'ukendt-kilde' findes ikke"),
    (None, ["--now", "i morgen"], "--now skal være et tidspunkt"),
], ids=["invalid-report", "not-json", "unknown-source", "bad-now"])
def test_explain_says_what_is_wrong(tmp_path: Path, doc: Any, args: list[str], message: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc or _report_data()), encoding="utf-8")
    result = runner.invoke(app, ["explain", str(path), *args])
    assert result.exit_code == 1 and message in result.output
    assert "Testbarn" not in result.output  # errors never echo the report's content


def test_check_accepts_the_shipped_agreement() -> None:
    result = runner.invoke(app, ["check", str(default_agreement_path())])
    assert result.exit_code == 0, result.output
    assert "Aftalen er gyldig: albertslund-ssp-psp-ksp version 2026.3" in result.output
    assert "Advarsler" not in result.output


def test_check_refuses_a_bad_agreement_with_clear_errors(tmp_path: Path) -> None:
    bad = default_agreement_path().read_text(encoding="utf-8").replace(
        'ssp = ["school", "social_services", "police"]', 'ssp = ["school", "housing"]').replace(
        '"concern.location",\n          "reporter.role"', '"concern.shoe_size",\n          "reporter.role"')
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "IKKE gyldig" in result.output
    assert "['housing'] deltager ikke i SSP efter retsplejelovens § 115, stk. 1, nr. 1" in result.output
    assert "fields: police: ukendte felter ['concern.shoe_size']" in result.output


def test_check_warns_about_partners_that_would_always_be_withheld(tmp_path: Path) -> None:
    narrow = default_agreement_path().read_text(encoding="utf-8").replace(
        'psp = ["social_services", "psychiatry", "police"]', 'psp = ["social_services", "police"]')
    path = tmp_path / "narrow.toml"
    path.write_text(narrow, encoding="utf-8")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0
    assert "partner psykiatri (psychiatry) står i registeret under PSP" in result.output


def test_check_a_missing_file() -> None:
    result = runner.invoke(app, ["check", "/nonexistent/agreement.toml"])
    assert result.exit_code == 1 and "kan ikke læse" in result.output


# --- simulate, against a real SQLite database ---------------------------------------------------

def _store_referral(s: Session, n: int, rep: ConcernReport, partner: str, structure: Structure,
                    agreement: Agreement, registry: Registry, when: datetime) -> None:
    ref = f"DKE-TEST{n}"
    s.add(Report(ref=ref, source_id="herstedlund-skole", event_id=f"e{n}", received_at=when,
                 payload=rep.model_dump(mode="json"), assessment={}, receipt_event={}))
    s.flush()
    decision = Decision(source_id="dke-triage", event_id=f"d{n}", report_ref=ref, level="II", pillar="reactive",
                        purpose="crime_prevention", justification=JUSTIFICATION, decided_by="TT", decided_at=when)
    s.add(decision)
    s.flush()
    known = registry.partner(partner)
    recipient = known.recipient if known else registry.partners[0].recipient
    d = PolicyEngine(agreement).disclose(Request(report=rep, recipient=recipient, structure=structure,
                                                 purpose=rep.purpose, justification=JUSTIFICATION), when)
    s.add(DisclosureRow(
        ref=f"ref-{n}", report_ref=ref, decision_id=decision.id, recipient=partner, structure=structure.value,
        kind="referral", effect=d.effect.value, fields=sorted(project(rep, d.fields)), legal_basis=list(d.citations),
        rule_ids=list(d.rule_ids), reasons=[r.model_dump() for r in d.reasons], purpose="crime_prevention",
        policy_version=d.policy_version, created_at=when,
    ))
    s.add(DisclosureRow(  # alerts and notifications are not referrals: simulate leaves them alone
        ref=f"alert-{n}", report_ref=ref, recipient="politi-vestegn", kind="police_alert", effect="share",
        fields=["subject.name"], legal_basis=[], rule_ids=["STRFL141"], reasons=[], purpose="crime_prevention",
        policy_version=d.policy_version, created_at=when,
    ))


@pytest.fixture
def database(tmp_path: Path, agreement: Agreement, registry: Registry) -> str:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    when = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with Session(engine) as s:
        _store_referral(s, 1, report(14), "bkv", Structure.SSP, agreement, registry, when)
        _store_referral(s, 2, report(22, concern={"categories": ["gang_affiliation"]}), "bkv", Structure.SSP,
                        agreement, registry, when)
        _store_referral(s, 3, report(40), "bkv", Structure.SSP, agreement, registry, when)
        _store_referral(s, 4, report(15), "nedlagt-partner", Structure.SSP, agreement, registry, when)
        _store_referral(s, 5, report(16), "bkv", Structure.SSP, agreement, registry, when)
        erased = s.get(Report, "DKE-TEST5")
        assert erased is not None
        erased.payload = None  # what the retention job does after the retention period
        s.add(erased)
        s.commit()
    engine.dispose()
    return url


def _new_agreement(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "new.toml"
    text = default_agreement_path().read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_simulate_lists_what_a_new_agreement_would_change(tmp_path: Path, database: str) -> None:
    new = _new_agreement(tmp_path, "ssp_plus_max_age = 25", "ssp_plus_max_age = 21")
    result = runner.invoke(app, ["simulate", "--agreement", str(new), "--database-url", database])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "5 henvisninger genberegnet" in out and "3 ville blive afgjort anderledes" in out
    assert "DKE-TEST2 til bkv i SSP (2026-11-20 11:00): DELES -> TILBAGEHOLDES" in out
    assert "felter der ikke længere deles: " in out
    assert "DKE-TEST4 til nedlagt-partner i SSP: kan ikke genberegnes: partneren findes ikke" in out
    assert "DKE-TEST5 til bkv i SSP: kan ikke genberegnes: henvendelsen er slettet" in out
    assert "DKE-TEST1" not in out and "DKE-TEST3" not in out


def test_simulate_json_and_field_changes(tmp_path: Path, database: str) -> None:
    new = _new_agreement(tmp_path, '"subject.resident", "subject.psychiatric_contact",',
                         '"subject.psychiatric_contact",')
    result = runner.invoke(app, ["simulate", "--agreement", str(new), "--database-url", database, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    changed = {c["report_ref"]: c for c in doc["changes"]}
    assert changed["DKE-TEST1"]["removed"] == ["subject.resident"]
    assert changed["DKE-TEST1"]["stored"]["effect"] == changed["DKE-TEST1"]["new"]["effect"] == "share"
    assert doc["summary"]["share: andre felter"] == 2  # the 14- and the 22-year-old (the 16-year-old is erased)
    assert changed["DKE-TEST4"]["problem"]


def test_simulate_with_the_current_agreement_changes_nothing_but_what_cannot_be_redecided(database: str) -> None:
    result = runner.invoke(app, ["simulate", "--agreement", str(default_agreement_path()), "--database-url",
                                 database, "--json"])
    assert [c["report_ref"] for c in json.loads(result.output)["changes"]] == ["DKE-TEST4", "DKE-TEST5"]


def test_simulate_on_a_database_without_tables(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--agreement", str(default_agreement_path()), "--database-url",
                                 f"sqlite:///{tmp_path / 'empty.sqlite3'}"])
    assert result.exit_code == 1 and "hub db upgrade" in result.output

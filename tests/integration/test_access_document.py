"""`hub access` (indsigt) on both databases, over rows stored by the real intake and decision
services: found by CPR number (from standard input) or by name and birth date; the document
names each disclosure with recipient, fields, legal basis, purpose, who decided and when (Danish
time), and holds nothing about anybody else."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.bootstrap import Container
from hub.config.settings import Settings
from hub.entrypoints.cli import app
from hub.schemas import streams
from hub.schemas.cpr import birth_date
from hub.schemas.entry import Entry
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from tests.factories import CHILD_DESCRIPTION, child_cpr, cloudevent, decision, entry, report_data

SCHOOL, POLICE = "herstedlund-skole", "politi-vestegn"
T0 = datetime(2026, 6, 30, 22, 15, tzinfo=UTC)  # 1 July 00:15 in Danish summer time
T1 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
runner = CliRunner()


@dataclasses.dataclass
class Stored:
    env: dict[str, str]
    cpr: str
    other_cpr: str
    twin_cpr: str
    refs: tuple[str, str]  # the person's report, another person's


def _entry(stream: str, entry_id: str, fields: dict[str, str]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v.encode() for k, v in fields.items()})


@pytest.fixture
def stored(database_url: str, tmp_path: Path) -> Iterator[Stored]:
    settings = Settings(env="test", data_dir=tmp_path / "data", database_url=database_url)
    container = Container(settings)
    intake = BatchPipeline(container.engine, IntakeService(container.registry, container.policy, 1 << 20))
    cpr, other, twin = child_cpr(13, 1), child_cpr(14, 2), child_cpr(13, 3)  # twin: same birth date as cpr

    def report(n: int, subject: dict[str, object]) -> str:
        body = report_data(subject=subject)
        stream = streams.intake(SCHOOL)
        out = intake.process(stream, [_entry(stream, f"{n}-0", entry(cloudevent(SCHOOL, body, time=T0)))], T0)
        return out.refs[0]

    ref = report(1, {"cpr": cpr, "name": "Ida Indsigtsen", "district": "Herstedlund"})
    other_ref = report(2, {"cpr": other, "name": "Anden Andersen"})
    report(3, {"cpr": twin, "name": "Tvilling Navnesen"})
    report(4, {"cpr": child_cpr(13, 4), "name": "Tvilling Navnesen"})
    decided = decision(ref, [("ssp", POLICE), ("ksp", "kriminalforsorgen")], time=T1)
    BatchPipeline(container.engine, DecisionService(container.registry, container.policy)).process(
        streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", entry(decided))], T1
    )
    env = {"HUB_DATABASE_URL": database_url, "HUB_DATA_DIR": str(settings.data_dir), "HUB_LOG_LEVEL": "WARNING"}
    yield Stored(env, cpr, other, twin, (ref, other_ref))
    container.close()


def test_document_by_cpr_from_stdin(stored: Stored, tmp_path: Path) -> None:
    out = tmp_path / "indsigt.html"
    result = runner.invoke(app, ["access", "--cpr-stdin", "--out", str(out)], input=stored.cpr + "\n", env=stored.env)
    assert result.exit_code == 0, result.output
    assert "besluttet af: TT" in result.output and "automatisk (lovkrav)" in result.output
    page = out.read_text(encoding="utf-8")
    assert 'lang="da"' in page and "Indsigt i oplysninger om dig" in page
    assert "Ida Indsigtsen" in page  # whom the letter is about
    # The referral to the police: recipient, fields in Danish, basis, purpose, who decided, when.
    assert "Henvisning til Københavns Vestegns Politi (SSP)" in page
    assert "CPR-nummer" in page and "Retsplejeloven § 115" in page and "kriminalitetsforebyggelse" in page
    assert "medarbejder i DKE (TT), 01.07.2026 11:00" in page  # Danish summer time
    assert "Oplysningerne blev ikke givet videre." in page  # KSP withheld, with its reason
    assert "Underretning til Børn, Kultur &amp; Velfærd" in page  # § 133, raised by the hub itself
    assert "01.07.2026 00:15" in page  # received 30 June 22:15 UTC
    assert "Ingen registrerede opslag." in page  # nobody opened the case in the workspace
    # Only this person's: one report, three disclosures (the § 133 notification, two referrals);
    # the other three people's reports raised notifications of their own.
    assert page.count("<tr><td>") == 1 and page.count("<article>") == 3
    for secret in (stored.cpr, stored.cpr.replace("-", ""), stored.other_cpr, "Anden Andersen",
                   "Tvilling", "Lærer Testesen", "ssp@skole.example", CHILD_DESCRIPTION):  # fmt: skip
        assert secret not in page, secret


def test_found_by_name_and_birth_date(stored: Stored, tmp_path: Path) -> None:
    born = birth_date(stored.cpr).isoformat()
    by_name = runner.invoke(app, ["access", "--name", "ida  INDSIGTSEN", "--born", born, "--json"], env=stored.env)
    by_cpr = runner.invoke(app, ["access", stored.cpr, "--json"], env=stored.env)  # the argument still works
    assert by_name.exit_code == 0 and by_cpr.exit_code == 0, by_name.output
    assert by_name.output == by_cpr.output and '"politi-vestegn"' in by_name.output
    wrong_day = runner.invoke(app, ["access", "--name", "Ida Indsigtsen", "--born", "2001-01-01"], env=stored.env)
    assert "ikke registreret" in wrong_day.output


def test_a_name_that_fits_two_people_is_refused(stored: Stored) -> None:
    born = birth_date(stored.twin_cpr).isoformat()
    result = runner.invoke(app, ["access", "--name", "Tvilling Navnesen", "--born", born], env=stored.env)
    assert result.exit_code == 2
    assert result.output.strip() == "hub: navn og fødselsdato passer på flere personer: brug CPR-nummeret"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--name", "Ida"], "", "--name kræver --born"),
        (["--name", "Ida", "--born", "17.05.2012"], "", "--born skal være en dato"),
        (["--cpr-stdin"], "12345\n", "CPR"),
        ([], "", "angiv et CPR-nummer"),
    ],
)
def test_bad_input_is_one_danish_line(stored: Stored, args: list[str], stdin: str, message: str) -> None:
    result = runner.invoke(app, ["access", *args], input=stdin, env=stored.env)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_nothing_personal_in_the_logs(stored: Stored, tmp_path: Path) -> None:
    """With every log line on (DEBUG, JSON, into the captured output), neither the CPR number
    read from standard input nor the name searched for shows up anywhere but the letter."""
    env = {**stored.env, "HUB_LOG_LEVEL": "DEBUG", "HUB_LOG_JSON": "true"}
    by_cpr = runner.invoke(app, ["access", "--cpr-stdin", "--out", str(tmp_path / "a.html")],
                           input=stored.cpr + "\n", env=env)  # fmt: skip
    born = birth_date(stored.cpr).isoformat()
    by_name = runner.invoke(app, ["access", "--name", "Ida Indsigtsen", "--born", born], env=env)
    assert by_cpr.exit_code == 0 and by_name.exit_code == 0, by_cpr.output
    for text in (by_cpr.output, by_name.output):
        for secret in (stored.cpr, stored.cpr.replace("-", ""), "Ida Indsigtsen", born):
            assert secret not in text


REASON = "Politiet ringede akut om Ida Indsigtsen"  # a break-glass reason: for the jurist, not the letter


def _views(stored: Stored) -> None:
    """Staff open cases through the workspace's writer: two views of the person's case (one by
    an account that exists, one break-glass by one that does not any more), one of another's."""
    from sqlmodel import Session

    from hub.store.access import ASSIGNED, BREAK_GLASS, OWN_CLAIM, record_access
    from hub.store.db import make_engine
    from hub.store.staff import add_staff

    engine = make_engine(stored.env["HUB_DATABASE_URL"])
    mine, other = stored.refs
    with Session(engine) as s:
        add_staff(s, "mh", "Mette Hansen", "triage", "x", T1)
        s.flush()
        record_access(s, staff="mh", report_ref=mine, case_id=None, ground=OWN_CLAIM, reason=None,
                      at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))  # fmt: skip
        record_access(s, staff="jk", report_ref=mine, case_id=None, ground=BREAK_GLASS, reason=REASON,
                      at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC))  # fmt: skip
        record_access(s, staff="ol", report_ref=other, case_id=None, ground=ASSIGNED, reason=None, at=T1)
        s.commit()
    engine.dispose()


def test_who_viewed_the_data_is_listed_and_in_the_letter(stored: Stored, tmp_path: Path) -> None:
    _views(stored)
    mine, other = stored.refs
    out = tmp_path / "indsigt.html"
    env = {**stored.env, "HUB_LOG_LEVEL": "DEBUG", "HUB_LOG_JSON": "true"}
    result = runner.invoke(app, ["access", "--cpr-stdin", "--out", str(out)], input=stored.cpr + "\n", env=env)
    assert result.exit_code == 0, result.output
    # Who, when in Danish time (summer and winter), which case, on what ground.
    assert f"01.07.2026 12:00  mh (Mette Hansen, Triage)  sag {mine}; egen sag" in result.output
    assert f"01.12.2026 09:30  jk  sag {mine}; nødadgang" in result.output
    assert "2 opslag" in result.output
    page = out.read_text(encoding="utf-8")
    assert "Ingen registrerede opslag." not in page
    assert (f"<tr><td>01.07.2026 12:00</td><td>medarbejder i DKE (mh, triage)</td><td>{mine}</td>"
            "<td>egen sag</td></tr>") in page  # fmt: skip
    assert f"<tr><td>01.12.2026 09:30</td><td>medarbejder i DKE (jk)</td><td>{mine}</td><td>nødadgang</td></tr>" in page
    assert page.count("<tr><td>") == 1 + 2  # one report, two views: not the other person's
    assert "  ol  " not in result.output and "(ol)" not in page  # who viewed another person's case
    for text in (result.output, page):
        for secret in (other, REASON, stored.other_cpr):
            assert secret not in text, secret
    for secret in (stored.cpr, stored.cpr.replace("-", ""), REASON, "Indsigtsen"):
        assert secret not in result.output, secret  # nothing personal in the logs (DEBUG, JSON) or the listing


def test_who_viewed_the_data_in_json(stored: Stored) -> None:
    _views(stored)
    result = runner.invoke(app, ["access", stored.cpr, "--json"], env=stored.env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [(v["staff"], v["staff_name"], v["role"], v["report_ref"], v["ground"]) for v in body["staff_views"]] == [
        ("mh", "Mette Hansen", "triage", stored.refs[0], "own_claim"),
        ("jk", None, None, stored.refs[0], "break_glass"),
    ]
    assert body["staff_views"][0]["viewed_at"].startswith("2026-07-01T10:00")
    assert REASON not in result.output and len(body["disclosures"]) == 3


def test_another_persons_views_are_not_theirs(stored: Stored) -> None:
    _views(stored)
    result = runner.invoke(app, ["access", stored.other_cpr, "--json"], env=stored.env)
    assert result.exit_code == 0, result.output
    assert [(v["staff"], v["ground"]) for v in json.loads(result.output)["staff_views"]] == [("ol", "assigned")]

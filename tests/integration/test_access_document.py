"""`hub access` (indsigt) on both databases, over rows stored by the real intake and decision
services: found by CPR number (from standard input) or by name and birth date; the document
names each disclosure with recipient, fields, legal basis, purpose, who decided and when (Danish
time), and holds nothing about anybody else."""

from __future__ import annotations

import dataclasses
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
    report(2, {"cpr": other, "name": "Anden Andersen"})
    report(3, {"cpr": twin, "name": "Tvilling Navnesen"})
    report(4, {"cpr": child_cpr(13, 4), "name": "Tvilling Navnesen"})
    decided = decision(ref, [("ssp", POLICE), ("ksp", "kriminalforsorgen")], time=T1)
    BatchPipeline(container.engine, DecisionService(container.registry, container.policy)).process(
        streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", entry(decided))], T1
    )
    env = {"HUB_DATABASE_URL": database_url, "HUB_DATA_DIR": str(settings.data_dir), "HUB_LOG_LEVEL": "WARNING"}
    yield Stored(env, cpr, other, twin)
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
    assert "Ingen registrerede opslag." in page  # the staff access log hook, empty for now
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

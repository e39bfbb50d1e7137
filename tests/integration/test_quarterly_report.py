"""`hub report quarterly` over a generated year of synthetic reports, stored by the real intake
and decision services on both databases: the files are there, every CSV agrees with what was
sent (counted independently here, in Danish local time), small cells are hidden, and no CPR
number, name or free text reaches any output file."""

from __future__ import annotations

import csv
import dataclasses
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from hub.bootstrap import Container
from hub.config.settings import Settings
from hub.entrypoints.cli import app
from hub.entrypoints.report.tables import AGE_BANDS, OTHER_DISTRICTS
from hub.entrypoints.report.write import write_quarterly
from hub.schemas import streams
from hub.schemas.cpr import make_cpr
from hub.schemas.entry import Entry
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.services.reporting.quarters import Quarter
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, cloudevent, decision, entry, report_data

DK = ZoneInfo("Europe/Copenhagen")
Q4 = Quarter(2026, 4)
AS_OF = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
SCHOOLS = ["herstedlund-skole", "herstedoester-skole", "kongsholm-skole"]
SOURCES = [*SCHOOLS, "politi-vestegn", "bkv", "psykiatri"]
KIND = {**dict.fromkeys(SCHOOLS, "Skole"), "politi-vestegn": "Politi", "bkv": "Børn, Kultur & Velfærd",
        "psykiatri": "Psykiatri"}  # fmt: skip
DISTRICTS = ["Herstedlund", "Herstedøster", "Kongsholm", "Galgebakken", None]
CATEGORIES = ["wellbeing", "crime", "violence", "school_absence", "substance_misuse", "vandalism"]
MONTHS = ["Oktober", "November", "December"]


@dataclasses.dataclass
class Sent:
    at: datetime
    source: str
    district: str | None
    born: date | None
    categories: list[str]
    cpr: str | None
    name: str | None


@dataclasses.dataclass
class Year:
    container: Container
    sent: list[Sent]


def _entry(stream: str, entry_id: str, fields: dict[str, str]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v.encode() for k, v in fields.items()})


def _moments(rng: random.Random) -> list[datetime]:
    start = datetime(2026, 1, 1, tzinfo=DK).astimezone(UTC)
    out = sorted(start + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(560))
    # Quarter edges in Danish time: 1 Oct 00:30 (still 30 Sep in UTC) is Q4; 1 Jan 2027 00:30 is not.
    return sorted([*out, datetime(2026, 9, 30, 22, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 30, tzinfo=UTC)])


@pytest.fixture
def year(database_url: str, tmp_path: Path) -> Iterator[Year]:
    container = Container(Settings(env="test", data_dir=tmp_path / "data", database_url=database_url))
    intake = BatchPipeline(container.engine, IntakeService(container.registry, container.policy, 1 << 20))
    decide = BatchPipeline(container.engine, DecisionService(container.registry, container.policy))
    rng = random.Random(14)
    sent: list[Sent] = []
    decisions: list[tuple[datetime, dict[str, object]]] = []
    for n, at in enumerate(_moments(rng)):
        source = rng.choice(SOURCES)
        categories = rng.sample(CATEGORIES, rng.choice([1, 1, 2]))
        concern = {"categories": categories, "description": CHILD_DESCRIPTION, "child_at_risk": rng.random() < 0.3}
        if rng.random() < 0.08:  # an area observation: no person
            body = report_data(subject=None, concern={**concern, "categories": ["area_safety"]})
            sent.append(Sent(at, source, None, None, ["area_safety"], None, None))
        else:
            district = rng.choice(DISTRICTS) if rng.random() > 0.02 else f"Sjældent område {n}"
            born = (at - timedelta(days=rng.randrange(8 * 365, 32 * 365))).date()
            cpr, name = make_cpr(born, n), f"{CHILD_NAME} {n}"
            subject = {"cpr": cpr, "name": name, **({"district": district} if district else {})}
            body = report_data(subject=subject, concern=concern)
            sent.append(Sent(at, source, district, born, categories, cpr, name))
        stream = streams.intake(source)
        out = intake.process(stream, [_entry(stream, f"{n + 1}-0", entry(cloudevent(source, body, time=at)))], at)
        assert out.accepted == 1, out
        if rng.random() < 0.6:
            later = at + timedelta(hours=rng.choice([2, 20, 30]))
            target = rng.choice([[("ssp", "politi-vestegn")], [("ksp", "kriminalforsorgen")], [("psp", "psykiatri")]])
            decisions.append((later, decision(out.refs[0], target, time=later)))
    for n, (at, event) in enumerate(sorted(decisions, key=lambda d: d[0])):
        decide.process(streams.DECISIONS, [_entry(streams.DECISIONS, f"{n + 1}-0", entry(event))], at)
    yield Year(container, sent)
    container.close()


def _read(path: Path) -> dict[str, list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0][1:] == [*MONTHS, "I alt"] or path.stem in ("udvikling", "henvisninger", "tilbageholdt")
    return {r[0]: r[1:] for r in rows[1:]}


def _month(at: datetime) -> int | None:
    local = at.astimezone(DK)
    return local.month - 10 if local.year == 2026 and local.month >= 10 else None


def _expect(table: dict[str, list[str]], counts: Counter[tuple[str, int]]) -> None:
    """Every shown cell equals the independent count; every count from 1 to 4 is hidden."""
    assert set(table) - {"I alt"} == {k for k, _ in counts} | (set(table) - {"I alt"})
    for key, cells in table.items():
        if key == "I alt":
            continue
        for m in range(3):
            want = counts.get((key, m), 0)
            if cells[m] == "–":
                continue  # hidden (a small cell or its partner)
            assert cells[m] == str(want), (key, m, cells, want)
            assert not 0 < want < 5, (key, m)
        total = sum(counts.get((key, m), 0) for m in range(3))
        assert cells[3] in ("–", str(total)) and not (0 < total < 5 and cells[3] != "–")


def _age_label(born: date, at: datetime) -> str:
    on = at.astimezone(DK).date()
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    band = next(b for b in AGE_BANDS if age >= b.low and (b.high is None or age < b.high))
    return f"{band.low}-{band.high - 1} år" if band.high else f"{band.low} år og derover"


def test_the_report_of_a_synthetic_year(year: Year, tmp_path: Path) -> None:
    out = tmp_path / "rapport"
    c = year.container
    kinds = {s.id: s.kind.value for s in c.registry.sources}
    written = write_quarterly(c.engine, kinds, Q4, out, as_of=AS_OF, municipality=c.registry.municipality)
    names = {p.name for p in written.files}
    ids = ["kilde", "koe", "soejle", "niveau", "omraade", "alder", "kategori", "udvikling", "underretninger",
           "henvisninger", "tilbageholdt"]  # fmt: skip
    assert names == {"index.html"} | {f"{i}.{x}" for i in ids for x in ("csv", "png")}
    assert all((out / n).stat().st_size > (5000 if n.endswith(".png") else 80) for n in names)

    q4 = [s for s in year.sent if _month(s.at) is not None]
    assert any(s.at.month == 9 for s in q4)  # 1 October 00:30 Danish time counts in October
    assert all(s.at < datetime(2026, 12, 31, 23, tzinfo=UTC) for s in q4)  # 1 January 2027 does not

    by_kind = Counter((KIND[s.source], _month(s.at)) for s in q4)
    _expect(_read(out / "kilde.csv"), by_kind)  # type: ignore[arg-type]
    by_category = Counter((cat, _month(s.at)) for s in q4 for cat in s.categories)
    labels = {"wellbeing": "Mistrivsel", "crime": "Kriminalitet", "violence": "Vold", "school_absence": "Skolefravær",
              "substance_misuse": "Misbrug", "vandalism": "Hærværk", "area_safety": "Tryghed i området"}  # fmt: skip
    _expect(_read(out / "kategori.csv"), Counter({(labels[k], m): n for (k, m), n in by_category.items()}))
    ages = Counter((_age_label(s.born, s.at) if s.born else "ikke registreret", _month(s.at)) for s in q4)
    _expect(_read(out / "alder.csv"), ages)  # type: ignore[arg-type]
    seen = Counter(s.district for s in q4)
    district = {d: (d if d is None or seen[d] >= 5 else OTHER_DISTRICTS) for d in seen}
    places = Counter((district[s.district] or "ikke registreret", _month(s.at)) for s in q4)
    table = _read(out / "omraade.csv")
    _expect(table, places)  # type: ignore[arg-type]
    assert not any(k.startswith("Sjældent") for k in table)  # a rare free-text district is never named

    grand = _read(out / "kilde.csv")["I alt"]
    assert grand[3] == str(len(q4))
    trend = _read(out / "udvikling.csv")
    assert list(trend)[:8] == [f"K{q.number} {q.year}" for q in Q4.last(8)]
    assert trend["I alt"][-1] == str(len(year.sent) - 1)  # everything but 1 January 2027

    every_file = b"".join((out / n).read_bytes() for n in names)
    for s in year.sent:
        for secret in filter(None, (s.cpr, s.cpr and s.cpr.replace("-", ""), s.name)):
            assert secret.encode() not in every_file
    for secret in (CHILD_NAME, CHILD_DESCRIPTION, "Lærer Testesen", "ssp@skole.example"):
        assert secret.encode() not in every_file
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and 'lang="da"' in page
    assert "http://" not in page and "https://" not in page  # self-contained: no CDN, no web font
    assert "Kvartalsrapport for 4. kvartal 2026" in page


def test_notifications_and_referrals_add_up(year: Year, tmp_path: Path) -> None:
    c = year.container
    kinds = {s.id: s.kind.value for s in c.registry.sources}
    written = write_quarterly(c.engine, kinds, Q4, tmp_path, as_of=AS_OF, municipality="Albertslund Kommune")
    tables = {t.id: t for t in written.tables}
    n133 = tables["underretninger"].cells
    assert n133.grid[n133.rows][n133.cols] > 0
    met_row = tables["underretninger"].rows.index("Afgjort af DKE inden for 24 timer")
    late_row = tables["underretninger"].rows.index("Afgjort efter fristen")
    assert n133.grid[met_row][n133.cols] > 0 and n133.grid[late_row][n133.cols] > 0
    referrals = tables["henvisninger"].cells
    withheld = tables["tilbageholdt"].cells
    # The withheld column of the referrals table and the reasons table count the same rows.
    column = tables["henvisninger"].cols.index("Tilbageholdt")
    assert referrals.grid[referrals.rows][column] == withheld.grid[withheld.rows][withheld.cols] > 0


def test_cli_writes_the_report_and_refuses_a_bad_quarter(year: Year, tmp_path: Path) -> None:
    s = year.container.settings
    env = {"HUB_DATABASE_URL": s.database_url or "", "HUB_DATA_DIR": str(s.data_dir), "HUB_LOG_LEVEL": "DEBUG",
           "HUB_LOG_JSON": "true"}  # fmt: skip
    runner = CliRunner()
    done = runner.invoke(app, ["report", "quarterly", "2026Q4", "--out", str(tmp_path / "r")], env=env)
    assert done.exit_code == 0, done.output
    assert "4. kvartal 2026" in done.output and (tmp_path / "r" / "index.html").exists()
    for sent in year.sent:  # every log line is in the output: none names anybody
        assert sent.cpr is None or (sent.cpr not in done.output and sent.cpr.replace("-", "") not in done.output)
        assert sent.name is None or sent.name not in done.output
    for bad in ("2026Q5", "Q4", "2026-13", "kvartal"):
        refused = runner.invoke(app, ["report", "quarterly", bad, "--out", str(tmp_path / "x")], env=env)
        assert refused.exit_code == 2
        assert refused.output.strip().startswith("hub: ugyldigt kvartal") and "Traceback" not in refused.output
        assert len(refused.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_without_matplotlib_a_one_line_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)  # as if the extra were not installed
    result = CliRunner().invoke(app, ["report", "quarterly", "2026Q4", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "hub: diagrammerne kræver matplotlib, som ikke er installeret: pip install 'dke-hub[report]'"
    )
    assert not (tmp_path / "r").exists()

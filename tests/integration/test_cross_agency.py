"""The cross-agency pattern in the intake batch (both databases): computed from the person's
reports with one look-up per transaction, counting reports earlier in the same transaction too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine, WorkingDays
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store import lookups
from hub.store.db import make_engine, migrate
from hub.store.models import TriageItem
from tests.factories import child_cpr, cloudevent, entry, report_data

SCHOOL, OTHER_SCHOOL, POLICE = "herstedlund-skole", "kongsholm-skole", "politi-vestegn"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Intake:
    def __init__(self, url: str) -> None:
        migrate(url)
        self.engine = make_engine(url)
        policy = PolicyEngine(load_agreement(default_agreement_path()), WorkingDays())
        registry = load_registry(default_registry_path())
        self.pipeline = BatchPipeline(self.engine, IntakeService(registry, policy, 1 << 20))
        self._n = 0

    def entry(self, source: str, cpr: str, at: datetime) -> Entry:
        self._n += 1
        data = report_data(subject={"cpr": cpr, "name": "Testbarn"})
        fields = entry(cloudevent(source, data, time=at))
        return Entry(streams.intake(source), f"{self._n}-0", {k.encode(): v.encode() for k, v in fields.items()})

    def report(self, source: str, cpr: str, at: datetime) -> str:
        out = self.pipeline.process(streams.intake(source), [self.entry(source, cpr, at)], at)
        assert out.accepted == 1, out
        return out.refs[0]

    def flags(self) -> dict[str, str | None]:
        with Session(self.engine) as s:
            return {t.report_ref: t.pattern_rule_id for t in s.exec(select(TriageItem))}


@pytest.fixture
def intake(database_url: str) -> Any:
    made = Intake(database_url)
    yield made
    made.engine.dispose()


def test_another_agency_within_the_window_flags_the_report(intake: Intake) -> None:
    cpr = child_cpr(serial=11)
    first = intake.report(SCHOOL, cpr, NOW)
    again = intake.report(SCHOOL, cpr, NOW + DAY)  # the same agency: no pattern
    police = intake.report(POLICE, cpr, NOW + 3 * DAY)
    other_person = intake.report(POLICE, child_cpr(serial=12), NOW + 3 * DAY)
    other_school = intake.report(OTHER_SCHOOL, cpr, NOW + 4 * DAY)  # another source is another agency
    flags = intake.flags()
    assert flags[first] is None and flags[again] is None and flags[other_person] is None
    assert flags[police] == flags[other_school] == "DKE-PATTERN-AGENCIES"
    with Session(intake.engine) as s:
        item = s.exec(select(TriageItem).where(TriageItem.report_ref == police)).one()
    assert item.pattern_reason_da == (
        "To eller flere myndigheder har indberettet bekymring om samme person inden for 30 dage"
    )


def test_an_agency_outside_the_window_does_not(intake: Intake) -> None:
    cpr = child_cpr(serial=13)
    intake.report(SCHOOL, cpr, NOW)
    late = intake.report(POLICE, cpr, NOW + 31 * DAY)
    assert intake.flags()[late] is None


def test_reports_in_one_batch_count_and_the_batch_looks_up_once(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    cprs = [child_cpr(serial=20 + i) for i in range(10)]
    intake.report(POLICE, cprs[0], NOW - DAY)  # stored before: the school's report about cprs[0] is flagged
    asked: list[set[str]] = []  # the keys of each look-up (the real one runs: on PostgreSQL past SQLAlchemy)
    real = lookups.subject_reports

    def subject_reports(session: Session, keys: Iterable[str], since: datetime) -> Any:
        asked.append(set(keys))
        return real(session, asked[-1], since)

    monkeypatch.setattr(lookups, "subject_reports", subject_reports)
    school = [intake.entry(SCHOOL, cpr, NOW) for cpr in cprs]
    police = [
        intake.entry(POLICE, cprs[5], NOW),  # the same transaction, another agency: flagged
        intake.entry(POLICE, child_cpr(serial=40), NOW),  # a subject only the police batch names
    ]
    out = intake.pipeline.process_many([(streams.intake(SCHOOL), school), (streams.intake(POLICE), police)], NOW)
    assert out.accepted == 12
    flags = intake.flags()
    flagged = {ref for ref in out.refs if flags[ref]}
    assert flagged == {out.refs[0], out.refs[10]}
    # One for the whole transaction, with every subject: not one per report, nor one per stream
    # (a coalesced transaction under a steady load holds small batches of many streams).
    assert len(asked) == 1 and len(asked[0]) == 11, asked

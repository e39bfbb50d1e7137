"""Every date the law uses is the Danish calendar date of the instant (issue #15, point 1).

Properties around Danish midnight and the summer-time changes (the last Sunday of March and of
October): an instant between Danish midnight and 01:00 (02:00 in summer) falls on the previous
UTC date, and the decisions must follow the Danish one. The instants are passed as UTC, as the
running service passes them. Rule ids: BL133-1-1 (a child), RPL115-1-1 and RPL115-1-1-PLUS (the
SSP and SSP+ bands), RPL115-1-3-a (the KSP window), BL-RECEIPT-6D (working days).
"""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import hub
from hub.policies import Agreement, Disclosure, PolicyEngine, Recipient, Request
from hub.policies.deadlines import RECEIPT_WORKING_DAYS, WorkingDays
from hub.policies.examples import EXAMPLE_AGREEMENT, JUSTIFICATION, PRISON, SCHOOL_SOURCE, SOCIAL, report
from hub.schemas.dates import DANISH_TIME, danish_date
from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport, Purpose

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BANDS = Agreement.model_validate(
    {**EXAMPLE_AGREEMENT.model_dump(), "ages": {"ssp_max_age": 18, "ssp_plus_max_age": 26}}
)
ENGINE = PolicyEngine(BANDS)  # long-lived, as in the service: its memo must not keep a stale date


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _danish(day: date, minutes: int) -> datetime:
    """`minutes` after Danish midnight on `day`, as a UTC instant."""
    return (datetime.combine(day, time(0), tzinfo=DANISH_TIME) + timedelta(minutes=minutes)).astimezone(UTC)


# Days on and next to the summer-time changes, and any other day (never 29 February, so that the
# same day 18 or 26 years earlier exists).
_years = st.integers(2000, 2045)
change_days = st.builds(
    lambda y, month, shift: _last_sunday(y, month) + timedelta(days=shift),
    _years, st.sampled_from([3, 10]), st.sampled_from([-1, 0, 1]),
)
any_days = st.dates(date(2000, 1, 1), date(2045, 12, 31)).filter(lambda d: (d.month, d.day) != (2, 29))
days = st.one_of(change_days, any_days)
# Between Danish midnight and 02:00: the UTC date is the day before for all or part of it.
early = st.integers(0, 119)
late = st.integers(23 * 60, 24 * 60 - 1)  # 23:00-23:59 Danish: still the day before the birthday


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


def _person(birth: date, **concern: object) -> ConcernReport:
    return report(None, subject={"name": "Testperson Testesen", "birth_date": birth.isoformat()}, concern=concern)


def _disclose(engine: PolicyEngine, rep: ConcernReport, to: Recipient, structure: Structure,
              now: datetime) -> Disclosure:
    return engine.disclose(Request(report=rep, recipient=to, structure=structure, purpose=Purpose.CRIME_PREVENTION,
                                   justification=JUSTIFICATION), now)


def test_danish_date_is_the_date_in_copenhagen_not_utc() -> None:
    assert danish_date(datetime(2026, 11, 19, 23, 30, tzinfo=UTC)) == date(2026, 11, 20)  # winter, 00:30
    assert danish_date(datetime(2026, 7, 14, 22, 30, tzinfo=UTC)) == date(2026, 7, 15)  # summer, 00:30
    assert danish_date(datetime(2026, 7, 14, 21, 59, tzinfo=UTC)) == date(2026, 7, 14)  # summer, 23:59
    with pytest.raises(ValueError, match="timezone-aware"):
        danish_date(datetime(2026, 7, 14, 22, 30))  # naive on purpose


@PROFILE
@given(day=days, minutes=early)
@example(day=date(2026, 3, 29), minutes=30).via("summer time starts")
@example(day=date(2026, 10, 25), minutes=30).via("summer time ends")
def test_someone_turning_18_after_danish_midnight_is_an_adult(day: date, minutes: int) -> None:
    now = _danish(day, minutes)
    rep = _person(_years_before(day, 18), child_at_risk=True)
    assessment = ENGINE.assess(rep, SCHOOL_SOURCE, now)
    assert "BL133-1-1" not in assessment.rule_ids and assessment.notifications == ()
    d = _disclose(ENGINE, rep, SOCIAL, Structure.SSP, now)
    assert "RPL115-1-1-PLUS" in d.rule_ids and "RPL115-1-1" not in d.rule_ids


@PROFILE
@given(day=days, minutes=late)
def test_the_evening_before_the_18th_birthday_they_are_still_a_child(day: date, minutes: int) -> None:
    now = _danish(day - timedelta(days=1), minutes)
    rep = _person(_years_before(day, 18), child_at_risk=True)
    assert "BL133-1-1" in ENGINE.assess(rep, SCHOOL_SOURCE, now).rule_ids
    d = _disclose(ENGINE, rep, SOCIAL, Structure.SSP, now)
    assert "RPL115-1-1" in d.rule_ids and "RPL115-1-1-PLUS" not in d.rule_ids


@PROFILE
@given(day=days, minutes=early)
def test_the_ssp_plus_band_ends_at_danish_midnight_of_the_26th_birthday(day: date, minutes: int) -> None:
    birth = _years_before(day, 26)
    after = _disclose(ENGINE, _person(birth), SOCIAL, Structure.SSP, _danish(day, minutes))
    before = _disclose(ENGINE, _person(birth), SOCIAL, Structure.SSP, _danish(day, minutes) - timedelta(hours=2))
    assert "RPL115-1-1-PLUS" not in after.rule_ids and "RPL115-NOMATCH" in after.rule_ids
    assert "RPL115-1-1-PLUS" in before.rule_ids


@PROFILE
@given(day=days, minutes=early)
def test_the_ksp_window_counts_danish_dates(day: date, minutes: int) -> None:
    """The window runs from 90 days before to 365 days after release (the example agreement): it
    opens at Danish midnight of its first day and is closed from Danish midnight after its last."""
    now = _danish(day, minutes)

    def shared(release: date) -> bool:
        custody = {"kind": "prison", "convicted": True, "release_date": release.isoformat()}
        rep = report(30, subject={"custody": custody})
        return "RPL115-1-3-a" in _disclose(ENGINE, rep, PRISON, Structure.KSP, now).rule_ids

    assert shared(day + timedelta(days=90))  # today is the window's first day
    assert not shared(day + timedelta(days=91))
    assert shared(day - timedelta(days=365))  # today is its last day
    assert not shared(day - timedelta(days=366))  # it ended at Danish midnight


@PROFILE
@given(day=days, minutes=st.one_of(early, late))
def test_the_receipt_deadline_counts_working_days_from_the_danish_date(day: date, minutes: int) -> None:
    now = _danish(day, minutes)
    calendar = WorkingDays()
    due = ENGINE.assess(_person(_years_before(day, 10), child_at_risk=True), SCHOOL_SOURCE, now).receipt_due_by
    assert due is not None
    expected = calendar.working_days_after(danish_date(now), RECEIPT_WORKING_DAYS)
    assert due.astimezone(DANISH_TIME).date() == expected and due.astimezone(DANISH_TIME).time() == time(23, 59, 59)


def test_receipt_at_0030_danish_on_monday_counts_from_monday() -> None:
    monday = date(2026, 11, 16)  # no holidays near
    due = ENGINE.assess(_person(date(2015, 1, 1), child_at_risk=True), SCHOOL_SOURCE, _danish(monday, 30))
    assert due.receipt_due_by == datetime(2026, 11, 24, 23, 59, 59, tzinfo=DANISH_TIME)  # Tue week after


def test_one_engine_gives_each_instant_its_own_date() -> None:
    """The engine remembers the last instant's date; a new instant (even an equal time in another
    zone object, or a minute later across midnight) must get its own."""
    engine = PolicyEngine(BANDS)
    rep = _person(date(2008, 11, 20), child_at_risk=True)
    assert "BL133-1-1" in engine.assess(rep, SCHOOL_SOURCE, _danish(date(2026, 11, 19), 23 * 60 + 59)).rule_ids
    assert "BL133-1-1" not in engine.assess(rep, SCHOOL_SOURCE, _danish(date(2026, 11, 20), 0)).rule_ids


# Where hub/ may turn an instant into a date: the helper itself, and the working-day memo, which
# keys on the UTC date and hour on purpose and converts to Danish time before counting.
_ALLOWED = {"hub/schemas/dates.py": 1, "hub/policies/deadlines.py": 2}


def test_nothing_in_hub_takes_the_date_of_an_instant_except_through_danish_date() -> None:
    root = Path(hub.__file__).parent
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            target = node.func.value
            is_today = name == "today" and isinstance(target, ast.Name) and target.id == "date"
            if (name == "date" and not node.args and not node.keywords) or is_today:
                key = str(path.relative_to(root.parent))
                found[key] = found.get(key, 0) + 1
    assert found == _ALLOWED, "use hub.schemas.dates.danish_date(instant) for the date the law uses"


def test_a_naive_time_is_refused_not_guessed() -> None:
    engine = PolicyEngine(BANDS)
    rep = _person(date(2008, 11, 20), child_at_risk=True)
    engine.assess(rep, SCHOOL_SOURCE, _danish(date(2026, 11, 20), 30))  # the memo holds an aware instant
    with pytest.raises(ValueError, match="timezone-aware"):
        _disclose(engine, rep, SOCIAL, Structure.SSP, datetime(2026, 11, 20, 0, 30))  # naive on purpose

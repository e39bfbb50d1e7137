"""The agreement's extra closed days for the working-day count (issue #15, point 7; rule
BL-RECEIPT-6D reads `working_days.closed_days`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import holidays
import pytest

from hub.config.problems import read_config_file
from hub.config.registry import default_agreement_path, load_agreement
from hub.errors import ConfigurationError
from hub.policies import Agreement, PolicyEngine, WorkingDays, check_agreement
from hub.policies.agreement import derive
from hub.policies.deadlines import ClosedDays
from hub.policies.examples import EXAMPLE_AGREEMENT, SCHOOL_SOURCE, report

SHIPPED = default_agreement_path().read_text(encoding="utf-8")
RETENTION = "[retention_days]\nreport = 730\ndisclosure_log = 1825\ndeadletter = 90\n"
MINIMAL = 'name = "test"\nversion = "1"\n' + RETENTION + '[fields]\npolice = ["subject.name"]\n'


def _with(closed: list[str]) -> Agreement:
    return Agreement.model_validate({**EXAMPLE_AGREEMENT.model_dump(), "working_days": {"closed_days": closed}})


def test_the_common_local_closed_days_are_not_public_holidays_in_the_package() -> None:
    """Why the agreement needs the list: the `holidays` DK calendar has 24/31 December and
    Grundlovsdag only as optional days, which the working-day count does not read."""
    public = holidays.country_holidays("DK", years=2026)
    assert {date(2026, 12, 24), date(2026, 12, 31), date(2026, 6, 5)}.isdisjoint(public)
    assert date(2026, 12, 25) in public


def test_the_shipped_agreement_closes_24_and_31_december_and_grundlovsdag() -> None:
    result = check_agreement(SHIPPED)
    assert result.ok and result.warnings == ()
    assert result.agreement is not None
    assert result.agreement.working_days.closed_days == ("12-24", "12-31", "06-05")


def test_entries_are_days_every_year_or_single_dates() -> None:
    closed = ClosedDays.parse(["12-24", "02-29", "2027-05-07"])
    assert closed.in_year(2027) == {date(2027, 12, 24), date(2027, 5, 7)}  # no 29 February in 2027
    assert closed.in_year(2028) == {date(2028, 12, 24), date(2028, 2, 29)}
    calendar = WorkingDays(closed=closed)
    assert not calendar.is_working_day(date(2027, 5, 7)) and calendar.is_working_day(date(2028, 5, 5))
    assert not calendar.is_working_day(date(2027, 12, 24)) and calendar.is_working_day(date(2027, 12, 23))


@pytest.mark.parametrize(("toml", "expected"), [
    ('closed_days = ["12-32"]', "'12-32' er ikke en gyldig lukkedag; skriv MM-DD"),
    ('closed_days = ["2027-02-29"]', "'2027-02-29' er ikke en gyldig lukkedag"),
    ('closed_days = ["24-12"]', "'24-12' er ikke en gyldig lukkedag"),
    ('closed_days = ["juleaften"]', "'juleaften' er ikke en gyldig lukkedag"),
    ('closed_days = ["12-24", "12-24"]', "['12-24'] står mere end én gang"),
    ("closed_days = [1224]", "1224 er ikke en dato"),
    ('closed_days = "12-24"', "skal være en liste af datoer"),
    ('closed = ["12-24"]', "closed: Extra inputs are not permitted"),
], ids=["day-32", "no-29-february-2027", "day-month-swapped", "a-word", "twice", "a-number", "not-a-list", "typo-key"])
def test_a_bad_closed_day_is_refused_with_a_message_that_says_where(toml: str, expected: str) -> None:
    result = check_agreement(MINIMAL + "[working_days]\n" + toml + "\n")
    assert not result.ok
    assert any(e.startswith("working_days.") and expected in e for e in result.errors), result.errors


def test_a_toml_date_is_a_closed_day_too() -> None:
    result = check_agreement(MINIMAL + "[working_days]\nclosed_days = [2027-05-07, \"12-24\"]\n")
    assert result.agreement is not None and result.agreement.working_days.closed_days == ("2027-05-07", "12-24")


def test_a_bad_closed_day_stops_the_service_with_one_line_like_other_agreement_problems(tmp_path: Path) -> None:
    bad = tmp_path / "agreement.toml"
    bad.write_text(SHIPPED.replace('closed_days = ["12-24", "12-31", "06-05"]', 'closed_days = ["12-24", "13-01"]'))
    with pytest.raises(ConfigurationError) as caught:
        read_config_file("HUB_AGREEMENT_FILE", bad, load_agreement, check=f" (`hub policy check {bad}`)")
    first, fix = caught.value.lines
    assert first == (f"HUB_AGREEMENT_FILE: {bad}: working_days.closed_days: '13-01' er ikke en gyldig lukkedag; "
                     "skriv MM-DD for en dag hvert år (fx 12-24) eller ÅÅÅÅ-MM-DD for én bestemt dag (fx 2027-05-07)")
    assert fix.startswith("HUB_AGREEMENT_FILE: Fix the file (`hub policy check")


def test_the_engine_counts_its_agreements_closed_days_whatever_calendar_it_is_given() -> None:
    agreement = _with(["12-24", "12-31"])
    handed = WorkingDays(years=(2026,))  # the composition root's warm calendar, without closed days
    engine = PolicyEngine(agreement, handed)
    assert engine.calendar.closed == derive(agreement).closed and engine.calendar.loaded_years == (2026,)
    a = engine.assess(report(13, concern={"child_at_risk": True}), SCHOOL_SOURCE, datetime(2026, 12, 18, 9, tzinfo=UTC))
    assert "BL-RECEIPT-6D" in a.rule_ids and a.receipt_due_by is not None
    assert a.receipt_due_by.date() == date(2026, 12, 30)  # 21, 22, 23, 28, 29, 30 (24, 31 closed)
    same = WorkingDays(closed=derive(agreement).closed)
    assert PolicyEngine(agreement, same).calendar is same  # an equal calendar is used as it is


def test_the_closed_days_are_part_of_the_agreements_hash() -> None:
    assert _with(["12-24"]).digest != _with([]).digest != _with(["12-31"]).digest
    assert load_agreement(default_agreement_path()).working_days.closed_days  # the shipped hash covers them

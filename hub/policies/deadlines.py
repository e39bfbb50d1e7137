"""Statutory deadlines for notifications (Barnets lov §§ 136-137, kommunens behandling af
underretninger).

The municipality must assess a notification within 24 hours and send a receipt to a
professional notifier within 6 working days. Working days are Monday to Friday except Danish
public holidays (the `holidays` package's calendar for DK: pure data, no I/O), counted in
Danish time from the day after receipt; the deadline is the end of the sixth working day.
Danish time comes from the time-zone database (`zoneinfo`), looked up on first use, not at import.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

ASSESS_WITHIN = timedelta(hours=24)
RECEIPT_WORKING_DAYS = 6
_END_OF_DAY = time(23, 59, 59)


def danish_time() -> tzinfo:
    return ZoneInfo("Europe/Copenhagen")  # zoneinfo caches the instance


@lru_cache(maxsize=64)
def _danish_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DK", years=year).keys())


def warm_up(today: date) -> None:
    """Load the holiday calendar of this year and the next before the first report needs it
    (the first lookup imports and computes it: tens of milliseconds, once)."""
    for year in (today.year, today.year + 1):
        _danish_holidays(year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _danish_holidays(day.year)


@lru_cache(maxsize=4096)
def working_days_after(start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself does not count)."""
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deadlines need a timezone-aware time")
    return moment


@lru_cache(maxsize=4096)
def _end_of_working_day(utc_day: date, utc_hour: int, days: int) -> datetime:
    # Danish time changes offset only on whole UTC hours, so the UTC date and hour fix the
    # Danish date: one computation per hour instead of per call.
    local = datetime.combine(utc_day, time(utc_hour), tzinfo=UTC).astimezone(danish_time())
    return datetime.combine(working_days_after(local.date(), days), _END_OF_DAY, tzinfo=danish_time())


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 Danish time) of the `days`-th working day after `start`."""
    utc = start if start.tzinfo is UTC else _aware(start).astimezone(UTC)
    return _end_of_working_day(utc.date(), utc.hour, days)


def assess_by(received: datetime) -> datetime:
    """Barnets lov: assessment of a notification within 24 hours of receipt."""
    return _aware(received) + ASSESS_WITHIN


def receipt_due_by(received: datetime) -> datetime:
    """Barnets lov: receipt to a professional notifier within 6 working days."""
    return add_working_days(received, RECEIPT_WORKING_DAYS)

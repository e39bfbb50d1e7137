"""Statutory deadlines (Barnets lov § 133 and the rules on receipts to notifiers).

The municipality must assess a notification within 24 hours and send a receipt to a
professional notifier within 6 working days. Working days skip weekends and Danish public
holidays (the `holidays` package's calendar for DK: pure data, no I/O).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

ASSESS_WITHIN = timedelta(hours=24)
RECEIPT_WORKING_DAYS = 6


@lru_cache(maxsize=64)
def _danish_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DK", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _danish_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of the `days`-th working day after `start` (same time zone as `start`)."""
    day = start.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=start.tzinfo)


def assess_by(received: datetime) -> datetime:
    return received + ASSESS_WITHIN


def receipt_due_by(received: datetime) -> datetime:
    return add_working_days(received, RECEIPT_WORKING_DAYS)

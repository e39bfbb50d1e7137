"""Danish calendar dates: every date the law uses is the date in Denmark (Europe/Copenhagen).

An instant (a timezone-aware `datetime`, usually UTC) has a date only in some time zone. The
law counts ages, release windows and working days by the Danish calendar, so between Danish
midnight and 01:00 (02:00 in summer) the UTC date is the day before. Everything in `hub/`
that turns an instant into a date goes through `danish_date`; nothing calls `.date()` on a
UTC instant or `date.today()`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["DANISH_TIME", "danish_date", "danish_day", "danish_time"]

DANISH_TIME: tzinfo = ZoneInfo("Europe/Copenhagen")  # zoneinfo keeps one instance per key


def danish_time() -> tzinfo:
    """Europe/Copenhagen."""
    return DANISH_TIME


def danish_date(instant: datetime) -> date:
    """The Danish calendar date of `instant` (timezone-aware; a naive time has no date in
    Denmark, so it is refused rather than guessed)."""
    if instant.tzinfo is None:
        raise ValueError("a Danish date needs a timezone-aware time")
    return instant.astimezone(DANISH_TIME).date()


def danish_day(instant: datetime) -> tuple[datetime, datetime, date]:
    """The Danish date of `instant` and the UTC instants it runs over, [start, end): a caller that
    sees many instants of one day compares with these instead of converting each (two
    comparisons of UTC datetimes are cheaper than one time-zone conversion)."""
    today = danish_date(instant)
    start = datetime.combine(today, time(0), tzinfo=DANISH_TIME).astimezone(UTC)  # midnight always exists
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=DANISH_TIME).astimezone(UTC)
    return start, end, today

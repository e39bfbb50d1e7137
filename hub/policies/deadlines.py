"""Statutory deadlines for notifications (Barnets lov §§ 136-137, kommunens behandling af
underretninger).

The municipality must assess a notification within 24 hours and send a receipt to a
professional notifier within 6 working days. Working days are Monday to Friday except Danish
public holidays (the `holidays` package's calendar for DK: pure data, no I/O) and the extra
closed days the local agreement lists (`working_days.closed_days`: 24 and 31 December and
Grundlovsdag are not public holidays in that calendar, but many municipal offices close),
counted on Danish dates from the day after receipt; the deadline is the end of the sixth
working day.

`WorkingDays` is the calendar as an explicit object: it loads each year's holidays on first
use (or up front, `WorkingDays(years=...)`, so that the first report does not pay for it) and
memoises the deadline per receipt hour. The composition root builds one and hands it to the
policy engine; nothing here is module state. Danish time is `hub.schemas.dates.danish_time`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays

from hub.schemas.dates import danish_time

ASSESS_WITHIN = timedelta(hours=24)
RECEIPT_WORKING_DAYS = 6
_END_OF_DAY = time(23, 59, 59)
# Bound on the deadline memo: one entry per (UTC hour of receipt, number of days); a year of
# hours is under 9,000, so this is never reached in practice and only guards against misuse.
DEADLINE_MEMO_MAX = 16384
_LEAP_YEAR = 2000  # a recurring day is checked against a leap year: 02-29 is a valid entry


@dataclass(frozen=True, slots=True)
class ClosedDays:
    """Extra days without work, from the agreement: `recurring` (month, day) pairs closed every
    year (a 29 February only in leap years) and single `dates`."""

    recurring: frozenset[tuple[int, int]] = frozenset()
    dates: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> ClosedDays:
        """Entries as `MM-DD` (every year) or `YYYY-MM-DD` (that day); `closed_day` checks each."""
        recurring, dates = set(), set()
        for entry in entries:
            day = closed_day(entry)
            if isinstance(day, date):
                dates.add(day)
            else:
                recurring.add(day)
        return cls(frozenset(recurring), frozenset(dates))

    def in_year(self, year: int) -> frozenset[date]:
        days = {d for d in self.dates if d.year == year}
        for month, day in self.recurring:
            with contextlib.suppress(ValueError):  # 02-29 outside a leap year
                days.add(date(year, month, day))
        return frozenset(days)


def closed_day(entry: str) -> date | tuple[int, int]:
    """One closed-day entry: `MM-DD` gives (month, day), `YYYY-MM-DD` a date. Raises ValueError
    with a Danish message a person can act on."""
    problem = (
        f"'{entry}' er ikke en gyldig lukkedag; skriv MM-DD for en dag hvert år (fx 12-24) "
        "eller ÅÅÅÅ-MM-DD for én bestemt dag (fx 2027-05-07)"
    )
    parts = entry.split("-") if isinstance(entry, str) else []
    if not all(p.isascii() and p.isdigit() for p in parts) or [len(p) for p in parts] not in ([2, 2], [4, 2, 2]):
        raise ValueError(problem)
    numbers = [int(p) for p in parts]
    try:
        if len(numbers) == 3:
            return date(*numbers)
        date(_LEAP_YEAR, *numbers)
    except ValueError:
        raise ValueError(problem) from None
    return numbers[0], numbers[1]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deadlines need a timezone-aware time")
    return moment


def assess_by(received: datetime) -> datetime:
    """Barnets lov: assessment of a notification within 24 hours of receipt."""
    return _aware(received) + ASSESS_WITHIN


class WorkingDays:
    """Danish working days, and the receipt deadline counted in them.

    Memoised, as plain instance state:
    - `_holidays`: each year's public holidays, keyed by year (one entry per year asked
      about: a handful over a process's life);
    - `_closed`: each year's days without work (public holidays and the agreement's closed
      days), keyed by year;
    - `_ends`: the end of the n-th working day after a receipt, keyed by (UTC date, UTC hour,
      n), cleared when it reaches `DEADLINE_MEMO_MAX` entries.
    Each entry is a pure function of its key, so sharing one calendar between threads is
    safe (a race computes the same value twice).
    """

    def __init__(self, years: Iterable[int] = (), closed: ClosedDays = ClosedDays()) -> None:
        self._tz = danish_time()
        self.closed = closed  # the agreement's extra closed days
        self._holidays: dict[int, frozenset[date]] = {}
        self._closed: dict[int, frozenset[date]] = {}
        self._ends: dict[tuple[date, int, int], datetime] = {}
        for year in years:  # the warm-up: loading a year imports and computes (tens of ms)
            self.closed_on(year)

    @classmethod
    def around(cls, today: date, closed: ClosedDays = ClosedDays()) -> WorkingDays:
        """A calendar with this year's and next year's holidays loaded."""
        return cls(years=(today.year, today.year + 1), closed=closed)

    def following(self, closed: ClosedDays) -> WorkingDays:
        """This calendar if it has these closed days, else a new one with the same years loaded:
        the policy engine makes its calendar follow its agreement."""
        if closed == self.closed:
            return self
        other = WorkingDays(closed=closed)
        other._holidays.update(self._holidays)  # the public holidays do not change
        for year in self.loaded_years:
            other.closed_on(year)
        return other

    @property
    def loaded_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._holidays))

    def holidays(self, year: int) -> frozenset[date]:
        found = self._holidays.get(year)
        if found is None:
            found = self._holidays[year] = frozenset(holidays.country_holidays("DK", years=year).keys())
        return found

    def closed_on(self, year: int) -> frozenset[date]:
        """The year's weekdays without work: public holidays and the agreement's closed days."""
        found = self._closed.get(year)
        if found is None:
            found = self._closed[year] = self.holidays(year) | self.closed.in_year(year)
        return found

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closed_on(day.year)

    def working_days_after(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself does not count)."""
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end (23:59:59 Danish time) of the `days`-th working day after `start`."""
        utc = start if start.tzinfo is UTC else _aware(start).astimezone(UTC)
        # Danish time changes offset only on whole UTC hours, so the UTC date and hour fix the
        # Danish date: one computation per hour instead of per call.
        key = (utc.date(), utc.hour, days)
        found = self._ends.get(key)
        if found is None:
            local = datetime.combine(key[0], time(key[1]), tzinfo=UTC).astimezone(self._tz)
            found = datetime.combine(self.working_days_after(local.date(), days), _END_OF_DAY, tzinfo=self._tz)
            if len(self._ends) >= DEADLINE_MEMO_MAX:
                self._ends.clear()
            self._ends[key] = found
        return found

    def receipt_due_by(self, received: datetime) -> datetime:
        """Barnets lov: receipt to a professional notifier within 6 working days."""
        return self.add_working_days(received, RECEIPT_WORKING_DAYS)

"""Quarters as DKE counts them: Danish calendar dates (1 January 00:00 Copenhagen time to
1 April 00:00, ...), turned into UTC instants for the store's queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.schemas.dates import DANISH_TIME

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")
MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


class BadQuarter(ValueError):
    """A quarter that cannot be read; the message is Danish, for the person who typed it."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1-4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """`2026Q4`, `2026-Q4` or `2026q4`."""
        found = _QUARTER.match(text)
        if found is None or not 2000 <= int(found.group(1)) <= 2100:
            shown = text if len(text) <= 20 and text.isprintable() else text[:20].encode("unicode_escape").decode()
            raise BadQuarter(f"ugyldigt kvartal {shown!r}: skriv år og kvartal som 2026Q4 (kvartal 1-4)")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def containing(cls, moment: datetime) -> Quarter:
        local = moment.astimezone(DANISH_TIME)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """Danish: `4. kvartal 2026`."""
        return f"{self.number}. kvartal {self.year}"

    @property
    def short(self) -> str:
        """Danish, for chart axes: `K4 2026`."""
        return f"K{self.number} {self.year}"

    @property
    def months(self) -> tuple[int, int, int]:
        first = 3 * (self.number - 1) + 1
        return first, first + 1, first + 2

    def month_labels(self) -> list[str]:
        return [MONTHS_DA[m - 1] for m in self.months]

    def shifted(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def last(self, count: int) -> list[Quarter]:
        """The `count` quarters ending with this one, oldest first."""
        return [self.shifted(k) for k in range(1 - count, 1)]

    @property
    def start(self) -> datetime:
        return month_start(self.year, self.months[0])

    @property
    def end(self) -> datetime:
        return self.shifted(1).start

    def month_edges(self) -> list[datetime]:
        """The four instants that bound the quarter's three months (UTC)."""
        return [month_start(self.year, m) for m in self.months] + [self.end]


def month_start(year: int, month: int) -> datetime:
    """Midnight Danish time on the first of the month, as a UTC instant."""
    return datetime(year, month, 1, tzinfo=DANISH_TIME).astimezone(UTC)


def edges(quarters: list[Quarter]) -> list[datetime]:
    """The instants that bound consecutive quarters (one more than there are quarters)."""
    return [q.start for q in quarters] + [quarters[-1].end]

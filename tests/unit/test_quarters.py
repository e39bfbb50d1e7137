"""Quarters in Danish calendar dates (`hub.services.reporting.quarters`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.services.reporting.quarters import BadQuarter, Quarter, edges


@pytest.mark.parametrize("text", ["2026Q4", "2026-Q4", "2026q4", " 2026 Q4 "])
def test_parse(text: str) -> None:
    assert Quarter.parse(text) == Quarter(2026, 4)


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "Q4", "26Q4", "2026", "1999Q1", "2026Q4x", "", "2026Q4\x00"])
def test_bad_quarter_is_a_danish_message(text: str) -> None:
    with pytest.raises(BadQuarter, match="ugyldigt kvartal") as caught:
        Quarter.parse(text)
    assert "\x00" not in str(caught.value)


def test_bounds_are_danish_midnight_in_winter_and_summer_time() -> None:
    q1, q2 = Quarter(2026, 1), Quarter(2026, 2)
    assert q1.start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # CET, UTC+1
    assert q1.end == q2.start == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST, UTC+2
    assert Quarter(2026, 4).month_edges() == [
        datetime(2026, 9, 30, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 31, 23, 0, tzinfo=UTC),  # summer time ended on 25 October
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
    ]


def test_the_last_eight_quarters_cross_years() -> None:
    last = Quarter(2026, 4).last(8)
    assert [str(q) for q in last] == [f"{y}Q{n}" for y in (2025, 2026) for n in (1, 2, 3, 4)]
    assert edges(last)[0] == Quarter(2025, 1).start and edges(last)[-1] == Quarter(2026, 4).end
    assert Quarter.containing(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == Quarter(2027, 1)
    assert Quarter(2026, 4).label == "4. kvartal 2026" and Quarter(2026, 4).month_labels()[0] == "oktober"

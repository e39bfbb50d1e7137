"""Danish dates and times in the workspace (Europe/Copenhagen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.web.format import danish_time, time_left


def test_danish_time_in_copenhagen() -> None:
    assert danish_time(datetime(2026, 12, 2, 13, 5, tzinfo=UTC)) == "2. dec. 2026 kl. 14.05"  # CET
    assert danish_time(datetime(2026, 7, 1, 6, 0, tzinfo=UTC)) == "1. jul. 2026 kl. 08.00"  # CEST
    assert danish_time(None) == "–"


def test_time_left() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert time_left(now + timedelta(hours=3, minutes=20), now) == "3 t 20 min tilbage"
    assert time_left(now + timedelta(days=2, hours=4), now) == "2 dage 4 t tilbage"
    assert time_left(now - timedelta(minutes=65), now) == "overskredet med 1 t 5 min"
    assert time_left(None, now) == "–"

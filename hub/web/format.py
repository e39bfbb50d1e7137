"""Danish dates and times for staff: Europe/Copenhagen, e.g. `2. dec. 2026 kl. 14.05`."""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.schemas.dates import DANISH_TIME

MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")


def danish_time(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(DANISH_TIME)
    return f"{local.day}. {MONTHS[local.month - 1]} {local.year} kl. {local:%H.%M}"


def time_left(deadline: datetime | None, now: datetime) -> str:
    """`3 t 20 min tilbage`, `2 dage 4 t tilbage`, or `overskredet med 1 t 5 min`."""
    if deadline is None:
        return "–"
    delta = deadline - now
    text = _span(abs(delta))
    return f"{text} tilbage" if delta >= timedelta(0) else f"overskredet med {text}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} {'dag' if days == 1 else 'dage'} {hours} t"
    return f"{hours} t {mins} min" if hours else f"{mins} min"


def overdue(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and deadline < now

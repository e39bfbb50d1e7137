"""The limits every entry and HTTP body is held to before and while it is parsed.

One small frozen value, built from settings (`Settings.limits`); the defaults admit every
real report and decision with a wide margin and bound the work a hostile one can cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 1_000_000  # an entry's `event` field or an HTTP body (`too_large`)
    max_depth: int = 20  # JSON nesting; a report is 4 deep (`too_deep`); under Python's recursion limit
    max_number_chars: int = 40  # characters of one JSON number, sign and exponent included (`number_too_large`)
    max_string_chars: int = 16_384  # one JSON string or key; the longest report field is 4000 (`string_too_long`)
    max_members: int = 1_000  # members of one object or array (`too_many_members`)
    # Values in the whole document (also `too_many_members`), decided from the bytes before
    # parsing: parsing costs per value, and a report has well under a hundred.
    max_values: int = 10_000
    # `time_out_of_range`: the CloudEvent `time` (receipts and ordering rely on it) ...
    event_max_age: timedelta = timedelta(days=365)
    clock_skew: timedelta = timedelta(minutes=5)  # ... and how far ahead any time may be
    observed_max_age: timedelta = timedelta(days=5 * 365)  # `observed_at`
    birth_max_age: timedelta = timedelta(days=125 * 366)  # birth dates (also from a CPR number)
    release_max_past: timedelta = timedelta(days=10 * 365)  # custody release dates
    release_max_ahead: timedelta = timedelta(days=30 * 365)

    def __post_init__(self) -> None:
        # The stdlib parser recurses per level: deeper limits would meet RecursionError first.
        if not 1 <= self.max_depth <= 200:
            raise ValueError("max_depth must be between 1 and 200")
        if min(self.max_bytes, self.max_number_chars, self.max_string_chars, self.max_members, self.max_values) < 1:
            raise ValueError("limits must be positive")


DEFAULT_LIMITS = Limits()

"""The urgent watch's head start over the intake group on the entries it stores.

Both groups read every intake entry. At a trickle each read returns an entry the moment it
arrives, so without a head start the intake group began storing a planned-crime report while
the watch was storing it too: both transactions wrote the same report, and the later one
rolled back on the other's unique keys and looked again (52 of 200 urgent reports on an idle
hub, measured). Held back until the entry is `head_start_ms` old, it goes with the intake
group's first read after that, and that transaction's look-up (`Steps.likely_done`) finds it
stored and only acks it. It rides with that read's batch instead of a transaction of its own,
and the reads come at least every `POLL_MS` plus `READ_LINGER_MS`. An entry read later than
that (a backlog, a burst) goes with its own batch. If the watch is down, the intake group stores
the report itself, that much later.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.schemas.entry import Entry

Batches = list[tuple[str, list[Entry]]]


def arrived_ms(entry: Entry) -> int:
    """When Redis added the entry: the milliseconds part of its id."""
    return int(entry.entry_id.partition("-")[0])


class HeadStart:
    """Holds back the fresh entries the watch stores (`watched`) and hands them over with the
    first read after they are `head_start_ms` old (`admit`)."""

    def __init__(self, watched: Callable[[Entry], bool], head_start_ms: int) -> None:
        self.watched = watched
        self.head_start_ms = head_start_ms
        self._held: dict[str, list[Entry]] = {}

    def admit(self, batches: Batches, now_ms: float) -> Batches:
        """This read's batches, less the entries held back now, plus those whose time is up
        (first in their stream's batch: they arrived before it)."""
        held, self._held = self._held, {}
        out: dict[str, list[Entry]] = {}
        for stream, entries in held.items():
            for e in entries:  # the watch's, known: only their age is looked at again
                self._place(stream, e, now_ms - arrived_ms(e) < self.head_start_ms, out)
        for stream, entries in batches:
            for e in entries:
                self._place(stream, e, now_ms - arrived_ms(e) < self.head_start_ms and self.watched(e), out)
        return list(out.items())

    def release(self) -> Batches:
        """Everything held back, at once (the worker is stopping)."""
        held, self._held = self._held, {}
        return list(held.items())

    def _place(self, stream: str, entry: Entry, hold: bool, out: dict[str, list[Entry]]) -> None:
        (self._held if hold else out).setdefault(stream, []).append(entry)

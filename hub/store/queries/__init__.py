"""The query layer: typed, frozen read models of what staff look at, and the reads that make them.

Queue rows, the case view with the person's chronology, the disclosure history of a person
(right of access), dead letters (`views` holds the models), and a source's receipt of one
report. `queries.access` finds a person for the right of access and reads what the letter
shows; `queries.statistics` counts for the quarterly report (GROUP BY, counts only).
The CLI prints them, a web workspace can render them. Reads only: no transport types,
no CloudEvents, no policy logic.
Each function takes a session (`reading(engine)` opens one); times come back aware, in UTC.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.store.queries.cases import case_view, chronology, deadlines_of, disclosure_history, queue_rows
from hub.store.queries.deadletters import dead_letter, dead_letter_accesses, dead_letters
from hub.store.queries.decisions import decision_by_event
from hub.store.queries.receipts import receipt_for
from hub.store.queries.views import (
    CHILDREN_NOTIFICATION,
    MEETING,
    POLICE_ALERT,
    AssessmentView,
    CaseView,
    ChronologyEntry,
    DeadLetterAccessView,
    DeadLetterSummary,
    DeadLetterView,
    DeadlineView,
    DecisionView,
    DisclosureView,
    MeetingView,
    PayloadField,
    QueueRow,
    Reason,
)


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session for reads (nothing it loads is expired or written back)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


__all__ = [
    "CHILDREN_NOTIFICATION",
    "MEETING",
    "POLICE_ALERT",
    "AssessmentView",
    "CaseView",
    "ChronologyEntry",
    "DeadLetterAccessView",
    "DeadLetterSummary",
    "DeadLetterView",
    "DeadlineView",
    "DecisionView",
    "DisclosureView",
    "MeetingView",
    "PayloadField",
    "QueueRow",
    "Reason",
    "case_view",
    "chronology",
    "dead_letter",
    "dead_letter_accesses",
    "dead_letters",
    "deadlines_of",
    "decision_by_event",
    "disclosure_history",
    "queue_rows",
    "reading",
    "receipt_for",
]

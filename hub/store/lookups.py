"""Look-ups and writes of the batch path beside `RowBatch`: tracking rows (processed entries),
reports already stored, decisions. Core statements with expanding parameters: compiled once
and cached, instead of an ORM query with a hundred literal parameters coerced per batch."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from hub.store.bulk import Statement, driver_errors, in_list, insert_with_ids, psycopg_of, table_of
from hub.store.models import Case, Decision, ProcessedEntry, Report, ReporterMessage, TriageItem

_processed = table_of(ProcessedEntry).c
_PROCESSED_IDS = select(_processed.entry_id).where(
    _processed.stream == bindparam("stream"), _processed.entry_id.in_(bindparam("ids", expanding=True))
)
_report = table_of(Report).c
_RECEIPTS_BY_EVENT = select(_report.event_id, _report.ref, _report.receipt_event).where(
    _report.source_id == bindparam("source_id"), _report.event_id.in_(bindparam("ids", expanding=True))
)
_case = table_of(Case).c
# A subject's reports since a moment: through the subject-key index of `case`, then the
# reports of those cases through `ix_report_case_id`.
_SUBJECT_REPORTS = (
    select(_case.subject_key, _report.source_id, _report.received_at)
    .join_from(table_of(Case), table_of(Report), _report.case_id == _case.id)
    .where(
        _case.subject_key.in_(bindparam("keys", expanding=True)),
        _report.received_at >= bindparam("since", type_=_report.received_at.type),
    )
)
# Key by key, case by case, each through its index (LATERAL, with OFFSET 0 so that neither is
# flattened into a join): the subject's cases by `ix_case_subject_key_id`, each case's reports by
# `ix_report_case_id`. A plan must hold for any number of keys (the statement is prepared), and
# the planner's estimates are far off while the tables grow unanalysed (a new deployment, a
# burst autovacuum has not caught up with). Written as a join, the cases were hashed and the
# whole report table scanned for them (60 ms at 30,000 reports, in every intake transaction).
# With the cases' ids as an array (`case_id = ANY(ARRAY(...))`), the urgent watch's connection
# settled on a generic plan that scanned the report table for each urgent report (15 to 28 ms
# each, urgent alerts p50 30 ms instead of 10 in a benchmark run, issue #17). A nested loop over
# the cases, with each case's reports looked up by index, is the one plan left, whatever the
# estimates (their size only matters to JIT compilation, which the hub's sessions turn off:
# `hub.store.db`). Also `hub.store.bulk._PG_CASE_IDS`.
_PG_SUBJECT_REPORTS = """\
SELECT cases.subject_key, reports.source_id, reports.received_at
FROM unnest(%(keys)s::text[]) AS k(key)
CROSS JOIN LATERAL (SELECT id, subject_key FROM "case" WHERE subject_key = k.key OFFSET 0) AS cases
CROSS JOIN LATERAL (
    SELECT source_id, received_at FROM report WHERE case_id = cases.id AND received_at >= %(since)s OFFSET 0
) AS reports"""
_triage = table_of(TriageItem).c
_MARK_DECIDED = (
    update(table_of(TriageItem))
    .where(_triage.report_ref.in_(bindparam("refs", expanding=True)))
    .values(status="decided", decided_at=bindparam("now", type_=_triage.decided_at.type))
)
_decision = table_of(Decision).c
_DECISION_EXISTS = select(_decision.id).where(
    _decision.source_id == bindparam("source_id"), _decision.event_id == bindparam("event_id")
)


def processed_ids(session: Session, stream: str, entry_ids: Sequence[str]) -> set[str]:
    """The entries of `stream` among `entry_ids` that have a tracking row (were processed)."""
    if not entry_ids:
        return set()
    rows = session.connection().execute(_PROCESSED_IDS, {"stream": stream, "ids": list(entry_ids)})
    return set(rows.scalars())


def subject_key(cpr: str | None) -> str | None:
    """The case key of a subject: a digest of the CPR number, never the number itself."""
    return hashlib.sha256(cpr.encode()).hexdigest() if cpr else None


def receipts_by_event(
    session: Session, source_id: str, event_ids: Iterable[str]
) -> dict[str, tuple[str, dict[str, Any] | str]]:
    """Reports already stored for these CloudEvent ids: event id -> (report ref, receipt sent)."""
    ids = list(set(event_ids))
    if not ids:
        return {}
    rows = session.connection().execute(_RECEIPTS_BY_EVENT, {"source_id": source_id, "ids": ids})
    return {event_id: (ref, receipt) for event_id, ref, receipt in rows}


def insert_decisions(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert decision rows (in order, in one statement) and return their ids."""
    return insert_with_ids(session.connection(), table_of(Decision), rows) if rows else []


def mark_decided(session: Session, report_refs: Iterable[str], now: datetime) -> None:
    """The triage items of these reports are decided (no item: nothing to do)."""
    if refs := list(set(report_refs)):
        session.connection().execute(_MARK_DECIDED, {"refs": refs, "now": now})


def mark_decided_pg(report_refs: Iterable[str], now: datetime) -> Statement | None:
    """PostgreSQL: `mark_decided` as a statement for the batch's last pipeline (`hub.store.batch`)."""
    if not (refs := sorted(set(report_refs))):
        return None
    listed, params = in_list("ref", refs)
    sql = f"UPDATE triageitem SET status = 'decided', decided_at = %(now)s WHERE report_ref IN ({listed})"  # noqa: S608
    return sql, {"now": now, **params}


def decision_exists(session: Session, source_id: str, event_id: str) -> bool:
    found = session.connection().execute(_DECISION_EXISTS, {"source_id": source_id, "event_id": event_id})
    return found.first() is not None


def subject_reports(session: Session, keys: Iterable[str], since: datetime) -> dict[str, list[tuple[str, datetime]]]:
    """The reports received since `since` about each subject key: key -> [(source id, received
    at)]. One statement for a whole batch (the cross-agency pattern, `hub.policies.patterns`)."""
    unique = list(set(keys))
    if not unique:
        return {}
    found: dict[str, list[tuple[str, datetime]]] = {}
    conn = session.connection()
    rows: Iterable[Sequence[Any]]
    if conn.dialect.name == "postgresql":
        # On the driver's connection, with one text for any number of keys: psycopg prepares it
        # after a few transactions (the expanding IN of Core is a new text, compiled, for each count).
        raw = psycopg_of(conn)
        with driver_errors(conn, _PG_SUBJECT_REPORTS), raw.cursor() as cursor:
            rows = cursor.execute(_PG_SUBJECT_REPORTS, {"keys": unique, "since": since}).fetchall()
    else:
        rows = conn.execute(_SUBJECT_REPORTS, {"keys": unique, "since": since})
    for key, source_id, received_at in rows:
        at = received_at.replace(tzinfo=UTC) if received_at.tzinfo is None else received_at
        found.setdefault(key, []).append((source_id, at))
    return found


_message = table_of(ReporterMessage).c
# The reports a batch of decisions names, each with its triage item's status (one item a report).
_DECISION_REPORTS = (
    select(
        _report.ref,
        _report.payload,
        _report.case_id,
        _report.receipt_event,
        _report.source_id,
        _report.event_id,
        _report.received_at,
        _report.assessment,
        _triage.status,
    )
    .select_from(table_of(Report).outerjoin(table_of(TriageItem), _triage.report_ref == _report.ref))
    .where(_report.ref.in_(bindparam("refs", expanding=True)))
)
_MESSAGES = select(_message.report_ref, _message.kind).where(_message.report_ref.in_(bindparam("refs", expanding=True)))
_MESSAGE_EXISTS = select(_message.id).where(
    _message.source_id == bindparam("source_id"), _message.event_id == bindparam("event_id")
)


@dataclass(frozen=True, slots=True)
class ReporterThread:
    """What the hub knows of a report's reporter and what they heard back (`hub.services.reporter`):
    the source (its receipts stream), the report's event id and receipt time, whether the reporter
    said they are a public employee, the assessment's rule ids, and the messages sent so far."""

    ref: str
    source_id: str
    event_id: str
    received_at: datetime
    public_employee: bool
    rule_ids: tuple[str, ...]
    acknowledged: bool
    feedback: int


# The report as accepted, its case id, and the receipt sent for it (its trace context is the report's).
StoredReport = tuple[dict[str, Any], int | None, dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What a batch of decisions and staff actions needs of the reports it names: each report as
    accepted (with its case id and receipt), which are decided already (a new decision must be
    a revision), and what each reporter has heard back. Absent from all three: no such report."""

    reports: dict[str, StoredReport]
    decided: set[str]
    threads: dict[str, ReporterThread]


def decision_context(session: Session, refs: Iterable[str]) -> DecisionContext:
    """Two statements for a whole batch: the reports with their triage items, and the messages
    their reporters were sent. (Four before, and the report read twice: a decision comes alone,
    and each statement costs its client CPU whatever it finds.)"""
    out = DecisionContext({}, set(), {})
    if not (wanted := list(set(refs))):
        return out
    conn = session.connection()
    sent: dict[str, list[str]] = {}
    for ref, kind in conn.execute(_MESSAGES, {"refs": wanted}):
        sent.setdefault(ref, []).append(kind)
    for ref, payload, case_id, receipt, source_id, event_id, received_at, assessment, status in conn.execute(
        _DECISION_REPORTS, {"refs": wanted}
    ):
        out.reports[ref] = (payload, case_id, receipt)
        if status == "decided":
            out.decided.add(ref)
        kinds = sent.get(ref, [])
        out.threads[ref] = ReporterThread(
            ref=ref,
            source_id=source_id,
            event_id=event_id,
            received_at=received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC),
            public_employee=bool((payload or {}).get("reporter", {}).get("public_employee")),
            rule_ids=tuple((assessment or {}).get("rule_ids", ())),
            acknowledged="acknowledgement" in kinds,
            feedback=kinds.count("feedback"),
        )
    return out


def reporter_message_exists(session: Session, source_id: str, event_id: str) -> bool:
    """Whether the staff event (`source_id`, `event_id`) has been answered to the reporter."""
    found = session.connection().execute(_MESSAGE_EXISTS, {"source_id": source_id, "event_id": event_id})
    return found.first() is not None

"""Durable statutory clocks (`hub.services.deadlines`) on both databases, with a clock the test
controls: stored with the report, met by the decision, fired once each by the scheduler
(across a restart and two schedulers racing), and sent to DKE on `hub.deadlines.v1`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine, WorkingDays
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.schemas.events import DEADLINE_APPROACHING, DEADLINE_BREACHED
from hub.services.deadlines import DeadlineScheduler, write_events
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store import deadlines as clocks
from hub.store import queries
from hub.store.db import UnitOfWork, make_engine, migrate
from hub.store.models import Deadline, Outbox, TriageItem
from tests.databases import fresh_database_url
from tests.factories import cloudevent, decision, entry, report_data

SCHOOL = "herstedlund-skole"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday
HOUR = timedelta(hours=1)


class Hub:
    """The intake and decision pipelines on one database, with a clock the test sets."""

    def __init__(self, url: str) -> None:
        migrate(url)
        self.engine = make_engine(url)
        registry = load_registry(default_registry_path())
        policy = PolicyEngine(load_agreement(default_agreement_path()), WorkingDays())
        self.intake = BatchPipeline(self.engine, IntakeService(registry, policy, 1 << 20))
        self.decisions = BatchPipeline(self.engine, DecisionService(registry, policy))
        self._n = 0

    def report(self, at: datetime, **data: Any) -> str:
        stream = streams.intake(SCHOOL)
        event = cloudevent(SCHOOL, report_data(**data), time=at)
        out = self.intake.process(stream, [self._entry(stream, event)], at)
        assert out.accepted == 1, out
        return out.refs[0]

    def decide(self, ref: str, at: datetime) -> None:
        event = decision(ref, [], time=at)
        out = self.decisions.process(streams.DECISIONS, [self._entry(streams.DECISIONS, event)], at)
        assert out.accepted == 1, out

    def _entry(self, stream: str, event: dict[str, Any]) -> Entry:
        self._n += 1
        return Entry(stream, f"{self._n}-0", {k.encode(): v.encode() for k, v in entry(event).items()})


def clock_rows(engine: Engine) -> dict[tuple[str, str], Deadline]:
    with Session(engine) as s:
        return {(d.report_ref, d.kind): d for d in s.exec(select(Deadline))}


def deadline_events(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.stream == streams.DEADLINES).order_by(col(Outbox.id)))
        return [r.event if isinstance(r.event, dict) else orjson.loads(r.event) for r in rows]


def utc(moment: datetime | None) -> datetime | None:
    return clocks.utc(moment) if moment is not None else None


def counted(name: str, kind: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", {"kind": kind}) or 0.0


@pytest.fixture
def hub(database_url: str) -> Any:
    made = Hub(database_url)
    yield made
    made.engine.dispose()


def test_a_report_s_clocks_are_stored_with_it_and_survive_a_restart(hub: Hub, database_url: str) -> None:
    ref = hub.report(NOW)
    hub.engine.dispose()  # a restart: nothing in memory is left
    engine = make_engine(database_url)
    rows = clock_rows(engine)
    assessment, receipt = rows[ref, "assessment"], rows[ref, "receipt"]
    assert assessment.state == "pending" and utc(assessment.due_at) == NOW + 24 * HOUR
    assert utc(assessment.approaching_at) == utc(assessment.next_at) == NOW + 20 * HOUR  # the agreement's 4 hours
    # The hub's `report.accepted` is no kvittering: the 6-working-day clock waits for DKE's
    # (`report.acknowledged`, `tests/integration/test_reporter_hears_back.py`).
    assert receipt.state == "pending" and receipt.met_at is None
    assert utc(receipt.next_at) == utc(receipt.approaching_at) < utc(receipt.due_at)
    assert utc(receipt.due_at) == WorkingDays().receipt_due_by(NOW).astimezone(UTC)
    # A report without a notification (an adult, no child at risk) has no clocks.
    other = hub.report(NOW, subject=None, concern={"categories": ["vandalism"], "description": "Graffiti."})
    assert not [k for k in clock_rows(engine) if k[0] == other]
    # The scheduler of the restarted process finds the clock.
    fired = DeadlineScheduler(engine).tick(NOW + 21 * HOUR).fired
    assert [(f.report_ref, f.kind, f.stage) for f in fired] == [(ref, "assessment", "approaching")]
    engine.dispose()


def test_approaching_then_breached_each_once_also_after_a_restart(hub: Hub, database_url: str) -> None:
    ref = hub.report(NOW)
    before = counted("hub_deadlines_approaching", "assessment"), counted("hub_deadlines_breached", "assessment")
    scheduler = DeadlineScheduler(hub.engine)
    assert scheduler.tick(NOW + 19 * HOUR).fired == []
    assert [f.stage for f in scheduler.tick(NOW + 20 * HOUR).fired] == ["approaching"]
    assert scheduler.tick(NOW + 23 * HOUR).fired == []  # warned already, not yet due
    assert [f.stage for f in scheduler.tick(NOW + 24 * HOUR).fired] == ["breached"]
    assert scheduler.tick(NOW + 25 * HOUR).fired == []
    restarted = make_engine(database_url)
    assert DeadlineScheduler(restarted).run_until(NOW + 72 * HOUR).fired == []
    restarted.dispose()

    events = deadline_events(hub.engine)
    assert [e["type"] for e in events] == [DEADLINE_APPROACHING, DEADLINE_BREACHED]
    for e in events:
        assert e["subject"] == ref
        assert e["data"] == {
            "report_ref": ref,
            "kind": "assessment",
            "due_at": e["data"]["due_at"],
            "rule_id": "BL-ASSESS-24H",
        }
        assert datetime.fromisoformat(e["data"]["due_at"]) == NOW + 24 * HOUR
    row = clock_rows(hub.engine)[ref, "assessment"]
    assert row.state == "breached" and row.next_at is None and row.met_at is None
    assert utc(row.approaching_sent_at) == NOW + 20 * HOUR and utc(row.breached_sent_at) == NOW + 24 * HOUR
    after = counted("hub_deadlines_approaching", "assessment"), counted("hub_deadlines_breached", "assessment")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_a_scheduler_that_was_down_past_the_deadline_sends_only_the_breach(hub: Hub) -> None:
    ref = hub.report(NOW)
    fired = DeadlineScheduler(hub.engine).tick(NOW + 30 * HOUR).fired
    assert [(f.report_ref, f.stage) for f in fired] == [(ref, "breached")]
    assert [e["type"] for e in deadline_events(hub.engine)] == [DEADLINE_BREACHED]


def test_a_decision_before_the_deadline_meets_it_and_nothing_fires(hub: Hub) -> None:
    met, open_ = hub.report(NOW), hub.report(NOW)
    hub.decide(met, NOW + 2 * HOUR)
    row = clock_rows(hub.engine)[met, "assessment"]
    assert row.state == "met" and utc(row.met_at) == NOW + 2 * HOUR and row.next_at is None
    fired = DeadlineScheduler(hub.engine).run_until(NOW + 48 * HOUR).fired
    assert [(f.report_ref, f.stage) for f in fired] == [(open_, "breached")]  # only the undecided one
    with Session(hub.engine) as s:
        rows = {r.report_ref: r for r in queries.queue_rows(s, include_decided=True)}
        view = queries.case_view(s, met)
    assert rows[met].assessment_deadline is not None and rows[met].assessment_deadline.state == "met"
    assert rows[open_].assessment_deadline is not None and rows[open_].assessment_deadline.state == "breached"
    # The first decision sends the professional reporter's kvittering: the receipt clock is met too.
    assert rows[met].receipt_deadline is not None and rows[met].receipt_deadline.state == "met"
    assert view is not None
    assert [(d.kind, d.state) for d in view.deadlines] == [("assessment", "met"), ("receipt", "met")]


def test_on_postgresql_a_decisions_updates_go_with_its_rows(tmp_path: Path, postgres_url: str | None) -> None:
    """The triage item decided and the two clocks met are sent in the decision's last pipeline
    (`hub.store.batch.SqlBatchStore`), not as statements of their own: each was a round trip
    (issue #17). What they change is as the tests above and beside it check. (SQLite runs them
    as they come: no pipeline.)"""
    hub = Hub(fresh_database_url("postgresql", tmp_path, postgres_url))
    ref = hub.report(NOW)
    through_sqlalchemy: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        through_sqlalchemy.append(statement)

    event.listen(hub.engine, "before_cursor_execute", seen)
    try:
        hub.decide(ref, NOW + HOUR)
    finally:
        event.remove(hub.engine, "before_cursor_execute", seen)

    assert through_sqlalchemy, "the decision's look-ups go through SQLAlchemy"
    assert [s for s in through_sqlalchemy if s.lstrip().upper().startswith("UPDATE")] == []
    with Session(hub.engine) as s:
        item = s.exec(select(TriageItem).where(TriageItem.report_ref == ref)).one()
    assert item.status == "decided" and utc(item.decided_at) == NOW + HOUR
    rows = clock_rows(hub.engine)
    assert [(rows[ref, k].state, utc(rows[ref, k].met_at)) for k in ("assessment", "receipt")] == [
        ("met", NOW + HOUR),
        ("met", NOW + HOUR),
    ]
    hub.engine.dispose()


def test_a_decision_after_the_breach_keeps_the_breach_with_the_time_it_was_met(hub: Hub) -> None:
    ref = hub.report(NOW)
    DeadlineScheduler(hub.engine).tick(NOW + 25 * HOUR)
    hub.decide(ref, NOW + 26 * HOUR)
    row = clock_rows(hub.engine)[ref, "assessment"]
    assert row.state == "breached" and utc(row.met_at) == NOW + 26 * HOUR
    assert DeadlineScheduler(hub.engine).tick(NOW + 99 * HOUR).fired == []
    assert len(deadline_events(hub.engine)) == 1


def test_two_schedulers_racing_on_their_own_connections_fire_each_clock_once(hub: Hub, database_url: str) -> None:
    """Both find the due clocks before either commits (on PostgreSQL the second finds them
    locked and skips them; on SQLite its conditional update finds them moved)."""
    refs = {hub.report(NOW) for _ in range(3)}
    later = NOW + 25 * HOUR
    other = make_engine(database_url)
    with UnitOfWork(hub.engine) as a, UnitOfWork(other) as b:
        found_a = clocks.due(a.session, later, 100)
        found_b = clocks.due(b.session, later, 100)
        fired_a = clocks.advance(a.session, found_a, later)
        write_events(a.session, fired_a, later)
        a.commit()
        fired_b = clocks.advance(b.session, found_b, later)
        write_events(b.session, fired_b, later)
        b.commit()
    other.dispose()
    assert {f.report_ref for f in fired_a} == refs and fired_b == []
    events = deadline_events(hub.engine)
    assert sorted(e["subject"] for e in events) == sorted(refs)  # one breach each, no second one
    assert len({e["id"] for e in events}) == len(events)


def test_many_schedulers_ticking_at_once_fire_each_clock_once(hub: Hub, database_url: str) -> None:
    """Four schedulers on engines of their own (as four processes), in threads, at the same moment."""
    stream = streams.intake(SCHOOL)
    batch = [hub._entry(stream, cloudevent(SCHOOL, report_data(), time=NOW)) for _ in range(120)]
    assert hub.intake.process(stream, batch, NOW).accepted == 120
    later = NOW + 25 * HOUR
    engines = [make_engine(database_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    fired: list[list[clocks.Fired]] = [[] for _ in engines]

    def run(i: int) -> None:
        start.wait()
        fired[i] = DeadlineScheduler(engines[i], batch=10).run_until(later).fired

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    all_fired = [f.report_ref for each in fired for f in each]
    assert len(all_fired) == len(set(all_fired)) == 120
    assert len(deadline_events(hub.engine)) == 120

"""One scenario through the batch pipeline on every store: the in-memory fake of the unit tests
(`tests.fakes.InMemoryDatabase`), SQLite and PostgreSQL. Each must leave the same rows and give
the same outcomes, so the fake cannot drift from the SQL store (`hub.store.batch`).

The scenario touches every path of the port: new reports (one § 141, one without a person),
a refusal, a redelivered entry and a report sent twice (unique violations, then the retry's
look-ups), a decision that shares and withholds, one on an unknown report, and a decision
redelivered as a new entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlmodel import SQLModel

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline, Outcome
from hub.store.batch import UnitOfWorkFactory, sql_unit_of_work
from hub.store.db import make_engine, migrate
from tests.databases import fresh_database_url
from tests.factories import child_cpr, cloudevent, decision, entry, planned_crime_data, report_data
from tests.fakes import InMemoryDatabase

SCHOOL, POLICE = "herstedlund-skole", "politi-vestegn"
INTAKE = streams.intake(SCHOOL)
NOW = datetime.now(UTC)

Tables = Callable[[], dict[str, list[dict[str, Any]]]]  # every table's committed rows


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[tuple[UnitOfWorkFactory, Tables]]:
    if request.param == "memory":
        db = InMemoryDatabase()
        yield db.unit_of_work, lambda: db.tables
        return
    url = fresh_database_url(request.param, tmp_path, postgres_url)
    migrate(url)
    engine = make_engine(url)

    def tables() -> dict[str, list[dict[str, Any]]]:
        with engine.connect() as conn:
            return {
                t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in SQLModel.metadata.sorted_tables
            }

    yield sql_unit_of_work(engine), tables
    engine.dispose()


def _entry(stream: str, entry_id: str, event: dict[str, Any]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v.encode() for k, v in entry(event).items()})


def _outcome(out: Outcome) -> tuple[Any, ...]:
    return out.accepted, out.rejected, out.duplicates, out.dead, out.ack, [stream for _, stream, _ in out.publish]


def _snapshot(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """What the rows say, without generated ids, refs and times: reports by their event ids,
    cases by the order they were made."""
    reports = {r["ref"]: r for r in tables["report"]}
    event_of = {ref: r["event_id"] for ref, r in reports.items()}
    case_no = {case_id: n for n, case_id in enumerate(sorted(r["id"] for r in tables["case"]))}
    decision_event = {d["id"]: d["event_id"] for d in tables["decision"]}
    return {
        "cases": len(tables["case"]),
        "reports": sorted((r["event_id"], r["source_id"], r["queue"], case_no[r["case_id"]]) for r in reports.values()),
        "triage": sorted((event_of[t["report_ref"]], t["queue"], t["status"]) for t in tables["triageitem"]),
        "decisions": sorted((d["event_id"], event_of[d["report_ref"]], d["level"]) for d in tables["decision"]),
        "disclosures": sorted(
            (
                event_of[x["report_ref"]],
                decision_event.get(x["decision_id"], ""),
                x["kind"],
                x["recipient"],
                x["structure"] or "",
                x["effect"],
                tuple(x["fields"]),
                tuple(x["rule_ids"]),
            )
            for x in tables["disclosure"]
        ),
        "dead letters": sorted(
            (d["stream"], d["entry_id"], d["reason"], d["deliveries"]) for d in tables["deadletterrecord"]
        ),
        "outbox": sorted((o["stream"], o["event"]["type"], o["sent_at"]) for o in tables["outbox"]),
        "processed": sorted((p["stream"], p["entry_id"]) for p in tables["processedentry"]),
        "clocks": sorted(
            (event_of[d["report_ref"]], d["kind"], d["state"], d["met_at"] is not None) for d in tables["deadline"]
        ),
        "patterns": sorted((event_of[t["report_ref"]], t["pattern_rule_id"] or "") for t in tables["triageitem"]),
    }


def _scenario(unit_of_work: UnitOfWorkFactory, tables: Tables) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """The outcome of each call, and the snapshot of the rows at the end."""
    registry, policy = load_registry(default_registry_path()), PolicyEngine(load_agreement(default_agreement_path()))
    grace = timedelta(seconds=10)
    intake = BatchPipeline(
        None, IntakeService(registry, policy, 1 << 20), publish_grace=grace, unit_of_work=unit_of_work
    )
    decisions = BatchPipeline(None, DecisionService(registry, policy), unit_of_work=unit_of_work)

    person = cloudevent(SCHOOL, report_data(), event_id="person")
    alert = cloudevent(SCHOOL, planned_crime_data(), event_id="alert")  # the same person
    area = cloudevent(
        SCHOOL,
        report_data(subject=None, concern={"categories": ["area_safety"], "description": "Uro."}),
        event_id="area",
    )
    other = report_data(subject={"cpr": child_cpr(serial=2), "name": "Testbarn To", "district": "Herstedlund"})
    outcomes = [
        _outcome(
            first := intake.process(
                INTAKE,
                [
                    _entry(INTAKE, "1-0", person),
                    _entry(INTAKE, "1-1", alert),
                    Entry(INTAKE, "1-2", {b"event": b"not json"}),
                    _entry(INTAKE, "1-3", area),
                ],
                NOW,
            )
        ),
        # Redelivered, sent twice, and new: the unique keys catch the first two, the retry looks.
        _outcome(
            intake.process(
                INTAKE,
                [
                    _entry(INTAKE, "1-0", person),
                    _entry(INTAKE, "2-0", person),
                    _entry(INTAKE, "2-1", cloudevent(SCHOOL, other, event_id="other")),
                    _entry(INTAKE, "2-2", cloudevent(SCHOOL, report_data(), event_id="again")),  # a stored case
                ],
                NOW,
            )
        ),
    ]
    person_ref = first.refs[0]
    made = decision(person_ref, [("ssp", POLICE), ("ksp", "kriminalforsorgen")])
    made["id"] = "decided"
    unknown = decision("no-such-report", [("ssp", POLICE)])
    unknown["id"] = "unknown"
    outcomes += [
        _outcome(
            decisions.process(
                streams.DECISIONS,
                [_entry(streams.DECISIONS, "1-0", made), _entry(streams.DECISIONS, "1-1", unknown)],
                NOW,
            )
        ),
        _outcome(decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "2-0", made)], NOW)),
        _outcome(decisions.give_up(streams.DECISIONS, [_entry(streams.DECISIONS, "3-0", made)], NOW, "max_deliveries")),
    ]

    return outcomes, _snapshot(tables())


def test_every_store_keeps_the_batch_contract(store: tuple[UnitOfWorkFactory, Tables]) -> None:
    outcomes, snapshot = _scenario(*store)

    receipts, triage = streams.receipts(SCHOOL), "hub.triage."
    assert [o[:5] for o in outcomes] == [
        (3, 1, 0, 0, ["1-0", "1-1", "1-2", "1-3"]),
        (2, 0, 1, 0, ["1-0", "2-0", "2-1", "2-2"]),
        (1, 1, 0, 0, ["1-0", "1-1"]),
        (0, 0, 0, 0, ["2-0"]),  # recorded before: acked, not done again
        (0, 0, 0, 1, ["3-0"]),
    ]
    assert [sorted(o[5]) for o in outcomes[:2]] == [
        sorted(
            [receipts] * 4
            + [f"{triage}reactive.v1", f"{triage}urgent.v1", f"{triage}proactive.v1"]
            + [streams.POLICE_ALERTS, streams.DEADLETTER]
            + [streams.CHILDREN_NOTIFICATIONS] * 2
        ),
        sorted([receipts] * 3 + [f"{triage}reactive.v1", streams.CHILDREN_NOTIFICATIONS] * 2),
    ]
    # The person's three reports share a case; the area observation and the other child have their own.
    assert snapshot["cases"] == 3
    assert snapshot["reports"] == [
        ("again", SCHOOL, "reactive", 0),
        ("alert", SCHOOL, "urgent", 0),
        ("area", SCHOOL, "proactive", 1),
        ("other", SCHOOL, "reactive", 2),
        ("person", SCHOOL, "reactive", 0),
    ]
    assert [(t[0], t[2]) for t in snapshot["triage"]] == [
        ("again", "open"),
        ("alert", "open"),
        ("area", "open"),
        ("other", "open"),
        ("person", "decided"),
    ]
    assert snapshot["decisions"] == [("decided", "person", "I")]
    assert [(x[0], x[1], x[2], x[3], x[5]) for x in snapshot["disclosures"]] == [
        ("again", "", "children_notification", "bkv", "share"),
        ("alert", "", "children_notification", "bkv", "share"),
        ("alert", "", "police_alert", POLICE, "share"),
        ("other", "", "children_notification", "bkv", "share"),
        ("person", "", "children_notification", "bkv", "share"),
        ("person", "decided", "referral", "kriminalforsorgen", "withhold"),
        ("person", "decided", "referral", POLICE, "share"),
    ]
    assert snapshot["dead letters"] == [
        (streams.DECISIONS, "1-1", "unknown_report", 1),
        (streams.DECISIONS, "3-0", "max_deliveries", 1),
        (INTAKE, "1-2", "invalid_json", 1),
    ]
    assert len(snapshot["processed"]) == 11
    # Every notified report has its clocks; the decision met the person's assessment clock, and
    # with the kvittering it sent the professional reporter (the first decision), the receipt clock.
    met = {("person", "receipt"), ("person", "assessment")}
    # The police alert's and the referral's acknowledgement clocks run (`hub.services.referral_clocks`).
    assert snapshot["clocks"] == sorted(
        [
            (event, kind, "met" if (event, kind) in met else "pending", (event, kind) in met)
            for event in ("again", "alert", "other", "person")
            for kind in ("assessment", "receipt")
        ]
        + [("alert", "alert", "pending", False), ("person", "referral", "pending", False)]
    )
    assert all(rule == "" for _, rule in snapshot["patterns"])  # one agency only
    # And everything else the same as on the fake, row for row.
    db = InMemoryDatabase()
    assert (outcomes, snapshot) == _scenario(db.unit_of_work, lambda: db.tables)


def test_a_batch_of_decisions_finds_what_it_needs_in_two_statements(store: tuple[UnitOfWorkFactory, Tables]) -> None:
    """`decision_context`: the reports named, which are decided, what each reporter has heard
    back, the same on every store; on the SQL stores in two statements (a decision comes alone,
    and each statement costs its client CPU whatever it finds)."""
    unit_of_work, _ = store
    registry, policy = load_registry(default_registry_path()), PolicyEngine(load_agreement(default_agreement_path()))
    intake = BatchPipeline(None, IntakeService(registry, policy, 1 << 20), unit_of_work=unit_of_work)
    decisions = BatchPipeline(None, DecisionService(registry, policy), unit_of_work=unit_of_work)
    first, second = (cloudevent(SCHOOL, report_data(), event_id=e) for e in ("first", "second"))
    decided, waiting = intake.process(INTAKE, [_entry(INTAKE, "1-0", first), _entry(INTAKE, "2-0", second)], NOW).refs
    made = decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", decision(decided, []))], NOW)
    assert made.accepted == 1

    statements: list[str] = []

    def sent(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, ...)

    with unit_of_work() as uow:
        session = getattr(uow, "session", None)
        if session is not None:
            event.listen(session.get_bind(), "before_cursor_execute", sent)
        found = uow.store.decision_context([decided, waiting, "no-such-report"])
        if session is not None:
            event.remove(session.get_bind(), "before_cursor_execute", sent)

    assert set(found.reports) == set(found.threads) == {decided, waiting}
    assert found.decided == {decided}
    assert found.reports[decided][0]["concern"]["description"] == first["data"]["concern"]["description"]
    thread = found.threads[decided]  # the teacher had the kvittering with the first decision
    assert (thread.source_id, thread.event_id, thread.acknowledged, thread.feedback) == (SCHOOL, "first", True, 0)
    assert thread.public_employee and thread.rule_ids  # a teacher; the assessment's rules
    assert not found.threads[waiting].acknowledged
    if session is not None:
        assert len(statements) == 2, statements

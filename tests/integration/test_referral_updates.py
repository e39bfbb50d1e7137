"""Partners' updates on referrals and § 141 alerts (`hub.services.referral_updates`) and their
acknowledgement clocks (`hub.services.referral_clocks`), on both databases, with a clock the
test controls: an update is stored once, another partner's referral is refused with a receipt
and a dead letter, transitions only go forward, an overdue referral fires once (also with two
schedulers racing), an unacknowledged alert is sent again and escalated once, an acknowledged
one is not."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine, WorkingDays
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.schemas.events import ALERT_RAISED, REFERRAL_ISSUED
from hub.schemas.lifecycle import (
    ALERT_ACKNOWLEDGED,
    ALERT_ESCALATED,
    REFERRAL_ACCEPTED,
    REFERRAL_COMPLETED,
    REFERRAL_DECLINED,
    REFERRAL_OVERDUE,
    REFERRAL_RECEIVED,
    UPDATE_ACCEPTED,
    UPDATE_REJECTED,
)
from hub.services.deadlines import DeadlineScheduler
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline, Outcome
from hub.services.referral_updates import ReferralUpdateService
from hub.store.audit_verify import verify
from hub.store.db import make_engine, migrate
from hub.store.models import DeadLetterRecord, Deadline, Disclosure, Outbox, ReferralUpdate
from hub.store.queries.referrals import referral_states
from tests.factories import cloudevent, decision, entry, planned_crime_data, report_data

SCHOOL = "herstedlund-skole"
POLICE, BKV = "politi-vestegn", "bkv"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class Hub:
    """The intake, decision and update pipelines on one database, with a clock the test sets."""

    def __init__(self, url: str) -> None:
        migrate(url)
        self.engine = make_engine(url)
        registry = load_registry(default_registry_path())
        policy = PolicyEngine(load_agreement(default_agreement_path()), WorkingDays())
        self.intake = BatchPipeline(self.engine, IntakeService(registry, policy, 1 << 20))
        self.decisions = BatchPipeline(self.engine, DecisionService(registry, policy))
        self.updates = BatchPipeline(self.engine, ReferralUpdateService(registry))
        self._n = 0

    def report(self, at: datetime, data: dict[str, Any] | None = None) -> str:
        stream = streams.intake(SCHOOL)
        out = self.intake.process(stream, [self.entry(stream, cloudevent(SCHOOL, data or report_data(), time=at))], at)
        assert out.accepted == 1, out
        return out.refs[0]

    def refer(self, ref: str, at: datetime, partners: list[str]) -> dict[str, str]:
        """A decision referring the report to `partners` in SSP: partner -> the referral's id."""
        event = decision(ref, [("ssp", p) for p in partners], time=at)
        out = self.decisions.process(streams.DECISIONS, [self.entry(streams.DECISIONS, event)], at)
        assert out.accepted == 1, out
        with Session(self.engine) as s:
            rows = s.exec(select(Disclosure).where(Disclosure.report_ref == ref, Disclosure.kind == "referral"))
            return {d.recipient: d.ref for d in rows if d.effect == "share"}

    def update(
        self, partner: str, type_: str, data: dict[str, Any], at: datetime, event_id: str | None = None
    ) -> Outcome:
        stream = streams.referral_updates(partner)
        event = cloudevent(partner, data, type_=type_, time=at, event_id=event_id)
        return self.updates.process(stream, [self.entry(stream, event)], at)

    def entry(self, stream: str, event: dict[str, Any]) -> Entry:
        self._n += 1
        return Entry(stream, f"{self._n}-0", {k.encode(): v.encode() for k, v in entry(event).items()})


def outbox(engine: Engine, stream: str) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.stream == stream).order_by(col(Outbox.id)))
        return [r.event if isinstance(r.event, dict) else orjson.loads(r.event) for r in rows]


def updates(engine: Engine) -> list[ReferralUpdate]:
    with Session(engine) as s:
        return list(s.exec(select(ReferralUpdate).order_by(col(ReferralUpdate.id))))


@pytest.fixture
def hub(database_url: str) -> Any:
    made = Hub(database_url)
    yield made
    made.engine.dispose()


def test_a_partner_accepts_and_completes_its_referral_and_each_update_is_answered(hub: Hub) -> None:
    ref = hub.report(NOW)
    referral = hub.refer(ref, NOW, [BKV])[BKV]
    assert hub.update(BKV, REFERRAL_RECEIVED, {"referral_ref": referral}, NOW + HOUR).accepted == 1
    assert hub.update(BKV, REFERRAL_ACCEPTED, {"referral_ref": referral}, NOW + 2 * HOUR).accepted == 1
    outcome = {"referral_ref": referral, "outcome": {"code": "action_plan", "text": "Handleplan lagt."}}
    assert hub.update(BKV, REFERRAL_COMPLETED, outcome, NOW + 3 * HOUR).accepted == 1
    assert [(u.state, u.code, u.report_ref) for u in updates(hub.engine)] == [
        ("received", None, ref),
        ("accepted", None, ref),
        ("completed", "action_plan", ref),
    ]
    receipts = outbox(hub.engine, streams.referral_receipts(BKV))
    assert [r["type"] for r in receipts] == [UPDATE_ACCEPTED] * 3
    assert {r["data"]["report_ref"] for r in receipts} == {ref}
    assert "Handleplan" not in orjson.dumps(receipts).decode()  # the partner's note stays in the database
    # The query layer shows the state (CLI, workspace).
    with Session(hub.engine) as s:
        [state] = referral_states(s, [ref])[ref]
    assert (state.partner_id, state.state, state.code) == (BKV, "completed", "action_plan")


def test_a_partner_cannot_update_another_partner_s_referral(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    ref = hub.report(NOW)
    referral = hub.refer(ref, NOW, [BKV])[BKV]
    out = hub.update(POLICE, REFERRAL_ACCEPTED, {"referral_ref": referral}, NOW + HOUR)
    assert (out.accepted, out.rejected, dict(out.codes)) == (0, 1, {"not_your_referral": 1})
    assert updates(hub.engine) == []
    [receipt] = outbox(hub.engine, streams.referral_receipts(POLICE))
    assert receipt["type"] == UPDATE_REJECTED and receipt["data"]["code"] == "not_your_referral"
    assert "anden samarbejdspartner" in receipt["data"]["message_da"]
    assert outbox(hub.engine, streams.referral_receipts(BKV)) == []  # nothing to the partner it was sent to
    with Session(hub.engine) as s:
        [dead] = s.exec(select(DeadLetterRecord))
    assert (dead.stream, dead.reason) == (streams.referral_updates(POLICE), "not_your_referral")
    # The referral's own partner still can.
    assert hub.update(BKV, REFERRAL_ACCEPTED, {"referral_ref": referral}, NOW + HOUR).accepted == 1


def test_a_duplicate_update_is_stored_once_and_answered_with_the_same_receipt(hub: Hub) -> None:
    ref = hub.report(NOW)
    referral = hub.refer(ref, NOW, [BKV])[BKV]
    first = hub.update(BKV, REFERRAL_RECEIVED, {"referral_ref": referral}, NOW + HOUR, event_id="upd-1")
    again = hub.update(BKV, REFERRAL_RECEIVED, {"referral_ref": referral}, NOW + 2 * HOUR, event_id="upd-1")
    assert (first.accepted, again.accepted, again.duplicates, again.rejected) == (1, 0, 1, 0)
    assert len(updates(hub.engine)) == 1
    receipts = outbox(hub.engine, streams.referral_receipts(BKV))
    assert len(receipts) == 2 and receipts[0]["id"] == receipts[1]["id"]
    # Twice in one batch: stored once too.
    stream = streams.referral_updates(BKV)
    event = cloudevent(BKV, {"referral_ref": referral}, type_=REFERRAL_ACCEPTED, time=NOW, event_id="upd-2")
    out = hub.updates.process(stream, [hub.entry(stream, event), hub.entry(stream, event)], NOW + HOUR)
    assert (out.accepted, out.duplicates) == (1, 1)
    assert [u.state for u in updates(hub.engine)] == ["received", "accepted"]


@pytest.mark.parametrize(
    ("before", "then", "code"),
    [
        ([], (REFERRAL_COMPLETED, {"outcome": {"code": "other"}}), "invalid_transition"),  # not accepted
        ([(REFERRAL_ACCEPTED, {})], (REFERRAL_RECEIVED, {}), "invalid_transition"),  # backwards
        ([(REFERRAL_ACCEPTED, {})], (REFERRAL_DECLINED, {"reason": {"code": "other"}}), "invalid_transition"),
        ([(REFERRAL_RECEIVED, {})], (REFERRAL_RECEIVED, {}), "invalid_transition"),  # again, another id
        (
            [(REFERRAL_DECLINED, {"reason": {"code": "no_capacity"}})],
            (REFERRAL_COMPLETED, {"outcome": {"code": "other"}}),
            "invalid_transition",
        ),
        ([], (REFERRAL_DECLINED, {}), "invalid_update"),  # a decline needs its reason
        ([], (REFERRAL_DECLINED, {"reason": {"code": "bored"}}), "invalid_update"),  # from the closed list
    ],
)
def test_transitions_only_go_forward(
    hub: Hub, before: list[tuple[str, dict[str, Any]]], then: tuple[str, dict[str, Any]], code: str
) -> None:
    ref = hub.report(NOW)
    referral = hub.refer(ref, NOW, [BKV])[BKV]
    for type_, extra in before:
        assert hub.update(BKV, type_, {"referral_ref": referral, **extra}, NOW).accepted == 1
    out = hub.update(BKV, then[0], {"referral_ref": referral, **then[1]}, NOW + HOUR)
    assert dict(out.codes) == {code: 1}
    assert len(updates(hub.engine)) == len(before)


def test_an_unknown_referral_or_alert_is_refused(hub: Hub) -> None:
    ref = hub.report(NOW)
    referral = hub.refer(ref, NOW, [BKV])[BKV]
    assert dict(hub.update(BKV, REFERRAL_RECEIVED, {"referral_ref": "no-such"}, NOW).codes) == {"unknown_referral": 1}
    # A referral's id is no alert's.
    assert dict(hub.update(BKV, ALERT_ACKNOWLEDGED, {"alert_ref": referral}, NOW).codes) == {"unknown_alert": 1}


def test_an_overdue_referral_fires_once_and_an_acknowledged_one_never(hub: Hub, database_url: str) -> None:
    ref = hub.report(NOW)
    referrals = hub.refer(ref, NOW, [BKV, POLICE])
    # The police acknowledge in time; BKV does not (the agreement: 48 hours).
    assert hub.update(POLICE, REFERRAL_RECEIVED, {"referral_ref": referrals[POLICE]}, NOW + HOUR).accepted == 1
    scheduler = DeadlineScheduler(hub.engine)
    assert scheduler.tick(NOW + 47 * HOUR).fired == []
    # Two schedulers (two processes) at the due time: the clock fires once between them.
    other = make_engine(database_url)
    fired: list[Any] = []
    barrier = threading.Barrier(2)

    def tick(engine: Engine) -> None:
        barrier.wait()
        fired.extend(DeadlineScheduler(engine).run_until(NOW + 48 * HOUR).fired)

    threads = [threading.Thread(target=tick, args=(e,)) for e in (hub.engine, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.dispose()
    referral_fired = [f for f in fired if f.kind == "referral"]
    assert [(f.ref, f.stage) for f in referral_fired] == [(referrals[BKV], "breached")]
    assert scheduler.run_until(NOW + 100 * HOUR).fired == []
    overdue = [e for e in outbox(hub.engine, streams.DEADLINES) if e["type"] == REFERRAL_OVERDUE]
    assert [e["data"] for e in overdue] == [
        {"report_ref": ref, "referral_ref": referrals[BKV], "partner_id": BKV, "due_at": overdue[0]["data"]["due_at"]}
    ]
    assert datetime.fromisoformat(overdue[0]["data"]["due_at"]) == NOW + 48 * HOUR
    # Acknowledged late: the clock keeps its breach, with the time it was met.
    assert (
        hub.update(
            BKV, REFERRAL_DECLINED, {"referral_ref": referrals[BKV], "reason": {"code": "no_capacity"}}, NOW + 50 * HOUR
        ).accepted
        == 1
    )
    with Session(hub.engine) as s:
        clock = s.exec(select(Deadline).where(Deadline.ref == referrals[BKV])).one()
    assert clock.state == "breached" and clock.met_at is not None


def test_an_unacknowledged_alert_is_sent_again_and_escalated_once(hub: Hub) -> None:
    ref = hub.report(NOW, planned_crime_data())
    [alert] = outbox(hub.engine, streams.POLICE_ALERTS)
    scheduler = DeadlineScheduler(hub.engine)
    assert scheduler.tick(NOW + timedelta(minutes=14)).fired == []
    assert [f.kind for f in scheduler.tick(NOW + timedelta(minutes=15)).fired] == ["alert"]
    assert scheduler.run_until(NOW + 10 * HOUR).fired == []
    _, reminder = outbox(hub.engine, streams.POLICE_ALERTS)
    assert reminder["type"] == ALERT_RAISED and reminder["id"] != alert["id"]
    assert reminder["data"] == {**alert["data"], "reminder_of": alert["id"]}  # the same content, marked
    [escalated] = [e for e in outbox(hub.engine, streams.DEADLINES) if e["type"] == ALERT_ESCALATED]
    assert escalated["data"]["alert_ref"] == alert["id"] and escalated["data"]["reminder_event_id"] == reminder["id"]
    assert escalated["data"]["report_ref"] == ref
    with Session(hub.engine) as s:  # the reminder is a disclosure of its own, in the log
        logged = s.exec(select(Disclosure).where(Disclosure.ref == reminder["id"])).one()
    assert (logged.recipient, logged.kind) == (POLICE, "police_alert")
    assert verify(hub.engine).ok  # and it joined the audit chain
    # Acknowledged late, the alert is recorded as acknowledged.
    assert hub.update(POLICE, ALERT_ACKNOWLEDGED, {"alert_ref": alert["id"]}, NOW + HOUR).accepted == 1


def test_an_acknowledged_alert_is_not_sent_again(hub: Hub) -> None:
    hub.report(NOW, planned_crime_data())
    [alert] = outbox(hub.engine, streams.POLICE_ALERTS)
    out = hub.update(POLICE, ALERT_ACKNOWLEDGED, {"alert_ref": alert["id"]}, NOW + timedelta(minutes=3))
    assert out.accepted == 1
    assert DeadlineScheduler(hub.engine).run_until(NOW + 10 * HOUR).fired == []
    assert len(outbox(hub.engine, streams.POLICE_ALERTS)) == 1
    # Only the police acknowledge alerts: BKV never received it.
    assert dict(hub.update(BKV, ALERT_ACKNOWLEDGED, {"alert_ref": alert["id"]}, NOW).codes) == {"not_your_referral": 1}


def test_referral_issued_carries_the_id_partners_answer_with(hub: Hub) -> None:
    ref = hub.report(NOW)
    referral = hub.refer(ref, NOW, [BKV])[BKV]
    [issued] = outbox(hub.engine, streams.referrals("ssp", BKV))
    assert issued["type"] == REFERRAL_ISSUED and issued["id"] == issued["data"]["referral_ref"] == referral

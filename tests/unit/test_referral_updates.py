"""Partners' updates through the batch pipeline on the in-memory unit of work
(`tests.fakes.InMemoryDatabase`): what is stored, refused and answered, with no database or
Redis. The same flow on both real databases: `tests/integration/test_referral_updates.py`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.schemas.lifecycle import (
    ALERT_ACKNOWLEDGED,
    REFERRAL_ACCEPTED,
    REFERRAL_COMPLETED,
    REFERRAL_DECLINED,
    REFERRAL_RECEIVED,
    UPDATE_ACCEPTED,
    UPDATE_DATA,
    UPDATE_REJECTED,
)
from hub.schemas.messages import DANISH
from hub.services.decisions import DecisionService
from hub.services.envelope import ParsedUpdate, Rejection, parse_update
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline, Outcome
from hub.services.referral_updates import ReferralUpdateService
from tests.factories import cloudevent, decision, entry, planned_crime_data, report_data
from tests.fakes import InMemoryDatabase
from tests.hostile.strategies import entries as hostile_entries
from tests.logcapture import LogCapture

SCHOOL, POLICE, BKV = "herstedlund-skole", "politi-vestegn", "bkv"
NOW = datetime.now(UTC) + timedelta(hours=1)  # ahead of the factories' real-time stamps


class World:
    """Intake, decisions and updates on one in-memory database."""

    def __init__(self) -> None:
        registry, policy = (
            load_registry(default_registry_path()),
            PolicyEngine(load_agreement(default_agreement_path())),
        )
        self.db = InMemoryDatabase()
        uow = self.db.unit_of_work
        self.intake = BatchPipeline(None, IntakeService(registry, policy, 1 << 20), unit_of_work=uow)
        self.decisions = BatchPipeline(None, DecisionService(registry, policy), unit_of_work=uow)
        self.updates = BatchPipeline(None, ReferralUpdateService(registry), unit_of_work=uow)
        self.n = 0

    def entry(self, stream: str, event: dict[str, Any]) -> Entry:
        self.n += 1
        return Entry(stream, f"{self.n}-0", {k.encode(): v.encode() for k, v in entry(event).items()})

    def referral(self, partners: list[str], data: dict[str, Any] | None = None) -> dict[str, str]:
        stream = streams.intake(SCHOOL)
        out = self.intake.process(stream, [self.entry(stream, cloudevent(SCHOOL, data or report_data()))], NOW)
        ref = out.refs[0]
        event = decision(ref, [("ssp", p) for p in partners])
        assert self.decisions.process(streams.DECISIONS, [self.entry(streams.DECISIONS, event)], NOW).accepted == 1
        return {r["recipient"]: r["ref"] for r in self.db.rows("disclosure", report_ref=ref, kind="referral")}

    def update(self, partner: str, type_: str, data: dict[str, Any], event_id: str | None = None) -> Outcome:
        stream = streams.referral_updates(partner)
        event = cloudevent(partner, data, type_=type_, event_id=event_id)
        return self.updates.process(stream, [self.entry(stream, event)], NOW)

    def receipts(self, partner: str) -> list[dict[str, Any]]:
        return [r["event"] for r in self.db.rows("outbox", stream=streams.referral_receipts(partner))]


@pytest.fixture
def world() -> World:
    return World()


def test_an_update_is_stored_answered_and_meets_the_referral_s_clock(world: World) -> None:
    referral = world.referral([BKV])[BKV]
    [clock] = world.db.rows("deadline", ref=referral)
    assert (clock["kind"], clock["state"]) == ("referral", "pending")
    assert world.update(BKV, REFERRAL_RECEIVED, {"referral_ref": referral}).accepted == 1
    [stored] = world.db.rows("referral_update")
    assert (stored["partner_id"], stored["ref"], stored["state"], stored["step"]) == (BKV, referral, "received", 1)
    [receipt] = world.receipts(BKV)
    assert receipt["type"] == UPDATE_ACCEPTED
    [clock] = world.db.rows("deadline", ref=referral)
    assert clock["state"] == "met" and clock["met_at"] == NOW


def test_a_decline_and_a_completion_keep_their_code_and_the_note_stays_in_the_database(world: World) -> None:
    referrals = world.referral([BKV, POLICE])
    decline = {"referral_ref": referrals[POLICE], "reason": {"code": "not_target_group", "text": "Ikke vores"}}
    assert world.update(POLICE, REFERRAL_DECLINED, decline).accepted == 1
    assert world.update(BKV, REFERRAL_ACCEPTED, {"referral_ref": referrals[BKV]}).accepted == 1
    done = {"referral_ref": referrals[BKV], "outcome": {"code": "support_given"}}
    assert world.update(BKV, REFERRAL_COMPLETED, done).accepted == 1
    rows = {(r["partner_id"], r["state"]): (r["code"], r["text"]) for r in world.db.rows("referral_update")}
    assert rows == {
        (POLICE, "declined"): ("not_target_group", "Ikke vores"),
        (BKV, "accepted"): (None, None),
        (BKV, "completed"): ("support_given", None),
    }
    assert "Ikke vores" not in json.dumps(world.receipts(POLICE))


def test_another_partner_s_referral_is_refused_and_logged_without_content(world: World) -> None:
    referral = world.referral([BKV])[BKV]
    capture = LogCapture()
    capture.attach()
    try:
        note = {"referral_ref": referral, "reason": {"code": "other", "text": "Anders And, 0101"}}
        out = world.update(POLICE, REFERRAL_DECLINED, note)
    finally:
        capture.detach()
    assert (out.accepted, dict(out.codes)) == (0, {"not_your_referral": 1})
    assert world.db.rows("referral_update") == []
    [receipt] = world.receipts(POLICE)
    assert receipt["type"] == UPDATE_REJECTED and receipt["data"]["code"] == "not_your_referral"
    [dead] = world.db.rows("deadletterrecord")
    assert dead["reason"] == "not_your_referral"
    assert "referral_update.not_yours" in capture.text and POLICE in capture.text
    assert "Anders And" not in capture.text and referral not in capture.text
    [clock] = world.db.rows("deadline", ref=referral)
    assert clock["state"] == "pending"  # a refused update acknowledges nothing


def test_the_same_update_twice_is_stored_once_with_the_same_receipt(world: World) -> None:
    referral = world.referral([BKV])[BKV]
    first = world.update(BKV, REFERRAL_ACCEPTED, {"referral_ref": referral}, event_id="u-1")
    again = world.update(BKV, REFERRAL_ACCEPTED, {"referral_ref": referral}, event_id="u-1")
    assert (first.accepted, again.accepted, again.duplicates) == (1, 0, 1)
    assert len(world.db.rows("referral_update")) == 1
    a, b = world.receipts(BKV)
    assert a["id"] == b["id"] and a["data"] == b["data"]


def test_a_referral_moves_only_forward(world: World) -> None:
    referral = world.referral([BKV])[BKV]
    assert world.update(BKV, REFERRAL_ACCEPTED, {"referral_ref": referral}).accepted == 1
    for type_, extra in ((REFERRAL_RECEIVED, {}), (REFERRAL_DECLINED, {"reason": {"code": "other"}})):
        out = world.update(BKV, type_, {"referral_ref": referral, **extra})
        assert dict(out.codes) == {"invalid_transition": 1}
    assert [r["state"] for r in world.db.rows("referral_update")] == ["accepted"]


def test_only_the_police_acknowledge_the_alert_they_received(world: World) -> None:
    world.referral([BKV], planned_crime_data())
    [alert] = world.db.rows("disclosure", kind="police_alert")
    assert dict(world.update(BKV, ALERT_ACKNOWLEDGED, {"alert_ref": alert["ref"]}).codes) == {"not_your_referral": 1}
    assert world.update(POLICE, ALERT_ACKNOWLEDGED, {"alert_ref": alert["ref"]}).accepted == 1
    [clock] = world.db.rows("deadline", ref=alert["ref"])
    assert (clock["kind"], clock["state"]) == ("alert", "met")


@pytest.mark.parametrize(
    ("source", "type_", "data", "code"),
    [
        (BKV, "dk.albertslund.hub.referral.forgotten.v1", {"referral_ref": "x"}, "unknown_type"),
        (POLICE, REFERRAL_RECEIVED, {"referral_ref": "x"}, "source_mismatch"),  # written to BKV's stream
        (BKV, REFERRAL_RECEIVED, {"referral_ref": "x", "extra": 1}, "invalid_update"),
        (BKV, REFERRAL_COMPLETED, {"referral_ref": "x", "outcome": {"code": "done"}}, "invalid_update"),
        (BKV, REFERRAL_RECEIVED, {"referral_ref": "no-such-referral"}, "unknown_referral"),
    ],
)
def test_a_bad_update_is_refused_with_a_stable_code(
    world: World, source: str, type_: str, data: dict[str, Any], code: str
) -> None:
    stream = streams.referral_updates(BKV)
    event = cloudevent(source, data, type_=type_)
    out = world.updates.process(stream, [world.entry(stream, event)], NOW)
    assert dict(out.codes) == {code: 1}
    [receipt] = world.receipts(BKV)
    assert receipt["data"]["code"] == code and receipt["data"]["message_da"]


def test_two_batches_in_one_transaction_see_each_other_s_states(world: World) -> None:
    referral = world.referral([BKV])[BKV]
    assert world.update(BKV, REFERRAL_RECEIVED, {"referral_ref": referral}).accepted == 1
    stream = streams.referral_updates(BKV)
    accept = world.entry(stream, cloudevent(BKV, {"referral_ref": referral}, type_=REFERRAL_ACCEPTED))
    declined = {"referral_ref": referral, "reason": {"code": "other"}}
    decline = world.entry(stream, cloudevent(BKV, declined, type_=REFERRAL_DECLINED))
    out = world.updates.process_many([(stream, [accept]), (stream, [decline])], NOW)
    assert (out.accepted, dict(out.codes)) == (1, {"invalid_transition": 1})
    assert [r["state"] for r in world.db.rows("referral_update")] == ["received", "accepted"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fields=hostile_entries(), type_=st.sampled_from(sorted(UPDATE_DATA)))
def test_the_update_parser_never_raises(fields: dict[bytes, bytes], type_: str) -> None:
    """Hostile entries (the intake's generated corpus), also with an update's type put in: a
    typed update or a refusal with a code that has a Danish text, never an exception."""
    entry_ = Entry(streams.referral_updates(BKV), "1-0", fields)
    result = parse_update(entry_, BKV, NOW)
    assert isinstance(result, ParsedUpdate | Rejection)
    if isinstance(result, Rejection):
        assert result.code in DANISH, result.code
    raw = fields.get(b"event", b"").replace(b"dk.albertslund.hub.concern.reported.v1", type_.encode())
    again = parse_update(Entry(entry_.stream, "1-1", {**fields, b"event": raw}), BKV, NOW)
    assert isinstance(again, ParsedUpdate | Rejection)

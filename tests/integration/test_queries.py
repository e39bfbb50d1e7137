"""The query layer (`hub.store.queries`) on both databases, over rows stored by the real intake
and decision services: queue rows, a case view with the person's chronology across two sources,
a decision with one shared and one withheld referral, the disclosure history, dead letters."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.bootstrap import Container
from hub.config.settings import Settings
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store import queries
from tests.factories import CHILD_NAME, child_cpr, cloudevent, decision, entry, planned_crime_data, report_data

SCHOOL, POLICE, SOCIAL = "herstedlund-skole", "politi-vestegn", "bkv"
NOW = datetime.now(UTC).replace(microsecond=0)
T0, T1, T2, T3 = (NOW - timedelta(hours=h) for h in (3, 2, 1, 0))


def _entry(stream: str, entry_id: str, fields: dict[str, str]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v.encode() for k, v in fields.items()})


@dataclasses.dataclass
class Stored:
    container: Container
    cpr: str
    school_ref: str  # decided: one referral shared, one withheld
    police_ref: str  # the same person, from the police, later
    area_ref: str  # no person
    bad_event: bytes  # the dead-lettered entry's `event` field


@pytest.fixture
def stored(database_url: str, tmp_path: Path) -> Iterator[Stored]:
    container = Container(Settings(env="test", data_dir=tmp_path / "data", database_url=database_url))
    engine, registry = container.engine, container.registry
    intake = BatchPipeline(engine, IntakeService(registry, container.policy, 1 << 20))
    data = report_data()
    cpr = data["subject"]["cpr"]

    def report(source: str, entry_id: str, body: dict[str, object], at: datetime) -> str:
        stream = streams.intake(source)
        out = intake.process(stream, [_entry(stream, entry_id, entry(cloudevent(source, body, time=at)))], at)
        assert out.accepted == 1, out
        return out.refs[0]

    school_ref = report(SCHOOL, "1-0", data, T0)
    police_ref = report(POLICE, "1-0", planned_crime_data(), T1)  # same CPR (report_data's default)
    area = report_data(subject=None, concern={"categories": ["area_safety"], "description": "Uro ved stationen."})
    area_ref = report(SCHOOL, "2-0", area, T1)
    bad = b'{"specversion": "1.0", "id": "x",'
    intake.process(streams.intake(SCHOOL), [Entry(streams.intake(SCHOOL), "3-0", {b"event": bad})], T1)

    decided = decision(school_ref, [("ssp", POLICE), ("ksp", "kriminalforsorgen")], time=T2)
    BatchPipeline(engine, DecisionService(registry, container.policy)).process(
        streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", entry(decided))], T2
    )
    yield Stored(container, cpr, school_ref, police_ref, area_ref, bad)
    container.close()


def test_queue_rows(stored: Stored) -> None:
    kinds = {s.id: s.kind.value for s in stored.container.registry.sources}
    with queries.reading(stored.container.engine) as s:
        open_rows = queries.queue_rows(s, source_kinds=kinds)
        every = queries.queue_rows(s, include_decided=True)
        urgent = queries.queue_rows(s, "urgent")
    # Most urgent first (the urgent queue, then the reactive one with a § 133 deadline), open only.
    assert [r.report_ref for r in open_rows] == [stored.police_ref, stored.area_ref]
    assert [r.report_ref for r in every] == [stored.police_ref, stored.school_ref, stored.area_ref]
    police, school, area = every
    assert (school.status, school.decided_at) == ("decided", T2)
    assert (police.status, police.decided_at) == ("open", None)
    assert school.received_at == T0 and school.received_at.tzinfo is not None
    assert (open_rows[0].source_id, open_rows[0].source_kind) == (POLICE, "police")
    assert school.source_kind is None  # no registry given
    # § 133 for the child at risk; § 141 for the planned crime, which goes to the urgent queue.
    assert (school.children_notification, school.police_alert) == (True, False)
    assert police.police_alert and police.queue == "urgent"
    assert [r.report_ref for r in urgent] == [stored.police_ref]
    assert school.categories == ("wellbeing",) and area.categories == ("area_safety",)
    assert school.suggested_level and school.suggested_pillar
    assert school.assess_by is not None and school.assess_by > T0  # the § 133 assessment deadline
    assert area.claimed_by is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        school.status = "open"  # type: ignore[misc]


def test_case_view_with_decision_and_chronology(stored: Stored) -> None:
    with queries.reading(stored.container.engine) as s:
        view = queries.case_view(s, stored.school_ref, source_kinds={SCHOOL: "school"})
        police_view = queries.case_view(s, stored.police_ref)
        area_view = queries.case_view(s, stored.area_ref)
        assert queries.case_view(s, "DKE-NOPE") is None
    assert view is not None and police_view is not None and area_view is not None
    assert (view.source_id, view.source_kind, view.received_at, view.status) == (SCHOOL, "school", T0, "decided")
    assert view.report.subject is not None and view.report.subject.name == CHILD_NAME
    assert "BL133-1-1" in view.assessment.rule_ids
    assert any(r.rule_id == "BL133-1-1" and r.da for r in view.assessment.reasons)
    assert [(n.kind, n.recipient, n.effect) for n in view.notifications] == [("children_notification", SOCIAL, "share")]

    [made] = view.decisions
    assert (made.level, made.pillar, made.decided_by, made.decided_at) == ("I", "reactive", "TT", T2)
    shared, withheld = made.referrals
    assert (shared.recipient, shared.structure, shared.effect) == (POLICE, "ssp", "share")
    assert shared.shared and shared.fields and shared.legal_basis
    assert (withheld.recipient, withheld.structure, withheld.shared) == ("kriminalforsorgen", "ksp", False)
    assert withheld.fields == () and withheld.reasons and all(r.da and r.rule_id for r in withheld.reasons)

    # The person's chronology: both sources' reports, what was raised, the decision and its
    # referrals, oldest first; the same seen from either case; the area observation has its own.
    expected = [
        (T0, "report", stored.school_ref, SCHOOL),
        (T0, "children_notification", stored.school_ref, SOCIAL),
        (T1, "report", stored.police_ref, POLICE),
        (T1, "police_alert", stored.police_ref, POLICE),  # § 141
        (T1, "children_notification", stored.police_ref, SOCIAL),  # a child in a planned crime: § 133 too
        (T2, "decision", stored.school_ref, "TT"),
        (T2, "referral", stored.school_ref, POLICE),
        (T2, "referral", stored.school_ref, "kriminalforsorgen"),
    ]
    assert [(e.at, e.kind, e.report_ref, e.party) for e in view.chronology] == expected
    assert [e.detail for e in view.chronology if e.kind == "referral"] == ["share", "withhold"]
    assert police_view.chronology == view.chronology
    assert [(e.kind, e.report_ref) for e in area_view.chronology] == [("report", stored.area_ref)]


def test_disclosure_history_of_a_person(stored: Stored) -> None:
    with queries.reading(stored.container.engine) as s:
        history = queries.disclosure_history(s, stored.cpr)
        nobody = queries.disclosure_history(s, child_cpr(serial=9))
    assert nobody == []
    assert [h.created_at for h in history] == sorted(h.created_at for h in history)
    assert {h.report_ref for h in history} == {stored.school_ref, stored.police_ref}
    rows = [(h.kind, h.recipient, h.effect) for h in history]
    assert rows[0] == ("children_notification", SOCIAL, "share")
    assert ("police_alert", POLICE, "share") in rows
    assert rows[-2:] == [("referral", POLICE, "share"), ("referral", "kriminalforsorgen", "withhold")]


def test_dead_letters(stored: Stored) -> None:
    with queries.reading(stored.container.engine) as s:
        [letter] = queries.dead_letters(s)
        assert queries.dead_letters(s, reason="max_deliveries") == []
        assert queries.dead_letters(s, stream=streams.intake(SCHOOL)) == [letter]
        view = queries.dead_letter(s, letter.id)
        assert queries.dead_letter(s, letter.id + 1000) is None
    assert (letter.stream, letter.entry_id, letter.reason) == (streams.intake(SCHOOL), "3-0", "invalid_json")
    assert letter.created_at == T1 and letter.replay_count == 0 and letter.replayed_at is None
    assert view is not None and view.summary == letter
    assert [(f.name, f.value) for f in view.payload] == [(b"event", stored.bad_event)]
    assert letter.payload_bytes > len(stored.bad_event)
    json.dumps(dataclasses.asdict(letter), default=str)  # plain values, nothing from the transport

"""The demo's scenario: realistic (and obviously fake) reports and the triage decisions on them.

Each case states what the hub is expected to do with it, so `hub demo` checks itself.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, func, select

from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event
from hub.schemas.cpr import make_cpr
from hub.schemas.dates import danish_date
from hub.schemas.decision import DECISION_MADE, Level, Pillar, TriageDecision
from hub.schemas.events import DEADLINE_BREACHED
from hub.schemas.report import CONCERN_REPORTED
from hub.schemas.reporter import (
    ACKNOWLEDGEMENT_REQUESTED,
    FEEDBACK_GIVEN,
    FEEDBACK_REQUESTED,
    REPORT_ACKNOWLEDGED,
    AcknowledgementRequest,
    FeedbackOutcome,
    FeedbackRequest,
)
from hub.services.envelope import report_ref
from hub.store.models import ProcessedEntry


@dataclass(frozen=True)
class Referral:
    structure: str
    partner: str
    expect: str  # share | withhold | escalate


@dataclass
class Case:
    key: str
    title: str  # Danish: what the staff see in the summary
    source: str  # the intake stream written to
    payload: bytes
    expect_status: str  # accepted | rejected | duplicate
    expect_queue: str | None = None
    expect_notifications: tuple[str, ...] = ()
    expect_code: str | None = None
    level: str = "I"
    pillar: str = "reactive"
    justification: str = ""
    purpose: str = "crime_prevention"
    referrals: tuple[Referral, ...] = ()
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # The meeting of its level the decision convenes (`TriageDecision.meeting`), and per convened
    # partner what it should get (structure, partner, share | withhold | escalate).
    meeting: dict[str, Any] | None = None
    expect_meeting: tuple[Referral, ...] = ()


def _born(now: datetime, years: int, days: int = 40) -> date:
    return danish_date(now - timedelta(days=365.25 * years + days))


def _event(source: str, event_id: str, data: dict[str, Any], now: datetime) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": CONCERN_REPORTED,
            "time": now.isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        },
        ensure_ascii=False,
    ).encode()


def _teacher(name: str) -> dict[str, Any]:
    return {"name": name, "role": "SSP-lærer", "contact": "ssp@skole.example", "public_employee": True}


def build(now: datetime) -> list[Case]:
    cases: list[Case] = []

    def add(case: Case, source_in_event: str | None = None, data: dict[str, Any] | None = None) -> Case:
        if data is not None:
            case.payload = _event(source_in_event or case.source, case.event_id, data, now)
        cases.append(case)
        return case

    child_at_risk = add(
        Case(
            "child-at-risk",
            "Lærer: 13-årig elev i mistrivsel med 18 % fravær",
            "herstedlund-skole",
            b"",
            "accepted",
            "reactive",
            ("children_notification",),
            level="I",
            pillar="reactive",
            justification="Eleven har brug for en samlet indsats fra skole og sagsbehandler; deling er nødvendig "
            "for at koordinere en handleplan.",
            referrals=(Referral("ssp", "bkv", "share"), Referral("ssp", "skoler", "share")),
        ),
        data={
            "reporter": _teacher("Lærer Testesen"),
            "subject": {"cpr": make_cpr(_born(now, 13), 101), "name": "Testbarn Et", "district": "Herstedlund"},
            "concern": {
                "categories": ["wellbeing", "school_absence"],
                "child_at_risk": True,
                "school_absence_pct": 18.0,
                "description": "Eleven er ofte fraværende og virker utryg.",
            },
        },
    )
    add(
        Case(
            "duplicate",
            "Samme indberetning sendt igen (dublet)",
            "herstedlund-skole",
            child_at_risk.payload,
            "duplicate",
            event_id=child_at_risk.event_id,
        )
    )
    add(
        Case(
            "malformed",
            "Afbrudt JSON fra skolesystem",
            "kongsholm-skole",
            b'{"specversion": "1.0", "id": "x1", "source": "kongsholm-skole", "data": {"reporter": ',
            "rejected",
            expect_code="invalid_json",
        )
    )
    add(
        Case(
            "spoofed",
            "Skole skriver i politiets navn (forfalsket kilde)",
            "herstedoester-skole",
            b"",
            "rejected",
            expect_code="source_mismatch",
        ),
        source_in_event="politi-vestegn",
        data={
            "reporter": _teacher("Lærer Testesen"),
            "subject": {"name": "Testbarn To"},
            "concern": {"categories": ["crime"], "description": "Tyveri."},
        },
    )
    add(
        Case(
            "planned-crime",
            "Politi: 17-årig planlægger knivoverfald i weekenden",
            "politi-vestegn",
            b"",
            "accepted",
            "urgent",
            ("police_alert", "children_notification"),
            level="III",
            pillar="reactive",
            justification="Akut risiko for alvorlig vold; koordineret indsats med Børn, Kultur & Velfærd er nødvendig.",
            referrals=(Referral("ssp", "bkv", "share"), Referral("ssp", "politi-vestegn", "share")),
        ),
        data={
            "reporter": {
                "name": "Betjent Testesen",
                "role": "lokalbetjent",
                "contact": "politi@example.dk",
                "public_employee": True,
            },
            "subject": {"cpr": make_cpr(_born(now, 17), 202), "name": "Testung Tre", "district": "Hyldespjældet"},
            "concern": {
                "categories": ["weapons", "violence"],
                "planned_offence": "grov-vold",
                "location": "Albertslund Station",
                "observed_at": (now - timedelta(hours=2)).isoformat(),
                "description": "Har fortalt venner om planer om knivoverfald lørdag.",
            },
        },
    )
    add(
        Case(
            "area",
            "Ungdomsskolen: uro og hærværk ved stationen, ingen bestemt person",
            "ungdomsskolen",
            b"",
            "accepted",
            "proactive",
            level="I",
            pillar="proactive",
            justification="Politiet og DKE skal koordinere en områdevandring; kun områdeoplysninger deles.",
            referrals=(Referral("ssp", "politi-vestegn", "share"),),
        ),
        data={
            "reporter": _teacher("Lærer Testesen"),
            "concern": {
                "categories": ["area_safety", "vandalism"],
                "location": "Albertslund Station",
                "description": "Grupper af unge samles om aftenen; knuste ruder og utryghed.",
            },
        },
    )
    add(
        Case(
            "child-abuse",
            "Lærer: 9-årig med mistanke om overgreb i hjemmet",
            "herstedvester-skole",
            b"",
            "accepted",
            "urgent",
            ("children_notification",),
            level="I",
            pillar="reactive",
            justification="Barnets sikkerhed kræver at Børn, Kultur & Velfærd kender til bekymringen.",
            referrals=(Referral("ssp", "bkv", "share"),),
        ),
        data={
            "reporter": _teacher("Lærer Testesen"),
            "subject": {"cpr": make_cpr(_born(now, 9), 303), "name": "Testbarn Fire"},
            "concern": {
                "categories": ["abuse"],
                "abuse_suspected": True,
                "description": "Blå mærker og frygt for at gå hjem.",
            },
        },
    )
    add(
        Case(
            "released",
            "Kriminalforsorgen: 34-årig løsladt for 10 dage siden",
            "kriminalforsorgen",
            b"",
            "accepted",
            "reactive",
            level="II",
            pillar="reactive",
            justification="Løsladelsesforløb: bolig, beskæftigelse og tilsyn skal koordineres i KSP.",
            referrals=(Referral("ksp", "bkv", "share"), Referral("ksp", "politi-vestegn", "share")),
        ),
        data={
            "reporter": {"name": "Tilsynsførende Testesen", "role": "tilsynsførende", "public_employee": True},
            "subject": {
                "cpr": make_cpr(_born(now, 34), 404),
                "name": "Testvoksen Fem",
                "custody": {
                    "kind": "prison",
                    "convicted": True,
                    "release_date": danish_date(now - timedelta(days=10)).isoformat(),
                },
            },
            "concern": {"categories": ["release", "crime"], "description": "Løsladt efter afsoning for røveri."},
        },
    )
    add(
        Case(
            "psychiatry",
            "Psykiatrien: socialt udsat voksen med psykiske vanskeligheder og trusler",
            "psykiatri",
            b"",
            "accepted",
            "reactive",
            level="II",
            pillar="reactive",
            justification="Trusler mod naboer; PSP skal koordinere behandling og politiets kendskab.",
            referrals=(
                Referral("psp", "politi-vestegn", "share"),
                Referral("psp", "psykiatri", "share"),
                Referral("ssp", "skoler", "withhold"),
            ),
        ),
        data={
            "reporter": {"name": "Sygeplejerske Testesen", "role": "sygeplejerske", "public_employee": True},
            "subject": {
                "cpr": make_cpr(_born(now, 41), 505),
                "name": "Testvoksen Seks",
                "psychiatric_contact": True,
                "socially_vulnerable": True,
            },
            "concern": {
                "categories": ["mental_health", "violence"],
                "description": "Truer naboer; ophørt med medicin.",
            },
        },
    )
    add(
        Case(
            "young-adult",
            "Politi: 22-årig med bandetilknytning (SSP+)",
            "politi-vestegn",
            b"",
            "accepted",
            "reactive",
            level="II",
            pillar="operative",
            justification="Exit-forløb kræver fælles indsats; SSP+ dækker unge voksne under 25.",
            referrals=(Referral("ssp", "bkv", "share"),),
        ),
        data={
            "reporter": {"name": "Betjent Testesen", "role": "lokalbetjent", "public_employee": True},
            "subject": {"cpr": make_cpr(_born(now, 22), 606), "name": "Testung Syv", "district": "Galgebakken"},
            "concern": {
                "categories": ["gang_affiliation", "risk_behaviour"],
                "description": "Ses med kendte bandemedlemmer.",
            },
        },
    )
    add(
        Case(
            "no-structure",
            "Politi: 40-årig uden psykiatri eller løsladelse, henvist til SSP",
            "politi-vestegn",
            b"",
            "accepted",
            "reactive",
            level="II",
            pillar="reactive",
            justification="Ønske om koordinering.",
            referrals=(Referral("ssp", "bkv", "withhold"),),
        ),
        data={
            "reporter": {"name": "Betjent Testesen", "role": "lokalbetjent", "public_employee": True},
            "subject": {"cpr": make_cpr(_born(now, 40), 707), "name": "Testvoksen Otte"},
            "concern": {"categories": ["crime"], "description": "Gentagne butikstyverier."},
        },
    )
    add(
        Case(
            "no-justification",
            "Lærer: 15-årig med risikoadfærd; afgørelse uden begrundelse",
            "det-10-element",
            b"",
            "accepted",
            "operative",
            ("children_notification",),
            level="I",
            pillar="operative",
            referrals=(Referral("ssp", "politi-vestegn", "withhold"),),
        ),
        data={
            "reporter": _teacher("Lærer Testesen"),
            "subject": {"cpr": make_cpr(_born(now, 15), 808), "name": "Testung Ni"},
            "concern": {"categories": ["risk_behaviour"], "description": "Hænger ud sent med ældre unge."},
        },
    )
    add(
        Case(
            "investigation",
            "Politi beder om oplysninger til efterforskning",
            "politi-vestegn",
            b"",
            "rejected",
            expect_code="unlawful_purpose",
        ),
        data={
            "reporter": {"name": "Efterforsker Testesen", "role": "efterforsker", "public_employee": True},
            "subject": {"cpr": make_cpr(_born(now, 16), 909), "name": "Testung Ti"},
            "concern": {"categories": ["crime"], "description": "Til brug for efterforskning af indbrud."},
            "purpose": "investigation",
        },
    )
    add(
        Case(
            "department",
            "Kultur & Fritid: 15-årig i klubben; henvist uden samtykke",
            "kultur-fritid",
            b"",
            "accepted",
            "operative",
            ("children_notification",),
            level="I",
            pillar="operative",
            justification="Klubben kan tilbyde fritidsjob.",
            referrals=(Referral("ssp", "kultur-fritid", "withhold"),),
        ),
        data={
            "reporter": {"name": "Klubmedarbejder Testesen", "role": "klubmedarbejder", "public_employee": True},
            "subject": {"cpr": make_cpr(_born(now, 15), 111), "name": "Testung Elleve"},
            "concern": {"categories": ["risk_behaviour"], "description": "Keder sig og søger ældre kammerater."},
        },
    )
    add(
        Case(
            "bad-cpr",
            "Indberetning med ugyldigt CPR-nummer",
            "herstedlund-skole",
            b"",
            "rejected",
            expect_code="invalid_report",
        ),
        data={
            "reporter": _teacher("Lærer Testesen"),
            "subject": {"cpr": "320199-1234", "name": "Testbarn Tolv"},
            "concern": {"categories": ["wellbeing"], "description": "Mistrivsel."},
        },
    )
    cases.append(operativgruppe(now))
    return cases


def operativgruppe(now: datetime) -> Case:
    """Niveau III: DKE convenes the members of the Operativgruppe it judges the case needs; each
    gets only what the disclosure rules allow it in SSP, the department nothing without consent."""
    convene = (("politi-vestegn", "share"), ("bkv", "share"), ("skoler", "share"), ("kultur-fritid", "withhold"))
    case = Case(
        "operativgruppe",
        "Politi: 16-årig mistænkt for grov vold; Operativgruppen indkaldes (niveau III)",
        "politi-vestegn",
        b"",
        "accepted",
        "reactive",
        ("children_notification",),
        level="III",
        pillar="reactive",
        justification="Alvorlig vold; ansvar og opgaver skal fordeles mellem skole, socialforvaltning og politi.",
        referrals=(Referral("ssp", "bkv", "share"),),
        meeting={
            "convene": [partner for partner, _ in convene],
            "structure": "ssp",
            "proposed_at": (now + timedelta(days=2)).isoformat(),
            "agenda": "Fordeling af ansvar, opgaver og økonomi i sagen.",
        },
        expect_meeting=tuple(Referral("ssp", partner, expect) for partner, expect in convene),
    )
    case.payload = _event(
        case.source,
        case.event_id,
        {
            "reporter": {"name": "Betjent Testesen", "role": "lokalbetjent", "public_employee": True},
            "subject": {"cpr": make_cpr(_born(now, 16), 222), "name": "Testung Tolv", "district": "Hyldespjældet"},
            "concern": {
                "categories": ["violence", "crime"],
                "child_at_risk": True,
                "description": "Anholdt efter et groft overfald på en jævnaldrende.",
            },
        },
        now,
    )
    return case


# --- Step: the reporter hears back (issue #13, points 4 and 5) -------------------------------

RECEIPT_CLOCK = "receipt"  # the deadline kind of the 6-working-day receipt


async def reporter_step(hub: Any) -> tuple[list[str], bool]:
    """Two teachers report a child; DKE sends the first a kvittering from the case, decides, and
    gives feedback (`investigation`); the second gets no kvittering, and a clock the demo moves
    twelve days on fires the receipt's `deadline.breached` (its decision then sends it, late). A
    neighbour through the citizens' form reports under the general duty (§ 134): no receipt clock.
    Both are decided, so the queues hold only the scenario's open work. Returns the summary lines
    and whether everything went as expected."""
    now = datetime.now(UTC)
    school, citizens, decider = "herstedvester-skole", "borgere", "dke-triage"
    client = redis_client(hub.redis_url)

    def processed() -> int:
        with Session(hub.engine) as s:
            return int(s.exec(select(func.count()).select_from(ProcessedEntry)).one())

    async def send(stream: str, event: dict[str, Any] | bytes, more: int = 1) -> None:
        before = await asyncio.to_thread(processed)
        body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
        await client.xadd(stream, {EVENT_FIELD: body})
        deadline = time.monotonic() + 30
        while await asyncio.to_thread(processed) < before + more:
            if time.monotonic() > deadline:
                raise TimeoutError("the hub did not process the demo's entries in time")
            await asyncio.sleep(0.05)
        await hub.relay.drain()

    def child(serial: int) -> dict[str, Any]:
        return {"cpr": make_cpr(_born(now, 12), serial), "name": f"Testbarn {serial}", "district": "Herstedvester"}

    concern = {"categories": ["wellbeing"], "child_at_risk": True, "description": "Barnet kommer sulten i skole."}
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    await send(streams.intake(school), _event(school, first, {"reporter": _teacher("Lærer Et"), "subject": child(201),
                                                               "concern": concern}, now))
    await send(streams.intake(school), _event(school, second, {"reporter": _teacher("Lærer To"), "subject": child(202),
                                                                "concern": concern}, now))
    neighbour = {"name": "Nabo Testesen", "role": "nabo", "public_employee": False}
    await send(streams.intake(citizens), _event(citizens, third, {"reporter": neighbour, "subject": child(203),
                                                                   "concern": concern}, now))
    ref1, ref2, ref3 = report_ref(school, first), report_ref(school, second), report_ref(citizens, third)

    def staff(type_: str, data: Any, ref: str) -> dict[str, Any]:
        return new_event(type_, data, source=decider, event_id=str(uuid.uuid4()), subject=ref)

    await send(streams.DECISIONS, staff(ACKNOWLEDGEMENT_REQUESTED,
                                        AcknowledgementRequest(report_ref=ref1, requested_by="DKE-demo"), ref1))
    decision = TriageDecision(report_ref=ref1, level=Level.I, pillar=Pillar.REACTIVE, decided_by="DKE-demo")
    await send(streams.DECISIONS, staff(DECISION_MADE, decision, ref1))
    await send(streams.DECISIONS, staff(FEEDBACK_REQUESTED, FeedbackRequest(
        report_ref=ref1, requested_by="DKE-demo", outcome=FeedbackOutcome.INVESTIGATION), ref1))

    assert hub.clocks is not None
    real_now = hub.clocks.now
    hub.clocks.now = lambda: real_now() + timedelta(days=12)  # twelve days on: past the sixth working day
    try:
        await hub.clocks.tick()
    finally:
        hub.clocks.now = real_now
    await hub.relay.drain()
    for ref in (ref2, ref3):  # decided too, so that the demo's queues hold only the work left for staff
        late = TriageDecision(report_ref=ref, level=Level.I, pillar=Pillar.REACTIVE, decided_by="DKE-demo")
        await send(streams.DECISIONS, staff(DECISION_MADE, late, ref))

    def read(stream: str) -> Any:
        return client.xrange(stream)

    to_school = [json.loads(f[EVENT_FIELD.encode()]) for _, f in await read(streams.receipts(school))]
    deadlines = [json.loads(f[EVENT_FIELD.encode()]) for _, f in await read(streams.DEADLINES)]
    notes = [json.loads(f[EVENT_FIELD.encode()]) for _, f in await read(streams.CHILDREN_NOTIFICATIONS)]
    await client.aclose()

    lines = ["", "Indberetteren hører fra DKE (kvittering og tilbagemelding, barnets lov §§ 133-134 og 137)"]
    problems: list[str] = []
    ack = [e for e in to_school if e["type"] == REPORT_ACKNOWLEDGED and e["data"]["report_ref"] == ref1]
    feedback = [e for e in to_school if e["type"] == FEEDBACK_GIVEN and e["data"]["report_ref"] == ref1]
    if ack:
        lines.append(f"  {ref1}: kvittering til {school}: »{ack[0]['data']['message_da']}«")
    if feedback:
        said = feedback[0]["data"]
        lines.append(f"  {ref1}: tilbagemelding ({said['outcome']}): »{said['message_da']}«")
    if len(ack) != 1 or len(feedback) != 1:
        problems.append("ventede én kvittering og én tilbagemelding til skolen")
    if any("Testbarn" in json.dumps(e, ensure_ascii=False) for e in ack + feedback):
        problems.append("kvittering eller tilbagemelding nævner barnet")
    # The stream also carries overdue referrals and escalated alerts: only the statutory clocks here.
    breached = {(e["data"]["report_ref"], e["data"]["kind"]) for e in deadlines if e["type"] == DEADLINE_BREACHED}
    lines.append(f"  {ref2}: ingen kvittering; tolv dage senere: deadline.breached for kvitteringen: "
                 + ("ja" if (ref2, RECEIPT_CLOCK) in breached else "nej"))
    if (ref2, RECEIPT_CLOCK) not in breached or (ref1, RECEIPT_CLOCK) in breached:
        problems.append("ventede overskredet kvitteringsfrist for den anden indberetning og ikke for den første")
    duty = {e["data"]["report_ref"]: e["data"].get("duty") for e in notes}
    which = "almindelige" if duty.get(ref3) == "general" else "skærpede"
    no_clock = "ja" if (ref3, RECEIPT_CLOCK) not in breached else "nej"
    lines.append(f"  {ref3}: nabo via borgerformularen: underretning efter den {which} underretningspligt; "
                 f"ingen kvitteringsfrist: {no_clock}")
    if duty.get(ref3) != "general" or duty.get(ref1) != "enhanced" or (ref3, RECEIPT_CLOCK) in breached:
        problems.append("ventede almindelig underretningspligt og ingen kvitteringsfrist for naboen")
    for p in problems:
        lines.append(f"    AFVIGER: {p}")
    return lines, not problems

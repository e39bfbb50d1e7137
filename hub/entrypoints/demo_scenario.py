"""The demo's scenario: realistic (and obviously fake) reports and the triage decisions on them.

Each case states what the hub is expected to do with it, so `hub demo` checks itself.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hub.schemas.cpr import make_cpr
from hub.schemas.dates import danish_date
from hub.schemas.report import CONCERN_REPORTED


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

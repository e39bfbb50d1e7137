"""Danish labels for what DKE's triage staff read (code and docs stay in English)."""

from __future__ import annotations

from datetime import datetime

from hub.policies.lifecycle import STATE_DA
from hub.schemas.dates import DANISH_TIME
from hub.schemas.lifecycle import OUTCOME_DA, REASON_DA

QUEUE = {"urgent": "Akut", "reactive": "Reaktiv", "proactive": "Proaktiv", "operative": "Operativ"}
PILLAR = {
    "reactive": "Reaktivt koordinatorområde",
    "proactive": "Proaktivt koordinatorområde",
    "operative": "Operativt pædagogisk team",
}
LEVEL = {
    "I": "Niveau I (risikoadfærd)",
    "II": "Niveau II (kriminalitet)",
    "III": "Niveau III (kvalificeret kriminalitet)",
}
CATEGORY = {
    "risk_behaviour": "risikoadfærd",
    "crime": "kriminalitet",
    "serious_crime": "kvalificeret kriminalitet",
    "violence": "vold",
    "weapons": "våben",
    "substance_misuse": "misbrug",
    "school_absence": "skolefravær",
    "wellbeing": "mistrivsel",
    "neglect": "omsorgssvigt",
    "abuse": "overgreb",
    "radicalisation": "radikalisering",
    "gang_affiliation": "bandetilknytning",
    "mental_health": "psykiske vanskeligheder",
    "area_safety": "tryghed i området",
    "vandalism": "hærværk",
    "release": "løsladelse",
}
NOTIFICATION = {
    "police_alert": "Politialarm (straffeloven § 141)",
    "children_notification": "Underretning til Børn, Kultur & Velfærd (barnets lov § 133)",
}
SOURCE_KIND = {
    "school": "Skole",
    "police": "Politi",
    "social_services": "Børn, Kultur & Velfærd",
    "psychiatry": "Psykiatri",
    "prison_probation": "Kriminalforsorgen",
    "municipal_department": "Anden kommunal forvaltning",
    "housing": "Boligselskab",
    "other": "Andre",
}
EFFECT = {"share": "delt", "withhold": "tilbageholdt", "escalate": "kræver stillingtagen"}
STATUS = {"open": "åben", "decided": "afgjort"}
ACCESS_GROUND = {
    "own_claim": "egen sag",
    "assigned": "tildelt",
    "break_glass": "nødadgang",
    "access_request": "indsigtsanmodning",
}
STAFF_ROLE = {"triage": "Triage", "jurist": "Jurist", "admin": "Administrator"}
STRUCTURE = {"ssp": "SSP", "psp": "PSP", "ksp": "KSP"}
# A person's answer to an escalated question (`hub.policies.rules.QUESTIONS`), short.
ANSWER = {"yes": "ja", "no": "nej", "ssp": "SSP-alder", "ssp_plus": "SSP+-alder", "older": "ældre end SSP+-alderen"}
# What a person's answer to an escalated question rests on (`AnswerBasis`).
ANSWER_BASIS = {
    "records": "journal eller sagsakter",
    "person": "oplyst af personen",
    "guardians": "oplyst af forældremyndighedens indehavere",
    "partner": "oplyst af en samarbejdspartner",
    "assessment": "egen faglig vurdering",
}
PURPOSE = {"crime_prevention": "kriminalitetsforebyggelse", "investigation": "efterforskning"}
DISCLOSURE_KIND = {
    "referral": "henvisning",
    "meeting": "mødeindkaldelse",
    "police_alert": "politialarm",
    "children_notification": "underretning",
}
CHRONOLOGY = {
    "report": "Henvendelse",
    "decision": "Afgørelse",
    "referral": "Henvisning",
    "meeting": "Mødeindkaldelse",
    "police_alert": "Politialarm (§ 141)",
    "children_notification": "Underretning (§ 133)",
}

# The meeting of each level (the registry's `[meetings]` may name it locally, e.g. "Operativgruppen").
FORUM = {
    "coordination": "Koordinationsmøde (niveau I)",
    "case": "Sagsmøde (niveau II)",
    "operativgruppe": "Operativgruppemøde (niveau III)",
}

DEADLINE_KIND = {"assessment": "Vurdering (24 timer)", "receipt": "Kvittering (6 hverdage)"}
DEADLINE_KIND = {
    "assessment": "Vurdering (24 timer)",
    "receipt": "Kvittering (6 hverdage)",
    "referral": "Kvittering for henvisning",
    "alert": "Kvittering for politialarm (§ 141)",
}
# A referral's (alert's) state after it was sent, and the partner's reason or outcome.
REFERRAL_STATE = dict(STATE_DA)
UPDATE_CODE = {**REASON_DA, **OUTCOME_DA}
DEADLINE_STATE = {
    "pending": "løber",
    "approaching": "nærmer sig",
    "met": "overholdt",
    "breached": "overskredet",
}


def label(table: dict[str, str], key: str | None) -> str:
    return table.get(key or "", key or "–")


def queue_key(text: str) -> str | None:
    """A queue given by its key (`reactive`) or its Danish label (`Reaktiv`, any case); None if neither."""
    wanted = text.strip().lower()
    return next((key for key, name in QUEUE.items() if wanted in (key, name.lower())), None)


def when(moment: datetime | None) -> str:
    """A time as staff read it: Danish local time to the minute, e.g. `02.12.2026 09:15`."""
    if moment is None:
        return "–"
    return moment.astimezone(DANISH_TIME).strftime("%d.%m.%Y %H:%M")

"""Danish labels for what DKE's triage staff read (code and docs stay in English)."""

from __future__ import annotations

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
EFFECT = {"share": "delt", "withhold": "tilbageholdt", "escalate": "kræver stillingtagen"}
STATUS = {"open": "åben", "decided": "afgjort"}
STRUCTURE = {"ssp": "SSP", "psp": "PSP", "ksp": "KSP"}


def label(table: dict[str, str], key: str | None) -> str:
    return table.get(key or "", key or "–")

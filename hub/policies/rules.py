"""The rule table: every rule the hub applies, with its stable id and its legal source.

Ids are used in code, tests, stored decisions, logs and docs/policies.md. A rule's
function lives in `assess.py` or `disclose.py` and is registered against its id there.
"""

from __future__ import annotations

from dataclasses import dataclass

POLICY_VERSION = "2026.11.1"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    citation: str
    da: str
    en: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("RPL115-2", "Retsplejeloven § 115, stk. 2, 2. pkt.",
             "Oplysninger må ikke videregives med henblik på efterforskning af straffesager.",
             "Information may not be passed on for the investigation of criminal cases."),
        Rule("RPL115-4", "Retsplejeloven § 115, stk. 4",
             "Ingen har pligt til at videregive; uden en konkret begrundelse for nødvendigheden deles intet.",
             "Nobody is obliged to disclose; without a case-specific necessity justification nothing is shared."),
        Rule("RPL115-MEMBER", "Retsplejeloven § 115, stk. 1-3",
             "Modtageren deltager ikke i det samarbejde, der henvises til.",
             "The recipient does not take part in the cooperation referred to."),
        Rule("RPL115-1-1", "Retsplejeloven § 115, stk. 1, nr. 1 (SSP)",
             "SSP-samarbejdet: personen er inden for den lokalt aftalte aldersgrænse for SSP/SSP+.",
             "SSP cooperation: the person is within the locally agreed SSP/SSP+ age band."),
        Rule("RPL115-1-2", "Retsplejeloven § 115, stk. 1, nr. 2 (PSP)",
             "PSP-samarbejdet: personen er socialt udsat med psykiske vanskeligheder.",
             "PSP cooperation: the person is socially vulnerable with psychiatric problems."),
        Rule("RPL115-1-3-a", "Retsplejeloven § 115, stk. 1, nr. 3, litra a (KSP)",
             "KSP: dømt person løsladt fra Kriminalforsorgens institution, inden for det aftalte tidsrum.",
             "KSP: convicted person released from a Kriminalforsorgen institution, within the agreed window."),
        Rule("RPL115-1-3-b", "Retsplejeloven § 115, stk. 1, nr. 3, litra b (KSP)",
             "KSP: dømt person under 18 løsladt fra anbringelse (straffuldbyrdelseslovens § 78, stk. 2).",
             "KSP: convicted person under 18 released from placement (straffuldbyrdelsesloven § 78(2))."),
        Rule("RPL115-1-3-c", "Retsplejeloven § 115, stk. 1, nr. 3, litra c (KSP)",
             "KSP: person løsladt fra varetægt/frihedsberøvelse, vurderet i risiko for radikalisering.",
             "KSP: person released from custody, judged radicalised or at risk of radicalisation."),
        Rule("RPL115-NOMATCH", "Retsplejeloven § 115, stk. 1",
             "Personen falder ikke ind under det samarbejde, der henvises til; intet deles.",
             "The person falls outside the cooperation referred to; nothing is shared."),
        Rule("RPL115-OUTSIDE", "Forvaltningsloven § 27; straffeloven § 152",
             "Forvaltninger uden for SSP/PSP/KSP får kun ikke-fortrolige oplysninger og kun med samtykke.",
             "Departments outside SSP/PSP/KSP get non-confidential information only, and only with consent."),
        Rule("RPL115-OUTSIDE-CONSENT-UNCLEAR", "Forvaltningsloven § 27; databeskyttelsesloven",
             "Samtykket er uklart (barn uden forældremyndighedens samtykke); en medarbejder skal tage stilling.",
             "Consent is unclear (a child without the guardians' consent); a person must decide."),
        Rule("NOPERSON", "Databeskyttelsesforordningen art. 4, nr. 1",
             "Områdeobservation uden identificerbar person: kun ikke-personhenførbare oplysninger deles.",
             "Area observation without an identifiable person: only non-personal information is shared."),
        Rule("DBL-8", "Databeskyttelsesloven § 8",
             "Oplysninger om strafbare forhold behandles kun, når det er nødvendigt for myndighedens opgaver.",
             "Criminal-offence data is processed only where necessary for the authority's tasks."),
        Rule("DBL-11", "Databeskyttelsesloven § 11",
             "CPR-nummer videregives kun til entydig identifikation, hvor modtagerens felter tillader det.",
             "The CPR number is passed on only for unique identification, where the recipient's fields allow it."),
        Rule("MIN-FIELDS", "Databeskyttelsesforordningen art. 5, stk. 1, litra c",
             "Dataminimering: modtageren får kun de felter, den lokale aftale tillader for dens type.",
             "Data minimisation: the recipient gets only the fields the local agreement allows for its kind."),
        Rule("HEALTH-PSP", "Retsplejeloven § 115, stk. 1, nr. 2; domain brief",
             "Helbreds- og psykiatrioplysninger forlader ikke PSP.",
             "Health and psychiatric information does not leave PSP."),
        Rule("STRFL141", "Straffeloven § 141",
             "Planlagt alvorlig forbrydelse mod liv eller helbred: politiet alarmeres straks.",
             "Planned serious crime against life or health: the police are alerted at once."),
        Rule("BL133-1-1", "Barnets lov § 133, stk. 1, nr. 1",
             "Offentligt ansat har grund til at antage, at et barn under 18 kan have behov for særlig støtte.",
             "A public employee has reason to believe a child under 18 may need special support."),
        Rule("BL133-1-2", "Barnets lov § 133, stk. 1, nr. 2",
             "Et barn kan have behov for særlig støtte straks efter fødslen på grund af de vordende forældres forhold.",
             "A child may need special support right after birth because of the expectant parents' situation."),
        Rule("BL133-1-3", "Barnets lov § 133, stk. 1, nr. 3",
             "Et barn under 18 kan have behov for særlig støtte på grund af ulovligt skolefravær.",
             "A child under 18 may need special support because of unlawful school absence."),
        Rule("BL133-1-4", "Barnets lov § 133, stk. 1, nr. 4",
             "Et barn under 18 kan have været udsat for overgreb.",
             "A child under 18 may have been subjected to abuse."),
        Rule("BL133-2", "Barnets lov § 133, stk. 2",
             "Ulovligt fravær på 15 % eller mere i et kvartal: skolens leder skal underrette.",
             "Unlawful absence of 15 % or more in a quarter: the head teacher must notify."),
        Rule("ROUTE-URGENT", "Straffeloven § 141; Barnets lov § 133",
             "Liv eller helbred er i fare nu: urgent-køen.",
             "Life or health at stake now: the urgent queue."),
        Rule("ROUTE-PROACTIVE", "PRO-modellen (lokal)",
             "Ingen enkeltperson: det proaktive koordinatorområde.",
             "No single person: the proactive pillar."),
        Rule("ROUTE-REACTIVE", "PRO-modellen (lokal)",
             "Enkeltsag: det reaktive koordinatorområde.",
             "Individual case: the reactive pillar."),
        Rule("ROUTE-OPERATIVE", "PRO-modellen (lokal)",
             "Ung med risikoadfærd i gademiljøet: det operative pædagogiske team.",
             "Young person with risk behaviour in the street: the operative team."),
    )
}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]

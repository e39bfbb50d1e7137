"""The rule table: every rule the hub applies, with its stable id, its source and its reasons.

Ids are used in code, tests, stored decisions, logs and docs/policies.md (generated from
this table by `python -m hub.policies.docgen`). Each rule's function lives in `assess.py`
or `disclose.py` and is registered against its id there; a test checks the two agree.

Two layers: the statute (Retsplejeloven § 115, Barnets lov §§ 133 and 136-137,
Straffeloven § 141, databeskyttelsesloven §§ 8 and 11, GDPR) is code; the local agreement
(age bands, the KSP window, who takes part, field allow-lists, consent-only recipients,
retention) is configuration, `hub/config/agreement.toml`. Rules of the `agreement` layer
are statute applied with a value from the agreement; `practice` rules are DKE's own
triage practice (queues, levels), not law.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from hub.schemas.events import Reason

# Bump when a rule's behaviour changes; the rule table's own hash is added automatically.
POLICY_VERSION = "2026.11.2"


class Layer(StrEnum):
    STATUTE = "statute"  # the law itself
    AGREEMENT = "agreement"  # the law, applied with values from the local agreement
    PRACTICE = "practice"  # DKE's local triage practice, not law


class Stage(StrEnum):
    ASSESS = "assess"  # what happens to an incoming report
    DISCLOSE = "disclose"  # whether a recipient may get a case
    FIELDS = "fields"  # which fields a recipient gets when it may


class Outcome(StrEnum):
    REFUSE = "refuses the report"
    NOTIFY = "requires a notification"
    DEADLINE = "sets a deadline"
    LEVEL = "suggests a level"
    QUEUE = "picks the triage queue"
    SHARE = "allows sharing"
    WITHHOLD = "withholds"
    ESCALATE = "escalates to a person"
    CONDITION = "condition met (no effect of its own)"
    FIELDS = "narrows the fields"
    NOTE = "records the legal basis"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    citation: str
    layer: Layer
    stages: tuple[Stage, ...]
    outcome: Outcome
    decides: str  # English, for docs/policies.md: what the rule decides
    da: str  # the reason a triage worker reads, in Danish
    en: str  # the same reason in English
    config: tuple[str, ...] = ()  # agreement keys the rule reads


_A, _D, _F = (Stage.ASSESS,), (Stage.DISCLOSE,), (Stage.FIELDS,)
_S, _AG, _P = Layer.STATUTE, Layer.AGREEMENT, Layer.PRACTICE
_O = Outcome

_TABLE: tuple[Rule, ...] = (
    # --- Retsplejeloven § 115: information exchange in SSP, PSP and KSP --------------------------
    Rule("RPL115-2", "Retsplejeloven § 115, stk. 2", _S, (Stage.ASSESS, Stage.DISCLOSE), _O.WITHHOLD,
         "Information is never passed on for the investigation of criminal cases: a report or a "
         "referral whose purpose is investigation is refused, whatever else applies.",
         "Oplysningerne må ikke videregives med henblik på efterforskning af straffesager. "
         "Formålet er efterforskning, så der deles intet.",
         "Information may not be passed on for the investigation of criminal cases. "
         "The purpose is investigation, so nothing is shared."),
    Rule("RPL115-4", "Retsplejeloven § 115, stk. 4", _AG, _D, _O.WITHHOLD,
         "Nobody is obliged to disclose, and disclosure must be necessary: without a case-specific "
         "necessity justification (at least `necessity.min_justification_chars` characters) nothing "
         "is shared.",
         "Ingen har pligt til at videregive, og videregivelse skal være nødvendig. Der mangler en "
         "konkret begrundelse for, at delingen er nødvendig; skriv den i afgørelsen.",
         "Nobody is obliged to disclose, and disclosure must be necessary. A case-specific reason "
         "why sharing is necessary is missing; write it in the decision.",
         ("necessity.min_justification_chars",)),
    Rule("RPL115-MEMBER", "Retsplejeloven § 115, stk. 1-3", _AG, _D, _O.WITHHOLD,
         "Only participants receive: the recipient must sit in the structure referred to (registry) "
         "and be of a kind that takes part in it (statute, narrowed by `structures` in the agreement; "
         "for SSP+ `structures.ssp_plus`).",
         "Modtageren deltager ikke i det samarbejde (SSP, SSP+, PSP eller KSP), der henvises til, "
         "efter partnerregisteret og den lokale aftale. Vælg en partner i samarbejdet.",
         "The recipient does not take part in the cooperation referred to (SSP, SSP+, PSP or KSP) "
         "under the partner registry and the local agreement. Choose a partner in the cooperation.",
         ("structures",)),
    Rule("RPL115-3", "Retsplejeloven § 115, stk. 3", _S, _D, _O.CONDITION,
         "A self-governing institution takes part on the same terms as a public one only if it does "
         "public tasks in the social, education or employment field or in social/treatment "
         "psychiatry (partner kinds school, social_services, psychiatry); otherwise it is withheld.",
         "Selvejende institution: deltager på samme vilkår som offentlige myndigheder, når den "
         "løser offentlige opgaver på det sociale område, undervisnings- og beskæftigelsesområdet "
         "eller i social- og behandlingspsykiatrien; ellers deles intet med den.",
         "Self-governing institution: takes part on the same terms as public authorities when it "
         "carries out public tasks in the social, education or employment field or in social and "
         "treatment psychiatry; otherwise nothing is shared with it."),
    Rule("RPL115-1-1", "Retsplejeloven § 115, stk. 1, nr. 1 (SSP)", _AG, _D, _O.SHARE,
         "SSP covers the person when younger than `ages.ssp_max_age` (the statute has no age limit; "
         "the band is local policy).",
         "SSP-samarbejdet: personen er under den aftalte SSP-aldersgrænse, så oplysninger kan "
         "deles, når det er nødvendigt.",
         "SSP cooperation: the person is under the agreed SSP age, so information may be shared "
         "where necessary.",
         ("ages.ssp_max_age",)),
    Rule("RPL115-1-1-PLUS", "Retsplejeloven § 115, stk. 1, nr. 1 (SSP+)", _AG, _D, _O.SHARE,
         "SSP+ covers young adults from `ages.ssp_max_age` up to (not including) "
         "`ages.ssp_plus_max_age`; only the kinds in `structures.ssp_plus` take part.",
         "SSP+: personen er ung voksen inden for den lokalt aftalte SSP+-aldersgrænse, så "
         "oplysninger kan deles, når det er nødvendigt.",
         "SSP+: the person is a young adult within the locally agreed SSP+ age band, so information "
         "may be shared where necessary.",
         ("ages.ssp_max_age", "ages.ssp_plus_max_age", "structures.ssp_plus")),
    Rule("RPL115-1-1-AGE", "Retsplejeloven § 115, stk. 1, nr. 1 (SSP)", _S, _D, _O.ESCALATE,
         "When neither a CPR number nor a birth date gives the person's age, the hub cannot tell "
         "whether SSP or SSP+ covers them: a person must decide.",
         "Personens alder kendes ikke (hverken CPR-nummer eller fødselsdato), så det kan ikke "
         "afgøres, om SSP eller SSP+ omfatter personen. En medarbejder skal tage stilling.",
         "The person's age is unknown (no CPR number or birth date), so it cannot be decided "
         "whether SSP or SSP+ covers them. A member of staff must decide."),
    Rule("RPL115-1-2", "Retsplejeloven § 115, stk. 1, nr. 2 (PSP)", _S, _D, _O.SHARE,
         "PSP covers a person the report marks as socially vulnerable.",
         "PSP-samarbejdet: personen er socialt udsat, så oplysninger kan deles, når det er "
         "nødvendigt.",
         "PSP cooperation: the person is socially vulnerable, so information may be shared where "
         "necessary."),
    Rule("RPL115-1-2-CHECK", "Retsplejeloven § 115, stk. 1, nr. 2 (PSP)", _S, _D, _O.ESCALATE,
         "A person with psychiatric contact who is not marked socially vulnerable may or may not be "
         "covered by PSP: a person must decide.",
         "Personen har kontakt med psykiatrien, men er ikke angivet som socialt udsat. En "
         "medarbejder skal vurdere, om PSP omfatter personen.",
         "The person is in contact with psychiatry but not marked as socially vulnerable. A member "
         "of staff must judge whether PSP covers them."),
    Rule("RPL115-1-3-a", "Retsplejeloven § 115, stk. 1, nr. 3, litra a (KSP)", _AG, _D, _O.SHARE,
         "KSP covers a convicted person released from a Kriminalforsorgen institution, from "
         "`ksp.days_before_release` days before to `ksp.days_after_release` days after release.",
         "KSP: dømt person, der løslades fra en af Kriminalforsorgens institutioner, inden for det "
         "aftalte tidsrum omkring løsladelsen.",
         "KSP: a convicted person released from a Kriminalforsorgen institution, within the agreed "
         "window around release.",
         ("ksp.days_before_release", "ksp.days_after_release")),
    Rule("RPL115-1-3-b", "Retsplejeloven § 115, stk. 1, nr. 3, litra b (KSP)", _AG, _D, _O.SHARE,
         "KSP covers a convicted person under 18 on the release date, released from placement outside "
         "Kriminalforsorgen (straffuldbyrdelsesloven § 78, stk. 2), within the KSP window.",
         "KSP: dømt person under 18 år, der løslades fra anbringelse uden for Kriminalforsorgen "
         "(straffuldbyrdelseslovens § 78, stk. 2), inden for det aftalte tidsrum.",
         "KSP: a convicted person under 18 released from placement outside Kriminalforsorgen "
         "(straffuldbyrdelsesloven § 78(2)), within the agreed window.",
         ("ksp.days_before_release", "ksp.days_after_release")),
    Rule("RPL115-1-3-c", "Retsplejeloven § 115, stk. 1, nr. 3, litra c (KSP)", _AG, _D, _O.SHARE,
         "KSP covers a person released from custody or other deprivation of liberty who is judged "
         "radicalised or at risk of it, within the KSP window.",
         "KSP: person, der løslades fra varetægt eller anden frihedsberøvelse, og som vurderes at "
         "være radikaliseret eller i risiko for det, inden for det aftalte tidsrum.",
         "KSP: a person released from custody or other deprivation of liberty who is judged "
         "radicalised or at risk of it, within the agreed window.",
         ("ksp.days_before_release", "ksp.days_after_release")),
    Rule("RPL115-NOMATCH", "Retsplejeloven § 115, stk. 1", _AG, _D, _O.WITHHOLD,
         "When no cooperation covers the person for the structure referred to, nothing is shared.",
         "Personen er ikke omfattet af det samarbejde, der henvises til (SSP/SSP+: alder inden for "
         "aftalens grænser; PSP: socialt udsat; KSP: løsladelse inden for aftalens tidsrum). "
         "Der deles intet.",
         "The person is not covered by the cooperation referred to (SSP/SSP+: age within the agreed "
         "bands; PSP: socially vulnerable; KSP: release within the agreed window). Nothing is shared."),
    Rule("RPL115-OUTSIDE", "Forvaltningsloven § 27; straffeloven § 152; databeskyttelsesloven § 8",
         _S, _D, _O.WITHHOLD,
         "A municipal department outside SSP/PSP/KSP is not covered by § 115: without consent (the "
         "person's; for a child both the child's and the guardians') it receives nothing.",
         "Forvaltninger uden for SSP, PSP og KSP er ikke omfattet af retsplejelovens § 115 og får "
         "kun oplysninger med samtykke. Der er ikke samtykke, så der deles intet.",
         "Departments outside SSP, PSP and KSP are not covered by Retsplejeloven § 115 and receive "
         "information only with consent. There is no consent, so nothing is shared."),
    Rule("RPL115-OUTSIDE-CONSENT", "Forvaltningsloven § 27; databeskyttelsesloven § 8",
         _AG, _D, _O.CONDITION,
         "With consent a municipal department outside the structures may receive, but only the fields "
         "in `departments_with_consent` (never health information).",
         "Der er samtykke: forvaltningen uden for SSP, PSP og KSP får kun de felter, den lokale "
         "aftale tillader for forvaltninger.",
         "There is consent: the department outside SSP, PSP and KSP gets only the fields the local "
         "agreement allows for departments.",
         ("departments_with_consent",)),
    Rule("RPL115-OUTSIDE-CONSENT-UNCLEAR", "Forvaltningsloven § 27; databeskyttelsesloven § 8",
         _S, _D, _O.ESCALATE,
         "When a department outside the structures would need consent and it is unclear (a child "
         "where only one of child and guardians consented, or an unknown age), a person decides.",
         "Samtykket er uklart (barnet og forældremyndighedens indehavere er ikke enige, eller "
         "alderen kendes ikke). En medarbejder skal afklare samtykket.",
         "Consent is unclear (the child and the guardians do not agree, or the age is unknown). "
         "A member of staff must clarify consent."),
    Rule("NOPERSON", "Databeskyttelsesforordningen art. 4, nr. 1", _S, (Stage.DISCLOSE, Stage.FIELDS),
         _O.SHARE,
         "An area observation identifies nobody: a participant may get its non-personal facts "
         "(categories, time, place, district, reporter's role) and nothing else.",
         "Områdeobservation uden en identificerbar person: kun oplysninger, der ikke kan føres "
         "tilbage til en person, deles.",
         "Area observation without an identifiable person: only information that cannot be traced "
         "to a person is shared."),
    # --- Data minimisation and data protection ---------------------------------------------------
    Rule("MIN-FIELDS", "Databeskyttelsesforordningen art. 5, stk. 1, litra c", _AG, _F, _O.FIELDS,
         "A recipient gets only the fields the agreement allows for its kind (`fields.<kind>`), and "
         "only those the report actually holds.",
         "Dataminimering: modtageren får kun de felter, den lokale aftale tillader for dens type.",
         "Data minimisation: the recipient gets only the fields the local agreement allows for its "
         "kind.",
         ("fields",)),
    Rule("MIN-FIELDS-EMPTY", "Databeskyttelsesforordningen art. 5, stk. 1, litra c", _AG, _F, _O.WITHHOLD,
         "When the allow-list leaves no field the report holds (e.g. the agreement lists none for the "
         "recipient's kind), nothing is shared: a referral without content is no referral.",
         "Den lokale aftale tillader ingen af henvendelsens oplysninger til denne type modtager, så der "
         "deles intet.",
         "The local agreement allows none of the report's information to this kind of recipient, so nothing "
         "is shared.",
         ("fields",)),
    Rule("HEALTH-PSP", "Retsplejeloven § 115, stk. 1, nr. 2; forvaltningsloven § 27", _S, _F,
         _O.FIELDS,
         "Health and psychiatric fields go only to PSP participants in PSP; they are removed for "
         "every other recipient and structure, whatever the allow-list says.",
         "Helbreds- og psykiatrioplysninger forlader ikke PSP og er fjernet fra det, der deles.",
         "Health and psychiatric information does not leave PSP and has been removed from what is "
         "shared."),
    Rule("DBL-8", "Databeskyttelsesloven § 8", _S, (Stage.ASSESS, Stage.FIELDS), _O.NOTE,
         "Criminal-offence data is processed because it is necessary for the crime-prevention task, "
         "and passed on only with a basis (§ 115, or consent).",
         "Oplysninger om strafbare forhold behandles, fordi det er nødvendigt for den "
         "kriminalpræventive opgave, og videregives kun med hjemmel.",
         "Criminal-offence data is processed because it is necessary for the crime-prevention task, "
         "and passed on only with a legal basis."),
    Rule("DBL-11", "Databeskyttelsesloven § 11", _S, (Stage.ASSESS, Stage.FIELDS), _O.NOTE,
         "The CPR number is used for unique identification only: as the case key, and passed on only "
         "where the recipient's allow-list includes it.",
         "CPR-nummeret bruges kun til entydig identifikation af personen.",
         "The CPR number is used only for unique identification of the person."),
    # --- Straffeloven § 141: the duty to avert a crime --------------------------------------------
    Rule("STRFL141", "Straffeloven § 141", _S, _A, _O.NOTIFY,
         "A report flagged as a planned serious crime against life or health goes to the urgent queue "
         "and raises an immediate police alert, whatever else happens (the offences covered are "
         "listed in `straffeloven_141.offences`).",
         "Der er oplysninger om en planlagt alvorlig forbrydelse mod liv eller helbred. Politiet "
         "alarmeres straks (afværgepligt).",
         "There is information about a planned serious crime against life or health. The police are "
         "alerted at once (duty to avert).",
         ("straffeloven_141.offences",)),
    # --- Barnets lov § 133: the enhanced duty to notify -------------------------------------------
    Rule("BL133-1-1", "Barnets lov § 133, stk. 1, nr. 1", _S, _A, _O.NOTIFY,
         "A child under 18 who may need special support (a support category, or the child-at-risk "
         "flag) requires a notification to children's services.",
         "Der er grund til at antage, at et barn under 18 år kan have behov for særlig støtte. "
         "DKE skal underrette Børn, Kultur & Velfærd.",
         "There is reason to believe a child under 18 may need special support. DKE must notify "
         "children's services."),
    Rule("BL133-1-2", "Barnets lov § 133, stk. 1, nr. 2", _S, _A, _O.NOTIFY,
         "A child who may need special support right after birth because of the expectant parents' "
         "situation requires a notification.",
         "Et barn kan få behov for særlig støtte straks efter fødslen på grund af de vordende "
         "forældres forhold. DKE skal underrette.",
         "A child may need special support right after birth because of the expectant parents' "
         "situation. DKE must notify."),
    Rule("BL133-1-3", "Barnets lov § 133, stk. 1, nr. 3", _S, _A, _O.NOTIFY,
         "A child under 18 reported for unlawful school absence requires a notification.",
         "Et barn under 18 år kan have behov for særlig støtte på grund af ulovligt skolefravær. "
         "DKE skal underrette.",
         "A child under 18 may need special support because of unlawful school absence. DKE must "
         "notify."),
    Rule("BL133-1-4", "Barnets lov § 133, stk. 1, nr. 4", _S, _A, _O.NOTIFY,
         "A child under 18 who may have been subjected to abuse requires a notification, and the "
         "report goes to the urgent queue.",
         "Et barn under 18 år kan have været udsat for overgreb. DKE skal underrette straks.",
         "A child under 18 may have been subjected to abuse. DKE must notify at once."),
    Rule("BL133-2", "Barnets lov § 133, stk. 2", _S, _A, _O.NOTIFY,
         "Unlawful absence of 15 % or more in a quarter requires a notification (the head teacher's "
         "duty; the threshold is statute).",
         "Ulovligt fravær på 15 % eller mere i et kvartal. Der skal underrettes.",
         "Unlawful absence of 15 % or more in a quarter. A notification is required."),
    Rule("BL-ASSESS-24H", "Barnets lov §§ 136-137 (kommunens behandling af underretninger)", _S, _A,
         _O.DEADLINE,
         "When a notification is issued, the municipality must assess within 24 hours whether the "
         "child's health or development is in danger and acute measures are needed.",
         "Kommunen skal inden 24 timer vurdere, om barnets sundhed eller udvikling er i fare, og "
         "om der er behov for akutte foranstaltninger.",
         "Within 24 hours the municipality must assess whether the child's health or development is "
         "in danger and whether acute measures are needed."),
    Rule("BL-RECEIPT-6D", "Barnets lov §§ 136-137 (kommunens behandling af underretninger)", _S, _A,
         _O.DEADLINE,
         "A professional notifier (a public employee) gets a receipt within 6 working days; weekends "
         "and Danish public holidays do not count. Anonymous and private notifiers get none.",
         "Indberetteren er fagperson og skal have en kvittering for modtagelsen inden 6 hverdage.",
         "The reporter is a professional and must get a receipt within 6 working days."),
    # --- DKE's triage practice: levels and queues (PRO model) -------------------------------------
    Rule("LEVEL-III", "Albertslund DKE: niveauinddeling (lokal praksis)", _P, _A, _O.LEVEL,
         "Serious crime, weapons or a planned serious crime suggest Niveau III (the operative group).",
         "Foreslået Niveau III (kvalificeret kriminalitet): sagen hører til operativgruppen.",
         "Suggested Niveau III (serious crime): the case belongs with the operative group."),
    Rule("LEVEL-II", "Albertslund DKE: niveauinddeling (lokal praksis)", _P, _A, _O.LEVEL,
         "Crime, violence, vandalism or gang affiliation suggest Niveau II (case meetings).",
         "Foreslået Niveau II (kriminalitet): sagen hører til et sagsmøde.",
         "Suggested Niveau II (crime): the case belongs in a case meeting."),
    Rule("LEVEL-I", "Albertslund DKE: niveauinddeling (lokal praksis)", _P, _A, _O.LEVEL,
         "Any other report about a person suggests Niveau I (risk behaviour, coordination meeting).",
         "Foreslået Niveau I (risikoadfærd): sagen hører til et koordinationsmøde.",
         "Suggested Niveau I (risk behaviour): the case belongs in a coordination meeting."),
    Rule("ROUTE-URGENT", "Straffeloven § 141; Barnets lov § 133, stk. 1, nr. 4", _S, _A, _O.QUEUE,
         "A planned serious crime, or suspected abuse of a child, goes to the urgent queue.",
         "Liv eller helbred kan være i fare nu: sagen er lagt i den akutte kø.",
         "Life or health may be at stake now: the case is in the urgent queue."),
    Rule("ROUTE-PROACTIVE", "PRO-modellen (lokal praksis)", _P, _A, _O.QUEUE,
         "A report about no identifiable person goes to the proactive pillar.",
         "Ingen enkeltperson: sagen hører til det proaktive koordinatorområde.",
         "No single person: the case belongs with the proactive pillar."),
    Rule("ROUTE-OPERATIVE", "PRO-modellen (lokal praksis)", _P, _A, _O.QUEUE,
         "A Niveau I case about street risk behaviour, vandalism or gang affiliation goes to the "
         "operative team.",
         "Ung med risikoadfærd i gademiljøet: sagen hører til det operative pædagogiske team.",
         "A young person with risk behaviour in the street: the case belongs with the operative team."),
    Rule("ROUTE-REACTIVE", "PRO-modellen (lokal praksis)", _P, _A, _O.QUEUE,
         "Any other individual case goes to the reactive pillar (enkeltsagsbehandling).",
         "Enkeltsag: sagen hører til det reaktive koordinatorområde.",
         "Individual case: the case belongs with the reactive pillar."),
)

RULES: dict[str, Rule] = {r.id: r for r in _TABLE}
if len(RULES) != len(_TABLE):  # pragma: no cover - a duplicate id is a programming error
    raise RuntimeError("duplicate rule id in the rule table")

# Precomputed once: decisions reuse these frozen values instead of building new ones.
REASONS: dict[str, Reason] = {r.id: Reason(rule_id=r.id, da=r.da, en=r.en) for r in _TABLE}
CITATIONS: dict[str, str] = {r.id: r.citation for r in _TABLE}


def _table_digest() -> str:
    text = "\n".join(
        "\x1f".join((r.id, r.citation, r.layer, ",".join(r.stages), r.outcome, r.da, r.en))
        for r in _TABLE
    )
    return hashlib.sha256(text.encode()).hexdigest()


# The policy's own version: the release name plus a hash of the rule table.
POLICY_DIGEST = _table_digest()
POLICY_LABEL = f"{POLICY_VERSION}#{POLICY_DIGEST[:8]}"


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]


def reason(rule_id: str) -> Reason:
    return REASONS[rule_id]

"""Whether each citation in the rule table has been checked against a statute text, and where.

A rule's citation may name several provisions ("Forvaltningsloven § 27; straffeloven § 152");
each part (`parts`) has one entry in `CHECKS`: *checked* (the provision's text, or the
ministry's guidance quoting it, was read and carries the rule; the source is given),
*unconfirmed* (not found in a text we could read, or only in part: the note says what is
missing), or *local* (not statute: the local agreement or DKE's own practice). docs/policies.md
shows the status of every citation from here, and a test requires an entry for every part of
every rule's citation, so a new or changed citation cannot go undocumented.

The sources are what the project's reference search holds (retsinformation.dk's own pages are not
in it): pages that quote the statute's text (elov.dk, danskelove.dk, gdprinfo.eu, a municipality's
SSP page) and the ministries' guidance. A citation checked against a quotation is only as good as
the quotation; each source is named so that the legal team can check it against retsinformation.dk.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CHECKS", "Check", "Source", "Status", "check_of", "parts", "statuses"]


class Status(StrEnum):
    CHECKED = "checked"
    UNCONFIRMED = "unconfirmed"
    LOCAL = "local"  # not a statute: nothing to check against


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    sources: tuple[Source, ...] = ()
    note: str = ""  # English: what the source confirms, or what is still missing


_RPL115 = Source(
    "Aalborg Kommune, SSP: Retsplejeloven § 115 (the text of stk. 1-3 quoted)",
    "https://ssptrivsel.aalborg.dk/for-professionelle/retsplejeloven-115",
)
_DBL8 = Source("Databeskyttelsesloven § 8 (elov.dk)", "https://elov.dk/lov-om-supplerende-bestemmelser-til-forordning-om-beskyttelse-af-fysiske-personer-i-forbindelse-med-behandling-af-personoplysninger-og-om-fri-udveksling-af-sadanne-oplysninger-databeskyttelsesloven/paragraf/8")
_DBL11 = Source("Databeskyttelsesloven § 11 (elov.dk)", "https://www.elov.dk/lov-om-supplerende-bestemmelser-til-forordning-om-beskyttelse-af-fysiske-personer-i-forbindelse-med-behandling-af-personoplysninger-og-om-fri-udveksling-af-sadanne-oplysninger-databeskyttelsesloven/paragraf/11/")
_FVL27 = Source(
    "Skattestyrelsen, Juridisk vejledning: tavshedspligt efter forvaltningsloven § 27 og straffeloven § 152",
                "https://info.skat.dk/data.aspx?oid=1898699&chk=215594")
_GDPR4 = Source("Databeskyttelsesforordningen art. 4 (dansk tekst, gdprinfo.eu)", "https://gdprinfo.eu/da/da-article-4")
_GDPR5 = Source("Databeskyttelsesforordningen art. 5 (dansk tekst, gdprinfo.eu)", "https://gdprinfo.eu/da/da-article-5")
_BL133 = Source("Greve Kommune, handleguide: underretning efter barnets lov § 133", "https://handleguide.dk/underretning")
_SEL153 = Source("Serviceloven § 153 (danskelove.dk): the predecessor, same wording", "https://danskelove.dk/serviceloven/152-154")
_VEJ9471 = Source(
    "VEJ nr 9471 af 21/06/2024, Vejledning om sagsbehandling efter barnets lov, kap. 2 (barnets lovs §§ 136-137)",
    "https://regelrytter.dk/https-www-retsinformation-dk-api-pdf-244358",
)
_SM = Source("Social- og Boligministeriet: Kommunens pligt (24 timer)",
             "https://www.sm.dk/arbejdsomraader/boern-og-unge-i-udsatte-positioner/underretningspligt/kommunens-pligt")
_GDPR6 = Source("Databeskyttelsesforordningen art. 6 (dansk tekst, gdprinfo.eu)", "https://gdprinfo.eu/da/da-article-6")
_GDPR9 = Source("Databeskyttelsesforordningen art. 9 (dansk tekst, gdprinfo.eu)", "https://gdprinfo.eu/da/da-article-9")
_FVL28 = Source("Forvaltningsloven § 28 (danskelove.dk)", "https://danskelove.dk/forvaltningsloven/28")
_SEL154 = Source("Viborg Kommune: serviceloven § 154 quoted (the general duty to notify)",
                 "https://kommune.viborg.dk/Borger/Boern,-unge-og-familie/Svigt-eller-overgreb/Hvad-goer-jeg-som-borger/Lovgivning")
_SEL155B = Source("Lejre Kommune: feedback to a professional notifier (serviceloven § 155 b, stk. 2 and 3)",
                  "https://www.lejre.dk/borger/boern-unge-og-familie/boern-og-unge-med-saerlig-behov/mistrives-et-barn-underret-kommunen/hvad-sker-der-naar-jeg-underretter")
_L87 = Source("L 87 (2024-25) som fremsat: ændring af barnets lov § 137, stk. 1", "https://polspy.org/dk/dokumenter/1128878")

# Keyed by the citation part, case-folded (`_key`).
CHECKS: dict[str, Check] = {
    "retsplejeloven § 115, stk. 1": Check(
        Status.CHECKED, (_RPL115,), "The three cooperations, each only where necessary."),
    "retsplejeloven § 115, stk. 2": Check(
        Status.CHECKED, (_RPL115,),
        "Other participants disclose to the same extent; never for the investigation of criminal cases."),
    "retsplejeloven § 115, stk. 1 og 2": Check(
        Status.CHECKED, (_RPL115,),
        "\"må anses for nødvendig\" is in stk. 1 (the police); stk. 2 lets the other participants disclose "
        "\"i samme omfang\". Stk. 4 (formerly cited) is not the necessity requirement."),
    "retsplejeloven § 115, stk. 1-3": Check(Status.CHECKED, (_RPL115,), "Who takes part: stk. 1-2, and stk. 3."),
    "retsplejeloven § 115, stk. 3": Check(
        Status.CHECKED, (_RPL115,), "Self-governing institutions, on the same terms."),
    "retsplejeloven § 115, stk. 1, nr. 1 (ssp)": Check(Status.CHECKED, (_RPL115,), "No age limit in the text."),
    "retsplejeloven § 115, stk. 1, nr. 1 (ssp+)": Check(
        Status.CHECKED, (_RPL115,), "SSP+ is SSP with a locally agreed age band; the statute has no age limit."),
    "retsplejeloven § 115, stk. 1, nr. 2 (psp)": Check(Status.CHECKED, (_RPL115,), "Socially vulnerable persons."),
    "retsplejeloven § 115, stk. 1, nr. 3, litra a (ksp)": Check(
        Status.CHECKED, (_RPL115,),
        "Released from Kriminalforsorgen's institutions (the quoted text lists it without a letter)."),
    "retsplejeloven § 115, stk. 1, nr. 3, litra b (ksp)": Check(
        Status.CHECKED, (_RPL115,), "Under 18, placed under straffuldbyrdelseslovens § 78, stk. 2."),
    "retsplejeloven § 115, stk. 1, nr. 3, litra c (ksp)": Check(
        Status.UNCONFIRMED, (_RPL115,),
        "The quoted text predates litra c (custody, radicalisation); the current wording was not found."),
    "forvaltningsloven § 27": Check(Status.CHECKED, (_FVL27,), "The duty of confidentiality in public administration."),
    "straffeloven § 152": Check(Status.CHECKED, (_FVL27,), "Cited with forvaltningsloven § 27 as the penal provision."),
    "databeskyttelsesloven § 8": Check(
        Status.CHECKED, (_DBL8,),
        "Criminal-offence data: only where necessary; disclosure e.g. with express consent (stk. 2, nr. 1)."),
    "databeskyttelsesloven § 11": Check(Status.CHECKED, (_DBL11,), "CPR numbers for unique identification."),
    "databeskyttelsesforordningen art. 4, nr. 1": Check(Status.CHECKED, (_GDPR4,), "The definition of personal data."),
    "databeskyttelsesforordningen art. 5, stk. 1, litra c": Check(
        Status.CHECKED, (_GDPR5,), "Data minimisation: adequate, relevant and limited to what is necessary."),
    "straffeloven § 141": Check(
        Status.UNCONFIRMED, (), "Neither the text of § 141 nor its list of offences was found in the texts searched."),
    "barnets lov § 133, stk. 1, nr. 1": Check(Status.CHECKED, (_BL133, _SEL153), "May need special support."),
    "barnets lov § 133, stk. 1, nr. 2": Check(
        Status.CHECKED, (_BL133, _SEL153), "Right after birth (expectant parents)."),
    "barnets lov § 133, stk. 1, nr. 3": Check(Status.CHECKED, (_BL133, _SEL153), "Unlawful school absence."),
    "barnets lov § 133, stk. 1, nr. 4": Check(Status.CHECKED, (_BL133, _SEL153), "Abuse (overgreb)."),
    "barnets lov § 133, stk. 2": Check(
        Status.UNCONFIRMED, (_SEL153,),
        "The 15 % per quarter duty of head teachers is confirmed in the predecessor (serviceloven § 153, stk. 2); "
        "its place in barnets lov § 133 was not found."),
    "barnets lov § 136, stk. 2": Check(
        Status.UNCONFIRMED, (_VEJ9471, _SM),
        "The 24-hour assessment and that §§ 136-137 govern the handling of notifications are confirmed; the "
        "subsection (stk. 2) was not found in a text the search holds."),
    "barnets lov § 137, stk. 1": Check(
        Status.UNCONFIRMED, (_VEJ9471, _L87, _SEL155B),
        "The receipt within 6 working days and § 137, stk. 1 (the professional notifier's feedback) are confirmed; "
        "the receipt's exact place in stk. 1 was not found. Feedback: in the predecessor (serviceloven § 155 b, "
        "stk. 2) a professional notifier is told whether the notification led to an investigation or measures; "
        "municipal pages say private notifiers are told nothing more. No time limit for the feedback was found "
        "in the texts searched, so the hub sets no clock for it."),
    "barnets lov § 134": Check(
        Status.UNCONFIRMED, (_SEL154, _VEJ9471),
        "The general duty (anyone who learns a child is neglected, degraded or endangered) is confirmed in its "
        "predecessor, serviceloven § 154 (quoted by Viborg Kommune); the guidance's chapter 1 covers barnets lovs "
        "§§ 132-135. Its number in barnets lov was not found in a text the search holds: § 134 as we read it, "
        "one regional page says § 135. Check against retsinformation.dk."),
    "lokal aftale (dataminimering)": Check(
        Status.LOCAL, (), "The agreement's choice to keep health data in PSP; § 115 itself does not require it."),
    "albertslund dke: niveauinddeling (lokal praksis)": Check(
        Status.LOCAL, (), "DKE's levels (Niveau I-III), from its 2018 half-year report (shared/seeds)."),
    "pro-modellen (lokal praksis)": Check(Status.LOCAL, (), "DKE's three pillars (shared/seeds)."),
    "lokal aftale (straffeloven_141.offences)": Check(
        Status.LOCAL, (), "Which offences the agreement lists, with their sections; a report must name one of them."),
    "albertslund dke: akut kø (lokal praksis)": Check(
        Status.LOCAL, (), "Planned danger outside the § 141 list goes urgent to DKE, with no police alert."),
    "lokal aftale (private_matters)": Check(
        Status.LOCAL, (), "Which purely private categories, and whether the description, may go to whom."),
    "databeskyttelsesforordningen art. 6, stk. 1, litra a, og art. 9, stk. 2, litra a": Check(
        Status.CHECKED, (_GDPR6, _GDPR9), "Consent as the basis; explicit consent for special categories."),
    "forvaltningsloven § 28, stk. 2, nr. 1": Check(
        Status.CHECKED, (_FVL28,), "Confidential information to another authority when the person "
        "\"udtrykkeligt har givet samtykke\"."),
    "lokal aftale (consent)": Check(
        Status.LOCAL, (), "Who may receive on consent, and from which age the child's own consent counts."),
    "social- og boligstyrelsen, anbefaling 8 om underretninger ved overgreb (vejledning)": Check(
        Status.UNCONFIRMED, (),
        "National guidance that the custody holders are not told when suspected; its text was not found "
        "in the search corpus."),
    "barnets lov: orientering af forældremyndighedens indehaver og barnet fra 15 år (bestemmelse ikke fundet)": Check(
        Status.UNCONFIRMED, (),
        "Who is informed of a notification; the provision in barnets lov was not found in the search corpus."),
}


def _key(part: str) -> str:
    return part.casefold()


def parts(citation: str) -> tuple[str, ...]:
    """The provisions a citation names, as cited (separated by '; ')."""
    return tuple(p.strip() for p in citation.split(";") if p.strip())


def check_of(part: str) -> Check | None:
    """The check of one citation part (None: nobody has recorded one)."""
    return CHECKS.get(_key(part))


def statuses(citation: str) -> tuple[str, ...]:
    """The status of each part of a citation, in order ("not recorded" where there is no check)."""
    return tuple((c.status.value if (c := check_of(p)) is not None else "not recorded") for p in parts(citation))

"""Disclosure rules: may this partner receive this case, in this structure, and exactly which fields?

Retsplejeloven § 115 is the legal basis inside SSP, PSP and KSP; consent is the only basis
for a municipal department outside them. The local agreement supplies the age bands, the KSP
window, who takes part and the field allow-lists.

Every rule returns a `Verdict` or None (does not apply). Three kinds of rule:
- conditions (purpose, justification, membership, self-governing, consent) that can
  withhold or escalate;
- basis rules (SSP, SSP+, PSP, KSP litra a-c, area observation): which cooperation covers
  the person; if none does, RPL115-NOMATCH withholds;
- field rules, applied only to a share: minimisation, health stays in PSP, CPR for
  identification, criminal-offence data.
`combine` (default withhold, withhold wins) makes the decision. The rule functions and their
tables live here; `PolicyEngine.disclose` (engine.py) runs them and builds the decision.
Pure: the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from hub.policies.agreement import Agreement, Derived
from hub.policies.assess import holds_criminal_data
from hub.policies.decision import Effect, Verdict
from hub.policies.facts import SELF_GOVERNING_KINDS, PartnerKind, Recipient, age_on, born
from hub.policies.fields import CRIMINAL_DATA_FIELDS, HEALTH_FIELDS, NON_PERSONAL_FIELDS
from hub.policies.private_matters import minimise_private
from hub.policies.rules import (
    CONSENT,
    DBL_8,
    DBL_11,
    HEALTH_PSP,
    MIN_FIELDS,
    MIN_FIELDS_EMPTY,
    NO,
    NOPERSON,
    OLDER_BAND,
    PRIVATE_CATEGORIES,
    PRIVATE_DESCRIPTION,
    RPL115_1_1,
    RPL115_1_1_AGE,
    RPL115_1_1_AGE_ANSWERED,
    RPL115_1_1_AGE_OLDER,
    RPL115_1_1_PLUS,
    RPL115_1_2,
    RPL115_1_2_ANSWERED,
    RPL115_1_2_CHECK,
    RPL115_1_2_NOT_VULNERABLE,
    RPL115_1_3_A,
    RPL115_1_3_B,
    RPL115_1_3_C,
    RPL115_2,
    RPL115_3,
    RPL115_4,
    RPL115_MEMBER,
    RPL115_NOMATCH,
    RPL115_OUTSIDE,
    RPL115_OUTSIDE_CONSENT,
    RPL115_OUTSIDE_CONSENT_CONFIRMED,
    RPL115_OUTSIDE_CONSENT_DENIED,
    RPL115_OUTSIDE_CONSENT_UNCLEAR,
    SSP_BAND,
    SSP_PLUS_BAND,
    YES,
    Binding,
    RuleTable,
    rule_ids,
)
from hub.schemas.dates import danish_date
from hub.schemas.decision import Structure
from hub.schemas.report import Category, ConcernReport, Custody, CustodyKind, Purpose, Subject

ADULT_AGE = 18  # Retsplejeloven § 115, stk. 1, nr. 3, litra b: "under 18 år"


class Request(BaseModel):
    """One question to `disclose`: this case, to this recipient, in this structure, for this
    purpose, with this necessity justification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    report: ConcernReport
    recipient: Recipient
    structure: Structure
    purpose: Purpose
    justification: str
    # Why the free-text description must go along (PRIVATE-DESCRIPTION): without it, it stays.
    description_justification: str = ""
    # A person's answers to the questions of escalating rules (`rules.QUESTIONS`), for this
    # recipient: asking rule id -> the answer's value. Read only by a rule that asks that question
    # (and only when it would ask it); the rule then decides with the answer.
    answers: dict[str, str] = Field(default_factory=dict)


class Facts(NamedTuple):
    """What the disclosure rules read, derived once per request (a tuple: cheap to build).

    The request's parts the rules read often are copied out of the pydantic models, whose
    attributes are several times slower to read; `derived` holds the agreement's values."""

    req: Request
    recipient: Recipient  # req.recipient
    kind: PartnerKind  # req.recipient.kind
    structure: Structure  # req.structure
    agreement: Agreement
    derived: Derived
    now: datetime
    subject: Subject | None
    age: int | None
    department: bool  # a municipal department outside SSP/PSP/KSP
    released: Custody | None  # the custody, if KSP is referred to and now is within its window
    # For a recipient kind the agreement lets receive with consent (and a subject): whether the
    # consent is valid (None: unclear), and if it is, the consented fields (CONSENT).
    consent_ok: bool | None
    consent_fields: frozenset[str] | None
    consent_answered: bool  # consent was unclear and `consent_ok` is a person's answer


RuleFn = Callable[[Facts], Verdict | None]

# Module names for enum members: reading `Structure.SSP` goes through the enum class each time.
SHARE, WITHHOLD, ESCALATE = Effect.SHARE, Effect.WITHHOLD, Effect.ESCALATE
SSP, PSP, KSP = Structure.SSP, Structure.PSP, Structure.KSP
INVESTIGATION = Purpose.INVESTIGATION
PRISON, PLACEMENT = CustodyKind.PRISON, CustodyKind.PLACEMENT

# --- Conditions ----------------------------------------------------------------------------------


def rpl115_2(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 2: never for the purpose of investigating criminal cases."""
    return RPL115_2.withhold if f.req.purpose is INVESTIGATION else None


def rpl115_4(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1 (the police) and stk. 2 (every other participant, "i samme
    omfang"): information is passed on only where it "må anses for nødvendig", so a disclosure
    must be justified as necessary in the case at hand. Missing, blank or shorter than the
    agreement's minimum is no justification. (The rule id keeps its old name: ids are stable.)"""
    # The agreement's necessity.min_justification_chars (copied into `derived`).
    if len(f.req.justification.strip()) < f.derived.min_justification_chars:
        return RPL115_4.withhold
    return None


def rpl115_member(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1-3: only participants receive. The registry must place the
    partner in the structure, and its kind must take part in it (SSP+ for young adults). With
    valid consent to a consent recipient the structures do not decide (CONSENT)."""
    if f.consent_fields is not None:
        return None
    structure, d = f.structure, f.derived
    if structure not in f.recipient.structures:
        return RPL115_MEMBER.withhold
    if f.department:
        return None  # outside the structures: the consent rules decide
    if structure is not SSP:
        ssp_plus = False
    elif f.age is not None:
        ssp_plus = d.ssp_max_age <= f.age < d.ssp_plus_max_age
    else:  # unknown age: the band a person answered (RPL115-1-1-AGE-ANSWERED), if any
        ssp_plus = f.req.answers.get(RPL115_1_1_AGE.id) == SSP_PLUS_BAND and d.ssp_plus_max_age > d.ssp_max_age
    if f.kind not in d.members[(structure, ssp_plus)]:
        return RPL115_MEMBER.withhold
    return None


def rpl115_3(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 3: a self-governing institution takes part on the same terms
    if it does public tasks in the social, education or employment field or in social and
    treatment psychiatry; any other self-governing recipient gets nothing."""
    if not f.recipient.self_governing:
        return None
    return RPL115_3.applies if f.kind in SELF_GOVERNING_KINDS else RPL115_3.withhold


def outside_structures(f: Facts) -> Verdict | None:
    """Forvaltningsloven § 27, straffeloven § 152, databeskyttelsesloven § 8: a department outside
    SSP/PSP/KSP has no § 115 basis and receives only with consent: an adult's own; for a child
    both the child's and the guardians'. Disagreement or an unknown age needs a person."""
    if not f.department or f.subject is None:
        return None
    ok = f.consent_ok
    if ok is None:
        return RPL115_OUTSIDE_CONSENT_UNCLEAR.escalate
    if f.consent_answered:  # unclear, and a person answered (`facts`)
        return RPL115_OUTSIDE_CONSENT_CONFIRMED.applies if ok else RPL115_OUTSIDE_CONSENT_DENIED.withhold
    return RPL115_OUTSIDE_CONSENT.applies if ok else RPL115_OUTSIDE.withhold


def consent_state(report: ConcernReport, age: int | None, child_from_age: int) -> bool | None:
    """Whether there is valid consent: an adult's own; for a child the custody holders', and from
    `child_from_age` (the agreement's) also the child's. None: unclear (only one of the two that
    are needed, or an unknown age with only one)."""
    consent = report.consent
    if age is not None and age >= ADULT_AGE:
        return consent.subject
    if consent.guardians and (consent.subject or (age is not None and age < child_from_age)):
        return True
    if consent.subject or consent.guardians:
        return None  # only one of them: unclear
    return False


def consent_basis(f: Facts) -> Verdict | None:
    """Consent as a basis of its own (GDPR art. 6(1)(a) and 9(2)(a); forvaltningsloven § 28,
    stk. 2, nr. 1): a consent recipient of the agreement with valid consent receives the consented
    fields, whatever the structures say."""
    return CONSENT.share if f.consent_fields is not None else None


# --- Basis: which cooperation covers the person ---------------------------------------------


def rpl115_1_1(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 1: SSP, for a person under the agreed SSP age."""
    if f.structure is SSP and f.age is not None and f.age < f.derived.ssp_max_age:  # ages.ssp_max_age
        return RPL115_1_1.share
    return None


def rpl115_1_1_plus(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 1, extended locally (SSP+) to young adults."""
    d = f.derived  # holds the agreement's ages.ssp_max_age and ages.ssp_plus_max_age
    if f.structure is SSP and f.age is not None and d.ssp_max_age <= f.age < d.ssp_plus_max_age:
        return RPL115_1_1_PLUS.share
    return None


def rpl115_1_1_age(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 1: SSP depends on age; unknown age needs a person, who
    answers with the age band (an SSP+ answer counts only where the agreement has an SSP+ band)."""
    if f.structure is SSP and f.subject is not None and f.age is None:
        band = f.req.answers.get(RPL115_1_1_AGE.id)
        if band == SSP_BAND or (band == SSP_PLUS_BAND and f.derived.ssp_plus_max_age > f.derived.ssp_max_age):
            return RPL115_1_1_AGE_ANSWERED.share
        if band in (SSP_PLUS_BAND, OLDER_BAND):
            return RPL115_1_1_AGE_OLDER.withhold
        return RPL115_1_1_AGE.escalate
    return None


def rpl115_1_2(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 2: PSP, for socially vulnerable persons."""
    if f.structure is PSP and f.subject is not None and f.subject.socially_vulnerable:
        return RPL115_1_2.share
    return None


def rpl115_1_2_check(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 2: psychiatric contact alone does not make a person
    socially vulnerable, nor rule it out; a person judges."""
    s = f.subject
    if f.structure is PSP and s is not None and s.psychiatric_contact and not s.socially_vulnerable:
        answer = f.req.answers.get(RPL115_1_2_CHECK.id)
        if answer == YES:
            return RPL115_1_2_ANSWERED.share
        if answer == NO:
            return RPL115_1_2_NOT_VULNERABLE.withhold
        return RPL115_1_2_CHECK.escalate
    return None


def released_in_window(structure: Structure, subject: Subject | None, derived: Derived, today: date) -> Custody | None:
    """The person's custody, if KSP is referred to and today is within the agreed window around
    release (`Facts.released`, which the KSP rules read)."""
    if structure is not KSP or subject is None:
        return None
    custody = subject.custody
    if custody is None or custody.release_date is None:
        return None
    if custody.release_date - derived.before_release <= today <= custody.release_date + derived.after_release:
        return custody
    return None


def rpl115_1_3_a(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 3, litra a: convicted, released from a Kriminalforsorgen
    institution."""
    c = f.released
    return RPL115_1_3_A.share if c and c.kind is PRISON and c.convicted else None


def _age_at(f: Facts, day: date) -> int | None:
    return age_on(born(f.subject), day) if f.subject is not None else None


def rpl115_1_3_b(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 3, litra b: convicted and under 18, released from
    placement outside Kriminalforsorgen (straffuldbyrdelseslovens § 78, stk. 2). Age is taken
    on the release date."""
    c = f.released
    if c is None or c.kind is not PLACEMENT or not c.convicted or c.release_date is None:
        return None
    age = _age_at(f, c.release_date)
    return RPL115_1_3_B.share if age is not None and age < ADULT_AGE else None


def rpl115_1_3_c(f: Facts) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1, nr. 3, litra c: released from custody or other deprivation of
    liberty, and judged radicalised or at risk of it."""
    c = f.released
    return RPL115_1_3_C.share if c and c.radicalisation_risk else None


def no_person(f: Facts) -> Verdict | None:
    """GDPR art. 4(1): an area observation identifies nobody; its non-personal facts may go to a
    participant (the field rules keep it to those)."""
    return NOPERSON.share if f.subject is None else None


def no_match(f: Facts, basis: list[Verdict]) -> Verdict | None:
    """Retsplejeloven § 115, stk. 1: no cooperation covers the person, so nothing is shared.
    `basis` is what the basis rules said. For a department outside the structures without valid
    consent the consent rules have decided already (withhold, or a person clarifies)."""
    return None if basis or _consent_decided(f) else RPL115_NOMATCH.withhold


def _consent_decided(f: Facts) -> bool:
    return f.department and f.subject is not None and not f.consent_ok


# The rule tables for disclosures: the same `Binding` type the assessment rules use. Order is
# for the reader only: `combine` does not depend on it.
CONDITION_TABLE: RuleTable[Facts] = (
    Binding(RPL115_2, rpl115_2),
    Binding(RPL115_4, rpl115_4),
    Binding(RPL115_MEMBER, rpl115_member),
    Binding(RPL115_3, rpl115_3),
    Binding(
        RPL115_OUTSIDE,
        outside_structures,
        also=(
            RPL115_OUTSIDE_CONSENT,
            RPL115_OUTSIDE_CONSENT_UNCLEAR,
            RPL115_OUTSIDE_CONSENT_CONFIRMED,
            RPL115_OUTSIDE_CONSENT_DENIED,
        ),
    ),
)
# Basis rules per structure: each also checks its structure itself, so running only the
# referred structure's rules is an optimisation, not a rule.
_NOPERSON = Binding(NOPERSON, no_person)
_CONSENT = Binding(CONSENT, consent_basis)
BASIS_TABLES: dict[Structure, RuleTable[Facts]] = {
    Structure.SSP: (
        Binding(RPL115_1_1, rpl115_1_1),
        Binding(RPL115_1_1_PLUS, rpl115_1_1_plus),
        Binding(RPL115_1_1_AGE, rpl115_1_1_age, also=(RPL115_1_1_AGE_ANSWERED, RPL115_1_1_AGE_OLDER)),
        _NOPERSON,
        _CONSENT,
    ),
    Structure.PSP: (
        Binding(RPL115_1_2, rpl115_1_2),
        Binding(RPL115_1_2_CHECK, rpl115_1_2_check, also=(RPL115_1_2_ANSWERED, RPL115_1_2_NOT_VULNERABLE)),
        _NOPERSON,
        _CONSENT,
    ),
    Structure.KSP: (
        Binding(RPL115_1_3_A, rpl115_1_3_a),
        Binding(RPL115_1_3_B, rpl115_1_3_b),
        Binding(RPL115_1_3_C, rpl115_1_3_c),
        _NOPERSON,
        _CONSENT,
    ),
}
# A department outside SSP/PSP/KSP takes no part in § 115: its only bases are consent, and
# for an area observation the non-personal facts.
_DEPARTMENT_BASIS: frozenset[RuleFn] = frozenset({consent_basis, no_person})
# Applied by the engine itself: no basis (NOMATCH), and the field rules of a share.
NOMATCH = RPL115_NOMATCH
FIELD_RULES = (MIN_FIELDS, MIN_FIELDS_EMPTY, HEALTH_PSP, PRIVATE_CATEGORIES, PRIVATE_DESCRIPTION, DBL_11, DBL_8)

# Views by id, for the tests and `evaluate_all`.
CONDITION_RULES: dict[str, RuleFn] = {b.rule.id: b.check for b in CONDITION_TABLE}
BASIS_RULES: dict[Structure, dict[str, RuleFn]] = {
    s: {b.rule.id: b.check for b in table} for s, table in BASIS_TABLES.items()
}
DISCLOSURE_RULES: dict[str, RuleFn] = {
    **CONDITION_RULES,
    **{rid: fn for rules in BASIS_RULES.values() for rid, fn in rules.items()},
}
BASIS_RULE_IDS: frozenset[str] = frozenset(DISCLOSURE_RULES) - frozenset(CONDITION_RULES)
FIELD_RULE_IDS: frozenset[str] = frozenset(r.id for r in FIELD_RULES)
# Every rule id a disclosure can carry (the meta-test checks the rule table against it).
DISCLOSE_RULE_IDS: frozenset[str] = rule_ids(CONDITION_TABLE, *BASIS_TABLES.values()) | {NOMATCH.id} | FIELD_RULE_IDS


# --- Fields ------------------------------------------------------------------------------------

_ALWAYS = ("reporter.name", "reporter.role", "concern.categories", "concern.description")
_OPTIONAL = (
    "reporter.contact",
    "concern.observed_at",
    "concern.location",
    "concern.school_absence_pct",
    "subject.resident",
    "subject.psychiatric_contact",
    "subject.cpr",
    "subject.name",
    "subject.district",
    "subject.custody",
    "subject.birth_date",
)


def present_fields(report: ConcernReport) -> frozenset[str]:
    """The fields this report actually holds a value for."""
    r, c, s = report.reporter, report.concern, report.subject
    mask = (
        (r.contact is not None)
        | (c.observed_at is not None) << 1
        | (c.location is not None) << 2
        | (c.school_absence_pct is not None) << 3
    )
    if s is not None:
        mask |= (
            0b11 << 4
            | (s.cpr is not None) << 6
            | (s.name is not None) << 7
            | (s.district is not None) << 8
            | (s.custody is not None) << 9
            | (s.birth_date is not None) << 10
        )
    return _fields_of_mask(mask)


# Kept as an lru_cache: a pure function of an int (bit i set: _OPTIONAL[i] is present), with
# at most 2**11 distinct arguments, so every frozenset is built once and shared.
@lru_cache(maxsize=2048)
def _fields_of_mask(mask: int) -> frozenset[str]:
    return frozenset(_ALWAYS + tuple(name for i, name in enumerate(_OPTIONAL) if mask >> i & 1))


def base_fields(
    agreement: Agreement,
    kind: PartnerKind,
    structure: Structure,
    department: bool,
    person: bool,
    consented: frozenset[str] | None = None,
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The allow-list for this kind of recipient in this structure (`consented`: the consented
    fields, where consent alone is the basis), and the field rules that shaped it: MIN-FIELDS, and
    HEALTH-PSP where health fields had to go."""
    applied = [MIN_FIELDS.id]
    if consented is not None:
        fields = consented
    else:
        fields = agreement.departments_with_consent if department else agreement.fields.get(kind, frozenset())
    if not person:
        fields = fields & NON_PERSONAL_FIELDS
    if fields & HEALTH_FIELDS and (structure is not PSP or department):
        fields = fields - HEALTH_FIELDS
        applied.append(HEALTH_PSP.id)
    return frozenset(fields), tuple(applied)


class Shaped(NamedTuple):
    """One recipient's fields and what shaped them (`narrowed_fields`)."""

    fields: frozenset[str]
    applied: tuple[str, ...]  # the field rules that applied
    criminal: bool  # the fields can carry criminal-offence data (DBL-8 if the report holds any)
    withheld_categories: frozenset[str]  # private categories taken out of `concern.categories`
    removed: tuple[tuple[str, str], ...]  # what the report holds that does not go, and the rule why


def narrowed_fields(
    agreement: Agreement,
    kind: PartnerKind,
    structure: Structure,
    department: bool,
    person: bool,
    present: frozenset[str],
    categories: frozenset[Category] = frozenset(),
    description_justified: bool = False,
    consented: frozenset[str] | None = None,
) -> Shaped:
    """The allow-list narrowed to the fields the report holds (`present`) and to the purely
    private matters the recipient may get (`categories`: the report's; `description_justified`:
    the decision says why the description must go; `consented`: consent alone is the basis);
    the field rules so far (DBL-11 when the CPR number goes along); and whether the fields can
    carry criminal-offence data, so that DBL-8 applies if the report holds any."""
    base, applied = base_fields(agreement, kind, structure, department, person, consented)
    fields = base & present
    removed = [(name, HEALTH_PSP.id if name in HEALTH_FIELDS else MIN_FIELDS.id) for name in sorted(present - base)]
    private = minimise_private(
        agreement, kind, structure, department or consented is not None, fields, categories, description_justified
    )
    fields, applied = private.fields, applied + private.applied
    if "subject.cpr" in fields:
        applied += (DBL_11.id,)
    return Shaped(
        fields,
        applied,
        not fields.isdisjoint(CRIMINAL_DATA_FIELDS),
        private.withheld_categories,
        (*removed, *private.removed),
    )


def criminal_data_note(f: Facts) -> bool:
    """Whether DBL-8 applies to a share whose fields can carry criminal-offence data: the report
    holds such data about the person."""
    return holds_criminal_data(f.subject, f.req.report.concern.categories)


# --- The decision ------------------------------------------------------------------------------

_DEPARTMENT = PartnerKind.MUNICIPAL_DEPARTMENT
# tuple.__new__(Facts, values) is Facts(*values) without the Python-level __new__ a NamedTuple
# generates (most of the cost of building one); `values` must be in the field order of `Facts`.
_tuple_new = tuple.__new__


def facts(
    req: Request, agreement: Agreement, derived: Derived, now: datetime, age: int | None, today: date | None = None
) -> Facts:
    """The facts of one request; `age` is the subject's age on `today`, `now`'s Danish date (`age_of`;
    worked out here when not given)."""
    report, recipient, structure = req.report, req.recipient, req.structure
    kind, subject = recipient.kind, report.subject
    if today is None:
        today = danish_date(now)
    released = released_in_window(structure, subject, derived, today) if structure is KSP else None
    consent_ok, consented, answered = None, None, False
    offered = derived.consent_fields.get(kind)
    if subject is not None and (offered is not None or kind is _DEPARTMENT):
        consent_ok = consent_state(report, age, derived.child_from_age)
        if consent_ok is None and kind is _DEPARTMENT and req.answers:  # only there is it asked
            answer = req.answers.get(RPL115_OUTSIDE_CONSENT_UNCLEAR.id)
            if answer in (YES, NO):
                consent_ok, answered = answer == YES, True
        if consent_ok and offered is not None:
            asked = report.consent.fields
            consented = offered if asked is None else offered & asked
    return _tuple_new(
        Facts,
        (req, recipient, kind, structure, agreement, derived, now, subject, age, kind is _DEPARTMENT, released,
         consent_ok, consented, answered),
    )


def evaluate_all(f: Facts) -> list[Verdict]:
    """Every rule's verdict on the request, NOMATCH included: the reference evaluation."""
    verdicts = [v for fn in CONDITION_RULES.values() if (v := fn(f)) is not None]
    basis = [
        v
        for rid, fn in DISCLOSURE_RULES.items()
        if rid in BASIS_RULE_IDS and (not f.department or fn in _DEPARTMENT_BASIS) and (v := fn(f)) is not None
    ]
    if (nm := no_match(f, basis)) is not None:
        basis.append(nm)
    return verdicts + basis


# An index over the same rule table, so the hot path calls only the rules whose own guard can
# pass: the consent rules only for departments, RPL115-3 only for self-governing recipients,
# the basis rules only for the structure referred to, and NOPERSON only without a person.
# Keyed on (department, self-governing, structure, person): the condition rules and the basis
# rules to run. A property test checks `evaluate` against `evaluate_all`.
_APPLICABLE: dict[tuple[bool, bool, Structure, bool], tuple[tuple[RuleFn, ...], tuple[RuleFn, ...]]] = {
    (department, self_governing, structure, person): (
        tuple(
            fn
            for fn in CONDITION_RULES.values()
            if (fn is not outside_structures or department) and (fn is not rpl115_3 or self_governing)
        ),
        tuple(  # in the rule table's order, as `evaluate_all` runs them (the reasons' order)
            fn
            for fn in DISCLOSURE_RULES.values()
            if fn in rules.values()
            and (fn is no_person) is not person
            and (not department or fn in _DEPARTMENT_BASIS)
        ),
    )
    for department in (False, True)
    for self_governing in (False, True)
    for structure, rules in BASIS_RULES.items()
    for person in (False, True)
}


_NOMATCH_WITHHOLD = NOMATCH.withhold


def evaluate(f: Facts) -> list[Verdict]:
    """Every applicable rule's verdict on the request, NOMATCH included."""
    conditions, basis = _APPLICABLE[f.department, f.recipient.self_governing, f.structure, f.subject is not None]
    verdicts = []  # plain loops: this is the hot path
    for fn in conditions:
        if (v := fn(f)) is not None:
            verdicts.append(v)
    before_basis = len(verdicts)
    for fn in basis:
        if (v := fn(f)) is not None:
            verdicts.append(v)
    if len(verdicts) == before_basis and not _consent_decided(f):  # no basis rule applied: `no_match`
        verdicts.append(_NOMATCH_WITHHOLD)
    return verdicts

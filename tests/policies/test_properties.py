"""Properties that hold for every generated case, whatever the rules say in detail.

- nothing is ever disclosed for investigation;
- health and psychiatric fields never leave PSP;
- no purely private information goes to a department outside SSP/PSP/KSP without consent;
- a person who matches no structure is never disclosed about;
- the same input always gives the same decision;
- an engine's memo never changes a decision (a long-lived engine answers as a fresh one);
plus the combining rule and the shape of every decision.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config.registry import default_agreement_path, load_agreement
from hub.policies import (
    Agreement,
    Disclosure,
    Effect,
    PolicyEngine,
    Recipient,
    Request,
    SourceFacts,
    SourceKind,
    Verdict,
    combine,
)
from hub.policies.examples import EXAMPLE_AGREEMENT
from hub.policies.facts import age_on
from hub.policies.fields import ALL_FIELDS, HEALTH_FIELDS, PRIVATE_FIELDS, project
from hub.policies.rules import CITATIONS, RULES
from hub.schemas.cpr import make_cpr
from hub.schemas.decision import Structure
from hub.schemas.report import Category, ConcernReport, Purpose

SHIPPED = load_agreement(default_agreement_path())
NARROW = Agreement.model_validate({
    **EXAMPLE_AGREEMENT.model_dump(),
    "ages": {"ssp_max_age": 16, "ssp_plus_max_age": 21},
    "ksp": {"days_before_release": 0, "days_after_release": 30},
    "structures": {"ssp": ["school", "police"], "ssp_plus": ["police"], "psp": ["psychiatry"],
                   "ksp": ["prison_probation"]},
    # Consent from 16, housing and "other" organisations receive with consent, schools may get
    # substance misuse in SSP and nobody the description.
    "consent": {"child_from_age": 16, "recipients": {"housing": ["subject.name", "concern.categories"],
                                                     "other": ["subject.name"]}},
    "private_matters": {"allow": {"ssp": {"school": {"categories": ["substance_misuse"]}}}},
})
# One long-lived engine per agreement, as the composition root makes it: its memo tables fill
# up over the whole run, so every property below is also checked against memoised answers. The
# last one has tiny memo tables, so that clearing them when full is exercised too.
POLICIES = [PolicyEngine(SHIPPED), PolicyEngine(EXAMPLE_AGREEMENT), PolicyEngine(NARROW),
            PolicyEngine(SHIPPED, memo_limit=3)]
AGREEMENTS = st.sampled_from(POLICIES)
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

nows = st.builds(
    lambda d, s, tz: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=d, seconds=s) if tz is None
    else (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=d, seconds=s)).astimezone(tz),
    st.integers(0, 3 * 365), st.integers(0, 86399), st.sampled_from([None, timezone(timedelta(hours=1))]),
)


@st.composite
def reports(draw: st.DrawFn, /, now: datetime, *, person: bool = False, **subject_extra: Any) -> ConcernReport:
    data: dict[str, Any] = {
        "reporter": {"name": "Testlærer Testesen", "role": "SSP-lærer",
                     "contact": draw(st.sampled_from([None, "ssp@skole.example"])),
                     "public_employee": draw(st.booleans())},
        "concern": {
            "categories": [c.value for c in draw(st.sets(st.sampled_from(list(Category)), min_size=1, max_size=4))],
            "description": "Testbeskrivelse.",
            "child_at_risk": draw(st.booleans()),
            "abuse_suspected": draw(st.booleans()),
            "expected_child_at_risk": draw(st.booleans()),
            "planned_serious_crime": draw(st.booleans()),
            "planned_offence": draw(st.sampled_from([None, None, "drab", "brandstiftelse", "tyveri"])),
            "guardian_suspected": draw(st.booleans()),
            "school_absence_pct": draw(st.sampled_from([None, 0.0, 14.9, 15.0, 60.0])),
            "location": draw(st.sampled_from([None, "Albertslund Station"])),
        },
        "consent": {"subject": draw(st.booleans()), "guardians": draw(st.booleans())},
        "purpose": draw(st.sampled_from(list(Purpose))).value,
    }
    if person or draw(st.integers(0, 9)) > 0:
        subject: dict[str, Any] = {
            "district": draw(st.sampled_from([None, "Herstedlund"])),
            "psychiatric_contact": draw(st.booleans()),
            "socially_vulnerable": draw(st.booleans()),
        }
        age_days = draw(st.one_of(st.none(), st.integers(0, 70 * 365)))
        if age_days is None:
            subject["name"] = "Testperson Testesen"
        else:
            born = now.date() - timedelta(days=age_days)
            if born.year >= 1900 and draw(st.booleans()):
                subject["cpr"] = make_cpr(born, draw(st.integers(0, 999)))
            else:
                subject["birth_date"] = born.isoformat()
                subject["name"] = "Testperson Testesen"
        if draw(st.booleans()):
            subject["custody"] = {
                "kind": draw(st.sampled_from(["prison", "placement", "remand"])),
                "convicted": draw(st.booleans()),
                "radicalisation_risk": draw(st.booleans()),
                "release_date": draw(st.one_of(st.none(), st.integers(-500, 500).map(
                    lambda d: (now.date() + timedelta(days=d)).isoformat()))),
            }
        data["subject"] = {**subject, **subject_extra}
    return ConcernReport.model_validate(data)


any_recipients = st.builds(
    Recipient,
    partner_id=st.sampled_from(["politi", "bkv", "skoler", "psykiatri", "kriminalforsorgen", "kultur-fritid"]),
    kind=st.sampled_from(list(SourceKind)),
    structures=st.frozensets(st.sampled_from(list(Structure)), min_size=1),
    self_governing=st.booleans(),
)
# The registry's partners, as the hub really refers to them.
REGISTERED = [
    Recipient(partner_id="politi-vestegn", kind=SourceKind.POLICE, structures=frozenset(Structure)),
    Recipient(partner_id="bkv", kind=SourceKind.SOCIAL_SERVICES, structures=frozenset(Structure)),
    Recipient(partner_id="skoler", kind=SourceKind.SCHOOL, structures=frozenset({Structure.SSP})),
    Recipient(partner_id="friskolen", kind=SourceKind.SCHOOL, structures=frozenset({Structure.SSP}),
              self_governing=True),
    Recipient(partner_id="psykiatri", kind=SourceKind.PSYCHIATRY, structures=frozenset({Structure.PSP})),
    Recipient(partner_id="kriminalforsorgen", kind=SourceKind.PRISON_PROBATION,
              structures=frozenset({Structure.KSP})),
    Recipient(partner_id="kultur-fritid", kind=SourceKind.MUNICIPAL_DEPARTMENT, structures=frozenset({Structure.SSP})),
]
recipients = st.one_of(st.sampled_from(REGISTERED), any_recipients)
GOOD = "Nødvendigt for en koordineret indsats omkring personen."
justifications = st.one_of(
    st.just(GOOD),
    st.sampled_from(["", " ", "\n\t", "nødvendig", "nødvendigt", GOOD]),
    st.text(max_size=40),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[Request, PolicyEngine, datetime]:
    """Mostly requests triage staff would make (a partner in the structure, crime prevention,
    a justification), so that shares are common; and anything else besides."""
    now = draw(nows)
    recipient = draw(recipients)
    in_its_structure = st.sampled_from(sorted(recipient.structures))
    req = Request(
        report=draw(reports(now)), recipient=recipient,
        structure=draw(st.one_of(in_its_structure, in_its_structure, st.sampled_from(list(Structure)))),
        purpose=draw(st.sampled_from([Purpose.CRIME_PREVENTION] * 3 + [Purpose.INVESTIGATION])),
        justification=draw(justifications),
    )
    return req, draw(AGREEMENTS), now


DEPARTMENTS = st.builds(Recipient, partner_id=st.just("kultur-fritid"), kind=st.just(SourceKind.MUNICIPAL_DEPARTMENT),
                        structures=st.frozensets(st.sampled_from(list(Structure)), min_size=1),
                        self_governing=st.booleans())


@st.composite
def department_requests(draw: st.DrawFn) -> tuple[Request, PolicyEngine, datetime]:
    now = draw(nows)
    recipient = draw(DEPARTMENTS)
    req = Request(report=draw(reports(now)), recipient=recipient,
                  structure=draw(st.sampled_from(sorted(recipient.structures))),
                  purpose=Purpose.CRIME_PREVENTION, justification=draw(justifications))
    return req, draw(AGREEMENTS), now


@st.composite
def psychiatric_requests(draw: st.DrawFn) -> tuple[Request, PolicyEngine, datetime]:
    """A person in contact with psychiatry, referred to a registered partner in any structure it sits in."""
    now = draw(nows)
    recipient = draw(st.sampled_from(REGISTERED))
    req = Request(report=draw(reports(now, person=True, psychiatric_contact=True)), recipient=recipient,
                  structure=draw(st.sampled_from(sorted(recipient.structures))),
                  purpose=Purpose.CRIME_PREVENTION, justification=GOOD)
    return req, draw(AGREEMENTS), now


def _age(report: ConcernReport, on: date) -> int | None:
    return age_on(report.subject.born(), on) if report.subject is not None else None


def covered(report: ConcernReport, structure: Structure, agreement: Agreement, now: datetime) -> bool:
    """Whether a cooperation covers the person, written from the statute and the agreement
    independently of the rule functions."""
    s = report.subject
    if s is None:
        return True  # no person: nothing about anyone
    age = _age(report, now.date())
    if structure is Structure.SSP:
        return age is not None and age < agreement.ages.ssp_plus_max_age
    if structure is Structure.PSP:
        return s.socially_vulnerable
    c = s.custody
    if c is None or c.release_date is None:
        return False
    if not (c.release_date - timedelta(days=agreement.ksp.days_before_release) <= now.date()
            <= c.release_date + timedelta(days=agreement.ksp.days_after_release)):
        return False
    at_release = _age(report, c.release_date)
    return bool((c.kind == "prison" and c.convicted) or c.radicalisation_risk or (
        c.kind == "placement" and c.convicted and at_release is not None and at_release < 18))


def consented(report: ConcernReport, now: datetime, agreement: Agreement) -> bool:
    """Valid consent: an adult's own; for a child the custody holders', and the child's own from
    the agreement's age (or when the age is unknown)."""
    age = _age(report, now.date())
    c = report.consent
    if age is not None and age >= 18:
        return c.subject
    own_needed = age is None or age >= agreement.consent.child_from_age
    return c.guardians and (c.subject or not own_needed)


def consent_fields(req: Request, agreement: Agreement) -> frozenset[str] | None:
    """The fields a consent recipient of the agreement may get with consent (None: not one)."""
    offered = dict(agreement.consent.recipients)
    if agreement.departments_with_consent:
        offered.setdefault(SourceKind.MUNICIPAL_DEPARTMENT, agreement.departments_with_consent)
    return offered.get(req.recipient.kind)


def by_consent(req: Request, agreement: Agreement, now: datetime) -> bool:
    """Consent is a basis of its own: a subject, a consent recipient and valid consent."""
    return (req.report.subject is not None and consent_fields(req, agreement) is not None
            and consented(req.report, now, agreement))


@PROFILE
@given(requests())
def test_nothing_is_ever_disclosed_for_investigation(case: tuple[Request, PolicyEngine, datetime]) -> None:
    req, policy, now = case
    d = policy.disclose(req, now)
    if req.purpose is Purpose.INVESTIGATION:
        assert d.effect is Effect.WITHHOLD and d.fields == frozenset()
        assert "RPL115-2" in {r.rule_id for r in d.reasons}


@PROFILE
@given(st.one_of(psychiatric_requests(), requests()))
def test_health_and_psychiatric_fields_never_leave_psp(case: tuple[Request, PolicyEngine, datetime]) -> None:
    req, policy, now = case
    agreement = policy.agreement
    d = policy.disclose(req, now)
    if d.fields & HEALTH_FIELDS:
        assert req.structure is Structure.PSP
        assert req.recipient.kind in agreement.structures.psp
        assert req.recipient.kind is not SourceKind.MUNICIPAL_DEPARTMENT


@PROFILE
@given(st.one_of(department_requests(), requests()))
def test_no_private_information_to_a_department_without_consent(case: tuple[Request, PolicyEngine, datetime]) -> None:
    req, policy, now = case
    agreement = policy.agreement
    d = policy.disclose(req, now)
    if req.recipient.kind is SourceKind.MUNICIPAL_DEPARTMENT and req.report.subject is not None:
        if not consented(req.report, now, agreement):
            assert d.effect is not Effect.SHARE and not d.fields & PRIVATE_FIELDS
        assert d.fields <= agreement.departments_with_consent


@PROFILE
@given(requests())
def test_a_person_no_structure_covers_is_never_disclosed_about(case: tuple[Request, PolicyEngine, datetime]) -> None:
    req, policy, now = case
    agreement = policy.agreement
    d = policy.disclose(req, now)
    consent = by_consent(req, agreement, now)
    if not any(covered(req.report, s, agreement, now) for s in Structure) and not consent:
        assert d.effect is not Effect.SHARE and d.fields == frozenset()
    if d.effect is Effect.SHARE:  # stronger: the structure referred to must cover them, or consent
        assert covered(req.report, req.structure, agreement, now) or consent
        assert ("CONSENT" in d.rule_ids) is consent


@PROFILE
@given(requests())
def test_the_same_input_always_gives_the_same_decision(case: tuple[Request, PolicyEngine, datetime]) -> None:
    req, policy, now = case
    first = policy.disclose(req, now)
    # A fresh copy of every input, as another worker would build it from the stored report.
    again = Request.model_validate(req.model_dump())
    fresh = PolicyEngine(Agreement.model_validate(policy.agreement.model_dump()))
    assert fresh.disclose(again, now) == first == policy.disclose(req, now)
    source = SourceFacts(source_id="herstedlund-skole", kind=SourceKind.SCHOOL)
    assert fresh.assess(again.report, source, now) == policy.assess(req.report, source, now)


@PROFILE
@given(st.one_of(requests(), department_requests(), psychiatric_requests()))
def test_the_memo_never_changes_a_decision(case: tuple[Request, PolicyEngine, datetime]) -> None:
    """A long-lived engine (memo tables full of earlier answers, some cleared) decides as a fresh
    engine under the same agreement does, each decision made by an engine of its own: the same
    values, field for field. The same report goes to the recipient in every structure and to every
    registered partner, so that answers the memo holds for near neighbours of a request are there
    to be wrongly reused."""
    req, policy, now = case

    def fresh() -> PolicyEngine:
        return PolicyEngine(policy.agreement, policy.calendar)  # the calendar's memo is checked below

    variants = [req] + [req.model_copy(update={"structure": s}) for s in Structure] + [
        req.model_copy(update={"recipient": r, "structure": s}) for r in REGISTERED for s in sorted(r.structures)
    ]
    for q in variants:
        assert policy.disclose(q, now).model_dump() == fresh().disclose(q, now).model_dump(), q
    source = SourceFacts(source_id="herstedlund-skole", kind=SourceKind.SCHOOL)
    memoised = policy.assess(req.report, source, now)
    assert memoised.model_dump() == PolicyEngine(policy.agreement).assess(req.report, source, now).model_dump()
    # Asked again, the memo answers, with the same decision; twenty years on, the same report is judged anew.
    assert policy.disclose(req, now) == fresh().disclose(req, now)
    assert policy.assess(req.report, source, now) == memoised
    later = now + timedelta(days=20 * 365)
    assert policy.disclose(req, later).model_dump() == fresh().disclose(req, later).model_dump()


@PROFILE
@given(requests())
def test_every_decision_is_explained_and_minimised(case: tuple[Request, PolicyEngine, datetime]) -> None:
    req, policy, now = case
    agreement = policy.agreement
    d = policy.disclose(req, now)
    assert set(d.rule_ids) <= set(RULES) and list(d.citations) == [CITATIONS[r] for r in d.rule_ids]
    assert d.reasons and d.policy_version == agreement.policy_version
    assert d.fields <= ALL_FIELDS
    if d.effect is Effect.SHARE:
        assert d.fields, "a share always carries something"
        assert len(req.justification.strip()) >= agreement.necessity.min_justification_chars
        consent = by_consent(req, agreement, now)
        allowed = (agreement.departments_with_consent if req.recipient.kind is SourceKind.MUNICIPAL_DEPARTMENT
                   else agreement.fields.get(req.recipient.kind, frozenset()))
        assert d.fields <= allowed | (consent_fields(req, agreement) or frozenset() if consent else frozenset())
        assert req.structure in req.recipient.structures or consent  # consent: whatever the structures say
    else:
        assert d.fields == frozenset()
    assert Disclosure.model_validate(d.model_dump()) == d  # the fast-built value is a valid model


@PROFILE
@given(st.one_of(requests(), department_requests()), justifications)
def test_purely_private_matters_go_only_where_the_agreement_allows_and_the_decision_justifies(
    case: tuple[Request, PolicyEngine, datetime], why_description: str
) -> None:
    req, policy, now = case
    req = req.model_copy(update={"description_justification": why_description})
    agreement = policy.agreement
    d = policy.disclose(req, now)
    pm = agreement.private_matters
    consent_only = "CONSENT" in d.rule_ids and not any(
        r.startswith("RPL115-1") or r == "NOPERSON" for r in d.rule_ids)
    allow = None if consent_only else pm.allow.get(Structure(d.structure), {}).get(req.recipient.kind)
    shared = frozenset(c.value for c in req.report.concern.categories) - d.withheld_categories
    if "concern.categories" in d.fields:
        private_shared = {c for c in shared if Category(c) in pm.categories}
        assert private_shared <= {c.value for c in (allow.categories if allow else ())}, (private_shared, allow)
    projected = project(req.report, d.fields, d.withheld_categories)
    assert not set(projected.get("concern.categories", ())) & d.withheld_categories
    if "concern.description" in d.fields:
        assert allow is not None and allow.description
        assert len(why_description.strip()) >= agreement.necessity.min_justification_chars
    for item, rule_id in d.removed:  # every removal is explained by a field rule of the table
        name, _, category = item.partition(":")
        assert rule_id in RULES
        assert category in d.withheld_categories if category else name not in d.fields


@PROFILE
@given(nows.flatmap(lambda now: st.tuples(st.just(now), reports(now))), AGREEMENTS)
def test_assessment_properties(case: tuple[datetime, ConcernReport], policy: PolicyEngine) -> None:
    now, report = case
    a = policy.assess(report, SourceFacts(source_id="x", kind=SourceKind.SCHOOL), now)  # in public service
    assert list(a.citations) == [CITATIONS[r] for r in a.rule_ids]
    if report.purpose is Purpose.INVESTIGATION:
        assert not a.accepted and a.notifications == () and a.rule_ids == ("RPL115-2",)
        return
    listed = {o.id: o for o in policy.agreement.straffeloven_141.offences}
    offence = report.concern.planned_offence
    if offence is not None and offence not in listed:
        assert not a.accepted and a.notifications == () and a.rule_ids == ("STRFL141-UNKNOWN",)
        return
    assert a.accepted and a.queue is not None
    kinds = {n.kind.value for n in a.notifications}
    # § 141 follows the list: an alert exactly when a listed offence is named, carrying it.
    assert ("police_alert" in kinds) is (offence is not None)
    for n in a.notifications:
        assert (n.offence == listed.get(offence or "")) if n.kind.value == "police_alert" else n.offence is None
    if offence is not None or report.concern.planned_serious_crime:
        assert a.queue.value == "urgent"
    if offence is None:  # planned danger alone is urgent, never with a § 141 citation
        assert not any("141" in c for c, r in zip(a.citations, a.rule_ids, strict=True) if r != "ROUTE-URGENT")
    if "children_notification" in kinds:
        assert a.assess_by == now + timedelta(hours=24)
        assert (a.receipt_due_by is not None) is report.reporter.public_employee
        # The general duty (§ 134) exactly for a reporter who is not a public employee.
        assert ("BL134-GENERAL" in a.rule_ids) is not report.reporter.public_employee
        assert a.receipt_due_by is None or a.receipt_due_by - now <= timedelta(days=20)
    else:
        assert a.assess_by is None and a.receipt_due_by is None


verdicts = st.lists(st.builds(Verdict, st.sampled_from(sorted(RULES)),
                              st.sampled_from([Effect.SHARE, Effect.WITHHOLD, Effect.ESCALATE, None])))


@PROFILE
@given(verdicts)
def test_the_combining_rule(vs: list[Verdict]) -> None:
    effects = {v.effect for v in vs}
    result = combine(vs)
    if Effect.WITHHOLD in effects or not effects - {None}:
        assert result is Effect.WITHHOLD  # default withhold; withhold wins
    elif Effect.ESCALATE in effects:
        assert result is Effect.ESCALATE
    else:
        assert result is Effect.SHARE
    assert combine(reversed(vs)) is result  # order does not matter


@PROFILE
@given(nows.flatmap(lambda now: reports(now)))
def test_present_fields_are_exactly_what_projection_sends(report: ConcernReport) -> None:
    from hub.policies.disclose import present_fields
    from hub.policies.fields import project

    assert present_fields(report) == set(project(report, ALL_FIELDS))


@PROFILE
@given(st.one_of(requests(), department_requests(), psychiatric_requests()))
def test_the_hot_path_evaluates_exactly_the_rule_table(case: tuple[Request, PolicyEngine, datetime]) -> None:
    from hub.policies.disclose import evaluate, evaluate_all

    req, policy, now = case
    f = policy.facts(req, now)
    assert evaluate(f) == evaluate_all(f)


@PROFILE
@given(nows.flatmap(lambda now: st.tuples(st.just(now), reports(now))))
def test_the_notification_index_evaluates_exactly_the_rule_table(case: tuple[datetime, ConcernReport]) -> None:
    from hub.policies.assess import NOTIFICATION_RULES, notification_grounds, report_facts

    now, report = case
    f = report_facts(report, now)
    assert notification_grounds(f) == tuple(rid for rid, applies in NOTIFICATION_RULES.items() if applies(f))


@given(st.dates(min_value=date(1900, 1, 1)), st.dates(min_value=date(1900, 1, 1)))
def test_age_is_whole_years_since_birth(born: date, today: date) -> None:
    expected = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert age_on(born, today) == expected


# --- A person's answers to escalated questions (issue #18 point 7) ------------------------------

QUESTION_IDS = ("RPL115-OUTSIDE-CONSENT-UNCLEAR", "RPL115-1-1-AGE", "RPL115-1-2-CHECK")
answer_sets = st.dictionaries(
    st.sampled_from(QUESTION_IDS), st.sampled_from(["yes", "no", "ssp", "ssp_plus", "older", "x"]), max_size=3
)
any_requests = st.one_of(requests(), department_requests(), psychiatric_requests())
# Rules that read no answer: their withhold stands whatever a person answers.
NOT_ANSWERABLE = {"RPL115-2", "RPL115-4", "RPL115-3", "MIN-FIELDS-EMPTY"}


@PROFILE
@given(any_requests, answer_sets)
def test_answers_only_ever_decide_the_questions_asked(
    case: tuple[Request, PolicyEngine, datetime], answers: dict[str, str]
) -> None:
    """Answers to questions the request does not ask change nothing; answers never lift a withhold
    by a rule that reads no answer; and with answers the hot path, the memo and a fresh engine agree."""
    from hub.policies.disclose import evaluate, evaluate_all

    req, policy, now = case
    plain = policy.disclose(req, now)
    answered = req.model_copy(update={"answers": answers})
    d = policy.disclose(answered, now)
    if not set(answers) & set(plain.rule_ids):
        assert d == plain
    if plain.effect is Effect.WITHHOLD and {r.rule_id for r in plain.reasons} & NOT_ANSWERABLE:
        assert d.effect is Effect.WITHHOLD
    if d.effect is not plain.effect or d.rule_ids != plain.rule_ids:
        assert set(answers) & set(plain.rule_ids), "only an asked question changes a decision"
    # A question still asked though answered (a value that is no allowed answer) never shares.
    assert d.effect is not Effect.SHARE or not set(QUESTION_IDS) & set(d.rule_ids) & set(answers)
    f = policy.facts(answered, now)
    assert evaluate(f) == evaluate_all(f)
    assert d.model_dump() == PolicyEngine(policy.agreement, policy.calendar).disclose(answered, now).model_dump()

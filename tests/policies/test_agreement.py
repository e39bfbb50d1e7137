"""The local agreement: the shipped file is valid, bad files are refused with clear messages,
and every decision records the agreement's content hash."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.config.registry import Registry, default_agreement_path
from hub.policies import Agreement, check_agreement, parse_agreement
from hub.policies.agreement import registry_warnings
from hub.policies.examples import JUSTIFICATION, POLICE, report
from hub.policies.facts import Recipient, SourceKind
from hub.policies.rules import POLICY_LABEL
from hub.schemas.decision import Structure

SHIPPED = default_agreement_path().read_text(encoding="utf-8")
RETENTION = "[retention_days]\nreport = 730\ndisclosure_log = 1825\ndeadletter = 90\n"
MINIMAL = 'name = "test"\nversion = "1"\n' + RETENTION + '[fields]\npolice = ["subject.name"]\n'
OFFENCE = '[[straffeloven_141.offences]]\nid = "{id}"\nlabel = "manddrab"\nsections = ["§ 237"]\n'


def test_the_shipped_agreement_is_valid_and_holds_the_local_policy(agreement: Agreement) -> None:
    result = check_agreement(SHIPPED)
    assert result.ok and result.warnings == ()
    assert agreement.ages.ssp_max_age == 18 and agreement.ages.ssp_plus_max_age == 25
    assert agreement.ksp.days_before_release == 90 and agreement.ksp.days_after_release == 365
    assert agreement.structures.members(Structure.SSP, ssp_plus=True) == {SourceKind.SOCIAL_SERVICES,
                                                                          SourceKind.POLICE}
    assert agreement.departments_with_consent == {"subject.name", "subject.district", "reporter.role"}
    assert set(agreement.retention_days) == {"report", "disclosure_log", "deadletter"}
    # The § 141 list is configuration: ids, Danish labels and the sections (unconfirmed list).
    offences = {o.id: o for o in agreement.straffeloven_141.offences}
    assert offences["brandstiftelse"].sections == ("§ 180",) and offences["drab"].label == "manddrab"
    assert agreement.private_matters.categories == {"mental_health", "substance_misuse"}
    assert agreement.consent.child_from_age == 15


def test_private_matters_outside_psp_or_for_a_kind_not_taking_part_are_worth_a_warning() -> None:
    text = MINIMAL + (
        "[private_matters.allow.ssp]\nschool = { categories = ['substance_misuse'] }\n"
        "[private_matters.allow.ksp]\nschool = { description = true }\n"
    )
    result = check_agreement(text)
    assert result.ok
    assert any(w.startswith("private_matters.allow.ssp.school: ['substance_misuse'] er rent private forhold")
               for w in result.warnings), result.warnings
    assert any(w.startswith("private_matters.allow.ksp.school: typen deltager ikke i KSP") for w in result.warnings)


def test_the_shipped_registry_fits_the_agreement(agreement: Agreement, registry: Registry) -> None:
    assert registry_warnings(agreement, (p.recipient for p in registry.partners)) == ()


@pytest.mark.parametrize(("text", "expected"), [
    ("name = ", "TOML-fejl"),
    ('name = "x"\nversion = "1"\n', "fields: Field required"),
    (MINIMAL.replace("subject.name", "subject.shoe_size"), "ukendte felter ['subject.shoe_size']"),
    (MINIMAL + "[structures]\nssp = ['school', 'housing']\n", "['housing'] deltager ikke i SSP"),
    (MINIMAL + "[structures]\npsp = ['school']\n", "retsplejelovens § 115, stk. 1, nr. 2"),
    (MINIMAL + "[ages]\nssp_max_age = 18\nssp_plus_max_age = 16\n", "ssp_plus_max_age må ikke være mindre"),
    ('departments_with_consent = ["subject.psychiatric_contact"]\n' + MINIMAL, "helbredsoplysninger"),
    (MINIMAL + 'municipal_department = ["subject.name"]\n', "departments_with_consent (kun med samtykke)"),
    (MINIMAL + 'departments_with_consent = ["subject.name"]\n', "ukendt nøgle 'departments_with_consent'"),
    (MINIMAL + "[necessity]\nmin_justification_chars = 0\n", "necessity.min_justification_chars"),
    (MINIMAL.replace("report = 730", "report = -1"), "retention_days.report"),
    (MINIMAL.replace("deadletter = 90\n", ""), "mangler slettefrist for ['deadletter']"),
    ("surprise = 1\n" + MINIMAL, "surprise: Extra inputs are not permitted"),
    (MINIMAL + OFFENCE.format(id="drab") + OFFENCE.format(id="drab"), "samme id flere gange: ['drab']"),
    (MINIMAL + OFFENCE.format(id="Drab!"), "ugyldige id'er ['Drab!']"),
    (MINIMAL + OFFENCE.format(id="drab").replace('["§ 237"]', "[]"), "mindst én paragraf"),
    (MINIMAL + "[private_matters]\ncategories = ['horoscope']\n", "private_matters.categories"),
    (MINIMAL + "[consent.recipients]\nhousing = ['subject.psychiatric_contact']\n", "helbredsoplysninger"),
    (MINIMAL + "[consent]\nchild_from_age = 40\n", "consent.child_from_age"),
], ids=["toml-syntax", "no-fields", "unknown-field", "ssp-member-outside-statute", "psp-member-outside-statute",
        "age-bands-reversed", "health-to-departments", "department-in-fields", "departments-under-fields-table",
        "justification-zero", "negative-retention", "missing-retention", "unknown-key", "offence-id-twice",
        "offence-id-malformed", "offence-without-section", "unknown-private-category", "health-by-consent",
        "child-consent-age"])
def test_a_bad_agreement_is_refused_with_a_message_that_says_where(text: str, expected: str) -> None:
    result = check_agreement(text)
    assert not result.ok and result.agreement is None
    assert any(expected in e for e in result.errors), result.errors


def test_warnings_point_at_what_will_never_be_used() -> None:
    text = ('name = "t"\nversion = "1"\n' + RETENTION + '[fields]\nhousing = ["subject.name"]\n'
            'school = ["subject.name", "subject.psychiatric_contact"]\n')
    warnings = " | ".join(check_agreement(text).warnings)
    assert "fields.housing: typen deltager ikke" in warnings
    assert "fields.school: ['subject.psychiatric_contact'] fjernes altid" in warnings
    assert "police deltager i et samarbejde, men har ingen feltliste" in warnings


def test_registry_warnings_name_partners_that_would_always_be_withheld(agreement: Agreement) -> None:
    school_in_psp = Recipient(partner_id="skoler", kind=SourceKind.SCHOOL, structures=frozenset({Structure.PSP}))
    assert "skoler (school)" in registry_warnings(agreement, [school_in_psp])[0]


def test_the_content_hash_ignores_comments_and_layout_but_not_values() -> None:
    a = parse_agreement(SHIPPED)
    layout = SHIPPED.replace("ssp_max_age = 18        #", "ssp_max_age=18 #")
    reformatted = parse_agreement("# a new comment\n" + layout)
    changed = parse_agreement(SHIPPED.replace("days_after_release = 365", "days_after_release = 364"))
    assert a.digest == reformatted.digest and a == reformatted
    assert a.digest != changed.digest and a != changed
    assert a.label == f"albertslund-ssp-psp-ksp@2026.3#{a.digest[:12]}"
    assert a.policy_version == f"{POLICY_LABEL}+{a.label}"


def test_decisions_record_the_policy_and_agreement_versions(agreement: Agreement) -> None:
    from hub.policies import PolicyEngine, Request, SourceFacts

    now = datetime.fromisoformat("2026-11-20T10:00:00+00:00")
    r = report(14)
    policy = PolicyEngine(agreement)
    d = policy.disclose(Request(report=r, recipient=POLICE, structure=Structure.SSP, purpose=r.purpose,
                                justification=JUSTIFICATION), now)
    a = policy.assess(r, SourceFacts(source_id="x", kind=SourceKind.SCHOOL), now)
    assert d.policy_version == a.policy_version == agreement.policy_version == policy.policy_version
    assert agreement.digest[:12] in d.policy_version and POLICY_LABEL in d.policy_version


def test_an_agreement_built_in_code_equals_the_same_agreement_parsed() -> None:
    parsed = parse_agreement(MINIMAL)
    built = Agreement(name="test", version="1", fields={SourceKind.POLICE: frozenset({"subject.name"})},
                      retention_days={"report": 730, "disclosure_log": 1825, "deadletter": 90})
    assert parsed == built and parsed.digest == built.digest and hash(parsed) == hash(built)

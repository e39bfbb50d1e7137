"""Meetings by level (`hub.policies.meetings`): who a decision may convene, and what each convened
partner may receive (the disclosure policy, asked as for a referral in the meeting's structure)."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.config.registry import Registry
from hub.policies import Agreement, Effect, PolicyEngine, Request
from hub.policies.meetings import MeetingPlan, MeetingRefusal, plan_meeting
from hub.schemas.decision import Forum, Level, Meeting, ReferralTarget, Structure
from hub.schemas.report import ConcernReport, Purpose
from tests.factories import child_cpr

MEMBERS = {
    Level.I: ("skoler", "bkv", "politi-vestegn"),
    Level.II: ("bkv", "politi-vestegn"),
    Level.III: ("politi-vestegn", "bkv", "skoler", "kultur-fritid"),
}
SSP = (ReferralTarget(structure=Structure.SSP, partner_id="bkv"),)


@pytest.mark.parametrize(
    ("level", "meeting", "referrals", "expected"),
    [
        pytest.param(
            Level.III,
            Meeting(convene=("bkv", "politi-vestegn"), structure=Structure.SSP),
            (),
            MeetingPlan(Forum.OPERATIVGRUPPE, Structure.SSP, ("bkv", "politi-vestegn")),
            id="iii-dke-chooses-members",
        ),
        pytest.param(
            Level.III, Meeting(structure=Structure.SSP), SSP, MeetingRefusal("meeting_nobody", ""), id="iii-nobody"
        ),
        pytest.param(
            Level.III,
            Meeting(convene=("bkv", "psykiatri"), structure=Structure.SSP),
            (),
            MeetingRefusal("meeting_not_member", "", ("psykiatri",)),
            id="iii-not-a-member",
        ),
        pytest.param(
            Level.I,
            Meeting(),
            SSP,
            MeetingPlan(Forum.COORDINATION, Structure.SSP, ("skoler", "bkv", "politi-vestegn")),
            id="i-standing-participants-by-default",
        ),
        pytest.param(
            Level.II,
            Meeting(convene=("politi-vestegn",)),
            SSP,
            MeetingPlan(Forum.CASE, Structure.SSP, ("politi-vestegn",)),
            id="ii-a-subset",
        ),
        pytest.param(
            Level.II,
            Meeting(convene=("skoler",)),
            SSP,
            MeetingRefusal("meeting_not_member", "", ("skoler",)),
            id="ii-not-a-member",
        ),
        pytest.param(Level.I, Meeting(), (), MeetingRefusal("meeting_structure_unclear", ""), id="no-structure"),
        pytest.param(
            Level.I,
            Meeting(),
            (*SSP, ReferralTarget(structure=Structure.PSP, partner_id="bkv")),
            MeetingRefusal("meeting_structure_unclear", ""),
            id="two-structures",
        ),
    ],
)
def test_plan_meeting(
    level: Level, meeting: Meeting, referrals: tuple[ReferralTarget, ...], expected: MeetingPlan | MeetingRefusal
) -> None:
    got = plan_meeting(level, meeting, referrals, MEMBERS)
    if isinstance(expected, MeetingRefusal):
        assert isinstance(got, MeetingRefusal)
        assert (got.code, got.partner_ids) == (expected.code, expected.partner_ids) and got.message
    else:
        assert got == expected


def test_a_level_without_members_convenes_nobody_by_default() -> None:
    got = plan_meeting(Level.I, Meeting(), SSP, {})
    assert isinstance(got, MeetingRefusal) and got.code == "meeting_nobody"


def test_the_shipped_registry_lists_the_operativgruppe(registry: Registry) -> None:
    members = registry.meeting_members()
    assert set(members) == set(Level)
    assert {"politi-vestegn", "bkv"} <= set(members[Level.III])
    assert registry.meetings[Level.III].name == "Operativgruppen"


def test_each_convened_member_gets_only_what_the_disclosure_policy_allows_it(
    agreement: Agreement, registry: Registry, now: datetime
) -> None:
    """The Operativgruppe convened for a 13-year-old in SSP: each member's fields are its own
    kind's allow-list (the police no description, the schools no CPR, social services the
    description only with its own justification), and a department outside SSP gets nothing
    without consent."""
    engine = PolicyEngine(agreement)
    report = ConcernReport.model_validate(
        {
            "reporter": {"name": "Lærer Testesen", "role": "SSP-lærer", "public_employee": True},
            "subject": {"cpr": child_cpr(13, now=now), "name": "Testbarn", "district": "Herstedlund"},
            "concern": {"categories": ["wellbeing"], "description": "Fri tekst.", "child_at_risk": True},
        }
    )
    meeting = Meeting(convene=("politi-vestegn", "bkv", "skoler", "kultur-fritid"), structure=Structure.SSP)
    plan = plan_meeting(Level.III, meeting, (), registry.meeting_members())
    assert isinstance(plan, MeetingPlan)
    verdicts = {}
    for partner_id in plan.convened:
        partner = registry.partner(partner_id)
        assert partner is not None
        request = Request(
            report=report,
            recipient=partner.recipient,
            structure=plan.structure,
            purpose=Purpose.CRIME_PREVENTION,
            justification="Nødvendigt for at fordele ansvar og opgaver i Operativgruppen.",
        )
        verdicts[partner_id] = engine.disclose(request, now)
    police, bkv, schools, culture = (verdicts[p] for p in plan.convened)
    assert police.effect is bkv.effect is schools.effect is Effect.SHARE
    assert "subject.cpr" in police.fields and "concern.description" not in police.fields
    assert "subject.cpr" not in schools.fields and "subject.name" in schools.fields
    assert "concern.description" not in bkv.fields  # no description justification: PRIVATE-DESCRIPTION
    assert len({police.fields, bkv.fields, schools.fields}) == 3
    assert culture.effect is Effect.WITHHOLD and not culture.fields and culture.reasons

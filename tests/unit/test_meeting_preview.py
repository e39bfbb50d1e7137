"""The preview of a decision's meeting (`DecisionService.preview_meeting`): the same policy call
the decision makes, so an invitation shows exactly what a referral to the same partner in the
same structure would; a meeting the hub would refuse is a Rejection with its code."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import Effect, PolicyEngine
from hub.schemas.decision import Level, Meeting, Pillar, ReferralTarget, Structure, TriageDecision
from hub.schemas.report import ConcernReport
from hub.services.decisions import DecisionService
from hub.services.envelope import Rejection
from tests.factories import report_data

NOW = datetime.now(UTC)
ENGINE = PolicyEngine(load_agreement(default_agreement_path()))
SERVICE = DecisionService(load_registry(default_registry_path()), ENGINE)
PAYLOAD = ConcernReport.model_validate(report_data()).model_dump(mode="json")
PARTNERS = ("politi-vestegn", "bkv", "skoler", "kultur-fritid")


def _decision(level: Level, convene: tuple[str, ...]) -> TriageDecision:
    return TriageDecision(
        report_ref="DKE-TEST",
        level=level,
        pillar=Pillar.REACTIVE,
        referrals=tuple(ReferralTarget(structure=Structure.SSP, partner_id=p) for p in PARTNERS),
        justification="Nødvendigt for at fordele ansvar og opgaver mellem myndighederne.",
        decided_by="TT",
        meeting=Meeting(convene=convene),
    )


def test_each_invitation_shows_what_a_referral_to_the_same_partner_would() -> None:
    d = _decision(Level.III, PARTNERS)
    meeting, referrals = SERVICE.preview_meeting(PAYLOAD, d, NOW), SERVICE.preview(PAYLOAD, d, NOW)
    assert not isinstance(meeting, Rejection) and not isinstance(referrals, Rejection)
    assert [m.target.partner_id for m in meeting] == list(PARTNERS)
    for invited, referred in zip(meeting, referrals, strict=True):
        assert invited.target == referred.target and invited.fields == referred.fields
        assert invited.verdict == referred.verdict
    effects = {m.target.partner_id: m.verdict.effect for m in meeting}
    assert effects == {"politi-vestegn": Effect.SHARE, "bkv": Effect.SHARE, "skoler": Effect.SHARE,
                       "kultur-fritid": Effect.WITHHOLD}  # fmt: skip
    police, schools = meeting[0].fields, meeting[2].fields
    assert "subject.cpr" in police and "subject.cpr" not in schools


def test_a_meeting_the_hub_would_refuse_previews_as_its_refusal() -> None:
    refused = SERVICE.preview_meeting(PAYLOAD, _decision(Level.II, ("skoler", "kriminalforsorgen")), NOW)
    assert isinstance(refused, Rejection) and refused.code == "meeting_not_member"
    problems = [(e.field, e.problem) for e in refused.errors]
    assert problems == [("meeting.convene", "kriminalforsorgen: meeting_not_member")]


def test_no_meeting_previews_nothing() -> None:
    d = _decision(Level.I, ()).model_copy(update={"meeting": None})
    assert SERVICE.preview_meeting(PAYLOAD, d, NOW) == []

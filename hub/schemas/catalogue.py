"""The stream catalogue: every stream the hub reads or writes, as one table of data.

Each row of `STREAMS` names a stream (or a pattern of streams), who writes and who reads
it, the event types it carries with their pydantic models, the consumer groups the hub
reads it with and the agreement's `retention_days` key that limits its age. Everything
that needs the list of streams derives from this table: consumer-group creation
(`hub.bootstrap`), `hub streams`, retention trimming (`hub.services.retention`), the Redis
ACL file (`hub.services.acl`), the check for trimmed intake (`hub.runtime.stream_guard`),
the JSON Schemas (`hub schemas`) and the benchmark.

Adding a stream is one row here plus its handler. A pattern's placeholders are filled from
plain inputs (`Inputs`, fed by `Registry.stream_inputs()`, since this layer cannot import
the configuration): `{source}` each source, `{decision_source}` each decision source,
`{queue}` each triage queue, `{structure}` and `{partner}` each partner's structures, `{partner}`
alone each partner. The
grammar (row fields, roles, expansion) is `hub.schemas.stream_catalogue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from hub.schemas import events, lifecycle, streams
from hub.schemas.cloudevents import CloudEvent
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from hub.schemas.reporter import (
    ACKNOWLEDGEMENT_REQUESTED,
    FEEDBACK_GIVEN,
    FEEDBACK_REQUESTED,
    REPORT_ACKNOWLEDGED,
    Acknowledgement,
    AcknowledgementRequest,
    Feedback,
    FeedbackRequest,
)
from hub.schemas.stream_catalogue import (
    DECISION_SOURCE,
    DKE,
    HUB,
    PARTNER,
    SOURCE,
    Catalogue,
    HubGroup,
    Inputs,
    PartnerInput,
    Party,
    Role,
    Stream,
    StreamRow,
    short_type,
)
from hub.schemas.stream_catalogue import (
    expand as _expand,
)

__all__ = [
    "DECISION_SOURCE", "DKE", "EVENT_DATA", "HUB", "PARTNER", "SOURCE", "STREAMS", "Catalogue", "HubGroup",
    "Inputs", "PartnerInput", "Party", "Role", "Stream", "StreamRow", "event_models", "expand", "json_schema",
    "short_type",
]  # fmt: skip

INTAKE = StreamRow(
    pattern="hub.intake.{source}.v1",
    writer=SOURCE,
    readers=(HUB,),
    events=((CONCERN_REPORTED, ConcernReport),),
    summary="concern reports from one source (also what POST /v1/reports writes)",
    groups=(
        HubGroup(streams.INTAKE_GROUP),
        # Reads every entry again for planned-crime reports, from its creation on: every entry
        # before it is the intake group's anyway (see `hub.bootstrap`).
        HubGroup(streams.URGENT_GROUP, start="$", processes=False),
    ),
)
RECEIPTS = StreamRow(
    pattern="hub.receipts.{source}.v1",
    writer=HUB,
    readers=(SOURCE,),
    events=(
        (events.REPORT_ACCEPTED, events.ReceiptData),
        (events.REPORT_REJECTED, events.ReceiptData),
        (REPORT_ACKNOWLEDGED, Acknowledgement),
        (FEEDBACK_GIVEN, Feedback),
    ),
    summary="a receipt for every report a source sent, accepted or rejected; DKE's kvittering and feedback "
    "to the reporter (Barnets lov § 137)",
)
TRIAGE = StreamRow(
    pattern="hub.triage.{queue}.v1",
    writer=HUB,
    readers=(DKE,),
    events=((events.TRIAGE_QUEUED, events.TriageQueued),),
    summary="DKE's triage queues",
)
DEADLINES = StreamRow(
    pattern=streams.DEADLINES,
    writer=HUB,
    readers=(DKE,),
    events=(
        (events.DEADLINE_APPROACHING, events.DeadlineData),
        (events.DEADLINE_BREACHED, events.DeadlineData),
        (lifecycle.REFERRAL_OVERDUE, lifecycle.ReferralOverdueData),
        (lifecycle.ALERT_ESCALATED, lifecycle.AlertEscalatedData),
    ),
    summary="deadlines near or passed unmet (24-hour assessment, 6-working-day receipt, a referral or "
    "§ 141 alert not acknowledged in time)",
)
DECISIONS = StreamRow(
    pattern=streams.DECISIONS,
    writer=DECISION_SOURCE,
    readers=(HUB,),
    events=(
        (DECISION_MADE, TriageDecision),
        (ACKNOWLEDGEMENT_REQUESTED, AcknowledgementRequest),
        (FEEDBACK_REQUESTED, FeedbackRequest),
    ),
    summary="triage decisions (niveau, pillar, referrals); staff asking for the reporter's kvittering and feedback",
    groups=(HubGroup(streams.DECISIONS_GROUP),),
)
DECISION_RECEIPTS = StreamRow(
    pattern="hub.receipts.{decision_source}.v1",
    writer=HUB,
    readers=(DECISION_SOURCE,),
    events=((events.DECISION_REJECTED, events.ReceiptData),),
    summary="rejection receipts for triage decisions the hub refused",
)
POLICE_ALERTS = StreamRow(
    pattern=streams.POLICE_ALERTS,
    writer=HUB,
    readers=(),
    reader_kinds=("police",),
    events=((events.ALERT_RAISED, events.AlertData),),
    summary="planned serious crime (Straffeloven § 141)",
)
CHILDREN_NOTIFICATIONS = StreamRow(
    pattern=streams.CHILDREN_NOTIFICATIONS,
    writer=HUB,
    readers=(),
    reader_kinds=("social_services",),
    events=((events.NOTIFICATION_ISSUED, events.NotificationData),),
    summary="underretning about a child (Barnets lov § 133)",
)
REFERRALS = StreamRow(
    pattern="hub.referrals.{structure}.{partner}.v1",
    writer=HUB,
    readers=(PARTNER,),
    # A meeting invitation shares the case like a referral, so it goes where the referrals go.
    events=((events.REFERRAL_ISSUED, events.ReferralData), (events.MEETING_CONVENED, events.MeetingConvened)),
    summary="referrals and meeting invitations to one partner in one structure (SSP, PSP, KSP)",
)
REFERRAL_UPDATES = StreamRow(
    pattern="hub.referral-updates.{partner}.v1",
    writer=PARTNER,
    readers=(HUB,),
    events=(
        (lifecycle.REFERRAL_RECEIVED, lifecycle.ReferralUpdateData),
        (lifecycle.REFERRAL_ACCEPTED, lifecycle.ReferralUpdateData),
        (lifecycle.REFERRAL_DECLINED, lifecycle.ReferralDeclinedData),
        (lifecycle.REFERRAL_COMPLETED, lifecycle.ReferralCompletedData),
        (lifecycle.ALERT_ACKNOWLEDGED, lifecycle.AlertAcknowledgedData),
    ),
    summary="a partner's updates on the referrals it received (police: also § 141 alerts acknowledged)",
    groups=(HubGroup(streams.REFERRAL_UPDATES_GROUP),),
)
REFERRAL_RECEIPTS = StreamRow(
    pattern="hub.referral-receipts.{partner}.v1",
    writer=HUB,
    readers=(PARTNER,),
    events=((lifecycle.UPDATE_ACCEPTED, events.ReceiptData), (lifecycle.UPDATE_REJECTED, events.ReceiptData)),
    summary="a receipt for every update a partner sent, accepted or rejected",
)
REFERRALS_WITHHELD = StreamRow(
    pattern=streams.REFERRALS_WITHHELD,
    writer=HUB,
    readers=(DKE,),
    events=((events.REFERRAL_WITHHELD, events.WithheldData), (events.MEETING_WITHHELD, events.WithheldData)),
    summary="referrals and meeting invitations the policy withheld or escalated",
)
DEADLETTER = StreamRow(
    pattern=streams.DEADLETTER,
    writer=HUB,
    readers=(DKE,),
    events=((events.MESSAGE_DEADLETTERED, events.DeadLetter),),
    summary="entries the hub gave up on, redacted (the payload stays in the database)",
    retention="deadletter",
)
AUDIT_ANCHOR = StreamRow(
    pattern=streams.AUDIT_ANCHOR,
    writer=HUB,
    readers=(DKE,),
    events=((events.AUDIT_ANCHORED, events.AuditAnchor),),
    summary="the audit chain's head, published regularly: a copy kept elsewhere proves the history",
    retention="disclosure_log",  # as long as the records it vouches for
)

# The catalogue. Its order is the order of `hub streams`.
STREAMS: tuple[StreamRow, ...] = (
    INTAKE,
    RECEIPTS,
    TRIAGE,
    DEADLINES,
    DECISIONS,
    DECISION_RECEIPTS,
    POLICE_ALERTS,
    CHILDREN_NOTIFICATIONS,
    REFERRALS,
    REFERRAL_UPDATES,
    REFERRAL_RECEIPTS,
    REFERRALS_WITHHELD,
    DEADLETTER,
    AUDIT_ANCHOR,
)


def expand(inputs: Inputs, rows: Sequence[StreamRow] | None = None) -> Catalogue:
    """Every concrete stream of `rows` (default: `STREAMS`, looked up now) for these inputs."""
    return _expand(inputs, STREAMS if rows is None else rows)


# --- JSON Schemas -----------------------------------------------------------------------------


def event_models(rows: Sequence[StreamRow] | None = None) -> dict[str, type[BaseModel]]:
    """Every event type on the catalogue's streams with its data model (one model per type)."""
    out: dict[str, type[BaseModel]] = {}
    for row in STREAMS if rows is None else rows:
        for event_type, model in row.events:
            if out.setdefault(event_type, model) is not model:
                raise ValueError(f"event type {event_type} has two data models in the catalogue")
    return out


# The event types of the catalogue as it is at import (`event_models()` reads it anew).
EVENT_DATA: dict[str, type[BaseModel]] = event_models()


def json_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a whole CloudEvent of `event_type` (envelope and data)."""
    data = event_models()[event_type]
    model: type[BaseModel] = CloudEvent[data]  # type: ignore[valid-type]
    schema = model.model_json_schema()
    schema["title"] = event_type
    schema["properties"]["type"] = {"const": event_type, "title": "Type", "type": "string"}
    return schema

"""Partners' updates on the referrals (and the police: § 141 alerts) they received.

`ReferralUpdateService` supplies the steps of the batch pipeline (`hub.services.pipeline`) for
the streams `hub.referral-updates.<partner_id>.v1`: `parse_update` (the one envelope parser)
turns an entry into an update or a `Rejection`; each update is checked against what it names
(a referral or alert sent to this partner, `hub.store.referral_updates`) and against the
referral's states so far (`hub.policies.lifecycle`: only forward), then stored as a
`referral_update` row with an accepted receipt to `hub.referral-receipts.<partner_id>.v1`, and
the referral's (alert's) acknowledgement clock is met (`hub.services.referral_clocks`). The
pipeline does the rest: tracking rows, rejection receipts, dead letters.

Refusals (stable codes, Danish text in `hub.schemas.messages`): `unknown_referral` /
`unknown_alert` (nothing the partner received has this id), `not_your_referral` (it was sent to
another partner: logged, with ids and codes only), `invalid_transition` (not a forward step,
or the same state once more under another event id: refused, so the partner learns it did not
count). The same event id again is a duplicate: stored once, answered with the same receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from hub.config.registry import Registry
from hub.logs import get_logger
from hub.policies import lifecycle
from hub.schemas import streams
from hub.schemas.cloudevents import new_event_json
from hub.schemas.entry import Entry
from hub.schemas.events import ReceiptData
from hub.schemas.lifecycle import UPDATE_ACCEPTED, UPDATE_REJECTED
from hub.schemas.limits import DEFAULT_LIMITS, Limits
from hub.services.envelope import ParsedUpdate, Rejection, parse_update
from hub.services.pipeline import Tx
from hub.store.db import JsonText
from hub.store.models import ReferralUpdate
from hub.store.referral_updates import Target, UpdateContext

log = get_logger("hub.services.referral_updates")

REFERRAL_KIND, ALERT_KIND = "referral", "police_alert"  # the disclosure log's kinds
_RECEIPTS = uuid.UUID("7a4f2c8e-3b5d-4e61-8c9a-1f0e2d3c4b5a")  # namespace of the accepted receipts' ids


class ReferralUpdateService:
    """The referral-update steps of the batch pipeline."""

    rejected_type = UPDATE_REJECTED

    def __init__(self, registry: Registry, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self.registry = registry
        self.limits = limits

    def _partner(self, stream: str) -> str | None:
        partner_id = streams.partner_of_updates(stream)
        return partner_id if partner_id and self.registry.partner(partner_id) is not None else None

    def receipts_for(self, stream: str) -> str | None:
        partner_id = self._partner(stream)
        return streams.referral_receipts(partner_id) if partner_id else None

    def parse(self, stream: str, entries: Sequence[Entry], now: datetime) -> list[ParsedUpdate | Rejection]:
        partner_id = self._partner(stream)
        if partner_id is None:
            raise ValueError(f"not a configured partner's update stream: {stream}")
        return [parse_update(e, partner_id, now, limits=self.limits) for e in entries]

    def likely_done(self, entry: Entry) -> bool:
        return False

    def begin(self, tx: Tx) -> _UpdateStager:
        return _UpdateStager(tx)


def receipt_id(partner_id: str, event_id: str) -> str:
    """The accepted receipt's event id: the same for the same update, so a duplicate gets the same receipt."""
    return str(uuid.uuid5(_RECEIPTS, f"{partner_id}\x00{event_id}"))


def refusal(p: ParsedUpdate, target: Target | None, recorded: Sequence[str]) -> Rejection | None:
    """Why the update `p` is refused, given what it names (`target`) and the states recorded for
    it so far; None if it may be stored."""
    wanted = ALERT_KIND if p.alert else REFERRAL_KIND
    if target is None or target.kind != wanted or target.effect != "share":
        if p.alert:
            return Rejection("unknown_alert", "No police alert was sent with this id.", (), p.event_id, trace=p.trace)
        return Rejection("unknown_referral", "No referral was sent with this id.", (), p.event_id, trace=p.trace)
    if target.recipient != p.partner_id:
        message = "This was sent to another partner; a partner may update only what it received."
        return Rejection("not_your_referral", message, (), p.event_id, trace=p.trace)
    if (why := lifecycle.refusal(recorded, p.state)) is not None:
        return Rejection("invalid_transition", why, (), p.event_id, trace=p.trace)
    return None


class _UpdateStager:
    """One transaction of updates: what they name and what is recorded, looked up once per stream's batch."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.context = UpdateContext()  # targets and recorded states, as looked up and staged
        self.stored: dict[tuple[str, str], str] = {}  # (partner, event id) -> report ref, stored or staged
        self.met: list[str] = []

    def prepare(self, parsed: Sequence[tuple[str, Sequence[ParsedUpdate]]]) -> None:
        """Nothing: each partner's stream is looked up in `batch` (its own partner id)."""

    def batch(self, stream: str, parsed: Sequence[ParsedUpdate]) -> None:
        if not parsed:
            return
        partner_id = parsed[0].partner_id
        # Stored event ids are looked up always (not only on the retry): a duplicate across
        # batches would otherwise cost every first attempt a unique violation.
        found = self.tx.store.update_context(partner_id, [p.event_id for p in parsed], [p.ref for p in parsed])
        self.context.targets.update(found.targets)
        for ref, states in found.recorded.items():
            # An earlier batch of this transaction may have staged states for it already: keep those.
            self.context.recorded.setdefault(ref, states)
        self.stored.update({(partner_id, e): r for e, r in found.stored.items()})

    def entry(self, stream: str, entry: Entry, p: ParsedUpdate) -> None:
        tx, out = self.tx, self.tx.out
        receipts = streams.referral_receipts(p.partner_id)
        if (report_ref := self.stored.get((p.partner_id, p.event_id))) is not None:
            self._receipt(receipts, p, report_ref)  # the same receipt again
            out.duplicates += 1
            return
        target = self.context.targets.get(p.ref)
        recorded = self.context.recorded.setdefault(p.ref, [])
        if (refused := refusal(p, target, recorded)) is not None:
            if refused.code == "not_your_referral":
                # Which partner tried, nothing of what it sent (the dead letter keeps the entry).
                log.warning("referral_update.not_yours", partner=p.partner_id, stream=stream, code=refused.code)
            tx.reject(stream, entry, refused, receipts)
            return
        assert target is not None
        tx.rows.add(
            ReferralUpdate,
            partner_id=p.partner_id,
            event_id=p.event_id,
            ref=p.ref,
            report_ref=target.report_ref,
            state=p.state,
            step=lifecycle.STEP[p.state],
            code=p.code,
            text=p.text,
            sent_at=p.time,
            received_at=tx.now,
        )
        recorded.append(p.state)
        self.stored[(p.partner_id, p.event_id)] = target.report_ref
        self.met.append(p.ref)
        self._receipt(receipts, p, target.report_ref)
        out.accepted += 1
        out.refs.append(target.report_ref)

    def _receipt(self, receipts: str, p: ParsedUpdate, report_ref: str) -> None:
        data = ReceiptData(status="accepted", report_event_id=p.event_id, report_ref=report_ref)
        _, text = new_event_json(
            UPDATE_ACCEPTED,
            data,
            now=self.tx.now,
            subject=report_ref,
            event_id=receipt_id(p.partner_id, p.event_id),
            trace=p.trace,
        )
        self.tx.rows.outbox(receipts, JsonText(text))

    def finish(self) -> None:
        # Any update acknowledges: the referral's (alert's) clock stops, in the same transaction.
        self.tx.store.meet_clocks(self.met, self.tx.now)

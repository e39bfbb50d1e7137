"""Baseline: the intake worker as a user would write it first with FastStream.

One `StreamSub` per intake stream with a consumer group and `batch=False`; per message:
parse (the hub's own `parse_entry`), assess (the hub's policy), one database transaction
for that report (report, case, triage item, disclosure rows, tracking row), commit, then
one XADD per output (triage entry, alert or notification, receipt), then FastStream's ack.
No outbox, no batching: the same work and wire output as the hub, none of its batching.
The database calls block the event loop, as they would in such a first version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aredis
from faststream import AckPolicy
from faststream.redis import RedisBroker, RedisRouter, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from sqlmodel import Session, col, select

from hub.bootstrap import Container, load_settings
from hub.config.registry import Source
from hub.policies import NotificationKind, PolicyEngine
from hub.runtime.transport import consumer_name, encode, ensure_group
from hub.schemas import catalogue, streams
from hub.schemas.cloudevents import new_event
from hub.schemas.entry import Entry
from hub.schemas.events import (
    ALERT_RAISED,
    NOTIFICATION_ISSUED,
    REPORT_ACCEPTED,
    REPORT_REJECTED,
    TRIAGE_QUEUED,
    ReceiptData,
)
from hub.services.envelope import ParsedReport, Rejection, parse_entry
from hub.services.intake import disclosed_data, triage_queued
from hub.store.lookups import subject_key
from hub.store.models import Case, Disclosure, ProcessedEntry, Report, TriageItem

GROUP = "bench-naive"


def run_naive(
    deadline_s: float, ready: Callable[[], None], until_signalled: Callable[[float], Awaitable[None]]
) -> None:
    container = Container(load_settings())
    settings, registry, policy = container.settings, container.registry, container.policy
    engine = container.database(migrate_first=False)  # the bench migrated it
    assert settings.redis_url
    client = aredis.Redis.from_url(settings.redis_url)
    broker = RedisBroker(settings.redis_url, logger=logging.getLogger("bench.naive"))
    logging.getLogger("bench.naive").setLevel(logging.WARNING)
    router = RedisRouter()
    consumer = consumer_name()

    def handler(source: Source) -> Callable[..., Awaitable[None]]:
        stream = streams.intake(source.id)

        async def on_concern_reported(msg: RedisStreamMessage) -> None:
            raw = msg.raw_message
            entry = Entry(stream, raw["message_ids"][0].decode(), dict(raw["data"]))
            now = datetime.now(UTC)
            outputs: list[tuple[str, dict[str, Any]]] = []
            parsed = parse_entry(entry, source.id, now, settings.max_body_bytes)
            with Session(engine, expire_on_commit=False) as s:
                if isinstance(parsed, Rejection):
                    outputs.append(_rejected(source.id, parsed, now))
                else:
                    outputs += _store(s, parsed, source, policy, now)
                s.add(ProcessedEntry(stream=stream, entry_id=entry.entry_id, processed_at=now))
                s.commit()  # a redelivery fails here (tracking row): FastStream leaves it pending
            for out_stream, event in outputs:
                await client.xadd(out_stream, encode(event))  # type: ignore[arg-type]

        return on_concern_reported

    for source in registry.sources:
        router.subscriber(
            stream=StreamSub(
                streams.intake(source.id),
                group=GROUP,
                consumer=consumer,
                batch=False,
                max_records=settings.batch_size,
                polling_interval=settings.poll_ms,
            ),
            ack_policy=AckPolicy.REJECT_ON_ERROR,
        )(handler(source))
    broker.include_router(router)

    async def main() -> None:
        for stream in registry.catalogue().of(catalogue.INTAKE):
            await ensure_group(client, stream, GROUP)
        async with broker:
            await broker.start()
            ready()
            await until_signalled(deadline_s)

    asyncio.run(main())


def _case_for(s: Session, key: str | None, now: datetime) -> Case:
    """The subject's oldest case, or a new one (an area observation always gets a new one): one
    ORM query per report, as a handler without batches would do it."""
    if key is not None:
        found = s.exec(select(Case).where(Case.subject_key == key).order_by(col(Case.id))).first()
        if found is not None:
            return found
    case = Case(subject_key=key, created_at=now)
    s.add(case)
    s.flush()
    return case


def _rejected(source_id: str, r: Rejection, now: datetime) -> tuple[str, dict[str, Any]]:
    receipt = ReceiptData(status="rejected", report_event_id=r.event_id, code=r.code, message=r.message)
    return streams.receipts(source_id), new_event(REPORT_REJECTED, receipt, now=now, subject=r.code)


def _store(
    s: Session, p: ParsedReport, source: Source, policy: PolicyEngine, now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    a = policy.assess(p.report, source.facts, now)
    if not a.accepted or a.queue is None:
        return [_rejected(source.id, Rejection("unlawful_purpose", a.reasons[0].en, (), p.event_id), now)]
    report = p.report
    case = _case_for(s, subject_key(report.subject.cpr if report.subject else None), now)
    receipt = new_event(
        REPORT_ACCEPTED, ReceiptData(status="accepted", report_event_id=p.event_id, report_ref=p.ref), now=now
    )
    s.add(
        Report(
            ref=p.ref,
            source_id=p.source_id,
            event_id=p.event_id,
            received_at=now,
            case_id=case.id,
            queue=a.queue.value,
            payload=report.model_dump(mode="json"),
            assessment=a.model_dump(mode="json"),
            receipt_event=receipt,
        )
    )
    s.flush()  # the report row first: the triage item and disclosures refer to it
    s.add(TriageItem(report_ref=p.ref, queue=a.queue.value, suggested_level=a.suggested_level, created_at=now))
    out = [(streams.triage(a.queue), new_event(TRIAGE_QUEUED, triage_queued(p, a), now=now, subject=p.ref))]
    for n in a.notifications:
        data = disclosed_data(p, a, n)
        if n.kind is NotificationKind.POLICE_ALERT:
            stream, recipient = streams.POLICE_ALERTS, "politi-vestegn"
            event = new_event(ALERT_RAISED, data, now=now, subject=p.ref)
        else:
            stream, recipient = streams.CHILDREN_NOTIFICATIONS, "bkv"
            event = new_event(NOTIFICATION_ISSUED, data, now=now, subject=p.ref)
        s.add(
            Disclosure(
                ref=event["id"],
                report_ref=p.ref,
                case_id=case.id,
                recipient=recipient,
                kind=n.kind.value,
                effect="share",
                fields=sorted(data.fields),
                legal_basis=list(data.legal_basis),
                rule_ids=list(n.rule_ids),
                reasons=[r.model_dump() for r in a.reasons if r.rule_id in n.rule_ids],
                purpose=report.purpose.value,
                policy_version=a.policy_version,
                created_at=now,
            )
        )
        out.append((stream, event))
    out.append((streams.receipts(p.source_id), receipt))
    return out

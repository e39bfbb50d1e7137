"""The demo's step for referrals after they were sent: partners answer on their own update
streams (plain XADD, as any partner system would). One partner accepts a referral, another
declines one with a reason from the closed list; the summary shows where each stands, read
back through the query layer as `hub referrals` shows it, and checks it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aredis

from hub.bootstrap import Hub
from hub.entrypoints import labels as da
from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD
from hub.schemas.lifecycle import REFERRAL_ACCEPTED, REFERRAL_DECLINED, DeclineReason
from hub.store import queries
from hub.store.queries.referrals import referral_state


def _update(partner_id: str, type_: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": partner_id,
            "type": type_,
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        }
    )


async def _issued(client: aredis.Redis) -> list[dict[str, Any]]:
    """Every `referral.issued` on the partners' referral streams, oldest stream first."""
    out = []
    async for key in client.scan_iter(match="hub.referrals.*"):
        if key.decode() == streams.REFERRALS_WITHHELD:
            continue
        for _, fields in await client.xrange(key) or []:
            out.append(json.loads((fields or {})[EVENT_FIELD.encode()]))
    return sorted(out, key=lambda e: (e["time"], e["id"]))


async def _receipts(client: aredis.Redis, partner_ids: set[str], expected: int, timeout_s: float = 30) -> None:
    """Until the hub answered `expected` updates of these partners (their receipts are relayed)."""
    deadline = time.monotonic() + timeout_s
    while sum([await client.xlen(streams.referral_receipts(p)) for p in partner_ids]) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError("the hub did not answer the partners' updates in time")
        await asyncio.sleep(0.05)


async def partners_answer(hub: Hub) -> tuple[list[str], bool]:
    """One partner accepts a referral, another declines one; the summary lines and whether both
    are recorded as expected."""
    client = redis_client(hub.redis_url)
    try:
        issued = await _issued(client)
        accept = next((e for e in issued if e["data"]["partner_id"] == "bkv"), None)
        decline = next((e for e in issued if e is not accept and e["data"]["partner_id"] != "bkv"), None)
        lines = ["", "Modtagernes svar på henvisninger (hub.referral-updates.<partner>.v1):"]
        if accept is None or decline is None:
            return [*lines, "    AFVIGELSE: ingen henvisninger at svare på"], False
        plan: tuple[tuple[dict[str, Any], str, dict[str, Any], str], ...] = (
            (accept, REFERRAL_ACCEPTED, {}, "accepted"),
            (decline, REFERRAL_DECLINED, {"reason": {"code": DeclineReason.ALREADY_KNOWN.value}}, "declined"),
        )
        for event, type_, extra, _ in plan:
            partner_id = event["data"]["partner_id"]
            data = {"referral_ref": event["data"]["referral_ref"], **extra}
            await client.xadd(streams.referral_updates(partner_id), {EVENT_FIELD: _update(partner_id, type_, data)})
        await _receipts(client, {e["data"]["partner_id"] for e, *_ in plan}, len(plan))
    finally:
        await client.aclose()
    ok = True
    with queries.reading(hub.engine) as session:
        for event, _, _, expected in plan:
            view = referral_state(session, event["id"])
            state = view.state if view is not None else "issued"
            code = f" ({da.label(da.UPDATE_CODE, view.code)})" if view is not None and view.code else ""
            data = event["data"]
            lines.append(
                f"    {data['report_ref']} → {da.STRUCTURE[data['structure']]} {data['partner_id']}: "
                f"{da.label(da.REFERRAL_STATE, state)}{code}"
            )
            if state != expected:
                lines.append(f"    AFVIGELSE: ventede {expected}, fik {state}")
                ok = False
    lines.append("    Se alle: hub referrals list")
    return lines, ok

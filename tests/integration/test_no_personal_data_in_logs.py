"""No personal data in logs: run accepted, rejected and failing reports and scan every line."""

from __future__ import annotations

import io
import logging
import re

import redis.asyncio as aredis

from hub.logs import configure
from hub.schemas import streams
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, child_cpr, cloudevent, decision, entry, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"
CPR_SHAPE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")  # not inside longer ids


async def test_logs_carry_ids_and_codes_but_no_personal_data(settings, monkeypatch) -> None:
    from hub.bootstrap import running
    from hub.services.intake import IntakeService

    buffer = io.StringIO()
    configure(json=True, level="DEBUG")
    logging.getLogger().handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    cpr = child_cpr(serial=777)
    address = "Hyldespjældet 99, 2620 Albertslund"
    data = report_data(subject={"cpr": cpr, "name": CHILD_NAME, "district": address})

    # A processing failure whose exception text quotes personal data must not reach the logs.
    real = IntakeService._accept

    def leaky_accept(self, s, p, a, now, *rest):  # type: ignore[no-untyped-def]
        if p.report.concern.description == "BOOM":
            raise RuntimeError(f"failed for {CHILD_NAME} {cpr} {address}")
        return real(self, s, p, a, now, *rest)

    monkeypatch.setattr(IntakeService, "_accept", leaky_accept)

    async with running(settings.model_copy(update={"max_deliveries": 1})) as hub:
        client = aredis.Redis.from_url(hub.redis_url)
        await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, data)))
        bad = report_data(subject={"cpr": cpr[:5] + "9-0000", "name": CHILD_NAME})
        await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, bad)))
        boom = report_data(
            concern={"categories": ["crime"], "description": "BOOM"}, subject={"cpr": cpr, "name": CHILD_NAME}
        )
        await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, boom)))
        receipts = await read_events(client, streams.receipts(SCHOOL), 3, timeout_s=20)
        ref = next(r["data"]["report_ref"] for r in receipts if r["data"]["status"] == "accepted")
        await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "politi-vestegn")])))
        await read_events(client, streams.referrals("ssp", "politi-vestegn"), 1)
        await client.aclose()

    logged = buffer.getvalue()
    assert "intake.batch" in logged and "entry.failed" in logged  # the scan saw real log lines
    for secret in (CHILD_NAME, cpr, cpr.replace("-", ""), address, CHILD_DESCRIPTION, "Testesen"):
        assert secret not in logged, secret
    assert not CPR_SHAPE.search(logged)
    configure(json=False, level="WARNING")

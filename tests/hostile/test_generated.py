"""Generated hostile input (Hypothesis) on an intake stream and over HTTP: every entry gets a
receipt with a code from the table (never `processing_failed`), every body a 202 or a 4xx with
its code (never a 500), nothing stays pending, and a good report after them is accepted.

Each example is a batch of inputs sent at once; the hub keeps running across examples."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from hub.schemas import streams
from tests.hostile.builders import SCHOOL, dumps, report
from tests.hostile.cases import ACCEPTED, KNOWN_CODES
from tests.hostile.harness import DEADLINE_S, LogCapture, pending, receipts, wait_for
from tests.hostile.strategies import BODIES, GENERATED, entries

INTAKE = streams.intake(SCHOOL)
ANSWERS = (KNOWN_CODES | {ACCEPTED}) - {"processing_failed"}


async def _all_answered(hub: Any, good_id: str) -> list[dict[str, Any]]:
    """Wait until every intake entry has its one receipt and none is pending; the receipts.
    Fails, saying what is missing, after the deadline."""
    client = hub.client

    async def answered() -> bool:
        got = await receipts(client, SCHOOL)
        return len(got) >= await client.xlen(INTAKE) and await pending(client, INTAKE, streams.INTAKE_GROUP) == 0

    done = await wait_for(answered, DEADLINE_S)
    got = await receipts(client, SCHOOL)
    left = await pending(client, INTAKE, streams.INTAKE_GROUP)
    assert done, f"after {DEADLINE_S} s: {len(got)} receipts for {await client.xlen(INTAKE)} entries, {left} pending"
    assert len(got) == await client.xlen(INTAKE), "one receipt per entry"
    codes = [ACCEPTED if r["status"] == "accepted" else r.get("code") for r in got]
    assert set(codes) <= ANSWERS, f"codes outside the table (or processing_failed): {set(codes) - ANSWERS}"
    assert [r["status"] for r in got if r.get("report_event_id") == good_id] == ["accepted"], "the good report"
    return got


@GENERATED
@given(batch=st.lists(entries(), min_size=5, max_size=20))
async def test_generated_entries_are_all_answered(
    hostile_hub: Any, captured_logs: LogCapture, batch: list[dict[bytes, bytes]]
) -> None:
    good = report(f"gen-good-{uuid.uuid4()}")  # not drawn: Hypothesis repeats its values
    pipe = hostile_hub.client.pipeline(transaction=True)
    for fields in batch:
        pipe.xadd(INTAKE, fields)
    pipe.xadd(INTAKE, {b"event": dumps(good)})
    await pipe.execute()
    await _all_answered(hostile_hub, good["id"])
    captured_logs.assert_no_personal_data(must_contain=["intake.batch"])


@GENERATED
@given(bodies=st.lists(BODIES, min_size=5, max_size=20))
async def test_generated_bodies_over_http_are_all_answered(
    hostile_hub: Any, hostile_http: tuple[httpx.AsyncClient, str], captured_logs: LogCapture, bodies: list[bytes]
) -> None:
    http, token = hostile_http
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    for body in bodies:
        resp = await http.post("/v1/reports", content=body, headers=headers)
        assert resp.status_code in (202, 413, 415, 422), (resp.status_code, resp.text[:200], body[:200])
        if resp.status_code != 202:
            assert resp.json().get("code") in ANSWERS, (resp.status_code, resp.text[:200])
    good = report(f"gen-http-good-{uuid.uuid4()}")
    assert (await http.post("/v1/reports", content=dumps(good), headers=headers)).status_code == 202
    await _all_answered(hostile_hub, good["id"])
    captured_logs.assert_no_personal_data(must_contain=["intake.batch"])

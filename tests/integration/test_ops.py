"""The operators' endpoints (`hub.entrypoints.ops`) on a real Redis and both databases:
`/healthz` asks nothing, `/readyz` names what is not ready (never a URL or a password), and a
scrape of `/metrics` after real traffic shows every `hub_…` metric and nothing of the traffic's
personal data."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import redis.asyncio as aredis
from alembic.script import ScriptDirectory
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase
from sqlalchemy import delete, text
from sqlmodel import Session

from hub import metrics
from hub.entrypoints.http import create_http_app
from hub.runtime.gauges import Gauges
from hub.schemas import streams
from hub.store.db import MIGRATIONS, make_engine, migrate
from hub.store.models import Outbox
from hub.store.tokens import TokenStore
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, cloudevent, decision, entry, planned_crime_data, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"
POLICE = "politi-vestegn"
# A database nobody listens on, with a password that must not be echoed.
UNREACHABLE = "postgresql://hub:S3cretPassw0rd@127.0.0.1:1/hub"


def api(hub: Any, tmp_path: Any, **overrides: Any) -> httpx.AsyncClient:
    args: dict[str, Any] = {"client": hub.client, "engine": hub.engine, **overrides}
    app = create_http_app(
        args["client"], hub.registry, TokenStore(tmp_path / "tokens.toml"), max_bytes=10_000, engine=args["engine"]
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


async def test_healthz_answers_while_redis_and_the_database_are_away(hub, tmp_path) -> None:
    away = aredis.Redis(host="127.0.0.1", port=1)
    engine = make_engine(UNREACHABLE)
    async with api(hub, tmp_path, client=away, engine=engine) as http:
        resp = await http.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    await away.aclose()
    engine.dispose()


async def test_readyz_is_200_with_each_check_when_all_is_up(hub, tmp_path) -> None:
    async with api(hub, tmp_path) as http:
        resp = await http.get("/readyz")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "ready", "checks": {"redis": "ok", "database": "ok", "migrations": "ok"}}


async def test_readyz_names_an_unreachable_database_and_no_secret(hub, tmp_path) -> None:
    engine = make_engine(UNREACHABLE)
    async with api(hub, tmp_path, engine=engine) as http:
        resp = await http.get("/readyz")
    engine.dispose()
    assert resp.status_code == 503
    assert resp.json()["failed"] == ["database"]
    assert resp.json()["checks"]["redis"] == "ok"
    for secret in ("S3cretPassw0rd", "127.0.0.1", "postgresql"):
        assert secret not in resp.text


async def test_readyz_names_an_unreachable_redis(hub, tmp_path) -> None:
    away = aredis.Redis(host="127.0.0.1", port=1)
    async with api(hub, tmp_path, client=away) as http:
        resp = await http.get("/readyz")
    await away.aclose()
    assert resp.status_code == 503 and resp.json()["failed"] == ["redis"]


async def test_readyz_names_migrations_when_the_schema_is_behind(hub, tmp_path) -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)

    def set_version(revision: str) -> None:
        with hub.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})

    set_version(previous)  # as if the newest migration had not run
    try:
        async with api(hub, tmp_path) as http:
            resp = await http.get("/readyz")
    finally:
        set_version(head)
    assert resp.status_code == 503
    assert resp.json()["failed"] == ["migrations"]
    assert resp.json()["checks"] == {"redis": "ok", "database": "ok", "migrations": "behind"}


def declared() -> dict[str, str]:
    """Each metric of `hub.metrics`: its name and type."""
    return {
        family.name: family.type
        for value in vars(metrics).values()
        if isinstance(value, MetricWrapperBase)
        for family in value.describe()
    }


def samples(exported: str, name: str) -> bool:
    """Whether the scrape has a sample of metric `name` (a counter's `_total`, a histogram's `_count`)."""
    return re.search(rf"^{name}(_total|_count)?({{[^}}]*}})? [0-9.e+-]+$", exported, re.M) is not None


async def test_a_scrape_after_real_traffic_shows_every_metric_and_no_personal_data(hub, tmp_path) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    good, urgent = report_data(), planned_crime_data()
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, good)))  # type: ignore[arg-type]
    bad = '{"specversion": "1.0", "id": "x", "data": {"subject": {"name": "' + CHILD_NAME + '"'
    await client.xadd(streams.intake(SCHOOL), {"event": bad})
    await client.xadd(streams.intake(POLICE), entry(cloudevent(POLICE, urgent)))  # type: ignore[arg-type]
    await client.xadd("hub.intake.ukendt-afsender-7q.v1", entry(cloudevent("ukendt-afsender-7q", report_data())))  # type: ignore[arg-type]
    receipts = await read_events(client, streams.receipts(SCHOOL), 2)
    await read_events(client, streams.POLICE_ALERTS, 1)
    ref = next(r["data"]["report_ref"] for r in receipts if r["data"]["status"] == "accepted")
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", POLICE)])))  # type: ignore[arg-type]
    await read_events(client, streams.referrals("ssp", POLICE), 1)
    await client.aclose()

    # Every metric is exported; each has a sample but the deleted-unprocessed count, which
    # takes a stream trimmed under the hub's feet. The gauges are sampled, and unknown streams
    # swept, every `reclaim_interval_s`: the scrape is repeated until they are in.
    families = declared()
    wanted = [n for n in families if n != "hub_entries_deleted_unprocessed"]
    intake = streams.intake(SCHOOL).replace(".", r"\.")
    expected = [
        r'^hub_reports_total\{outcome="accepted",source_kind="school"\} [1-9]',
        r'^hub_report_rejections_total\{code="invalid_json",source_kind="school"\} [1-9]',
        r'^hub_dead_letters_total\{kind="intake",reason="unknown_source"\} [1-9]',
        r"^hub_unknown_intake_entries_total [1-9]",
        r"^hub_urgent_alert_latency_seconds_count [1-9]",
        rf'^hub_stream_group_pending\{{group="hub-intake",stream="{intake}"\}} ',
    ]
    deadline = asyncio.get_running_loop().time() + 10
    async with api(hub, tmp_path) as http:
        while True:
            resp = await http.get("/metrics")
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
            exported = resp.text
            missing = [n for n in wanted if not samples(exported, n)]
            missing += [p for p in expected if not re.search(p, exported, re.M)]
            if not missing or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
    assert not missing, missing
    for name, type_ in families.items():
        assert f"# TYPE {name}{'_total' if type_ == 'counter' else ''} {type_}" in exported, name
    cprs = [d["subject"]["cpr"] for d in (good, urgent)]
    unknown = "ukendt-afsender-7q"  # an unknown source's id is no label
    for secret in (*cprs, *(c.replace("-", "") for c in cprs), CHILD_NAME, CHILD_DESCRIPTION, "Testesen", unknown):
        assert secret not in exported, secret
    assert not re.search(r"\d{6}-\d{4}", exported)  # nothing CPR-shaped


async def test_the_outbox_gauges_show_the_backlog_and_its_oldest_row(database_url: str, clean_redis: str) -> None:
    # No hub running: its own gauge task would sample the same outbox meanwhile.
    migrate(database_url)
    engine, client = make_engine(database_url), aredis.Redis.from_url(clean_redis)
    now = datetime.now(UTC)
    with Session(engine) as s:  # a row the relay leaves alone for an hour, written a minute ago
        s.add(
            Outbox(
                stream="hub.test.v1",
                event={},
                created_at=now - timedelta(seconds=60),
                relay_after=now + timedelta(hours=1),
            )
        )
        s.commit()
    await Gauges(client, engine, []).sample()
    assert REGISTRY.get_sample_value("hub_outbox_backlog") == 1
    assert 60 <= (REGISTRY.get_sample_value("hub_outbox_oldest_unsent_age_seconds") or 0) < 120
    with Session(engine) as s:
        s.exec(delete(Outbox))  # type: ignore[call-overload]
        s.commit()
    await Gauges(client, engine, []).sample()
    assert REGISTRY.get_sample_value("hub_outbox_backlog") == 0
    assert REGISTRY.get_sample_value("hub_outbox_oldest_unsent_age_seconds") == 0
    await client.aclose()
    engine.dispose()

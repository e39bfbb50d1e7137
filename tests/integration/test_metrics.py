"""The hub's metrics (`hub.metrics`) count what real traffic did, with labels free of personal data."""

from __future__ import annotations

import httpx
import redis.asyncio as aredis
from prometheus_client import REGISTRY, generate_latest

from hub.entrypoints.http import create_http_app
from hub.schemas import streams
from hub.store.tokens import TokenStore
from tests.factories import CHILD_NAME, cloudevent, entry, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_accepted_and_refused_entries_are_counted_by_kind_outcome_and_code(hub) -> None:
    accepted = sample("hub_entries_total", kind="intake", outcome="accepted")
    rejected = sample("hub_entries_total", kind="intake", outcome="rejected")
    bad_json = sample("hub_rejections_total", kind="intake", code="invalid_json")
    school = aredis.Redis.from_url(hub.redis_url)
    good = report_data()
    await school.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, good)))
    await school.xadd(streams.intake(SCHOOL), {"event": '{"specversion": "1.0", "id": '})
    await read_events(school, streams.receipts(SCHOOL), 2)
    await school.aclose()

    assert sample("hub_entries_total", kind="intake", outcome="accepted") == accepted + 1
    assert sample("hub_entries_total", kind="intake", outcome="rejected") == rejected + 1
    assert sample("hub_rejections_total", kind="intake", code="invalid_json") == bad_json + 1
    exported = generate_latest(REGISTRY).decode()
    assert "hub_entries_total" in exported
    assert good["subject"]["cpr"] not in exported and CHILD_NAME not in exported


async def test_http_refusals_are_counted_with_the_intake_s_by_source_kind_and_code(hub, tmp_path) -> None:
    """A report refused at once over HTTP never reaches the stream: it is counted where the
    intake counts its refusals (by source kind and code), so received = accepted + rejected + ..."""
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    app = create_http_app(hub.client, hub.registry, tokens, max_bytes=2_000, engine=hub.engine)
    auth = {"Authorization": f"Bearer {token}"}
    codes = ("unauthorized", "unsupported_media_type", "too_large", "invalid_json", "unlawful_purpose")
    before = {code: sample("hub_report_rejections_total", source_kind="school", code=code) for code in codes}
    unauthorized = sample("hub_report_rejections_total", source_kind="unknown", code="unauthorized")
    received = sample("hub_reports_received_total", source_kind="school")
    rejected = sample("hub_reports_total", source_kind="school", outcome="rejected")
    good = report_data()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
        answers = [
            await http.post("/v1/reports", json=cloudevent(SCHOOL, good), headers={"Authorization": "Bearer nope"}),
            await http.post("/v1/reports", content=b"{}", headers={**auth, "Content-Type": "text/plain"}),
            await http.post(
                "/v1/reports", json=cloudevent(SCHOOL, report_data(concern={"description": "x" * 3000})), headers=auth
            ),
            await http.post("/v1/reports", content=b'{"id": ', headers={**auth, "Content-Type": "application/json"}),
            await http.post("/v1/reports", json=cloudevent(SCHOOL, report_data(purpose="investigation")), headers=auth),
            await http.get("/v1/reports/DKE-NOPE/receipt", headers={"Authorization": "Bearer nope"}),  # not a report
        ]
    assert [a.status_code for a in answers] == [401, 415, 413, 422, 422, 401]

    assert sample("hub_report_rejections_total", source_kind="unknown", code="unauthorized") == unauthorized + 1
    for code in codes[1:]:
        assert sample("hub_report_rejections_total", source_kind="school", code=code) == before[code] + 1, code
    assert sample("hub_reports_received_total", source_kind="school") == received + 4
    assert sample("hub_reports_total", source_kind="school", outcome="rejected") == rejected + 4
    exported = generate_latest(REGISTRY).decode()
    assert good["subject"]["cpr"] not in exported and CHILD_NAME not in exported and token not in exported

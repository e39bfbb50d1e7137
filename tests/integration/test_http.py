"""POST /v1/reports: bearer token per source, the same stream and receipt as a Redis client."""

from __future__ import annotations

import json

import httpx
import redis.asyncio as aredis

from hub.entrypoints.http import create_http_app
from hub.schemas import streams
from hub.services.envelope import report_ref
from hub.store.tokens import TokenStore
from tests.factories import CHILD_DESCRIPTION, cloudevent, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"


def client_for(hub, tmp_path) -> tuple[httpx.AsyncClient, str]:
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    app = create_http_app(hub.client, hub.registry, tokens, max_bytes=10_000)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://hub"), token


async def test_post_report_is_queued_and_receipted(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    event = cloudevent(SCHOOL, report_data())
    resp = await http.post("/v1/reports", json=event, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 202, resp.text
    assert resp.json()["report_ref"] == report_ref(SCHOOL, event["id"])
    redis = aredis.Redis.from_url(hub.redis_url)
    [receipt] = await read_events(redis, streams.receipts(SCHOOL), 1)
    assert receipt["data"]["report_ref"] == resp.json()["report_ref"]
    await redis.aclose()
    await http.aclose()


async def test_bad_token_is_refused_and_nothing_is_written(hub, tmp_path) -> None:
    http, _ = client_for(hub, tmp_path)
    resp = await http.post(
        "/v1/reports",
        json=cloudevent(SCHOOL, report_data()),
        headers={"Authorization": "Bearer hub_herstedlund-skole_guess"},
    )
    assert resp.status_code == 401
    assert (await http.post("/v1/reports", json={})).status_code == 401
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    await http.aclose()


async def test_spoofed_and_invalid_reports_get_422_and_a_dead_letter(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    auth = {"Authorization": f"Bearer {token}"}
    spoof = await http.post("/v1/reports", json=cloudevent("politi-vestegn", report_data()), headers=auth)
    assert spoof.status_code == 422 and spoof.json()["code"] == "source_mismatch"
    json_auth = {**auth, "Content-Type": "application/json"}
    broken = await http.post("/v1/reports", content=b'{"specversion": "1.0", "id":', headers=json_auth)
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_json"
    redis = aredis.Redis.from_url(hub.redis_url)
    dead = await read_events(redis, streams.DEADLETTER, 2)
    assert {d["data"]["reason"] for d in dead} == {"source_mismatch", "invalid_json"}
    await redis.aclose()
    await http.aclose()


async def test_oversized_body_is_refused(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    big = json.dumps(cloudevent(SCHOOL, report_data())) + " " * 20_000
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    resp = await http.post("/v1/reports", content=big, headers=headers)
    assert resp.status_code == 413
    await http.aclose()


def _auth(token: str, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


async def test_a_chunked_body_over_the_limit_is_refused_without_being_read(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)  # limit 10,000 bytes
    sent = 0

    async def body():  # no Content-Length: chunked, as a client streaming a large upload sends it
        nonlocal sent
        for _ in range(1000):  # 1 MB offered
            sent += 1000
            yield b" " * 1000

    resp = await http.post("/v1/reports", content=body(), headers=_auth(token))
    assert sent <= 12_000, f"{sent} bytes were read for a 10,000-byte limit"
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    await http.aclose()


async def test_only_json_content_types_are_taken(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    event = json.dumps(cloudevent(SCHOOL, report_data())).encode()
    for refused in ("text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""):
        resp = await http.post("/v1/reports", content=event, headers=_auth(token, refused))
        assert resp.status_code == 415, (refused, resp.text)
        assert resp.json()["code"] == "unsupported_media_type"
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    cloudevents = _auth(token, "application/cloudevents+json; charset=UTF-8")
    assert (await http.post("/v1/reports", content=event, headers=cloudevents)).status_code == 202
    await http.aclose()


async def test_an_unlawful_purpose_is_refused_at_once_and_never_written(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    event = cloudevent(SCHOOL, report_data(purpose="investigation"))
    resp = await http.post("/v1/reports", json=event, headers=_auth(token))
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "unlawful_purpose" and resp.json()["reasons"]
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    await http.aclose()


async def test_hostile_bodies_get_422_in_http_terms_and_nothing_is_written(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    good = json.dumps(cloudevent(SCHOOL, report_data()), ensure_ascii=False)
    bodies = {
        "too_deep": good[:-1] + ', "x": ' + "[" * 4000 + "]" * 4000 + "}",
        "number_too_large": good[:-1] + ', "x": ' + "9" * 4400 + "}",
        "duplicate_key": good[:-1] + ', "source": "politi-vestegn"}',
        "control_character": good.replace(CHILD_DESCRIPTION, "a\\u0000b"),
        "invalid_json": "{",
        "not_utf8": "\udcff",
    }
    for code, body in bodies.items():
        raw = body.encode("utf-8", "surrogateescape")
        resp = await http.post("/v1/reports", content=raw, headers=_auth(token))
        assert resp.status_code == 422, (code, resp.status_code, resp.text)
        answer = resp.json()
        assert answer["code"] == code and answer["status"] == "rejected", answer
        assert "`event`" not in answer["message"] and "stream" not in answer["message"], answer["message"]
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    await http.aclose()

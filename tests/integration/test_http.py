"""POST /v1/reports: bearer token per source, the same stream and receipt as a Redis client."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import redis.asyncio as aredis

from hub.entrypoints.http import create_http_app
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD
from hub.schemas.decision import DECISION_MADE
from hub.schemas.messages import DANISH
from hub.services.envelope import report_ref
from hub.store.tokens import TokenStore
from tests.factories import CHILD_DESCRIPTION, cloudevent, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"
OTHER_SCHOOL = "kongsholm-skole"


def client_for(hub, tmp_path) -> tuple[httpx.AsyncClient, str]:
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    app = create_http_app(hub.client, hub.registry, tokens, max_bytes=10_000, engine=hub.engine)
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://hub"), token


async def receipt_of(http: httpx.AsyncClient, ref: str, token: str, timeout_s: float = 10.0) -> httpx.Response:
    """`GET /v1/reports/{ref}/receipt` until it is not 404 (the report is processed) or time is up."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        resp = await http.get(f"/v1/reports/{ref}/receipt", headers={"Authorization": f"Bearer {token}"})
        if resp.status_code != 404 or asyncio.get_running_loop().time() > deadline:
            return resp
        await asyncio.sleep(0.05)


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
    assert (resp.json()["code"], resp.json()["message_da"]) == ("unauthorized", DANISH["unauthorized"])
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
        "invalid_envelope": "[]",
        "unknown_type": json.dumps(cloudevent(SCHOOL, report_data(), type_=DECISION_MADE)),
    }
    for code, body in bodies.items():
        raw = body.encode("utf-8", "surrogateescape")
        resp = await http.post("/v1/reports", content=raw, headers=_auth(token))
        assert resp.status_code == 422, (code, resp.status_code, resp.text)
        answer = resp.json()
        assert answer["code"] == code and answer["status"] == "rejected", answer
        assert answer["message_da"] == DANISH[code], answer
        assert "`event`" not in answer["message"] and "stream" not in answer["message"], answer["message"]
        assert all(e["field"] != "event" for e in answer["errors"]), answer["errors"]
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    await http.aclose()


async def test_the_receipt_of_an_accepted_report_is_read_with_the_senders_token_only(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    other = TokenStore(tmp_path / "tokens.toml").issue(OTHER_SCHOOL)
    event = cloudevent(SCHOOL, report_data())
    ref = (await http.post("/v1/reports", json=event, headers=_auth(token))).json()["report_ref"]
    resp = await receipt_of(http, ref, token)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "accepted" and resp.json()["report_ref"] == ref
    assert resp.json()["report_event_id"] == event["id"]
    # Another source, a reference nobody sent and no token: no receipt, and nothing that tells them apart.
    theirs = await http.get(f"/v1/reports/{ref}/receipt", headers={"Authorization": f"Bearer {other}"})
    unknown = await http.get("/v1/reports/DKE-AAAAAAAAAAAA/receipt", headers={"Authorization": f"Bearer {token}"})
    assert theirs.status_code == unknown.status_code == 404 and theirs.json() == unknown.json()
    assert (unknown.json()["code"], unknown.json()["message_da"]) == ("not_found", DANISH["not_found"])
    assert (await http.get(f"/v1/reports/{ref}/receipt")).status_code == 401
    await http.aclose()


async def test_the_receipt_of_a_refused_report_says_why_in_english_and_danish(hub, tmp_path) -> None:
    """A report the worker refuses (written to the stream, as a source that also speaks Redis may)
    has no report row: its rejection receipt is found by its reference all the same."""
    http, token = client_for(hub, tmp_path)
    other = TokenStore(tmp_path / "tokens.toml").issue(OTHER_SCHOOL)
    event = cloudevent(SCHOOL, report_data(purpose="investigation"))
    await hub.client.xadd(streams.intake(SCHOOL), {EVENT_FIELD: json.dumps(event)})
    ref = report_ref(SCHOOL, event["id"])
    resp = await receipt_of(http, ref, token)
    assert resp.status_code == 200, resp.text
    receipt = resp.json()
    assert receipt["status"] == "rejected" and receipt["code"] == "unlawful_purpose", receipt
    assert receipt["message"] and receipt["message_da"].startswith(DANISH["unlawful_purpose"]), receipt
    assert receipt["message_da"] != DANISH["unlawful_purpose"]  # the rule's own Danish reason follows
    theirs = await http.get(f"/v1/reports/{ref}/receipt", headers={"Authorization": f"Bearer {other}"})
    assert theirs.status_code == 404
    redis = aredis.Redis.from_url(hub.redis_url)
    [on_stream] = await read_events(redis, streams.receipts(SCHOOL), 1)
    assert on_stream["data"] == receipt
    await redis.aclose()
    await http.aclose()


async def test_every_refusal_over_http_has_a_danish_message(hub, tmp_path) -> None:
    http, token = client_for(hub, tmp_path)
    investigation = cloudevent(SCHOOL, report_data(purpose="investigation"))
    unlawful = await http.post("/v1/reports", json=investigation, headers=_auth(token))
    too_large = await http.post("/v1/reports", content=b" " * 20_000, headers=_auth(token))
    media = await http.post("/v1/reports", content=b"{}", headers=_auth(token, "text/plain"))
    for resp, code in ((unlawful, "unlawful_purpose"), (too_large, "too_large"), (media, "unsupported_media_type")):
        assert resp.json()["code"] == code and resp.json()["message_da"].startswith(DANISH[code]), resp.json()
    await http.aclose()


async def test_the_openapi_document_states_the_request_body_and_every_answer(hub, tmp_path) -> None:
    http, _ = client_for(hub, tmp_path)
    doc = (await http.get("/openapi.json")).json()
    post = doc["paths"]["/v1/reports"]["post"]
    content = post["requestBody"]["content"]
    assert set(content) == {"application/json", "application/cloudevents+json"}
    body = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = doc["components"]["schemas"]
    assert {"specversion", "id", "source", "type", "data"} <= set(schemas[body]["properties"])
    assert schemas[body]["properties"]["data"]["$ref"].endswith("/ConcernReport")
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs <= set(schemas), refs - set(schemas)  # every reference resolves
    assert set(post["responses"]) == {"202", "401", "413", "415", "422", "503"}
    for code in ("413", "415", "422"):
        assert post["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith("/Refusal")
    receipt = doc["paths"]["/v1/reports/{ref}/receipt"]["get"]
    assert set(receipt["responses"]) == {"200", "401", "404", "503"}
    await http.aclose()


async def test_docs_and_redoc_load_everything_from_the_hub(hub, tmp_path) -> None:
    """Offline networks: no script, style sheet or icon from a CDN."""
    http, _ = client_for(hub, tmp_path)
    for page in ("/docs", "/redoc"):
        resp = await http.get(page)
        assert resp.status_code == 200, page
        assets = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', resp.text)
        assets += re.findall(r"(?:url|spec-url)\s*:\s*['\"]([^'\"]+)['\"]", resp.text)
        assert any(a.endswith(".js") for a in assets), (page, assets)
        for asset in assets:
            assert asset.startswith("/") and not asset.startswith("//"), (page, asset)
            assert (await http.get(asset)).status_code == 200, (page, asset)
        assert "https://" not in resp.text.replace("https://github.com", ""), page
    await http.aclose()


async def test_redis_down_is_503_with_a_code_and_danish_text_and_nothing_queued(hub, tmp_path) -> None:
    """A report the hub cannot queue is answered 503 with a stable code, never 202 or a traceback."""
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    dead = aredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens there
    app = create_http_app(dead, hub.registry, tokens, max_bytes=10_000, engine=hub.engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
        resp = await http.post("/v1/reports", json=cloudevent(SCHOOL, report_data()),
                               headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 503, resp.text
    assert (resp.json()["code"], resp.json()["message_da"]) == ("unavailable", DANISH["unavailable"])
    assert await hub.client.xlen(streams.intake(SCHOOL)) == 0
    await dead.aclose()

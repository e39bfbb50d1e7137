"""The assignment, admin and access-request pages in a real browser (Debian's Chromium through
Playwright) against a live hub: a triage member assigns a case to a colleague from the queue,
an administrator creates an account and issues a source token (each secret shown once), a jurist
finds a person by CPR number and downloads the access letter. Screenshots go to
`HUB_SCREENSHOTS` (docs/screenshots) or a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.store.tokens import TokenStore
from tests.browser.harness import PASSWORD, LiveHub
from tests.factories import child_cpr, report_data

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE, locale="da-DK", timezone_id="Europe/Copenhagen", accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def log_in(page: Any, live: LiveHub, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live.url}/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()


def test_assign_a_case_to_a_colleague_from_the_queue(live: LiveHub, page: Any, shots: Path) -> None:
    ref = live.report(report_data(subject={"cpr": child_cpr(serial=31), "name": "Tildelt Testbarn"}))
    anna, bo = live.add_staff("triage"), live.add_staff("triage")
    log_in(page, live, anna)
    page.locator("tr", has_text=ref).get_by_role("link", name="Tildel").click()
    page.wait_for_url(f"**/sager/{ref}/tildel")
    page.get_by_role("button", name="Tildel sagen").click()  # no colleague chosen
    assert "Vælg en aktiv kollega" in page.inner_text(".error-summary")
    page.goto(f"{live.workspace}/sager/{ref}/tildel")
    page.get_by_label("Kollega").select_option(bo)
    page.screenshot(path=str(shots / "9-tildel.png"), full_page=True)
    page.get_by_role("button", name="Tildel sagen").click()
    page.wait_for_url("**/koer")
    row = page.locator("tr", has_text=ref)
    assert f"tildelt {bo} af dig" in row.inner_text()
    page.screenshot(path=str(shots / "10-koer-tildelt.png"), full_page=True)

    colleague = page.context.browser.new_context(viewport=WIDE).new_page()
    log_in(colleague, live, bo)
    colleague.locator("tr", has_text=ref).get_by_role("link", name=ref, exact=True).click()
    assert "Tildelt dig" in colleague.inner_text(".claimbar")
    assert f"fik sagen tildelt af {anna}" in colleague.inner_text("main")
    colleague.context.close()


def test_the_admin_creates_an_account_and_issues_a_token(live: LiveHub, page: Any, shots: Path) -> None:
    log_in(page, live, live.add_staff("admin"))
    assert page.title().startswith("Medarbejdere")
    page.get_by_role("link", name="Opret medarbejder").click()
    page.get_by_label("Brugernavn").fill("frida")
    page.get_by_label("Navn", exact=True).fill("Frida Fenger")
    page.get_by_label("Jurist").check()
    page.get_by_role("button", name="Opret medarbejder").click()
    assert "Medarbejderen frida er oprettet" in page.inner_text("h1")
    password = page.inner_text("#adgangskode-vist")
    assert len(password) >= 12
    page.screenshot(path=str(shots / "11-medarbejder-oprettet.png"), full_page=True)
    page.get_by_role("link", name="Gå til medarbejderen").click()
    assert password not in page.content()

    page.get_by_role("link", name="Kildenøgler").click()
    page.get_by_label("Kilde", exact=True).select_option(value="herstedlund-skole")
    page.get_by_label("Udløber om (dage, valgfri)").fill("90")
    page.get_by_role("button", name="Udsted nøgle").click()
    token = page.inner_text("#ny-noegle")
    [record] = TokenStore(live.settings.tokens_path).records()
    assert token.startswith("hub_herstedlund-skole_") and record.id in page.inner_text("table")
    assert "?" not in page.url and token not in page.url
    page.screenshot(path=str(shots / "12-kildenoegler.png"), full_page=True)
    page.goto(f"{live.workspace}/kildenoegler")
    assert token not in page.content()

    frida = page.context.browser.new_context(viewport=WIDE).new_page()
    log_in(frida, live, "frida", password)
    assert frida.title().startswith("Adgangslog")
    frida.context.close()


def test_the_jurist_looks_a_person_up_and_downloads_the_letter(live: LiveHub, page: Any, shots: Path) -> None:
    cpr = child_cpr(serial=32)
    ref = live.report(report_data(subject={"cpr": cpr, "name": "Indsigtbarn Testesen"}))
    log_in(page, live, live.add_staff("jurist"))
    page.get_by_role("link", name="Indsigt").click()
    page.get_by_label("CPR-nummer").fill("12345")
    page.get_by_role("button", name="Find personen").click()
    assert "CPR-nummeret er ikke gyldigt" in page.inner_text(".error-summary")
    page.get_by_label("CPR-nummer").fill(cpr)
    page.get_by_role("button", name="Find personen").click()
    result = page.locator("#resultat")
    assert ref in result.inner_text() and "indsigtsanmodning" in result.inner_text()
    assert cpr not in page.url and cpr.replace("-", "") not in page.url and cpr not in page.title()
    page.screenshot(path=str(shots / "13-indsigt.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("button", name="Hent indsigtsbrevet").click()
    download = info.value
    assert download.suggested_filename == "indsigtsbrev.html"
    letter = Path(download.path()).read_text(encoding="utf-8")
    assert "Indsigt i oplysninger om dig" in letter and "Indsigtbarn Testesen" in letter

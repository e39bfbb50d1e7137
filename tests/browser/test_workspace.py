"""The workspace in a real browser (Debian's Chromium through Playwright) against a live hub on
real Redis and a real database: log in, a queue, claim, the case view, preview, decide, the
referral on the partner's stream, a refused decision, break-glass, lock-out. Screenshots of the
main pages go to `HUB_SCREENSHOTS` (docs/screenshots) or a temporary directory."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from hub.schemas import streams
from hub.schemas.lifecycle import REFERRAL_DECLINED
from hub.store.db import make_engine
from hub.store.models import AccessRecord
from tests.browser.harness import PASSWORD, LiveHub
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, child_cpr, cloudevent, entry, report_data
from tests.reliability.helpers import assert_no_personal_data

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE, locale="da-DK", timezone_id="Europe/Copenhagen")
    pg = context.new_page()
    yield pg
    context.close()


def log_in(page: Any, live: LiveHub, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live.url}/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()


def accesses(live: LiveHub, ref: str) -> list[AccessRecord]:
    engine = make_engine(live.settings.effective_database_url)
    with Session(engine) as s:
        rows = list(s.exec(select(AccessRecord).where(AccessRecord.report_ref == ref)))
    engine.dispose()
    return rows


def events_on(live: LiveHub, stream: str, count: int) -> list[dict[str, Any]]:
    """The data of the events on `stream` once there are `count` (published after the commit)."""
    deadline = time.monotonic() + 10
    while live.redis.xlen(stream) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads(f[b"event"])["data"] for _, f in live.redis.xrange(stream)]


def test_a_case_from_the_queue_to_an_issued_referral(live: LiveHub, page: Any, shots: Path) -> None:
    ref = live.report(report_data(subject={"cpr": child_cpr(serial=7), "name": CHILD_NAME, "district": "Herstedlund"}))
    user = live.add_staff("triage")
    log_in(page, live, user)
    assert page.title().startswith("Alle køer")
    row = page.locator("tr", has_text=ref)
    assert row.count() == 1 and "§ 133" in row.inner_text()
    page.screenshot(path=str(shots / "1-koer.png"), full_page=True)

    row.get_by_role("button", name="Tag sag").click()
    page.wait_for_url(f"**/sager/{ref}")
    assert "Taget af dig" in page.inner_text(".claimbar")
    assert CHILD_NAME in page.content() and "Personens forløb" in page.content()
    page.screenshot(path=str(shots / "2-sag.png"), full_page=True)
    assert [a.ground for a in accesses(live, ref)] == ["own_claim"]

    page.get_by_role("link", name="Afgør sagen").click()
    page.get_by_label("Niveau I (risikoadfærd)").check()
    page.get_by_label("Reaktivt koordinatorområde").check()
    page.locator("#m-ssp-bkv").check()
    page.locator("#m-ssp-kultur-fritid").check()
    page.get_by_label("Begrundelse for, at videregivelsen er nødvendig").fill(
        "Barnet mistrives og har brug for en koordineret indsats fra skole og socialforvaltning nu."
    )
    page.get_by_role("button", name="Forhåndsvis").click()
    preview = page.locator("#forhaandsvisning")
    assert "Børn, Kultur & Velfærd" in preview.inner_text() and "vil få" in preview.inner_text()
    # Fields in Danish; the free-text description stays home without a reason of its own.
    assert "Bekymringens kategorier" in preview.inner_text() and "Beskrivelse (fritekst)" not in preview.inner_text()
    page.screenshot(path=str(shots / "3-forhaandsvisning.png"), full_page=True)
    assert live.redis.xlen(streams.referrals("ssp", "bkv")) == 0  # a preview sends nothing

    page.get_by_role("button", name="Afgør og send").click()
    page.wait_for_selector("#udfald")
    outcome = page.inner_text("main")
    assert f"Sag {ref} er afgjort" in outcome and "delt" in outcome
    page.screenshot(path=str(shots / "4-udfald.png"), full_page=True)

    issued = events_on(live, streams.referrals("ssp", "bkv"), 1)
    assert [e["report_ref"] for e in issued] == [ref]
    assert issued[0]["justification"].startswith("Barnet mistrives")
    assert CHILD_DESCRIPTION not in json.dumps(issued[0], ensure_ascii=False)

    # The partner answers on its own update stream; the case view shows where the referral stands.
    decline = cloudevent(
        "bkv",
        {"referral_ref": issued[0]["referral_ref"], "reason": {"code": "already_known"}},
        type_=REFERRAL_DECLINED,
    )
    live.redis.xadd(streams.referral_updates("bkv"), entry(decline))
    events_on(live, streams.referral_receipts("bkv"), 1)
    page.goto(f"{live.workspace}/sager/{ref}")
    assert "Status fra modtageren: afvist (kendt og i forløb i forvejen)" in " ".join(page.inner_text("main").split())

    # Decided: a second decision by accident is refused; a revision needs a reason, and the
    # referral event carries it.
    page.goto(f"{live.workspace}/sager/{ref}/afgoer")
    page.get_by_label("Niveau I (risikoadfærd)").check()
    page.locator("#m-ssp-bkv").check()
    page.get_by_role("button", name="Afgør og send").click()
    assert "allerede afgjort" in page.inner_text(".error-summary")
    assert live.redis.xlen(streams.referrals("ssp", "bkv")) == 1
    page.get_by_label("Begrundelse for revision").fill("Skolen har meldt om nyt fravær; niveauet hæves.")
    page.get_by_label("Niveau II (kriminalitet)").check()
    page.get_by_label("Begrundelse for, at videregivelsen er nødvendig").fill(
        "Fraværet er steget, og en fælles handleplan med socialforvaltningen er nødvendig nu."
    )
    page.get_by_label("Begrundelse for at dele selve beskrivelsen (valgfri)").fill(
        "Socialrådgiveren skal kende barnets egne ord for at kunne tale med familien."
    )
    page.get_by_role("button", name="Afgør og send").click()
    page.wait_for_selector("#udfald")
    assert "Revision: Skolen har meldt om nyt fravær" in page.inner_text("#udfald")
    revised = events_on(live, streams.referrals("ssp", "bkv"), 2)
    assert CHILD_DESCRIPTION in json.dumps(revised[1], ensure_ascii=False)  # now with its reason
    assert [(e["level"], e.get("revision_reason")) for e in revised] == [
        ("I", None),
        ("II", "Skolen har meldt om nyt fravær; niveauet hæves."),
    ]


def test_a_refused_decision_is_shown_as_refused(live: LiveHub, page: Any, shots: Path) -> None:
    ref = live.report(report_data(subject={"cpr": child_cpr(serial=8), "name": CHILD_NAME}))
    log_in(page, live, live.add_staff("triage"))
    page.locator("tr", has_text=ref).get_by_role("button", name="Tag sag").click()
    page.goto(f"{live.workspace}/sager/{ref}/afgoer")
    page.get_by_label("Niveau II (kriminalitet)").check()
    page.locator("#m-ssp-bkv").check()
    page.get_by_label("Begrundelse for, at videregivelsen er nødvendig").fill("x" * 2100)  # over the hub's limit
    page.get_by_role("button", name="Afgør og send").click()
    refused = page.locator("#afvist")
    refused.wait_for()
    assert "Afgørelsen blev afvist af hubben" in refused.inner_text()
    assert "Beslutningen mangler oplysninger eller har et felt udfyldt forkert" in refused.inner_text()
    assert "Begrundelse må højst være 2000 tegn." in refused.inner_text()
    page.screenshot(path=str(shots / "5-afvist.png"), full_page=True)
    issued = live.redis.xrange(streams.referrals("ssp", "bkv"))
    assert all(json.loads(f[b"event"])["data"]["report_ref"] != ref for _, f in issued)  # nothing shared


def test_break_glass_needs_a_reason_and_is_flagged(live: LiveHub, page: Any, shots: Path) -> None:
    ref = live.report(report_data(subject={"cpr": child_cpr(serial=9), "name": CHILD_NAME}))
    log_in(page, live, live.add_staff("triage"))
    page.goto(f"{live.workspace}/sager/{ref}")
    assert CHILD_NAME not in page.content()  # nothing personal before a ground is given
    page.get_by_label("Begrundelse for nødadgang").fill("kort")
    page.get_by_role("button", name="Åbn sagen med nødadgang").click()
    assert "Der er et problem" in page.inner_text(".error-summary")
    assert accesses(live, ref) == []
    page.get_by_label("Begrundelse for nødadgang").fill("Kollega syg; forælder ringer om akut situation i dag.")
    page.screenshot(path=str(shots / "6-noedadgang.png"), full_page=True)
    page.get_by_role("button", name="Åbn sagen med nødadgang").click()
    assert "Nødadgang:" in page.inner_text("main") and CHILD_NAME in page.content()
    [record] = accesses(live, ref)
    assert (record.ground, record.flagged) == ("break_glass", True) and record.reason and "Kollega" in record.reason

    jurist = page.context.browser.new_context(viewport=WIDE).new_page()
    log_in(jurist, live, live.add_staff("jurist"))
    jurist.goto(f"{live.workspace}/adgangslog?markerede=1")
    assert ref in jurist.inner_text("table") and "nødadgang" in jurist.inner_text("table")
    jurist.screenshot(path=str(shots / "7-adgangslog.png"), full_page=True)


def test_lock_out_in_the_browser(live: LiveHub, page: Any, shots: Path) -> None:
    user = live.add_staff("triage")
    for _ in range(5):
        log_in(page, live, user, "forkert-adgangskode")
    assert "midlertidigt låst" in page.inner_text(".error-summary")
    log_in(page, live, user)  # the right password, too late
    assert "midlertidigt låst" in page.inner_text(".error-summary")
    page.screenshot(path=str(shots / "8-laast.png"), full_page=True)


def test_no_personal_data_in_the_hub_logs(live: LiveHub) -> None:
    """Runs after the flows above on the same hub: log-ins, views, previews and decisions logged
    nothing personal (names, CPR numbers, free text)."""
    assert live.logs is not None
    cprs = [child_cpr(serial=n) for n in (7, 8, 9)]
    assert_no_personal_data(live.logs.text, cprs, must_contain=["web.login", "decisions.batch"])


def test_convening_the_operativgruppe_from_the_decide_form(live: LiveHub, page: Any, shots: Path) -> None:
    """Niveau III: DKE ticks the Operativgruppe's members to convene (the form lists them, all
    ticked); the preview shows what each would get; the outcome and the case say it again."""
    ref = live.report(report_data(subject={"cpr": child_cpr(serial=9), "name": CHILD_NAME, "district": "Vest"}))
    log_in(page, live, live.add_staff("triage"))
    page.locator("tr", has_text=ref).get_by_role("button", name="Tag sag").click()
    page.goto(f"{live.workspace}/sager/{ref}/afgoer")
    page.get_by_label("Niveau III (kvalificeret kriminalitet)").check()
    page.locator("#m-ssp-bkv").check()
    page.get_by_label("Indkald til møde").check()
    members = page.locator("#indkald-III input[type=checkbox]")
    assert members.count() == 6 and all(members.nth(i).is_checked() for i in range(6))  # prefilled
    for pid in ("skoler", "psykiatri", "kriminalforsorgen"):
        page.locator(f"#indkald-III-{pid}").uncheck()
    page.get_by_label("Samarbejde, mødet deler oplysninger i").select_option("ssp")
    page.get_by_label("Begrundelse for, at videregivelsen er nødvendig").fill(
        "Alvorlig kriminalitet; Operativgruppen skal fordele ansvar og opgaver i sagen nu."
    )
    page.get_by_role("button", name="Forhåndsvis").click()
    invites = page.locator("#moede-forhaandsvisning")
    text = invites.inner_text()
    assert "Københavns Vestegns Politi indkaldes i SSP: vil få" in text
    assert "By, Kultur & Fritid indkaldes i SSP: får intet" in text and "RPL115-OUTSIDE" in text
    assert "Folkeskolerne" not in text
    page.screenshot(path=str(shots / "15-moede-operativgruppe.png"), full_page=True)
    assert live.redis.xlen(streams.referrals("ssp", "politi-vestegn")) == 0  # a preview sends nothing

    page.get_by_role("button", name="Afgør og send").click()
    page.wait_for_selector("#udfald")
    outcome = page.inner_text("main")
    assert "Operativgruppemøde (niveau III) i SSP" in outcome and "Indkaldt: Københavns Vestegns Politi" in outcome
    [invite] = events_on(live, streams.referrals("ssp", "politi-vestegn"), 1)
    assert invite["convened"] == ["politi-vestegn", "bkv", "kultur-fritid"] and invite["report_ref"] == ref
    page.goto(f"{live.workspace}/sager/{ref}")
    assert "Operativgruppemøde (niveau III) i SSP" in page.inner_text("main")

"""The reporter's page of a case in a real browser against a live hub: "Send kvittering" puts
`report.acknowledged` on the school's receipts stream (the reference, no personal data), the page
says so in Danish; feedback before a decision is refused and shown as refused; a feedback form
without a choice gets the error summary. Screenshot: `16-indberetter.png`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.schemas import streams
from hub.schemas.reporter import REPORT_ACKNOWLEDGED
from tests.browser.harness import PASSWORD, SCHOOL, LiveHub
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, child_cpr, report_data


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="da-DK",
                                  timezone_id="Europe/Copenhagen")
    pg = context.new_page()
    yield pg
    context.close()


def receipts(live: LiveHub, type_: str, count: int) -> list[dict[str, Any]]:
    """The events of `type_` on the school's receipts stream once there are `count` of them."""
    deadline = time.monotonic() + 10
    while True:
        found = [json.loads(f[b"event"]) for _, f in live.redis.xrange(streams.receipts(SCHOOL))]
        found = [e for e in found if e["type"] == type_]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_kvittering_and_feedback_from_the_case(live: LiveHub, page: Any, shots: Path) -> None:
    ref = live.report(report_data(subject={"cpr": child_cpr(serial=11), "name": CHILD_NAME, "district": "Herstedlund"}))
    user = live.add_staff("triage")
    page.goto(f"{live.url}/")
    page.get_by_label("Brugernavn").fill(user)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()
    page.locator("tr", has_text=ref).get_by_role("button", name="Tag sag").click()
    page.wait_for_url(f"**/sager/{ref}")

    page.get_by_role("link", name="Svar indberetteren").click()
    assert "ikke fået kvittering eller tilbagemelding" in page.inner_text("#indberetter")
    page.get_by_role("button", name="Send tilbagemelding").click()  # nothing chosen
    assert "Vælg, hvad underretningen har ført til" in page.inner_text(".error-summary")

    page.get_by_label("Førte til en undersøgelse").check()
    page.get_by_role("button", name="Send tilbagemelding").click()
    page.wait_for_selector("#afvist")
    assert "ikke afgjort endnu" in page.inner_text("#afvist")

    page.get_by_role("button", name="Send kvittering").click()
    page.wait_for_selector("#sendt")
    assert "Kvitteringen er sendt" in page.inner_text("#sendt")
    assert "Kvittering (sendt af" in page.inner_text("#indberetter")
    page.screenshot(path=str(shots / "16-indberetter.png"), full_page=True)
    [ack] = receipts(live, REPORT_ACKNOWLEDGED, 1)
    assert ack["data"]["report_ref"] == ref
    text = json.dumps(ack, ensure_ascii=False)
    assert CHILD_NAME not in text and CHILD_DESCRIPTION not in text
    assert page.locator("#send-kvittering").count() == 0  # sent: the button is gone

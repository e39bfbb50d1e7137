"""An escalation answered in the decide form (issue #18 points 7 and 10), in a real browser against
a live hub: the preview asks the policy's open question, the answer (with its reason and basis)
re-previews as a share, and the referral the decision issues carries the answering rule and who
answered. The screenshot of the answered preview goes to `HUB_SCREENSHOTS` (docs/screenshots)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from hub.schemas import streams
from hub.store.db import make_engine
from hub.store.models import Decision
from tests.browser.harness import LiveHub, events_on, log_in
from tests.factories import report_data

WIDE = {"width": 1366, "height": 900}
WHY = "Journalen viser, at personen er hjemløs og uden netværk."


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=WIDE, locale="da-DK", timezone_id="Europe/Copenhagen")
    pg = context.new_page()
    yield pg
    context.close()


def test_an_escalation_answered_in_the_form_becomes_a_referral(live: LiveHub, page: Any, shots: Path) -> None:
    subject = {"name": "Testperson Testesen", "birth_date": "1990-01-01", "psychiatric_contact": True}
    ref = live.report(report_data(subject=subject, concern={"categories": ["wellbeing"], "description": "Fritekst."}))
    user = live.add_staff("triage")
    log_in(page, live, user)
    page.locator("tr", has_text=ref).get_by_role("button", name="Tag sag").click()
    page.wait_for_url(f"**/sager/{ref}")

    page.get_by_role("link", name="Afgør sagen").click()
    page.get_by_label("Niveau I (risikoadfærd)").check()
    page.get_by_label("Reaktivt koordinatorområde").check()
    page.locator("#m-psp-psykiatri").check()
    page.get_by_label("Begrundelse for, at videregivelsen er nødvendig").fill(
        "Personen har brug for en koordineret psykiatrisk og social indsats nu."
    )
    page.get_by_role("button", name="Forhåndsvis", exact=True).click()
    preview = page.locator("#forhaandsvisning")
    assert "kræver stillingtagen" in preview.inner_text()
    question = page.get_by_role("group", name="Er personen socialt udsat (PSP)?")
    assert question.count() == 1 and "RPL115-1-2-CHECK" in question.inner_text()

    # Sent with too short a reason: the hub refuses it (Danish), and the question keeps the answer.
    question.get_by_label("Ja, personen er socialt udsat").check()
    question.get_by_label("Begrundelse for svaret").fill("ja")
    page.get_by_role("button", name="Afgør og send").click()
    page.locator("#afvist").wait_for()
    assert "Et svar mangler en begrundelse, eller begrundelsen er for kort" in page.inner_text("#afvist")
    question = page.get_by_role("group", name="Er personen socialt udsat (PSP)?")
    assert question.get_by_label("Ja, personen er socialt udsat").is_checked()
    assert live.redis.xlen(streams.referrals("psp", "psykiatri")) == 0

    question.get_by_label("Begrundelse for svaret").fill(WHY)
    question.get_by_label("Svaret bygger på").select_option("records")
    page.get_by_role("button", name="Forhåndsvis med svarene").click()
    preview = page.locator("#forhaandsvisning")
    assert "vil få" in preview.inner_text() and "RPL115-1-2-ANSWERED" in preview.inner_text()
    # The question stays, answered as it was: the decision sends what the preview showed.
    question = page.get_by_role("group", name="Er personen socialt udsat (PSP)?")
    assert question.get_by_label("Ja, personen er socialt udsat").is_checked()
    assert question.get_by_label("Begrundelse for svaret").input_value() == WHY
    page.screenshot(path=str(shots / "14-spoergsmaal.png"), full_page=True)
    assert live.redis.xlen(streams.referrals("psp", "psykiatri")) == 0  # a preview sends nothing

    page.get_by_role("button", name="Afgør og send").click()
    page.wait_for_selector("#udfald")
    outcome = page.inner_text("main")
    assert "Besvaret af en medarbejder: RPL115-1-2-ANSWERED" in outcome, outcome

    [issued] = events_on(live, streams.referrals("psp", "psykiatri"), 1)
    assert issued["report_ref"] == ref and "RPL115-1-2-ANSWERED" in issued["rule_ids"]
    assert issued["answers"] == [{"question": "RPL115-1-2-CHECK", "answer": "yes", "rule_id": "RPL115-1-2-ANSWERED",
                                  "answered_by": user, "basis": "records"}]
    assert WHY not in json.dumps(issued, ensure_ascii=False)
    # The case keeps the answer with its reason and basis, for DKE's own staff.
    page.goto(f"{live.workspace}/sager/{ref}")
    assert f"Svar på RPL115-1-2-CHECK: ja (journal eller sagsakter): {WHY}" in page.inner_text("main")
    engine = make_engine(live.settings.effective_database_url)
    with Session(engine) as s:
        [row] = s.exec(select(Decision).where(Decision.report_ref == ref)).all()
        assert row.decided_by == user and row.answers is not None and row.answers[0]["reason"] == WHY
    engine.dispose()

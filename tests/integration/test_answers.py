"""Escalations answered by a person (issue #18 point 7), through `hub triage decide` and the
decision pipeline: the policy decides again with the answer, the referral event and the disclosure
log carry the answering rule, who answered and the basis (not the written reason), the decision row
keeps the whole answer, and answers that do not fit are refused with a stable code."""

from __future__ import annotations

import asyncio

import redis.asyncio as aredis
from sqlmodel import Session, select
from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.schemas import streams
from hub.store.models import Decision, Disclosure
from tests.factories import cloudevent, entry, report_data
from tests.integration.wire import read_events

runner = CliRunner()


def env_for(settings) -> dict[str, str]:
    return {
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_LOG_LEVEL": "WARNING",
    }

WHY = "Journalen viser, at personen er hjemløs og uden netværk."
BASE = ["triage", "decide", "--level", "I", "--pillar", "reactive", "--by", "TT", "--wait", "20",
        "--justification", "Nødvendigt for en koordineret psykiatrisk og social indsats."]


async def _report(client: aredis.Redis, n: int) -> str:
    data = report_data(subject={"name": "Testperson Testesen", "cpr": None, "birth_date": "1990-01-01",
                                "psychiatric_contact": True})
    data["subject"] = {k: v for k, v in data["subject"].items() if v is not None}
    await client.xadd(streams.intake("herstedlund-skole"), entry(cloudevent("herstedlund-skole", data)))
    receipts = await read_events(client, streams.receipts("herstedlund-skole"), n)
    return str(receipts[-1]["data"]["report_ref"])


async def test_an_answered_escalation_becomes_a_referral_that_carries_the_answering_rule(hub) -> None:
    env = env_for(hub.settings)
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client, 1)
    psp = [*BASE, ref, "--refer", "psp:psykiatri"]

    # Bad answers are one Danish line and exit 2, before anything is sent.
    for args, text in (
        (["--answer", "RPL115-1-2-CHECK"], "skriv REGEL=SVAR"),
        (["--answer", "RPL115-1-2-CHECK=maaske", "--answer-reason", WHY], "ugyldigt svar. Tilladte svar: yes, no"),
        (["--answer", "RPL115-2=yes", "--answer-reason", WHY], "RPL115-2 stiller intet spørgsmål"),
        (["--answer", "RPL115-1-2-CHECK=yes"], "--answer kræver --answer-reason"),
        (["--answer", "RPL115-1-2-CHECK@psykiatri=yes", "--answer-reason", WHY], "gælder personen"),
        (["--answer", "RPL115-OUTSIDE-CONSENT-UNCLEAR=yes", "--answer-reason", WHY], "stilles pr. modtager"),
        (["--answer", "RPL115-1-2-CHECK=yes", "--answer-reason", WHY, "--answer-basis", "rygter"], "ukendt grundlag"),
    ):
        bad = runner.invoke(app, [*psp, *args], env=env)
        assert bad.exit_code == 2, bad.output
        assert text in bad.output and "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1

    # An answer to a question no recipient asks is refused by the hub (stable code, Danish).
    unasked = await asyncio.to_thread(
        runner.invoke, app, [*psp, "--answer", "RPL115-1-1-AGE=ssp", "--answer-reason", WHY], env=env
    )
    assert unasked.exit_code == 1 and "Afvist af hubben (unasked_question)" in unasked.output, unasked.output
    short = await asyncio.to_thread(
        runner.invoke, app, [*psp, "--answer", "RPL115-1-2-CHECK=yes", "--answer-reason", "fordi"], env=env
    )
    assert short.exit_code == 1 and "(answer_reason_missing)" in short.output, short.output

    decided = await asyncio.to_thread(
        runner.invoke,
        app,
        [*psp, "--answer", "RPL115-1-2-CHECK=yes", "--answer-reason", WHY, "--answer-basis", "records"],
        env=env,
    )
    assert decided.exit_code == 0, decided.output
    assert "Delt med Social- og behandlingspsykiatrien i PSP" in decided.output
    assert "Besvaret af TT: [RPL115-1-2-ANSWERED]" in decided.output

    [referral] = await read_events(client, streams.referrals("psp", "psykiatri"), 1)
    data = referral["data"]
    assert "RPL115-1-2-ANSWERED" in data["rule_ids"] and "RPL115-1-2-CHECK" not in data["rule_ids"]
    assert data["answers"] == [{"question": "RPL115-1-2-CHECK", "answer": "yes", "rule_id": "RPL115-1-2-ANSWERED",
                                "answered_by": "TT", "basis": "records"}]
    assert WHY not in str(referral)  # the written reason stays in the hub

    with Session(hub.engine) as session:
        [row] = session.exec(select(Decision).where(Decision.report_ref == ref)).all()
        assert row.answers == [{"rule_id": "RPL115-1-2-CHECK", "partner_id": None, "answer": "yes", "reason": WHY,
                                "basis": "records"}]
        [logged] = session.exec(select(Disclosure).where(Disclosure.report_ref == ref)).all()
        assert logged.effect == "share" and "RPL115-1-2-ANSWERED" in logged.rule_ids
        [note] = [r for r in logged.reasons if r["rule_id"] == "RPL115-1-2-ANSWERED"]
        assert (note["answered_by"], note["basis"], note["answer"]) == ("TT", "records", "yes")

    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert "Svar på [RPL115-1-2-CHECK]: yes (journal eller sagsakter): " + WHY in shown.output, shown.output
    await client.aclose()


async def test_unanswered_escalation_names_the_question_and_an_answer_never_overrides_a_withhold(hub) -> None:
    env = env_for(hub.settings)
    client = aredis.Redis.from_url(hub.redis_url)
    ref = await _report(client, 1)
    asked = await asyncio.to_thread(runner.invoke, app, [*BASE, ref, "--refer", "psp:psykiatri"], env=env)
    assert asked.exit_code == 0, asked.output
    assert "Spørgsmål: Er personen socialt udsat (PSP)? Svar i en revision: --answer RPL115-1-2-CHECK=yes|no" in (
        asked.output
    )
    # A revision answers; a justification too short withholds whatever the answer says.
    revised = await asyncio.to_thread(
        runner.invoke,
        app,
        ["triage", "decide", ref, "--level", "I", "--pillar", "reactive", "--by", "TT", "--wait", "20",
         "--justification", "kort", "--refer", "psp:psykiatri", "--answer", "RPL115-1-2-CHECK=yes",
         "--answer-reason", WHY, "--revision-reason", "Spørgsmålet er besvaret."],
        env=env,
    )
    assert revised.exit_code == 0, revised.output
    assert "Tilbageholdt for Social- og behandlingspsykiatrien i PSP" in revised.output
    assert "[RPL115-4]" in revised.output
    withheld = await read_events(client, streams.REFERRALS_WITHHELD, 2)
    assert withheld[-1]["data"]["answers"][0]["rule_id"] == "RPL115-1-2-ANSWERED"
    await client.aclose()

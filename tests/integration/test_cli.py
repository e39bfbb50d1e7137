"""The `hub` command as DKE staff use it: list sources and streams, work a triage queue."""

from __future__ import annotations

import asyncio
import json
import re

import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.schemas import streams
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, cloudevent, decision, entry, report_data
from tests.integration.wire import read_events

runner = CliRunner()


def env_for(settings) -> dict[str, str]:
    return {
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_LOG_LEVEL": "WARNING",
    }


def test_sources_and_streams_list_the_registry() -> None:
    result = runner.invoke(app, ["sources", "--json"])
    assert result.exit_code == 0, result.output
    ids = {s["id"] for s in json.loads(result.output)}
    assert {
        "herstedlund-skole",
        "ungdomsskolen",
        "det-10-element",
        "politi-vestegn",
        "bkv",
        "psykiatri",
        "kriminalforsorgen",
    } <= ids
    result = runner.invoke(app, ["streams", "--json"])
    names = {r["stream"] for r in json.loads(result.output)}
    assert {
        "hub.intake.herstedlund-skole.v1",
        "hub.triage.urgent.v1",
        "hub.alerts.police.v1",
        "hub.referrals.ksp.kriminalforsorgen.v1",
        "hub.deadletter.v1",
    } <= names


async def test_triage_list_show_decide(hub) -> None:
    env = env_for(hub.settings)
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake("herstedlund-skole"), entry(cloudevent("herstedlund-skole", report_data())))
    [receipt] = await read_events(client, streams.receipts("herstedlund-skole"), 1)
    ref = receipt["data"]["report_ref"]

    listed = runner.invoke(app, ["triage", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert ref in listed.output and "Reaktiv" in listed.output and "mistrivsel" in listed.output
    # Times in Danish local time to the minute, never raw UTC with microseconds.
    assert re.search(r"modtaget \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} ", listed.output), listed.output
    assert not re.search(r"\d{2}:\d{2}:\d{2}", listed.output)
    # `--queue` takes the label the list prints as well as the key; an unknown one is refused.
    by_label = runner.invoke(app, ["triage", "list", "--queue", "Reaktiv"], env=env)
    assert by_label.exit_code == 0 and ref in by_label.output
    assert ref not in runner.invoke(app, ["triage", "list", "--queue", "akut"], env=env).output
    unknown = runner.invoke(app, ["triage", "list", "--queue", "reaktive"], env=env)
    assert unknown.exit_code == 2 and "Ukendt kø: reaktive" in unknown.output
    assert "Traceback" not in unknown.output

    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert shown.exit_code == 0, shown.output
    assert CHILD_NAME in shown.output and "BL133-1-1" in shown.output

    # The hub runs on this event loop: the command, which waits for the outcome, runs in a thread.
    decided = await asyncio.to_thread(
        runner.invoke,
        app,
        [
            "triage",
            "decide",
            ref,
            "--level",
            "I",
            "--pillar",
            "reactive",
            "--by",
            "TT",
            "--refer",
            "ssp:bkv",
            "--refer",
            "ksp:kriminalforsorgen",
            "--justification",
            "Nødvendigt for en fælles handleplan.",
            "--description-reason",
            "Sagsbehandleren skal kende barnets egen beskrivelse for at vurdere hjemmet.",
        ],
        env=env,
    )
    assert decided.exit_code == 0, decided.output
    # It waited for the outcome and says it in Danish, per recipient.
    assert "Afgjort: Niveau I (risikoadfærd)" in decided.output
    assert "Delt med Børn, Kultur & Velfærd i SSP: " in decided.output
    assert "Tilbageholdt for Kriminalforsorgen i KSP:" in decided.output and "[RPL115-NOMATCH]" in decided.output
    [referral] = await read_events(client, streams.referrals("ssp", "bkv"), 1)
    assert referral["data"]["report_ref"] == ref
    # The decision says why the description must go (`--description-reason`): it goes along.
    assert referral["data"]["fields"]["concern.description"] == CHILD_DESCRIPTION
    await hub.relay.drain()
    # `show` now has the decision, what each recipient got, and why a referral was withheld.
    shown = runner.invoke(app, ["triage", "show", ref], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Afgørelse" in shown.output and "af TT" in shown.output
    # The reason for sharing the description is recorded with the decision (migration 0008).
    assert "Begrundelse for at dele beskrivelsen: Sagsbehandleren skal kende barnets" in shown.output
    assert "Delt med bkv i SSP: " in shown.output and "Retsplejeloven § 115" in shown.output
    assert "Tilbageholdt for kriminalforsorgen i KSP" in shown.output and "[RPL115-NOMATCH]" in shown.output
    assert "Personens forløb" in shown.output
    doc = json.loads(runner.invoke(app, ["triage", "show", ref, "--json"], env=env).output)
    [made] = doc["decisions"]
    assert [(r["recipient"], r["effect"]) for r in made["referrals"]] == [
        ("bkv", "share"),
        ("kriminalforsorgen", "withhold"),
    ]
    assert made["decided_at"].endswith("+00:00")  # --json: ISO 8601
    still_open = runner.invoke(app, ["triage", "list", "--json"], env=env)
    assert json.loads(still_open.output) == []
    # Decided: again only as a revision with a reason.
    again = ["triage", "decide", ref, "--level", "II", "--pillar", "reactive", "--by", "TT"]
    refused = await asyncio.to_thread(runner.invoke, app, again, env=env)
    assert refused.exit_code == 1 and "Afvist af hubben (already_decided)" in refused.output
    revised = await asyncio.to_thread(runner.invoke, app, [*again, "--revision-reason", "Nye oplysninger."], env=env)
    assert revised.exit_code == 0 and "Revision: Nye oplysninger." in revised.output, revised.output
    await client.aclose()


def test_unknown_reference_is_a_clear_error(settings) -> None:
    result = runner.invoke(app, ["triage", "show", "DKE-NOPE"], env=env_for(settings))
    assert result.exit_code == 1
    assert "Ukendt reference" in result.output


async def test_access_lists_what_was_disclosed_about_a_person(hub) -> None:
    env = env_for(hub.settings)
    client = aredis.Redis.from_url(hub.redis_url)
    data = report_data()
    cpr = data["subject"]["cpr"]
    await client.xadd(streams.intake("herstedlund-skole"), entry(cloudevent("herstedlund-skole", data)))
    [receipt] = await read_events(client, streams.receipts("herstedlund-skole"), 1)
    ref = receipt["data"]["report_ref"]
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "politi-vestegn")])))
    await read_events(client, streams.referrals("ssp", "politi-vestegn"), 1)
    await client.aclose()

    result = runner.invoke(app, ["access", cpr.replace("-", ""), "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["disclosures"]
    assert [(r["kind"], r["recipient"]) for r in rows] == [
        ("children_notification", "bkv"),
        ("referral", "politi-vestegn"),
    ]
    assert all(r["report_ref"] == ref and r["legal_basis"] for r in rows)
    other = runner.invoke(app, ["access", "010101-1234"], env=env)
    assert "ikke registreret" in other.output


async def test_decide_says_a_refusal_and_bad_arguments_in_one_danish_line(hub) -> None:
    env = env_for(hub.settings)
    base = ["triage", "decide", "--level", "I", "--pillar", "reactive", "--by", "TT", "--wait", "20"]
    refused = await asyncio.to_thread(runner.invoke, app, [*base, "DKE-UKENDT"], env=env)
    assert refused.exit_code == 1, refused.output
    assert "Afvist af hubben (unknown_report): Der findes ingen indberetning med denne reference" in refused.output
    for refer, text in (("bkv", "skriv STRUKTUR:PARTNER"), ("ssp:ukendt", "ukendt samarbejdspartner ukendt")):
        bad = runner.invoke(app, [*base, "DKE-X", "--refer", refer], env=env)
        assert bad.exit_code == 2 and text in bad.output and "Traceback" not in bad.output, bad.output
    too_long = runner.invoke(app, [*base, "DKE-X", "--justification", "x" * 2001], env=env)
    assert too_long.exit_code == 2 and "Ugyldig afgørelse: justification" in too_long.output

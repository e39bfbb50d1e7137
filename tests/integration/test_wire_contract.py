"""The wire contract, proven with plain redis-py as a school and a partner would use it."""

from __future__ import annotations

import json

from sqlmodel import Session, func, select

from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.services.envelope import report_ref
from hub.store.models import Report
from tests.factories import cloudevent, decision, entry, planned_crime_data, report_data
from tests.integration.wire import pending_count, read_events, stream_events
from tests.redis_cluster import ON_CLUSTER_TOO

SCHOOL = "herstedlund-skole"
CLOUDEVENT_KEYS = {"specversion", "id", "source", "type", "time", "datacontenttype", "data"}

pytestmark = ON_CLUSTER_TOO  # the same guarantees on a Redis Cluster


async def test_school_posts_report_and_reads_its_receipt_and_triage_entry(hub) -> None:
    school = redis_client(hub.redis_url)
    event = cloudevent(SCHOOL, report_data())
    await school.xadd(streams.intake(SCHOOL), entry(event))

    [receipt] = await read_events(school, streams.receipts(SCHOOL), 1)
    assert set(receipt) >= CLOUDEVENT_KEYS and receipt["specversion"] == "1.0"
    assert receipt["type"] == "dk.albertslund.hub.report.accepted.v1"
    assert receipt["data"]["report_event_id"] == event["id"]
    assert receipt["data"]["report_ref"] == report_ref(SCHOOL, event["id"])

    [queued] = await read_events(school, streams.triage("reactive"), 1)
    assert queued["data"]["report_ref"] == receipt["data"]["report_ref"]
    # Triage entries carry no personal data: the staff look the case up by reference.
    assert "Testbarn" not in json.dumps(queued) and event["data"]["subject"]["cpr"] not in json.dumps(queued)
    [notification] = await read_events(school, streams.CHILDREN_NOTIFICATIONS, 1)
    assert "BL133-1-1" in notification["data"]["grounds"]
    # Who is told: the custody holders (the child is 13, under 15), with the rule's reason.
    informed = notification["data"]["informed"]
    assert informed["custody_holders"] is True and informed["child"] is False and informed["reason_da"]
    assert "BL133-INFORM" in notification["data"]["rule_ids"]
    await school.aclose()


async def test_same_report_twice_is_stored_once_and_gets_the_same_receipt(hub) -> None:
    school = redis_client(hub.redis_url)
    event = cloudevent(SCHOOL, report_data())
    await school.xadd(streams.intake(SCHOOL), entry(event))
    await school.xadd(streams.intake(SCHOOL), entry(event))

    first, second = await read_events(school, streams.receipts(SCHOOL), 2)
    assert first == second
    with Session(hub.engine) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 1
    assert len(await stream_events(school, streams.triage("reactive"))) == 1
    await school.aclose()


async def test_spoofed_source_is_rejected_and_dead_lettered(hub) -> None:
    school = redis_client(hub.redis_url)
    spoof = cloudevent("politi-vestegn", report_data())
    entry_id = (await school.xadd(streams.intake(SCHOOL), entry(spoof))).decode()

    [receipt] = await read_events(school, streams.receipts(SCHOOL), 1)
    assert receipt["type"] == "dk.albertslund.hub.report.rejected.v1"
    assert receipt["data"]["code"] == "source_mismatch"
    [dead] = await read_events(school, streams.DEADLETTER, 1)
    assert dead["data"]["entry_id"] == entry_id and dead["data"]["reason"] == "source_mismatch"
    assert "Testbarn" not in json.dumps(dead)  # the dead-letter stream is redacted
    assert await stream_events(school, streams.receipts("politi-vestegn")) == []
    with Session(hub.engine) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 0
    await school.aclose()


async def test_bad_entries_do_not_block_the_good_one_behind_them(hub) -> None:
    school = redis_client(hub.redis_url)
    stream = streams.intake(SCHOOL)
    await school.xadd(stream, {"event": b"\xff\xfe\x00garbage"})
    await school.xadd(stream, {"something": "else"})
    await school.xadd(stream, {"event": '{"specversion": "1.0", "id": '})
    good = cloudevent(SCHOOL, report_data())
    await school.xadd(stream, entry(good))

    receipts = await read_events(school, streams.receipts(SCHOOL), 4)
    codes = [r["data"].get("code") for r in receipts if r["data"]["status"] == "rejected"]
    assert sorted(codes) == ["invalid_json", "missing_event_field", "not_utf8"]
    assert [r["data"]["report_event_id"] for r in receipts if r["data"]["status"] == "accepted"] == [good["id"]]
    assert len(await read_events(school, streams.DEADLETTER, 3)) == 3
    assert await pending_count(school, stream, streams.INTAKE_GROUP) == 0
    await school.aclose()


async def test_partner_reads_a_minimised_referral_with_its_own_consumer_group(hub) -> None:
    client = redis_client(hub.redis_url)
    event = cloudevent(SCHOOL, report_data())
    await client.xadd(streams.intake(SCHOOL), entry(event))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    ref = receipt["data"]["report_ref"]

    # The partner (the police) sets up its own group at 0 and reads with XREADGROUP, as any client would.
    police_stream = streams.referrals("ssp", "politi-vestegn")
    await client.xgroup_create(police_stream, "politi", id="0", mkstream=True)
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "politi-vestegn"), ("psp", "bkv")])))

    reply = await client.xreadgroup("politi", "reader-1", {police_stream: ">"}, count=10, block=10_000)
    [(_, [(entry_id, fields)])] = reply
    referral = json.loads(fields[b"event"])
    assert referral["type"] == "dk.albertslund.hub.referral.issued.v1"
    assert referral["data"]["report_ref"] == ref and referral["data"]["structure"] == "ssp"
    assert "RPL115-1-1" in referral["data"]["rule_ids"]
    # Minimised: the police get identity and categories, not the free-text description.
    assert "subject.name" in referral["data"]["fields"]
    assert "concern.description" not in referral["data"]["fields"]
    await client.xack(police_stream, "politi", entry_id)

    # PSP does not cover a child without psychiatric problems: withheld, with reasons, nothing sent to bkv.
    [withheld] = await read_events(client, streams.REFERRALS_WITHHELD, 1)
    assert withheld["data"]["partner_id"] == "bkv" and withheld["data"]["effect"] == "withhold"
    assert withheld["data"]["reasons"]
    assert await stream_events(client, streams.referrals("psp", "bkv")) == []
    await client.aclose()


async def test_reports_written_before_the_hub_started_are_processed(settings) -> None:
    from hub.bootstrap import running

    client = redis_client(settings.redis_url)
    early = cloudevent(SCHOOL, report_data())
    await client.xadd(streams.intake(SCHOOL), entry(early))  # no consumer group exists yet
    async with running(settings):
        [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    assert receipt["data"]["report_event_id"] == early["id"]
    await client.aclose()


async def test_planned_crime_alerts_the_police_at_once(hub) -> None:
    client = redis_client(hub.redis_url)
    data = planned_crime_data()
    await client.xadd(streams.intake("politi-vestegn"), entry(cloudevent("politi-vestegn", data)))
    [alert] = await read_events(client, streams.POLICE_ALERTS, 1)
    assert alert["type"] == "dk.albertslund.hub.alert.raised.v1"
    assert alert["data"]["rule_ids"] == ["STRFL141"]
    assert alert["data"]["fields"]["concern.location"] == "Stationen"
    # The alert names the planned offence from the agreement's list, with its sections.
    assert alert["data"]["offence"] == {"id": "grov-vold", "label": "grov vold", "sections": ["§ 245", "§ 246"]}
    [queued] = await read_events(client, streams.triage("urgent"), 1)
    assert queued["data"]["report_ref"] == alert["data"]["report_ref"]
    await client.aclose()


async def test_planned_danger_without_a_listed_offence_goes_urgent_to_dke_without_an_alert(hub) -> None:
    client = redis_client(hub.redis_url)
    data = planned_crime_data()
    data["concern"] = {"categories": ["weapons"], "description": "Planlægger noget.", "planned_serious_crime": True}
    data["subject"] = {"name": "Testvoksen", "birth_date": "1990-01-01"}  # an adult: no notification either
    await client.xadd(streams.intake("politi-vestegn"), entry(cloudevent("politi-vestegn", data)))
    [queued] = await read_events(client, streams.triage("urgent"), 1)
    assert "PLANNED-DANGER" in queued["data"]["rule_ids"] and queued["data"]["notifications"] == []
    assert await stream_events(client, streams.POLICE_ALERTS) == []
    await client.aclose()


async def test_an_offence_not_on_the_list_is_refused_with_its_code_and_danish_text(hub) -> None:
    client = redis_client(hub.redis_url)
    data = planned_crime_data()
    data["concern"] = {**data["concern"], "planned_offence": "tyveri"}
    await client.xadd(streams.intake("politi-vestegn"), entry(cloudevent("politi-vestegn", data)))
    [receipt] = await read_events(client, streams.receipts("politi-vestegn"), 1)
    assert receipt["data"]["status"] == "rejected" and receipt["data"]["code"] == "unknown_offence"
    assert "straffelovens § 141" in receipt["data"]["message_da"]
    assert [r["rule_id"] for r in receipt["data"]["reasons"]] == ["STRFL141-UNKNOWN"]
    assert await stream_events(client, streams.POLICE_ALERTS) == []
    await client.aclose()


async def test_purely_private_matters_leave_a_referral_unless_allowed_and_justified(hub) -> None:
    client = redis_client(hub.redis_url)
    data = report_data()
    data["concern"] = {**data["concern"], "categories": ["crime", "substance_misuse"],
                       "description": "Fortroligt: ryger hash dagligt."}
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, data)))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    ref = receipt["data"]["report_ref"]

    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "politi-vestegn"), ("ssp", "bkv")])))
    [police] = await read_events(client, streams.referrals("ssp", "politi-vestegn"), 1)
    [social] = await read_events(client, streams.referrals("ssp", "bkv"), 1)
    for referral in (police, social):
        assert referral["data"]["fields"]["concern.categories"] == ["crime"], referral  # no substance misuse
        assert "concern.description" not in referral["data"]["fields"]
        assert "hash" not in json.dumps(referral)
        assert "PRIVATE-CATEGORIES" in referral["data"]["rule_ids"]
    assert "PRIVATE-DESCRIPTION" in social["data"]["rule_ids"]  # its allow-list has it; no reason given

    # A revision that says why the description is needed: children's services get it, the police still not.
    why = "Beskrivelsen er nødvendig for sagsbehandlerens vurdering af hjemmet."
    await client.xadd(streams.DECISIONS, entry(decision(ref, [("ssp", "politi-vestegn"), ("ssp", "bkv")],
                                                        description_justification=why,
                                                        revision_reason="Beskrivelsen skal med.")))
    _, social = await read_events(client, streams.referrals("ssp", "bkv"), 2)
    _, police = await read_events(client, streams.referrals("ssp", "politi-vestegn"), 2)
    assert social["data"]["fields"]["concern.description"] == "Fortroligt: ryger hash dagligt."
    assert social["data"]["fields"]["concern.categories"] == ["crime"]
    assert "concern.description" not in police["data"]["fields"]
    await client.aclose()


async def test_consent_lets_a_department_outside_the_structures_receive_about_an_adult(hub) -> None:
    client = redis_client(hub.redis_url)
    data = report_data(subject={"name": "Testvoksen Fyrre", "birth_date": "1986-05-05", "district": "Herstedlund"},
                       consent={"subject": True})
    data["concern"] = {"categories": ["wellbeing"], "description": "Ønsker en fritidsaktivitet."}
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, data)))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    await client.xadd(streams.DECISIONS, entry(decision(receipt["data"]["report_ref"], [("ssp", "kultur-fritid")])))
    [referral] = await read_events(client, streams.referrals("ssp", "kultur-fritid"), 1)
    assert "RPL115-NOMATCH" not in referral["data"]["rule_ids"] and "CONSENT" in referral["data"]["rule_ids"]
    assert set(referral["data"]["fields"]) == {"subject.name", "subject.district", "reporter.role"}
    assert not any("115" in c for c in referral["data"]["legal_basis"]), referral["data"]["legal_basis"]
    await client.aclose()


async def test_no_faststream_envelope_on_any_stream(hub) -> None:
    client = redis_client(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    await read_events(client, streams.receipts(SCHOOL), 1)
    await hub.relay.drain()
    async for key in client.scan_iter(match="hub.*"):
        if await client.type(key) != b"stream":
            continue
        for _, fields in await client.xrange(key):
            assert set(fields) == {b"event"}, key
            assert json.loads(fields[b"event"])["specversion"] == "1.0"
    await client.aclose()

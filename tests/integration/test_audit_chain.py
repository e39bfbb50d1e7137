"""The audit chain on both databases: an untouched chain verifies; every kind of tampering done
in SQL is found and named by its row; a rewritten chain is caught by a kept anchor; several
processes writing at once keep one valid chain; the migration chains a deployed database's rows.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from typer.testing import CliRunner

from hub.entrypoints.cli import app
from hub.store import audit_chain
from hub.store.audit_chain import CHAIN, DISCLOSURE, Head
from hub.store.audit_verify import verify
from hub.store.bulk import table_of
from hub.store.db import alembic_config, make_engine, migrate, normalise_url
from hub.store.models import DeadLetterRecord, Disclosure, Report
from tests.integration import audit_rows

DISCLOSURES = table_of(Disclosure)


@pytest.fixture
def engine(database_url: str) -> Engine:
    migrate(database_url)
    # Small and large batches: on PostgreSQL INSERTs in a pipeline, and COPY (over 32 rows).
    audit_rows.write(database_url, "A", batches=2, per_batch=3)
    audit_rows.write(database_url, "B", batches=1, per_batch=20, now=audit_rows.NOW + timedelta(days=1))
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _sql(engine: Engine, change: Callable[[Connection], object]) -> None:
    with engine.begin() as conn:
        change(conn)


def _row(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(CHAIN).where(CHAIN.c.seq == seq)).mappings().one())


def test_an_untouched_chain_verifies(engine: Engine) -> None:
    verdict = verify(engine)
    assert verdict.ok, verdict.problem
    assert verdict.rows == verdict.records == 2 * (2 * 3 + 20)
    assert verdict.head is not None and verdict.head.seq == verdict.rows
    assert verify(engine, verdict.head).ok


def test_an_edited_disclosure_is_named(engine: Engine) -> None:
    key = _row(engine, 7)["record_key"]
    _sql(engine, lambda c: c.execute(update(DISCLOSURES).where(DISCLOSURES.c.ref == key).values(recipient="bkv")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind, p.key) == ("edited", 7, "disclosure", key)


def test_an_edited_time_is_named(engine: Engine) -> None:
    key = _row(engine, 30)["record_key"]
    _sql(engine, lambda c: c.execute(text("UPDATE disclosure SET created_at = created_at + interval '1 second' "
                                          "WHERE ref = :k" if c.dialect.name == "postgresql" else
                                          "UPDATE disclosure SET created_at = '2020-01-01 00:00:00.000000' "
                                          "WHERE ref = :k"), {"k": key}))  # fmt: skip
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq) == ("edited", 30)


def test_a_deleted_disclosure_is_named(engine: Engine) -> None:
    key = _row(engine, 12)["record_key"]
    _sql(engine, lambda c: c.execute(delete(DISCLOSURES).where(DISCLOSURES.c.ref == key)))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.key) == ("deleted", 12, key)


def test_a_deleted_chain_row_is_named(engine: Engine) -> None:
    key = _row(engine, 5)["record_key"]
    _sql(engine, lambda c: c.execute(delete(DISCLOSURES).where(DISCLOSURES.c.ref == key)))
    _sql(engine, lambda c: c.execute(delete(CHAIN).where(CHAIN.c.seq == 5)))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq) == ("deleted", 5)


def test_a_deleted_and_renumbered_row_is_named(engine: Engine) -> None:
    """The forger closes the gap: every later row moves down by one."""
    key = _row(engine, 5)["record_key"]
    _sql(engine, lambda c: c.execute(delete(DISCLOSURES).where(DISCLOSURES.c.ref == key)))
    _sql(engine, lambda c: c.execute(delete(CHAIN).where(CHAIN.c.seq == 5)))
    _sql(engine, lambda c: c.execute(update(CHAIN).where(CHAIN.c.seq > 5).values(seq=CHAIN.c.seq - 1)))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq) == ("deleted", 5)


def test_an_inserted_disclosure_is_named(engine: Engine) -> None:
    with engine.connect() as conn:
        forged = dict(conn.execute(select(DISCLOSURES).where(DISCLOSURES.c.id == 3)).mappings().one())
    forged.update(id=None, ref="FORGED", recipient="bkv")
    del forged["id"]
    _sql(engine, lambda c: c.execute(insert(DISCLOSURES).values(**forged)))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind, p.key) == ("inserted", None, "disclosure", "FORGED")


def test_an_inserted_chain_row_is_named(engine: Engine) -> None:
    """The forger adds a record and a chain row for it in the middle, moving later rows up."""
    with engine.connect() as conn:
        forged = dict(conn.execute(select(DISCLOSURES).where(DISCLOSURES.c.id == 3)).mappings().one())
    del forged["id"]
    forged["ref"] = "FORGED"
    before = _row(engine, 9)
    _sql(engine, lambda c: c.execute(insert(DISCLOSURES).values(**forged)))
    # Move rows 10.. up by one, from the top down (the primary key stays unique on the way).
    with engine.begin() as conn:
        for seq in sorted((s for (s,) in conn.execute(select(CHAIN.c.seq).where(CHAIN.c.seq >= 10))), reverse=True):
            conn.execute(update(CHAIN).where(CHAIN.c.seq == seq).values(seq=seq + 1))
        digest = audit_chain.content_hash(DISCLOSURE, forged, audit_chain.stored_zone(conn))
        linked = audit_chain.link(10, "disclosure", "FORGED", digest, str(before["hash"]))
        conn.execute(insert(CHAIN).values(seq=10, kind="disclosure", record_key="FORGED", content_hash=digest,
                                          prev_hash=before["hash"], hash=linked))  # fmt: skip
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq) == ("inserted", 10)


def test_swapped_rows_are_named(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(CHAIN).where(CHAIN.c.seq == 4).values(seq=-4))
        conn.execute(update(CHAIN).where(CHAIN.c.seq == 3).values(seq=4))
        conn.execute(update(CHAIN).where(CHAIN.c.seq == -4).values(seq=3))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq) == ("reordered", 3)


def test_swapped_records_are_named(engine: Engine) -> None:
    """Two disclosures trade their references (the chain rows stay): the first is named."""
    a, b = str(_row(engine, 2)["record_key"]), str(_row(engine, 6)["record_key"])
    with engine.begin() as conn:
        conn.execute(update(DISCLOSURES).where(DISCLOSURES.c.ref == a).values(ref="TMP"))
        conn.execute(update(DISCLOSURES).where(DISCLOSURES.c.ref == b).values(ref=a))
        conn.execute(update(DISCLOSURES).where(DISCLOSURES.c.ref == "TMP").values(ref=b))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.key) == ("edited", 2, a)


def test_an_edited_chain_row_is_named(engine: Engine) -> None:
    _sql(engine, lambda c: c.execute(update(CHAIN).where(CHAIN.c.seq == 8).values(content_hash="0" * 64)))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq) == ("edited", 8)


def test_a_rewritten_chain_is_caught_by_a_kept_anchor(engine: Engine) -> None:
    """Someone with the database edits a record and builds the whole chain anew: the chain is
    consistent again, but the anchor kept from before no longer matches."""
    kept = verify(engine).head
    assert kept is not None
    key = _row(engine, 3)["record_key"]
    with engine.begin() as conn:
        conn.execute(update(DISCLOSURES).where(DISCLOSURES.c.ref == key).values(effect="withhold"))
        order = [str(k) for (k,) in conn.execute(select(CHAIN.c.record_key).order_by(CHAIN.c.seq))]
        records = {r["ref"]: dict(r) for r in conn.execute(select(DISCLOSURES)).mappings()}
        conn.execute(delete(CHAIN))
        rebuilt = audit_chain.chain_rows(None, DISCLOSURE, [records[k] for k in order], audit_chain.stored_zone(conn))
        conn.execute(insert(CHAIN), rebuilt)
    assert verify(engine).ok
    p = verify(engine, kept).problem
    assert p is not None and (p.code, p.seq) == ("anchor_mismatch", kept.seq)
    p = verify(engine, Head(kept.seq + 5, kept.hash)).problem
    assert p is not None and p.code == "anchor_ahead"


def test_verify_command_speaks_danish_and_fails(database_url: str, engine: Engine, tmp_path) -> None:
    env = {"HUB_DATABASE_URL": database_url, "HUB_DATA_DIR": str(tmp_path), "HUB_LOG_LEVEL": "WARNING",
           "HUB_REDIS_URL": "redis://127.0.0.1:1/0"}  # fmt: skip
    runner = CliRunner()
    good = runner.invoke(app, ["audit", "verify"], env=env)
    assert good.exit_code == 0, good.output
    assert "Revisionskæden er i orden: 52 rækker" in good.output
    head = verify(engine).head
    assert f"Kædehoved: {head}" in good.output
    anchored = runner.invoke(app, ["audit", "verify", "--anchor", str(head)], env=env)
    assert anchored.exit_code == 0 and "Ankeret 52 stemmer" in anchored.output
    bad = runner.invoke(app, ["audit", "verify", "--anchor", "52:xyz"], env=env)
    assert bad.exit_code == 2 and "NUMMER:HASH" in bad.output
    key = _row(engine, 7)["record_key"]
    _sql(engine, lambda c: c.execute(update(DISCLOSURES).where(DISCLOSURES.c.ref == key).values(fields=["cpr"])))
    tampered = runner.invoke(app, ["audit", "verify"], env=env)
    assert tampered.exit_code == 1
    assert f"FEJL i revisionskæden ved række nr. 7 (videregivelse {key}): rækken er ændret" in tampered.output


def test_concurrent_writers_keep_one_chain(database_url: str) -> None:
    """Four processes write batches of disclosures at once (each batch one transaction)."""
    migrate(database_url)
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=audit_rows.write, args=(database_url, f"P{n}-", 6, 4)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    engine = make_engine(database_url)
    verdict = verify(engine)
    engine.dispose()
    assert verdict.ok, verdict.problem
    assert verdict.rows == 4 * 6 * 4 * 2


def test_the_migration_chains_the_disclosures_of_a_deployed_database(database_url: str) -> None:
    """A database at 0005 with disclosures in it: upgraded, its rows are chained in id order."""
    url = normalise_url(database_url)
    migrate(url)
    cfg = alembic_config(url)
    command.downgrade(cfg, "0005")
    try:
        engine = make_engine(url)
        reports, disclosures = [], []
        for n in range(3):
            rows = audit_rows.RowBatch(audit_rows.NOW)
            audit_rows.add_disclosures(rows, f"OLD{n}", 2)
            report, *chained = rows._rows[table_of(Report)] + rows._rows[DISCLOSURES]
            reports.append({**report, "case_id": None})
            disclosures += [{**d, "case_id": None} for d in chained]
        with engine.begin() as conn:
            conn.execute(insert(table_of(Report)), reports)
            conn.execute(insert(DISCLOSURES), disclosures)
        engine.dispose()
    finally:
        command.upgrade(cfg, "head")
    engine = make_engine(url)
    verdict = verify(engine)
    assert verdict.ok, verdict.problem
    assert verdict.rows == 6
    assert [str(_row(engine, s)["record_key"]) for s in (1, 2, 3)] == ["OLD0-D0", "OLD0-D1", "OLD1-D0"]
    engine.dispose()


def test_dead_letter_access_records_join_the_chain(engine: Engine) -> None:
    """Showing a dead letter's content is chained after the disclosures; editing who or why,
    or deleting the record, is found."""
    from hub.services.replay import Accessor, show
    from hub.store.deadletters import deadletter_record
    from hub.store.models import DeadLetterAccess

    record = deadletter_record("hub.intake.skole.v1", "1-1", {b"event": b"{}"}, 1, "invalid_json", "x", audit_rows.NOW)
    with engine.begin() as conn:
        conn.execute(insert(table_of(DeadLetterRecord)), [record])
    shown = show(engine, 1, Accessor.of("MH", "hub", "Fejlsag 4711"), audit_rows.NOW)
    assert shown is not None and shown.payload
    assert show(engine, 99, Accessor.of("MH", "hub", "x"), audit_rows.NOW) is None  # no such record: nothing chained
    verdict = verify(engine)
    assert verdict.ok and verdict.rows == 53 and _row(engine, 53)["kind"] == "deadletter_access"
    access = table_of(DeadLetterAccess)
    _sql(engine, lambda c: c.execute(update(access).values(reason="rutine")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("edited", 53, "deadletter_access")
    _sql(engine, lambda c: c.execute(delete(access)))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("deleted", 53, "deadletter_access")


def _access(engine: Engine, *views: tuple[str, str, str | None]) -> None:
    """Staff views (who, ground, break-glass reason) of the first report, through `record_access`."""
    from sqlmodel import Session

    from hub.store.access import record_access

    with Session(engine) as s:
        ref = s.execute(select(Report.ref).order_by(Report.ref).limit(1)).scalar_one()
        for staff, ground, reason in views:
            record_access(s, staff=staff, report_ref=ref, case_id=None, ground=ground, reason=reason,
                          at=audit_rows.NOW)  # fmt: skip
        s.commit()


def test_staff_access_records_join_the_chain(engine: Engine) -> None:
    """Every view recorded by `record_access` is chained after the disclosures; editing who, the
    ground or the break-glass reason, or deleting the record, is named."""
    from hub.store.models import AccessRecord

    _access(engine, ("mh", "own_claim", None), ("jk", "break_glass", "Akut henvendelse fra politiet"))
    verdict = verify(engine)
    assert verdict.ok, verdict.problem
    assert verdict.rows == verdict.records == 54
    assert [_row(engine, s)["kind"] for s in (53, 54)] == ["access", "access"]
    access = table_of(AccessRecord)
    _sql(engine, lambda c: c.execute(update(access).where(access.c.staff == "jk").values(reason="rutine")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("edited", 54, "access")
    _sql(engine, lambda c: c.execute(update(access).where(access.c.staff == "mh").values(ground="assigned")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("edited", 53, "access")
    _sql(engine, lambda c: c.execute(delete(access).where(access.c.staff == "mh")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("deleted", 53, "access")


def test_an_unchained_access_record_is_named(engine: Engine) -> None:
    """An access record written past `record_access` (straight into the table) has no chain row."""
    from hub.store.models import AccessRecord

    _access(engine, ("mh", "own_claim", None))
    with engine.begin() as conn:
        ref = conn.execute(select(Report.ref).limit(1)).scalar_one()
        conn.execute(insert(table_of(AccessRecord)), [{"staff": "x", "report_ref": ref, "case_id": None,
                     "ground": "own_claim", "reason": None, "flagged": False, "at": audit_rows.NOW}])  # fmt: skip
    p = verify(engine).problem
    assert p is not None and (p.code, p.kind) == ("inserted", "access")


def test_the_migration_chains_the_access_records_of_a_deployed_database(database_url: str) -> None:
    """A database at 0009 with access records and claim events in it: upgraded, they are chained
    after the head."""
    from hub.store.models import AccessRecord, ClaimEvent

    url = normalise_url(database_url)
    migrate(url)
    audit_rows.write(url, "M", batches=1, per_batch=2)
    engine = make_engine(url)
    before = verify(engine).rows
    engine.dispose()
    cfg = alembic_config(url)
    command.downgrade(cfg, "0009")
    try:
        engine = make_engine(url)
        with engine.begin() as conn:
            ref = conn.execute(select(Report.ref).limit(1)).scalar_one()
            rows = [{"staff": s, "report_ref": ref, "case_id": None, "ground": "assigned", "reason": None,
                     "flagged": False, "at": audit_rows.NOW} for s in ("a", "b")]  # fmt: skip
            conn.execute(insert(table_of(AccessRecord)), rows)
            conn.execute(insert(table_of(ClaimEvent)), [{"report_ref": ref, "action": "claim", "staff": "a",
                         "previous": None, "at": audit_rows.NOW}])  # fmt: skip
        engine.dispose()
    finally:
        command.upgrade(cfg, "head")
    engine = make_engine(url)
    verdict = verify(engine)
    assert verdict.ok, verdict.problem
    assert verdict.rows == before + 3
    assert [_row(engine, s)["kind"] for s in range(before + 1, before + 4)] == ["access", "access", "claim_event"]
    engine.dispose()


def test_claim_events_join_the_chain(engine: Engine) -> None:
    """Claims, takeovers and releases (`hub.store.claims`) are chained; rewriting who held a case
    before a takeover, or deleting a claim, is named."""
    from sqlmodel import Session

    from hub.store import claims
    from hub.store.models import ClaimEvent, TriageItem

    with Session(engine) as s:
        ref = s.execute(select(Report.ref).order_by(Report.ref).limit(1)).scalar_one()
        s.add(TriageItem(report_ref=ref, queue="reactive", created_at=audit_rows.NOW))
        s.commit()
        assert claims.claim(s, ref, "mh", audit_rows.NOW)
        assert not claims.claim(s, ref, "jk", audit_rows.NOW)  # owned: refused, nothing chained
        assert claims.take_over(s, ref, "jk", "mh", audit_rows.NOW)
        assert claims.release(s, ref, "jk", audit_rows.NOW)
        s.commit()
    verdict = verify(engine)
    assert verdict.ok, verdict.problem
    assert verdict.rows == verdict.records == 55
    assert [_row(engine, s)["kind"] for s in (53, 54, 55)] == ["claim_event"] * 3
    events = table_of(ClaimEvent)
    _sql(engine, lambda c: c.execute(update(events).where(events.c.action == "takeover").values(previous="xx")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("edited", 54, "claim_event")
    _sql(engine, lambda c: c.execute(delete(events).where(events.c.action == "claim")))
    p = verify(engine).problem
    assert p is not None and (p.code, p.seq, p.kind) == ("deleted", 53, "claim_event")

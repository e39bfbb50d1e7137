"""Assigning a triage item to a colleague and the administrators' action log, on both
databases: the assignment is a compare-and-set recorded with who assigned it (and cleared when
the item changes hands otherwise), every account change through the service is recorded
without secrets, the hub keeps an active admin, and both records join the audit chain (an
edited one is named by `hub audit verify`; a claim event chained before migration 0012 keeps
its hash)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session

from hub.bootstrap import Container
from hub.config.settings import Settings
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services import staff as accounts
from hub.services.auth import hash_password
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.services.staff import AccountError
from hub.store import admin_log, audit_chain, claims, queries
from hub.store.audit_verify import verify
from hub.store.models import AdminAction, ClaimEvent
from tests.factories import child_cpr, cloudevent, entry, report_data

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "korrekt-hest-batteri-9"


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    c = Container(Settings(env="test", data_dir=tmp_path / "data", database_url=database_url))
    yield c
    c.close()


def _report(c: Container, entry_id: str) -> str:
    stream = streams.intake("herstedlund-skole")
    fields = entry(cloudevent("herstedlund-skole", report_data(subject={"cpr": child_cpr(serial=4), "name": "T"})))
    out = BatchPipeline(c.engine, IntakeService(c.registry, c.policy, 1 << 20)).process(
        stream, [Entry(stream, entry_id, {k.encode(): v.encode() for k, v in fields.items()})], datetime.now(UTC)
    )
    return out.refs[0]


def test_assign_is_a_compare_and_set_recorded_with_who_assigned(container: Container) -> None:
    ref = _report(container, "1-0")
    later = NOW + timedelta(minutes=1)
    with Session(container.engine) as s:
        assert not claims.assign(s, ref, "bo", "anna", "carl", NOW)  # anna did not see it unclaimed or hers
        assert not claims.assign(s, ref, "anna", "anna", None, NOW)  # not to oneself
        assert claims.assign(s, ref, "bo", "anna", None, NOW)  # unclaimed: anna gives it to bo
        assert claims.holder(s, ref) == ("bo", "anna")
        assert not claims.assign(s, ref, "carl", "anna", None, later)  # no longer unclaimed
        assert not claims.assign(s, ref, "carl", "anna", "anna", later)  # and not anna's
        assert claims.assign(s, ref, "carl", "bo", "bo", later)  # the owner passes it on
        s.commit()
    with queries.reading(container.engine) as s:
        [row] = queries.queue_rows(s)
        assert (row.claimed_by, row.assigned_by) == ("carl", "bo")
    with Session(container.engine) as s:
        assert claims.release(s, ref, "carl", later)
        assert claims.claim(s, ref, "dora", later)
        s.commit()
        assert claims.holder(s, ref) == ("dora", None)  # taken by herself: no longer an assignment
        history = [(h.action, h.staff, h.previous, h.assigned_by) for h in claims.history(s, ref)]
    assert history == [
        ("assign", "bo", None, "anna"),
        ("assign", "carl", "bo", "bo"),
        ("release", "carl", None, None),
        ("claim", "dora", None, None),
    ]
    assert verify(container.engine).ok


def test_an_edited_assigner_is_named_and_old_claim_events_keep_their_hash(container: Container) -> None:
    ref = _report(container, "1-0")
    with Session(container.engine) as s:
        claims.claim(s, ref, "anna", NOW)
        claims.release(s, ref, "anna", NOW)
        claims.assign(s, ref, "bo", "anna", None, NOW)
        s.commit()
    # A claim event without an assigner hashes as it did before the column existed.
    old = {"id": 1, "report_ref": ref, "action": "claim", "staff": "anna", "previous": None, "at": NOW}
    without_optional = audit_chain.ChainedKind(
        "claim_event", ClaimEvent, key="id", fields=audit_chain.CLAIM_EVENT.fields, time="at", retention="x"
    )
    assert audit_chain.canonical(audit_chain.CLAIM_EVENT, old | {"assigned_by": None}, None) == audit_chain.canonical(
        without_optional, old, None
    )
    assert verify(container.engine).ok
    with container.engine.begin() as conn:
        conn.execute(update(ClaimEvent).where(ClaimEvent.action == "assign").values(assigned_by="carl"))
    verdict = verify(container.engine)
    assert not verdict.ok and verdict.problem is not None and verdict.problem.kind == "claim_event"


def test_account_changes_are_recorded_without_secrets(container: Container) -> None:
    engine = container.engine
    hashed = hash_password(PASSWORD)
    accounts.add(engine, "ada", "Ada Admin", "admin", hashed, NOW, actor="cli:root")
    accounts.add(engine, "anna", "Anna Holm", "triage", hashed, NOW, actor="ada")
    accounts.set_role(engine, "anna", "jurist", actor="ada")
    accounts.set_password(engine, "anna", hash_password("ny-adgangskode-123"), actor="ada")
    accounts.disable(engine, "anna", actor="ada")
    accounts.enable(engine, "anna", actor="ada")
    accounts.add(engine, "demo", "Demo", "triage", hashed, NOW)  # no actor (the demo's set-up): not recorded
    with pytest.raises(AccountError, match="mindst én aktiv administrator"):
        accounts.disable(engine, "ada", actor="ada")
    with pytest.raises(AccountError, match="mindst én aktiv administrator"):
        accounts.set_role(engine, "ada", "triage", actor="ada")
    with pytest.raises(AccountError, match="Ukendt rolle"):
        accounts.set_role(engine, "anna", "chef", actor="ada")
    with queries.reading(engine) as s:
        actions = [(a.actor, a.action, a.target, a.detail) for a in reversed(admin_log.recent(s))]
    assert actions == [
        ("cli:root", admin_log.STAFF_ADD, "ada", "admin"),
        ("ada", admin_log.STAFF_ADD, "anna", "triage"),
        ("ada", admin_log.STAFF_ROLE, "anna", "triage -> jurist"),
        ("ada", admin_log.STAFF_PASSWORD, "anna", None),
        ("ada", admin_log.STAFF_DISABLE, "anna", None),
        ("ada", admin_log.STAFF_ENABLE, "anna", None),
    ]
    assert [s.role for s in accounts.listed(engine) if s.username == "anna"] == ["jurist"]
    assert verify(engine).ok
    with engine.begin() as conn:
        conn.execute(update(AdminAction).where(AdminAction.target == "anna").values(actor="mallory"))
    verdict = verify(engine)
    assert not verdict.ok and verdict.problem is not None and verdict.problem.kind == "admin_action"


def test_hub_staff_and_hub_tokens_record_their_changes(container: Container, tmp_path: Path) -> None:
    import getpass

    from typer.testing import CliRunner

    from hub.entrypoints.cli import app

    env = {
        "HUB_DATABASE_URL": container.settings.effective_database_url,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()
    add = ["staff", "add", "anna", "--role", "triage", "--name", "Anna Holm", "--password-stdin"]
    assert runner.invoke(app, add, env=env, input=PASSWORD + "\n").exit_code == 0
    assert runner.invoke(app, ["staff", "disable", "anna"], env=env).exit_code == 0
    enabled = runner.invoke(app, ["staff", "enable", "anna"], env=env)
    assert enabled.exit_code == 0 and "aktiveret igen" in enabled.output
    role = runner.invoke(app, ["staff", "role", "anna", "jurist"], env=env)
    assert role.exit_code == 0 and "rollen jurist" in role.output
    bad = runner.invoke(app, ["staff", "role", "anna", "chef"], env=env)
    assert bad.exit_code == 1 and "Ukendt rolle" in bad.output
    issued = runner.invoke(app, ["tokens", "issue", "herstedlund-skole"], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[0]
    with queries.reading(container.engine) as s:
        actions = [(a.actor, a.action, a.target) for a in reversed(admin_log.recent(s))]
        details = [a.detail or "" for a in admin_log.recent(s)]
    actor = f"cli:{getpass.getuser()}"
    assert actions == [
        (actor, admin_log.STAFF_ADD, "anna"),
        (actor, admin_log.STAFF_DISABLE, "anna"),
        (actor, admin_log.STAFF_ENABLE, "anna"),
        (actor, admin_log.STAFF_ROLE, "anna"),
        (actor, admin_log.TOKEN_ISSUE, "herstedlund-skole"),
    ]
    assert all(token not in d and PASSWORD not in d for d in details)

"""The workspace's store and services on both databases: claims (one owner, compare-and-set,
history), the access log (one writer, break-glass flagged, who viewed a person), staff accounts
with argon2 and lock-out, sessions that end at once; and `hub staff` as an operator uses it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from hub.bootstrap import Container
from hub.config.settings import Settings
from hub.entrypoints.cli import app
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services import staff as accounts
from hub.services.auth import MAX_FAILED_LOGINS, LoginRefused, PasswordAuthenticator, hash_password
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store import access, claims, queries
from hub.store import staff as staff_store
from hub.store.staff import StaffView
from tests.factories import child_cpr, cloudevent, entry, report_data

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "korrekt-hest-batteri-9"


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    c = Container(Settings(env="test", data_dir=tmp_path / "data", database_url=database_url))
    yield c
    c.close()


def _report(c: Container, cpr: str, entry_id: str) -> str:
    stream = streams.intake("herstedlund-skole")
    data = report_data(subject={"cpr": cpr, "name": "Testbarn"})
    fields = entry(cloudevent("herstedlund-skole", data))
    out = BatchPipeline(c.engine, IntakeService(c.registry, c.policy, 1 << 20)).process(
        stream, [Entry(stream, entry_id, {k.encode(): v.encode() for k, v in fields.items()})], datetime.now(UTC)
    )
    return out.refs[0]


def test_claims_have_one_owner_and_a_history(container: Container) -> None:
    ref = _report(container, child_cpr(serial=1), "1-0")
    with Session(container.engine) as s:
        assert claims.claim(s, ref, "anna", NOW)
        assert not claims.claim(s, ref, "bo", NOW)  # taken already
        assert not claims.release(s, ref, "bo", NOW)  # not bo's to release
        assert not claims.take_over(s, ref, "bo", "carl", NOW)  # the owner is not carl
        assert claims.take_over(s, ref, "bo", "anna", NOW + timedelta(minutes=1))
        assert claims.release(s, ref, "bo", NOW + timedelta(minutes=2))
        s.commit()
        assert claims.owner(s, ref) is None
        history = [(h.action, h.staff, h.previous) for h in claims.history(s, ref)]
    assert history == [("claim", "anna", None), ("takeover", "bo", "anna"), ("release", "bo", None)]
    with queries.reading(container.engine) as s:
        assert [r.claimed_by for r in queries.queue_rows(s)] == [None]


def test_the_access_log_records_grounds_and_who_viewed_a_person(container: Container) -> None:
    cpr = child_cpr(serial=2)
    first, second = _report(container, cpr, "1-0"), _report(container, cpr, "2-0")
    other = _report(container, child_cpr(serial=3), "3-0")
    with Session(container.engine) as s:
        for staff, ref, ground, reason in (
            ("anna", first, access.OWN_CLAIM, None),
            ("bo", second, access.BREAK_GLASS, "Kollega syg, akut opkald fra skolen"),
            ("carl", other, access.OWN_CLAIM, None),
        ):
            access.record_access(s, staff=staff, report_ref=ref, case_id=None, ground=ground, reason=reason, at=NOW)
        s.commit()
        with pytest.raises(ValueError, match="unknown access ground"):
            access.record_access(s, staff="x", report_ref=first, case_id=None, ground="curious", reason=None, at=NOW)
    with queries.reading(container.engine) as s:
        viewers = access.viewers_of(s, cpr)
        flagged = access.access_log(s, flagged_only=True)
        by_staff = access.access_log(s, staff="carl")
    assert [(v.staff, v.report_ref, v.ground) for v in viewers] == [
        ("anna", first, "own_claim"),
        ("bo", second, "break_glass"),
    ]
    assert [(f.staff, f.flagged, f.reason) for f in flagged] == [("bo", True, "Kollega syg, akut opkald fra skolen")]
    assert [r.report_ref for r in by_staff] == [other]


def test_password_log_in_locks_out_after_repeated_failures(container: Container) -> None:
    accounts.add(container.engine, "anna", "Anna Holm", "triage", hash_password(PASSWORD), NOW)
    auth = PasswordAuthenticator(container.engine)
    assert isinstance(auth.authenticate("anna", PASSWORD, NOW), StaffView)
    assert auth.authenticate("ingen", PASSWORD, NOW) == LoginRefused("bad_credentials")
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert auth.authenticate("anna", "forkert", NOW) == LoginRefused("bad_credentials")
    locked = auth.authenticate("anna", "forkert", NOW)
    assert isinstance(locked, LoginRefused) and locked.code == "locked"
    assert isinstance(auth.authenticate("anna", PASSWORD, NOW + timedelta(minutes=14)), LoginRefused)
    assert isinstance(auth.authenticate("anna", PASSWORD, NOW + timedelta(minutes=16)), StaffView)
    accounts.disable(container.engine, "anna")
    assert auth.authenticate("anna", PASSWORD, NOW) == LoginRefused("disabled")
    with pytest.raises(ValueError, match="mindst 12 tegn"):
        hash_password("kort")


def test_disabling_or_a_new_password_ends_sessions_at_once(container: Container) -> None:
    accounts.add(container.engine, "anna", "Anna Holm", "triage", hash_password(PASSWORD), NOW)
    with Session(container.engine) as s:
        staff_id = staff_store.find(s, "anna").id  # type: ignore[union-attr]
        staff_store.open_session(s, staff_id, "token-1", "csrf-1", NOW)
        s.commit()
        found = staff_store.load_session(s, "token-1")
        assert found is not None and found.token_sha256 != "token-1"  # only the digest is stored
    accounts.set_password(container.engine, "anna", hash_password("ny-adgangskode-123"))
    with Session(container.engine) as s:
        assert staff_store.load_session(s, "token-1") is None


def test_hub_staff_commands(container: Container, tmp_path: Path) -> None:
    env = {
        "HUB_DATABASE_URL": container.settings.effective_database_url,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()
    add = ["staff", "add", "anna", "--role", "triage", "--name", "Anna Holm", "--password-stdin"]
    result = runner.invoke(app, add, env=env, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    again = runner.invoke(app, add, env=env, input=PASSWORD + "\n")
    assert again.exit_code == 1 and "findes allerede" in again.output
    short = runner.invoke(
        app, ["staff", "add", "bo", "--role", "triage", "--name", "Bo", "--password-stdin"], env=env, input="kort\n"
    )
    assert short.exit_code == 2 and "mindst 12 tegn" in short.output
    bad_role = runner.invoke(app, ["staff", "add", "c", "--role", "chef", "--name", "C", "--password-stdin"], env=env)
    assert bad_role.exit_code == 2 and "Ukendt rolle" in bad_role.output
    listed = runner.invoke(app, ["staff", "list"], env=env)
    assert "anna" in listed.output and "aktiv" in listed.output
    assert runner.invoke(app, ["staff", "disable", "anna"], env=env).exit_code == 0
    assert "deaktiveret" in runner.invoke(app, ["staff", "list"], env=env).output
    unknown = runner.invoke(app, ["staff", "disable", "ingen"], env=env)
    assert unknown.exit_code == 1 and "Ukendt medarbejder" in unknown.output
    passwd = runner.invoke(app, ["staff", "passwd", "anna", "--password-stdin"], env=env, input="ny-adgangskode-1\n")
    assert passwd.exit_code == 0

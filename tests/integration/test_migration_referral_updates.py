"""Migration 0014 on a deployed database, both databases: a report's clocks written before it
keep working (`ref = ''`), several referral clocks per report fit the new key, and the way
back to 0010 restores the old key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store.bulk import table_of
from hub.store.db import alembic_config, make_engine, migrate, normalise_url
from hub.store.models import Deadline
from tests.factories import cloudevent, entry, report_data

SCHOOL = "herstedlund-skole"
NOW = datetime.now(UTC)


def test_clocks_stored_before_0014_keep_working_and_the_way_back_restores_the_old_key(database_url: str) -> None:
    url = normalise_url(database_url)
    migrate(url)
    engine = make_engine(url)
    registry, policy = load_registry(default_registry_path()), PolicyEngine(load_agreement(default_agreement_path()))
    intake = BatchPipeline(engine, IntakeService(registry, policy, 1 << 20))
    stream = streams.intake(SCHOOL)
    fields = {k.encode(): v.encode() for k, v in entry(cloudevent(SCHOOL, report_data())).items()}
    ref = intake.process(stream, [Entry(stream, "1-0", fields)], NOW).refs[0]
    engine.dispose()
    deadline = table_of(Deadline)
    cfg = alembic_config(url)
    command.downgrade(cfg, "0013")
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            kinds = sorted(conn.execute(select(deadline.c.kind).where(deadline.c.report_ref == ref)).scalars())
        assert kinds == ["assessment", "receipt"]  # kept on the way back
        engine.dispose()
    finally:
        command.upgrade(cfg, "head")
    engine = make_engine(url)
    row = {
        "report_ref": ref,
        "kind": "referral",
        "due_at": NOW + timedelta(hours=48),
        "approaching_at": NOW + timedelta(hours=48),
        "state": "pending",
        "next_at": NOW + timedelta(hours=48),
        "created_at": NOW,
    }
    with engine.begin() as conn:
        refs = dict(conn.execute(select(deadline.c.kind, deadline.c.ref).where(deadline.c.report_ref == ref)).all())
        assert refs == {"assessment": "", "receipt": ""}
        conn.execute(insert(deadline), [{**row, "ref": "referral-1"}, {**row, "ref": "referral-2"}])
    with pytest.raises(IntegrityError), engine.begin() as conn:  # still one clock per referral
        conn.execute(insert(deadline), [{**row, "ref": "referral-1"}])
    with pytest.raises(IntegrityError), engine.begin() as conn:  # and one of each kind per report
        conn.execute(insert(deadline), [{**row, "kind": "assessment", "ref": ""}])
    engine.dispose()

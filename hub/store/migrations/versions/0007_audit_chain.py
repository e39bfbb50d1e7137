"""audit chain: audit_chain, audit_checkpoint and deadletter_access; existing disclosures chained

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:30:00

The chain (`hub.store.audit_chain`) covers every disclosure row: the rows a deployed database
holds already are chained here, in the order they were written (by id), so `hub audit verify`
passes on an upgraded database and catches any change from now on. (What was changed before
the upgrade cannot be seen: keep the head this prints with the first anchor.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("kind", "record_key", name="uq_audit_chain_record"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_table(
        "deadletter_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("deadletter_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("os_user", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("new_entry_id", sa.String(length=40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    with op.batch_alter_table("deadletter_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadletter_access_deadletter_id"), ["deadletter_id"], unique=False)
    _chain_existing_disclosures()


def _chain_existing_disclosures() -> None:
    # The hub's own canonical form and link: the chain must be the one `hub audit verify` checks.
    from hub.store.audit_chain import DISCLOSURE, chain_rows, insert_chain, stored_zone

    conn = op.get_bind()
    table = DISCLOSURE.table
    columns = [table.c[name] for name in DISCLOSURE.fields]
    records = [dict(r) for r in conn.execute(sa.select(*columns).order_by(table.c.id)).mappings()]
    insert_chain(conn, chain_rows(None, DISCLOSURE, records, stored_zone(conn)))


def downgrade() -> None:
    with op.batch_alter_table("deadletter_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadletter_access_deadletter_id"))
    op.drop_table("deadletter_access")
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_chain")

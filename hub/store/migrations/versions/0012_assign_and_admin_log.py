"""assigning a triage item to a colleague; the administrators' action log

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 17:00:00

`triageitem.assigned_by` says who gave the current owner the item (the workspace records the
access ground `assigned` for such an owner); `claimevent.assigned_by` keeps it in the claim
history. `adminaction` records what an administrator changed (accounts, source tokens), chained
in the audit chain like the access log. Existing claim events keep their chain hash: the new
column is hashed only where it is set (`ChainedKind.optional`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("triageitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("claimevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_by", sa.String(length=64), nullable=True))
    op.create_table(
        "adminaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adminaction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adminaction_actor"), ["actor"], unique=False)


def downgrade() -> None:
    op.drop_table("adminaction")
    with op.batch_alter_table("claimevent", schema=None) as batch_op:
        batch_op.drop_column("assigned_by")
    with op.batch_alter_table("triageitem", schema=None) as batch_op:
        batch_op.drop_column("assigned_by")

"""deadline: durable statutory clocks; triage item: the cross-agency pattern flag

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:30:00

The 24-hour assessment and the 6-working-day receipt become rows, written with their report and
fired by the scheduler of `hub serve` (`hub.services.deadlines`). The triage item carries the
cross-agency pattern (`hub.policies.patterns`); the report's case id is indexed for its look-up.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_ref", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approaching_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approaching_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["report_ref"], ["report.ref"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_ref", "kind", name="uq_deadline_report_kind"),
    )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index("ix_deadline_next_at", ["next_at"], unique=False)
    with op.batch_alter_table("triageitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pattern_rule_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("pattern_reason_da", sa.String(length=300), nullable=True))
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index("ix_report_case_id", ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_case_id")
    with op.batch_alter_table("triageitem", schema=None) as batch_op:
        batch_op.drop_column("pattern_reason_da")
        batch_op.drop_column("pattern_rule_id")
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_next_at")
    op.drop_table("deadline")

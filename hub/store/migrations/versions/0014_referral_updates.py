"""referral_update: partners' updates on referrals and police alerts; deadline: clocks per referral

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02 17:00:00

Partners answer the referrals they received (received, accepted, declined, completed) and the
police acknowledge § 141 alerts (`hub.services.referral_updates`). A referral's or alert's
acknowledgement clock is a `deadline` row of its report keyed by the referral's (alert's) event
id, `ref`: a report may have several referrals, so the unique key becomes (report, kind, ref);
a report's own clocks keep `ref = ''`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("report_ref", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("text", sa.String(length=300), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "event_id", name="uq_referral_update_event"),
        sa.UniqueConstraint("ref", "step", name="uq_referral_update_step"),
    )
    with op.batch_alter_table("referral_update", schema=None) as batch_op:
        batch_op.create_index("ix_referral_update_report", ["report_ref"], unique=False)
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=40), nullable=False, server_default=""))
        batch_op.drop_constraint("uq_deadline_report_kind", type_="unique")
        batch_op.create_unique_constraint("uq_deadline_report_kind_ref", ["report_ref", "kind", "ref"])
        batch_op.create_index("ix_deadline_ref", ["ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_ref")
        batch_op.drop_constraint("uq_deadline_report_kind_ref", type_="unique")
    op.execute("DELETE FROM deadline WHERE ref <> ''")
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_deadline_report_kind", ["report_ref", "kind"])
        batch_op.drop_column("ref")
    with op.batch_alter_table("referral_update", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_update_report")
    op.drop_table("referral_update")

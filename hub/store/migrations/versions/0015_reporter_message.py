"""reportermessage: the kvittering and feedback a reporter got (issue #13, point 4)

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-02 17:00:00

The receipt clock of a professional notifier is no longer met at intake: it waits for DKE's
kvittering (`report.acknowledged`), recorded here with each feedback (`feedback.given`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reportermessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_ref", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("sent_by", sa.String(length=100), nullable=False),
        sa.Column("message_event_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_ref"], ["report.ref"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "event_id", "kind", name="uq_reportermessage_source_event_kind"),
    )
    with op.batch_alter_table("reportermessage", schema=None) as batch_op:
        batch_op.create_index("ix_reportermessage_report_ref", ["report_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reportermessage", schema=None) as batch_op:
        batch_op.drop_index("ix_reportermessage_report_ref")
    op.drop_table("reportermessage")

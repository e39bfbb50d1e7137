"""staff workspace: staff accounts, server-side sessions, claims and the access log

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:30:00

`triageitem` gets its owner (`claimed_by`, `claimed_at`); `claimevent` keeps every claim,
release and takeover; `accessrecord` is the append-only log of who viewed which case;
`decision.revision_reason` says why a later decision revises an earlier one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "staffsession",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("break_glass", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    with op.batch_alter_table("staffsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffsession_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "claimevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_ref", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_ref"], ["report.ref"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claimevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claimevent_report_ref"), ["report_ref"], unique=False)
    op.create_table(
        "accessrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("report_ref", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("ground", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_ref"], ["report.ref"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("accessrecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accessrecord_staff"), ["staff"], unique=False)
        batch_op.create_index(batch_op.f("ix_accessrecord_report_ref"), ["report_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_accessrecord_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision_reason", sa.String(), nullable=True))
    with op.batch_alter_table("triageitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("triageitem", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("revision_reason")
    op.drop_table("accessrecord")
    op.drop_table("claimevent")
    op.drop_table("staffsession")
    op.drop_table("staff")

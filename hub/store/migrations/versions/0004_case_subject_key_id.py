"""case: index on (subject_key, id) instead of subject_key alone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:50:00

A subject's oldest case is `WHERE subject_key = ? ORDER BY id LIMIT 1` (or `min(id)`, which
PostgreSQL rewrites to the same). With an index on `subject_key` alone the planner may walk the
primary key instead and filter, which reads the whole table for a subject it has never seen;
with `(subject_key, id)` the answer is the first index entry.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_subject_key_id", ["subject_key", "id"], unique=False)
        batch_op.drop_index("ix_case_subject_key")


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_subject_key", ["subject_key"], unique=False)
        batch_op.drop_index("ix_case_subject_key_id")

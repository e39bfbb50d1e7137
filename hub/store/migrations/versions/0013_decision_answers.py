"""decision: a person's answers to the questions the policy escalated

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 17:00:00

Where the policy leaves a judgment to a person (consent unclear, age unknown, whether someone is
socially vulnerable for PSP), the decision records the answers (issue #18 point 7): per question
the asking rule, the recipient where it is asked per recipient, the answer, its written reason and
its basis. Who answered is the decision's `decided_by`. Existing decisions answered nothing: NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decision", sa.Column("answers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("answers")

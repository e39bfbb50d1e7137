"""decision: the meeting of its level that it convened

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:00:00

A triage decision may convene the meeting of its level (Niveau I coordination meeting, II
sagsmøde, III the Operativgruppe; issue #13 point 6). The decision records the meeting itself
(forum, structure, whom it convened, proposed time, agenda) as JSON; what each convened partner
received, or why not, is in the disclosure log (kind `meeting`). Existing decisions convened
none: NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decision", sa.Column("meeting", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("meeting")

"""decision: why the free-text description itself was shared

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:40:00

A triage decision may give its own reason why the report's description (which may hold purely
private matters) must go along (`description_justification`, issue #15); without one no
recipient gets it. The reason is recorded with the decision, like the necessity justification.
Existing decisions gave none: the empty string.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decision", sa.Column("description_justification", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("description_justification")

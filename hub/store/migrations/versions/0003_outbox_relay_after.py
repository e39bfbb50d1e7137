"""outbox: `relay_after`, when the relay may take over a row its worker publishes itself

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:00:00

A worker publishes its batch's events right after the commit and marks them sent; the relay
leaves such rows alone until `relay_after`, and sends them only if they are still unsent then
(the worker died or Redis failed in between). Rows without it are the relay's at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relay_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("relay_after")

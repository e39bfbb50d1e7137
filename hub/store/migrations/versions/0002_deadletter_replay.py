"""dead letters: lossless payload encoding and the entry id of the last replay

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00

Rows written before this migration keep their `key=value` payload and are marked `kv-lines`;
new rows are written `fields-v1` (length-prefixed fields), which a replay can restore exactly.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deadletterrecord", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payload_encoding", sa.String(length=20), nullable=False, server_default="kv-lines")
        )
        batch_op.add_column(sa.Column("replay_entry_id", sa.String(length=40), nullable=True))
    # The default only labels existing rows; the application always sets the encoding.
    with op.batch_alter_table("deadletterrecord", schema=None) as batch_op:
        batch_op.alter_column("payload_encoding", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("deadletterrecord", schema=None) as batch_op:
        batch_op.drop_column("replay_entry_id")
        batch_op.drop_column("payload_encoding")

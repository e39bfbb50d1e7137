"""report: rows stay inline, uncompressed, up to a page (PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:40:00

A report row (the report, the policy's assessment and the receipt, as JSON) is about 3 KB. Above
`toast_tuple_target` (2 KB by default) PostgreSQL compresses its largest values with pglz on
every insert, which took about a tenth of the server's CPU per report in the benchmark. Up to
8160 bytes the row is now stored as it is (about 15 % more disk for these rows); larger ones
are still compressed and moved out of line. SQLite has no such setting.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE report SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE report RESET (toast_tuple_target)")

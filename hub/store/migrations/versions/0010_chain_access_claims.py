"""the staff access log and the claim history join the audit chain: existing rows chained

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:50:00

No schema change: `accessrecord` and `claimevent` rows written before this revision get their
chain rows, in id order, after the chain's head, so `hub audit verify` passes on a deployed
database; from now on `hub.store.access.record_access` and `hub.store.claims` chain each row as
they write it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The hub's own canonical form and link: the chain must be the one `hub audit verify` checks.
    from hub.store.audit_chain import ACCESS, CHAIN, CLAIM_EVENT, chain_rows, insert_chain, locked_head, stored_zone

    conn = op.get_bind()
    for kind in (ACCESS, CLAIM_EVENT):
        table = kind.table
        chained = sa.select(CHAIN.c.record_key).where(CHAIN.c.kind == kind.name)
        unchained = sa.select(*(table.c[name] for name in kind.fields)).where(kind.key_text.not_in(chained))
        records = [dict(r) for r in conn.execute(unchained.order_by(table.c.id)).mappings()]
        if records:
            insert_chain(conn, chain_rows(locked_head(conn), kind, records, stored_zone(conn)))


def downgrade() -> None:
    # Nothing: the chain cannot lose rows without breaking at each of them. A hub of the older
    # revision names the first access row as of a kind it does not know.
    pass

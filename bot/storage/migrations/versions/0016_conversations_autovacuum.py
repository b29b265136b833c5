"""conversations autovacuum: PostgreSQL keeps the funnel's index-only scans index-only

The funnel is counted from an index of the conversations' stages, without reading the table,
but only on the table's pages the visibility map marks all-visible; every page written since
the last vacuum is read from the table too. By default autovacuum comes once a fifth of the
rows changed: at a million conversations, 200k updates, some days of steps. Right after 100k
conversations were rewritten the all-time funnel read 1M rows from the table (2.9 s, against
0.11-0.15 s after a vacuum; issue #18). Here it comes once 1 % of them changed or were added.
SQLite has no such map: nothing to do there.

Revision ID: 0016_conversations_autovacuum
Revises: 0015_lead_outcomes
Create Date: 2026-11-30 17:55:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_conversations_autovacuum"
down_revision: str | None = "0015_lead_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTINGS = ("autovacuum_vacuum_scale_factor", "autovacuum_vacuum_insert_scale_factor")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        values = ", ".join(f"{name} = 0.01" for name in _SETTINGS)
        op.execute(f"ALTER TABLE conversations SET ({values})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE conversations RESET ({', '.join(_SETTINGS)})")

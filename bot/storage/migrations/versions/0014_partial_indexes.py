"""delivery bodies kept: the daily purge reads the lead webhooks that still hold a body

The purge empties the body (the lead's data) of a lead webhook 30 days after it was sent. It
walked every delivery in key order to find those, every day: some 350k rows at a year of a
national roll-out (issue #18), 700 batches, for the few thousand that still hold one. Indexed
on that condition, it reads only those.

Revision ID: 0014_delivery_bodies_kept
Revises: 0013_admin_indexes
Create Date: 2026-11-30 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_delivery_bodies_kept"
down_revision: str | None = "0013_admin_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEPT = "body IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_body_kept",
            ["id"],
            unique=False,
            sqlite_where=sa.text(_KEPT),
            postgresql_where=sa.text(_KEPT),
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_body_kept")

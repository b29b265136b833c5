"""partial indexes: the purge and the deliveries page find the few rows among many

Each indexes only the rows its query looks for (issue #18, at a million conversations):

- the lead webhooks that still hold a body (the lead's data): the daily purge empties it 30
  days after sending, and walked every delivery to find them (350k rows, 700 batches);
- the bookings that still keep how to reach the person: the purge forgets it 14 days after
  the session, and read every booking of every past session in one statement (630 ms, with
  SQLite's write lock held, nothing being due);
- the failed lead webhooks that can be sent again: the deliveries page counts them per
  endpoint, and read each one's row for its body (1.2 s with a cold cache).

Revision ID: 0014_partial_indexes
Revises: 0013_admin_indexes
Create Date: 2026-11-30 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_partial_indexes"
down_revision: str | None = "0013_admin_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BODY_KEPT = "body IS NOT NULL"
_CONTACTS_KEPT = "external_id IS NOT NULL OR sms_phone IS NOT NULL"
_REPLAYABLE = "failed_at IS NOT NULL AND body IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        for name, columns, condition in (
            ("body_kept", ["id"], _BODY_KEPT),
            ("replayable", ["endpoint_id"], _REPLAYABLE),
        ):
            batch_op.create_index(
                f"ix_webhook_deliveries_{name}",
                columns,
                unique=False,
                sqlite_where=sa.text(condition),
                postgresql_where=sa.text(condition),
            )
    with op.batch_alter_table("appointment_bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_bookings_contacts_kept",
            ["session_id"],
            unique=False,
            sqlite_where=sa.text(_CONTACTS_KEPT),
            postgresql_where=sa.text(_CONTACTS_KEPT),
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_bookings_contacts_kept")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_replayable")
        batch_op.drop_index("ix_webhook_deliveries_body_kept")

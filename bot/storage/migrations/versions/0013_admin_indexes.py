"""admin indexes: the counsellors' lists, searches and figures read a range, not every row

At 100k leads and a million conversations the leads' last page, the search by phone or first
name, the referrers' figures and the data and deliveries pages each read whole tables (issue
#18). Each index here is the one its query's plan needs (EXPLAIN on both databases, in the
README). The leads' (created_at, id) takes the place of the index on created_at alone, which it
covers.

On PostgreSQL the first name's key and the phone are indexed with ``text_pattern_ops``: the
search compares them code point by code point (``~>=~``, ``~<~``: bot/leads/prefix.py),
whatever the database's collation, and only an index of that operator class serves those
comparisons.

Revision ID: 0013_admin_indexes
Revises: 0012_funnel_stages
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_admin_indexes"
down_revision: str | None = "0012_funnel_stages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FAILED = "failed_at IS NOT NULL"
_PENDING = "delivered_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_created_at_id", ["created_at", "id"], unique=False)
        batch_op.drop_index("ix_leads_created_at")
        batch_op.create_index(
            "ix_leads_first_name_key",
            ["first_name_key"],
            unique=False,
            postgresql_ops={"first_name_key": "text_pattern_ops"},
        )
        batch_op.create_index(
            "ix_leads_phone",
            ["phone"],
            unique=False,
            postgresql_ops={"phone": "text_pattern_ops"},
        )
        # The referrers' figures read the leads from it alone; it serves a referrer filter too.
        batch_op.create_index(
            "ix_leads_referrer_status", ["referrer_code", "status", "id"], unique=False
        )
        batch_op.drop_index("ix_leads_referrer_code")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_referrer_status", ["referrer_code", "status"], unique=False
        )
    with op.batch_alter_table("lead_status_changes", schema=None) as batch_op:
        batch_op.create_index("ix_lead_status_changes_status", ["status", "lead_id"], unique=False)
    with op.batch_alter_table("appointment_bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_bookings_lead_status", ["lead_id", "status"], unique=False
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_action_at", ["action", "at"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        for name, condition in (("failed", _FAILED), ("pending", _PENDING)):
            batch_op.create_index(
                f"ix_webhook_deliveries_{name}",
                ["created_at", "id", "endpoint_id"],
                unique=False,
                sqlite_where=sa.text(condition),
                postgresql_where=sa.text(condition),
            )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_pending")
        batch_op.drop_index("ix_webhook_deliveries_failed")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_action_at")
    with op.batch_alter_table("appointment_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_bookings_lead_status")
    with op.batch_alter_table("lead_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_status_changes_status")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_referrer_status")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index("ix_leads_referrer_code", ["referrer_code"], unique=False)
        batch_op.drop_index("ix_leads_referrer_status")
        batch_op.drop_index("ix_leads_phone")
        batch_op.drop_index("ix_leads_first_name_key")
        batch_op.create_index("ix_leads_created_at", ["created_at"], unique=False)
        batch_op.drop_index("ix_leads_created_at_id")

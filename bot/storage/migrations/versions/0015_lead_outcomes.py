"""lead outcomes: what became of each lead, on its row, for the partners' figures

The referrers page counted, for every lead, whether it was ever enrolled, ever booked a
session and was present at one, from the status history and the bookings: a lookup per lead,
450-670 ms at 100k leads on SQLite (issue #18). Three columns keep those facts on the lead
(bot/leads/outcomes.py, written by whoever changes them), filled here from the same facts, and
the page reads one index. It takes the place of (referrer_code, status, id), made for the
lookups.

Revision ID: 0015_lead_outcomes
Revises: 0014_partial_indexes
Create Date: 2026-11-30 17:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_lead_outcomes"
down_revision: str | None = "0014_partial_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = """
UPDATE leads SET
  enrolled_once = (status = 'enrolled' OR EXISTS (
    SELECT 1 FROM lead_status_changes c WHERE c.lead_id = leads.id AND c.status = 'enrolled')),
  booked = EXISTS (SELECT 1 FROM appointment_bookings b WHERE b.lead_id = leads.id),
  attended = EXISTS (
    SELECT 1 FROM appointment_bookings b WHERE b.lead_id = leads.id AND b.status = 'attended')
"""


def upgrade() -> None:
    # Plain ADD COLUMN (no copy of the table, even on SQLite), false until filled.
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for name in ("enrolled_once", "booked", "attended"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
            )
    op.execute(_FILL)
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_referrer_status")
        batch_op.create_index(
            "ix_leads_referrer_outcomes",
            ["referrer_code", "enrolled_once", "booked", "attended"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_referrer_outcomes")
        batch_op.create_index(
            "ix_leads_referrer_status", ["referrer_code", "status", "id"], unique=False
        )
        for name in ("attended", "booked", "enrolled_once"):
            batch_op.drop_column(name)

"""funnel stages: each conversation keeps its furthest funnel stage, counted by the database

The funnel page was every conversation's state parsed in Python (59 s and 3.2 GB at a million
conversations). The stages start empty: ``aiguillage funnel rebuild`` (and ``serve``, in the
background) computes them in short batches, and the page says so meanwhile.

Revision ID: 0012_funnel_stages
Revises: 0011
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision: str = "0012_funnel_stages"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funnel_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("rebuilt_to", sa.String(length=32), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funnel_plan")),
    )
    # Plain ADD COLUMN (no copy of the table, even on SQLite): nullable, no default.
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_stage", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("lead_stage", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("funnel_stage", sa.String(length=80), nullable=True))
        batch_op.create_index(
            "ix_conversations_funnel_period",
            ["created_at", "language", "referrer_code", "funnel_stage"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversations_funnel_stage",
            ["funnel_stage", "language", "referrer_code"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_funnel_stage")
        batch_op.drop_index("ix_conversations_funnel_period")
        batch_op.drop_column("funnel_stage")
        batch_op.drop_column("lead_stage")
        batch_op.drop_column("state_stage")
    op.drop_table("funnel_plan")

"""telegram groups already told to write privately (so they are told once)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_group_notices",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_group_notices")),
    )


def downgrade() -> None:
    op.drop_table("telegram_group_notices")

"""one inbox for every messenger: deliveries named by channel and the messenger's own id

Telegram numbers its updates; WhatsApp names its messages with strings ("wamid.…") and sends
them with a timestamp. The inbox keys a delivery by (channel, delivery_id) for de-duplication,
and orders one chat's deliveries by ``position`` (Telegram: the update id; WhatsApp: the
message's timestamp). Telegram's rows are carried over as they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "inbox_updates",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=256), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "delivery_id", name=op.f("pk_inbox_updates")),
    )
    op.create_index("ix_inbox_updates_chat", "inbox_updates", ["channel", "chat_id", "position"])
    op.create_index(
        "ix_inbox_updates_pending",
        "inbox_updates",
        ["position"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.execute(
        "INSERT INTO inbox_updates (channel, delivery_id, chat_id, position, payload,"
        " received_at, processed_at, attempts) SELECT 'telegram', CAST(update_id AS VARCHAR(256)),"
        " chat_id, update_id, payload, received_at, processed_at, attempts FROM telegram_updates"
    )
    op.drop_index("ix_telegram_updates_pending", table_name="telegram_updates")
    op.drop_table("telegram_updates")


def downgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )
    op.create_index(
        "ix_telegram_updates_pending",
        "telegram_updates",
        ["processed_at", "chat_id", "update_id"],
    )
    # Other channels' deliveries have no place there: they are left out.
    op.execute(
        "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at, processed_at,"
        " attempts) SELECT position, chat_id, payload, received_at, processed_at, attempts"
        " FROM inbox_updates WHERE channel = 'telegram'"
    )
    op.drop_index("ix_inbox_updates_pending", table_name="inbox_updates")
    op.drop_index("ix_inbox_updates_chat", table_name="inbox_updates")
    op.drop_table("inbox_updates")

"""appointments: sessions counsellors open, the seats people book, their reminders, and SMS

A session counts its seats taken on its own row so that booking is one conditional UPDATE.
A booking is erased with its lead; its reminders and SMS records with it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 10:43:55.987841
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("programmes", sa.String(length=200), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("video_url", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_sessions")),
    )
    with op.batch_alter_table("appointment_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_sessions_site"), ["site"], unique=False)
        batch_op.create_index(
            "ix_appointment_sessions_upcoming", ["status", "starts_at"], unique=False
        )

    op.create_table(
        "sms_stops",
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("phone_hash", name=op.f("pk_sms_stops")),
    )
    op.create_table(
        "appointment_bookings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.String(length=32), nullable=False),
        sa.Column("programme", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sms_phone", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_appointment_bookings_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["appointment_sessions.id"],
            name=op.f("fk_appointment_bookings_session_id_appointment_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_bookings")),
    )
    with op.batch_alter_table("appointment_bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_bookings_lead_id"), ["lead_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointment_bookings_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            "uq_appointment_bookings_active",
            ["lead_id", "programme"],
            unique=True,
            sqlite_where=sa.text("status = 'booked'"),
            postgresql_where=sa.text("status = 'booked'"),
        )

    op.create_table(
        "appointment_reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booking_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["appointment_bookings.id"],
            name=op.f("fk_appointment_reminders_booking_id_appointment_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_reminders")),
    )
    with op.batch_alter_table("appointment_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_reminders_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_reminders_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booking_id", sa.String(length=32), nullable=True),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["appointment_bookings.id"],
            name=op.f("fk_sms_messages_booking_id_appointment_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_messages_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sms_messages_provider_id"), ["provider_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_messages_provider_id"))
        batch_op.drop_index(batch_op.f("ix_sms_messages_booking_id"))

    op.drop_table("sms_messages")
    with op.batch_alter_table("appointment_reminders", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_appointment_reminders_due",
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_appointment_reminders_booking_id"))

    op.drop_table("appointment_reminders")
    with op.batch_alter_table("appointment_bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appointment_bookings_active",
            sqlite_where=sa.text("status = 'booked'"),
            postgresql_where=sa.text("status = 'booked'"),
        )
        batch_op.drop_index(batch_op.f("ix_appointment_bookings_session_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_bookings_lead_id"))

    op.drop_table("appointment_bookings")
    op.drop_table("sms_stops")
    with op.batch_alter_table("appointment_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_sessions_upcoming")
        batch_op.drop_index(batch_op.f("ix_appointment_sessions_site"))

    op.drop_table("appointment_sessions")

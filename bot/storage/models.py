"""Database models. Every change here needs an Alembic migration (bot/storage/migrations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.clock import new_id, utcnow
from bot.storage.types import UTCDateTime

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of only the rows ``where`` holds for, the same on SQLite and PostgreSQL."""
    condition = sql_text(where)
    return Index(name, *columns, unique=unique, sqlite_where=condition, postgresql_where=condition)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Referrer(Base):
    """Who shares the bot link: a Mission locale, a job fair, a poster."""

    __tablename__ = "referrers"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """One person's conversation on one channel, with the engine state after its last step."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # The funnel page's GROUP BY funnel_stage, read from an index alone (bot/funnel.py): a
        # period through the first (created_at first), all time through the second, in the
        # stages' order so that nothing is sorted (at 100k conversations on SQLite, 57 ms through
        # the period index and a temporary B-tree, 7 ms through this one), a referrer or a
        # language too (SQLite skips through the leading columns). Two indexes, not more: each
        # is written again by every step that moves a conversation to another stage.
        Index(
            "ix_conversations_funnel_period",
            "created_at",
            "language",
            "referrer_code",
            "funnel_stage",
        ),
        Index("ix_conversations_funnel_stage", "funnel_stage", "language", "referrer_code"),
        # The referrers page: conversations and completions per code, from the index alone.
        Index("ix_conversations_referrer_status", "referrer_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    # Telegram chat id or web chat session id; opaque, never shown in logs.
    external_id: Mapped[str] = mapped_column(String(128))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="fr")
    referrer_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # Set when the person blocked the bot (Telegram 403 or my_chat_member "kicked").
    unreachable_at: Mapped[datetime | None] = mapped_column()
    # The one kind reminder an unfinished conversation gets, and when it is closed; both are
    # set again at every answer (an answer cancels what was due).
    reminded_at: Mapped[datetime | None] = mapped_column()
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    close_at: Mapped[datetime | None] = mapped_column(index=True)
    # A counsellor talking with the person through the bot: the script waits until handed back.
    held_by: Mapped[str | None] = mapped_column(String(254))
    held_at: Mapped[datetime | None] = mapped_column()
    # The furthest funnel stage (bot/funnel.py), kept with every write of what decides it:
    # from the state alone, written with it; from the lead (None without one), written when
    # the lead's status or bookings change; and the one counted, the lead's or else the
    # state's. None until ``aiguillage funnel rebuild`` has seen the conversation.
    state_stage: Mapped[str | None] = mapped_column(String(80))
    lead_stage: Mapped[str | None] = mapped_column(String(16))
    funnel_stage: Mapped[str | None] = mapped_column(String(80))


class FunnelPlan(Base):
    """The funnel plan the stored stages were computed with, and how far a rebuild got.

    One row (id 1). A flow file whose stages or rules changed has another fingerprint: every
    conversation's stage is computed again, in batches (bot/funnel_rebuild.py).
    """

    __tablename__ = "funnel_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The last conversation id done by the rebuild under way; None once complete.
    rebuilt_to: Mapped[str | None] = mapped_column(String(32))
    complete: Mapped[bool] = mapped_column(default=False)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TranscriptEntry(Base):
    """One message of a conversation, in either direction, kept for the counsellor."""

    __tablename__ = "transcript_entries"
    __table_args__ = (Index("ix_transcript_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # "in" (the person), "out" (the assistant) or "staff" (a counsellor, through the bot).
    direction: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowVersion(Base):
    """Every flow definition a conversation may be pinned to, kept so it can finish on it."""

    __tablename__ = "flow_versions"

    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxUpdate(Base):
    """Every delivery a messenger made, kept so that each is processed once, in chat order.

    Keyed by the messenger's own id, which is remembered as long as it may deliver it again
    (Telegram retries for 24 hours, WhatsApp for 7 days). ``position`` orders one chat's
    deliveries: Telegram's update id, WhatsApp's message timestamp.
    """

    __tablename__ = "inbox_updates"
    __table_args__ = (
        Index("ix_inbox_updates_chat", "channel", "chat_id", "position"),
        # Only what waits (a few rows at most): the scan and "is an older one waiting?".
        partial_index(
            "ix_inbox_updates_pending",
            "position",
            where="processed_at IS NULL",
        ),
    )

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class TelegramGroupNotice(Base):
    """A group already told that the bot answers in private only: it is told once.

    Only the group's chat id and when: nothing about who wrote there.
    """

    __tablename__ = "telegram_group_notices"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A messenger API call to make, queued in the same transaction as the step that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "channel", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The messenger whose sender makes the call (``telegram``); its chats are numbered apart.
    channel: Mapped[str] = mapped_column(String(16), server_default="telegram")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A sender owns the message until then: no lock is held while Telegram answers.
    lease_until: Mapped[datetime | None] = mapped_column()
    # Set once Telegram accepted it, or gave up on it for good (see last_error).
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(300))


class Lead(Base):
    """A person to be contacted by a counsellor: what the conversation established.

    One per conversation: asking again (``/conseiller``, a new summary) updates it. It outlives
    its conversation's retention (the counsellors follow it up), but not an erasure.
    """

    __tablename__ = "leads"
    __table_args__ = (
        # The admin list, newest first, paged by key (bot/leads/queries.py).
        Index("ix_leads_created_at_id", "created_at", "id"),
        # The search from what is typed: a range of code points (bot/leads/prefix.py), which
        # PostgreSQL serves with this operator class whatever the database's collation.
        Index(
            "ix_leads_first_name_key",
            "first_name_key",
            postgresql_ops={"first_name_key": "text_pattern_ops"},
        ),
        Index("ix_leads_phone", "phone", postgresql_ops={"phone": "text_pattern_ops"}),
        # The referrers' figures, read from the index alone (and a filter by referrer).
        Index(
            "ix_leads_referrer_outcomes",
            "referrer_code",
            "enrolled_once",
            "booked",
            "attended",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    referrer_code: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    site: Mapped[str | None] = mapped_column(String(64), index=True)
    first_name: Mapped[str | None] = mapped_column(String(60))
    # The first name without accents or case (bot/leads/search_key.py): "ines" finds "Inès".
    first_name_key: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    contact_preference: Mapped[str | None] = mapped_column(String(16))
    human_requested: Mapped[bool] = mapped_column(default=False)
    profile: Mapped[dict[str, Any]] = mapped_column()
    orientation: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    # Set when the status becomes a closing one (enrolled, not eligible…): retention counts
    # from it. Cleared when the lead is reopened.
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    # ",ecole_du_web,insertion_jobs," : the programmes that fit (yes or maybe), for filters.
    programmes: Mapped[str] = mapped_column(String(200), default=",")
    # Set when the lead came beyond its address's lead limit: kept, but neither delivered nor
    # announced until a counsellor releases it (aiguillage leads release ID).
    held_at: Mapped[datetime | None] = mapped_column()
    assigned_to: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # What became of it, for the partners' figures (bot/leads/outcomes.py keeps them).
    enrolled_once: Mapped[bool] = mapped_column(default=False, server_default=false())
    booked: Mapped[bool] = mapped_column(default=False, server_default=false())
    attended: Mapped[bool] = mapped_column(default=False, server_default=false())


class LeadStatusChange(Base):
    """Every status a lead went through, who set it and when (the first is ``new``)."""

    __tablename__ = "lead_status_changes"
    __table_args__ = (
        Index("ix_lead_status_changes_lead", "lead_id", "id"),
        # The leads ever enrolled (the referrers page), without reading every history.
        Index("ix_lead_status_changes_status", "status", "lead_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    previous: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    # "assistant" for the bot itself, else the operator or counsellor who changed it.
    changed_by: Mapped[str] = mapped_column(String(254))


class WebhookEndpoint(Base):
    """A receiver of signed lead events: every lead, one site's, or one referrer's."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    site: Mapped[str | None] = mapped_column(String(64))
    referrer_code: Mapped[str | None] = mapped_column(String(64))
    # The HMAC keys (whsec_…): kept in clear, since every delivery is signed with them.
    secret: Mapped[str] = mapped_column(String(100))
    # During a rotation the old key signs too, until then.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column()
    disabled_reason: Mapped[str | None] = mapped_column(String(300))


class WebhookDelivery(Base):
    """One event for one endpoint, queued in the transaction that caused it (an outbox).

    Its id is the ``webhook-id`` header, the same on every try, so receivers can de-duplicate.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "delivered_at", "failed_at", "next_attempt_at"),
        # The deliveries page: its failed and waiting ones, newest first, and their counts
        # by endpoint, each a few among every delivery.
        partial_index(
            "ix_webhook_deliveries_failed",
            "created_at",
            "id",
            "endpoint_id",
            where="failed_at IS NOT NULL",
        ),
        partial_index(
            "ix_webhook_deliveries_pending",
            "created_at",
            "id",
            "endpoint_id",
            where="delivered_at IS NULL AND failed_at IS NULL",
        ),
        # The purge's: those that still hold a body (the lead's data), a few among them all.
        partial_index(
            "ix_webhook_deliveries_body_kept",
            "id",
            where="body IS NOT NULL",
        ),
        # The deliveries page's count per endpoint of the failed ones that can be sent again.
        partial_index(
            "ix_webhook_deliveries_replayable",
            "endpoint_id",
            where="failed_at IS NOT NULL AND body IS NOT NULL",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # No foreign key: lead.deleted outlives its lead.
    lead_id: Mapped[str] = mapped_column(String(32), index=True)
    event_type: Mapped[str] = mapped_column(String(32))
    # The exact JSON sent; emptied when the lead is erased (the row stays as a trace).
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A worker owns the delivery until then: no lock is held while the receiver answers.
    lease_until: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    # Set when retrying stopped (about three days, a 410, an erasure); replay clears it.
    failed_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))


class User(Base):
    """A person of PôleS or of a partner who signs in to the admin view."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Argon2id, via pwdlib.
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin, counsellor or partner
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    referrers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column()


class LoginAttempt(Base):
    """Failed sign-ins, by account and by address, to slow down password guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "pair:…", "ip:…" or "email:…" and a SHA-256 (bot/accounts/sign_in_throttle.py): all are
    # counted.
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who saw a lead's personal data or changed something, and when (never the data itself)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_lead", "lead_id", "id"),
        # The data page's last purge (bot/accounts/audit_log.py's last_line).
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    lead_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(300))


class LeadNote(Base):
    """A counsellor's note on a lead."""

    __tablename__ = "lead_notes"
    __table_args__ = (Index("ix_lead_notes_lead", "lead_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)


class AdminSession(Base):
    """A signed-in browser: the cookie carries a token whose hash is the id (bot/admin_sessions)."""

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token, hex
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AppointmentSession(Base):
    """An information session or appointment slot counsellors open for booking.

    ``seats_taken`` is kept on the row so that a booking is one conditional UPDATE: a
    session never takes more people than its capacity, whatever books at once.
    """

    __tablename__ = "appointment_sessions"
    __table_args__ = (Index("ix_appointment_sessions_upcoming", "status", "starts_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # ",ecole_du_web,fabrique_numerique," : the programmes it presents (like leads.programmes).
    programmes: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(300))
    video_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    # open, or cancelled (kept: its bookings' history points at it).
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppointmentBooking(Base):
    """A person's seat in a session; erased with their lead (erasure, retention).

    It keeps how to reach the person (channel and chat, or a phone for SMS given with their
    agreement) because reminders must reach them after the conversation itself is purged.
    """

    __tablename__ = "appointment_bookings"
    __table_args__ = (
        # Whether a lead booked, and came (its funnel stage, its outcomes), from the index.
        Index("ix_appointment_bookings_lead_status", "lead_id", "status"),
        # The purge's: those that still keep how to reach the person, a few among them all.
        partial_index(
            "ix_appointment_bookings_contacts_kept",
            "session_id",
            where="external_id IS NOT NULL OR sms_phone IS NOT NULL",
        ),
        # One active booking per person per programme: rebooking cancels the old one first.
        partial_index(
            "uq_appointment_bookings_active",
            "lead_id",
            "programme",
            unique=True,
            where="status = 'booked'",
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("appointment_sessions.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    programme: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(8))
    # Set only when the person agreed to SMS reminders (web chat): where they go.
    sms_phone: Mapped[str | None] = mapped_column(String(32))
    # booked, cancelled, attended or missed.
    status: Mapped[str] = mapped_column(String(16), default="booked")
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "J'y serai" pressed on a reminder.
    confirmed_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    # Who cancelled or marked attendance: the person, the assistant or a counsellor's e-mail.
    ended_by: Mapped[str | None] = mapped_column(String(254))


class AppointmentReminder(Base):
    """One reminder of a booking, due at a set time; sent once, never after a cancellation."""

    __tablename__ = "appointment_reminders"
    __table_args__ = (
        partial_index(
            "ix_appointment_reminders_due",
            "due_at",
            where="sent_at IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(
        ForeignKey("appointment_bookings.id", ondelete="CASCADE"), index=True
    )
    # day_before or hours_before: which text it sends.
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()


class SmsMessage(Base):
    """An SMS sent through the provider, with the delivery status it last reported."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str | None] = mapped_column(
        ForeignKey("appointment_bookings.id", ondelete="CASCADE"), index=True
    )
    # The provider's id of the message, to match its delivery reports.
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # queued, sent, delivered, failed (the provider's word kept in ``detail``).
    status: Mapped[str] = mapped_column(String(16), default="queued")
    detail: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SmsStop(Base):
    """A number that answered STOP: no SMS is sent to it again (its hash, not the number)."""

    __tablename__ = "sms_stops"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

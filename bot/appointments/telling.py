"""Telling a booked person about their session, where they can be reached.

Reminders, moves, cancellations and no-shows go to the person's messenger (Telegram,
WhatsApp, within its window or in the appointment template), or by SMS when they agreed to it
on the web chat; each with the buttons that answer it, which an SMS replaces with a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.appointments.bookings import BookingRecord
from bot.appointments.links import booking_link
from bot.appointments.sessions import SessionRecord
from bot.channels.buttons import APPOINTMENT_STEP
from bot.channels.sms.queue import queue_sms
from bot.channels.writers import Writers
from bot.storage.database import Transaction
from flows.i18n import parse_language, text
from flows.offers import spoken_datetime
from flows.render import RenderedChoice, RenderedMessage, RenderedQuestion

# What a person can answer to a reminder or a change, as buttons.
CONFIRM, CANCEL, CHANGE = "confirm", "cancel", "change"
ACTION_LABELS = {CONFIRM: "booking.action_confirm", CANCEL: "booking.action_cancel",
                 CHANGE: "booking.action_change"}  # fmt: skip


def appointment_message(
    booking: BookingRecord, message_id: str, session: SessionRecord, *, actions: Sequence[str]
) -> RenderedMessage:
    """A message about the session in the person's language, with its answers as buttons."""
    language = parse_language(booking.language)
    body = text(
        message_id,
        language,
        when=spoken_datetime(session.starts_at, language),
        place=session.place or session.video_url or "",
    )
    question = RenderedQuestion(
        field=None,
        kind="choice",
        choices=[
            RenderedChoice(value=action, label=text(ACTION_LABELS[action], language))
            for action in actions
        ],
    )
    return RenderedMessage(text=body, question=question)


@dataclass(frozen=True)
class Teller:
    """How to reach booked people: the messengers' writers, and what signs the SMS links."""

    writers: Writers
    # Signs the SMS links (bot/appointments/links.py); without it an SMS carries no link.
    link_key: bytes | None = None
    public_url: str | None = None

    async def tell(
        self,
        tx: Transaction,
        booking: BookingRecord,
        session: SessionRecord,
        message: RenderedMessage,
        *,
        now: datetime,
    ) -> bool:
        """Queue the message where the person can be reached: their messenger, or by SMS if
        they agreed to it; False where they cannot be."""
        if booking.channel in self.writers.channels and booking.external_id is not None:
            return await self.writers.write(
                tx,
                booking.channel,
                booking.external_id,
                [message],
                step=APPOINTMENT_STEP + booking.id,
                language=parse_language(booking.language),
                purpose="appointment",
                now=now,
            )
        if booking.sms_phone:
            # The SMS's link confirms or cancels without signing in: its buttons, on a page.
            link = (
                booking_link(self.public_url, booking.id, session.ends_at, self.link_key)
                if self.link_key is not None
                else ""
            )
            return await queue_sms(
                tx,
                booking_id=booking.id,
                phone=booking.sms_phone,
                text=f"{message.text} {link}".strip(),
                now=now,
                language=parse_language(booking.language),
            )
        return False

"""The hand-off: what a finished conversation or an erasure does to leads and their events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.appointments.bookings import free_lead_seats
from bot.channels.sms.queue import forget_lead_sms
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.leads.deliveries import erase_lead_deliveries, queue_lead_event
from bot.leads.notices import Digest, NoticeGate, unlinkable
from bot.leads.payload import ASSISTANT, EventType, LeadRecord
from bot.leads.store import (
    delete_lead,
    lead_of_conversation,
    record_from_conversation,
    release_lead,
    set_site,
    set_status,
)
from bot.limits import Rate, RateLimiter
from bot.messaging import outbox
from bot.messaging.outbox import ApiCall
from bot.settings import Settings
from bot.storage.database import Transaction
from bot.storage.lock_keys import DIGEST_LOCK
from flows.catalogue import default_catalogue
from flows.events import Event
from flows.i18n import Language, text
from flows.state import ConversationState

logger = logging.getLogger(__name__)
# A person who asks again after the counsellor could not reach them, or after withdrawing,
# is a new request; other statuses are the counsellor's to change.
REOPENED_BY_A_NEW_REQUEST = frozenset({"unreachable", "withdrawn"})
# The counsellors' group reads French.
NOTICE_LANGUAGE: Language = "fr"
# Telegram would otherwise show a preview of the first link (the admin's sign-in page).
NO_PREVIEW = {"is_disabled": True}


@dataclass
class LeadHandoff:
    """Leads for one process: recorded in the step's transaction, with their deliveries.

    ``counsellor_chat_id``: a Telegram group told of each new lead (first name, site,
    programmes, a link; nothing sensitive). ``public_url``: where the admin view is, for links.
    """

    counsellor_chat_id: int | None = None
    public_url: str | None = None
    # Set when deliveries were queued: the worker of this process starts at once.
    queued: asyncio.Event = field(default_factory=asyncio.Event)
    # New leads an hour from one web address; beyond, a lead is recorded but held for review.
    lead_limit: RateLimiter | None = None
    # A lead finished again this soon sends at most one more lead.updated (deliveries.py).
    update_window: timedelta = timedelta(minutes=5)
    notices: NoticeGate = field(default_factory=lambda: NoticeGate(10, timedelta(minutes=10)))

    @classmethod
    def from_settings(cls, settings: Settings) -> LeadHandoff:
        return cls(
            counsellor_chat_id=settings.counsellor_chat_id,
            public_url=settings.public_url,
            lead_limit=RateLimiter(Rate(settings.leads_per_address_per_hour, 3600.0)),
            update_window=timedelta(minutes=settings.lead_update_window_minutes),
            notices=NoticeGate(
                settings.counsellor_notices_per_window,
                timedelta(minutes=settings.counsellor_notice_window_minutes),
            ),
        )

    def admin_url(self, lead_id: str) -> str | None:
        return f"{self.public_url}/admin/leads/{lead_id}" if self.public_url else None

    async def after_step(
        self,
        tx: Transaction,
        *,
        conversation_id: str,
        channel: str,
        referrer_code: str | None,
        state: ConversationState,
        events: list[Event],
        now: datetime,
        source: str | None = None,
    ) -> LeadRecord | None:
        """Record the lead when a conversation ends on one (again: a new request).

        ``source``: the web client's address. Beyond its lead limit a new lead is still
        recorded (never lost) but held: no delivery, no notice, until a counsellor releases it.
        """
        if Event.FINISHED not in events or state.outcome != "lead":
            return None
        lead, created = await record_from_conversation(
            tx,
            conversation_id=conversation_id,
            channel=channel,
            referrer_code=referrer_code,
            state=state,
            now=now,
            hold=self._over_lead_limit(source),
        )
        if lead.held_at is not None:
            logger.warning("lead held for review", extra={"lead": lead.id})
            return lead
        if not created and lead.status in REOPENED_BY_A_NEW_REQUEST:
            reopened = await set_status(tx, lead.id, "new", changed_by=ASSISTANT, now=now)
            lead = reopened or lead
        if not created and Event.SESSION_CHOSEN in events:
            # Another date for someone the counsellors know: appointment.booked says it.
            return lead
        event: EventType = "lead.created" if created else "lead.updated"
        await queue_lead_event(
            tx,
            lead,
            event,
            now=now,
            admin_url=self.admin_url(lead.id),
            coalesce_within=self.update_window,
        )
        await self._notice(tx, lead, again=not created, now=now)
        self.queued.set()
        logger.info("lead recorded", extra={"lead": lead.id, "event": event})
        return lead

    def _over_lead_limit(self, source: str | None) -> Callable[[], bool] | None:
        """Whether a new lead from ``source`` is held, asked as it is made.

        The check spends the address's token at once: leads finished together from one
        address must not all see the last token before any of them spends it.
        """
        limit = self.lead_limit
        if limit is None or source is None:
            return None
        return lambda: limit.take(source) > 0.0

    async def release(self, tx: Transaction, lead_id: str, *, now: datetime) -> LeadRecord | None:
        """A counsellor found a held lead genuine: it goes out as a new lead; None if not held."""
        lead = await release_lead(tx, lead_id)
        if lead is None:
            return None
        await queue_lead_event(tx, lead, "lead.created", now=now, admin_url=self.admin_url(lead.id))
        await self._notice(tx, lead, again=False, now=now)
        self.queued.set()
        logger.info("lead released", extra={"lead": lead.id})
        return lead

    async def change_status(
        self, tx: Transaction, lead_id: str, status: str, *, changed_by: str, now: datetime
    ) -> LeadRecord | None:
        """A counsellor's status change, with its lead.updated; None if nothing changed."""
        lead = await set_status(tx, lead_id, status, changed_by=changed_by, now=now)
        if lead is not None:
            await queue_lead_event(
                tx, lead, "lead.updated", now=now, admin_url=self.admin_url(lead.id)
            )
            self.queued.set()
        return lead

    async def change_site(
        self, tx: Transaction, lead_id: str, site: str, *, now: datetime
    ) -> LeadRecord | None:
        """A counsellor's choice of site, with its lead.updated; None if nothing changed."""
        lead = await set_site(tx, lead_id, site, now=now)
        if lead is not None:
            await queue_lead_event(
                tx, lead, "lead.updated", now=now, admin_url=self.admin_url(lead.id)
            )
            self.queued.set()
        return lead

    async def erase(self, tx: Transaction, conversation_id: str, *, now: datetime) -> bool:
        """Erase the conversation's lead, telling the endpoints that had it; whether one existed."""
        lead = await lead_of_conversation(tx, conversation_id)
        if lead is None:
            return False
        # Seats booked for sessions to come go to others at once, and SMS not sent yet
        # (they hold the number and the text) are dropped.
        await free_lead_seats(tx, lead.id, now=now)
        await forget_lead_sms(tx, lead.id)
        if await erase_lead_deliveries(tx, lead.id, now=now):
            self.queued.set()
        await delete_lead(tx, lead.id)
        logger.info("lead erased", extra={"lead": lead.id})
        return True

    async def _notice(
        self, tx: Transaction, lead: LeadRecord, *, again: bool, now: datetime
    ) -> None:
        if self.counsellor_chat_id is None:
            return
        digest = self.notices.admit()
        if digest is not None:
            await self._digest(tx, digest, now=now)
            return
        notice = {
            "chat_id": self.counsellor_chat_id,
            "text": self.notice_text(lead, again=again),
            "link_preview_options": NO_PREVIEW,
        }
        await outbox.enqueue(tx, TELEGRAM, [ApiCall("sendMessage", notice)], now=now)

    async def _digest(self, tx: Transaction, digest: Digest, *, now: datetime) -> None:
        """One message for the notices beyond the rate, sent when the window closes.

        The window's first held-back notice writes it, the next ones bring its count up to
        date. Notices held back together (PostgreSQL runs them at once) take turns on a lock
        held until their transaction ends, so each finds the row its predecessor committed,
        and writes the count as it is when its turn comes: the last one writes them all.
        """
        await tx.lock_chat(DIGEST_LOCK)
        gate = self.notices
        current = gate.now_reads(digest)
        if current is None:
            return  # its window's digest is sent or being sent
        payload = self._digest_payload(current)
        if gate.digest_id is not None:
            await outbox.rewrite_waiting(tx, gate.digest_id, payload)
            return
        call = ApiCall("sendMessage", payload)
        gate.digest_id = await outbox.enqueue_later(
            tx, TELEGRAM, call, now=now, not_before=current.due
        )

    def _digest_payload(self, digest: Digest) -> dict[str, Any]:
        minutes = round(self.notices.window.total_seconds() / 60)
        url = f"{self.public_url}/admin/leads" if self.public_url else None
        link = text("counsellor.digest_link", NOTICE_LANGUAGE, url=url) if url else ""
        body = text(
            "counsellor.digest", NOTICE_LANGUAGE, count=digest.count, minutes=minutes, link=link
        )
        return {
            "chat_id": self.counsellor_chat_id,
            "text": body,
            "link_preview_options": NO_PREVIEW,
        }

    def notice_text(self, lead: LeadRecord, *, again: bool = False) -> str:
        """A new lead for the counsellors' group: who, where, what; no answers, no number."""
        language = NOTICE_LANGUAGE
        catalogue = default_catalogue()
        fitting = [
            text(f"programme.{p['id']}", language)
            for p in lead.orientation.get("programmes", [])
            if p.get("fit") in ("yes", "maybe") and p.get("id") in catalogue.programmes
        ]
        params: dict[str, Any] = {
            "first_name": unlinkable(lead.first_name) if lead.first_name else "—",
            "site": lead.site_name or text("counsellor.no_site", language),
            "programmes": ", ".join(fitting) or text("counsellor.no_programme", language),
            "human": text("counsellor.human", language) if lead.human_requested else "",
            "channel": text(f"channel.{lead.channel}", language),
        }
        url = self.admin_url(lead.id)
        link = (
            text("counsellor.link", language, url=url)
            if url
            else text("counsellor.lead_id", language, id=lead.id)
        )
        head = text(
            "counsellor.asked_again" if again else "counsellor.new_lead", language, **params
        )
        return head + "\n" + link

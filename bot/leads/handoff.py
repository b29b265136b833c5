"""The hand-off: what a finished conversation or an erasure does to leads and their events."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.leads.outbox import erase_lead_deliveries, queue_lead_event
from bot.leads.payload import ASSISTANT, EventType, LeadRecord
from bot.leads.store import lead_of_conversation, record_from_conversation, set_status
from bot.settings import Settings
from bot.storage.raw import Transaction
from bot.telegram.outbound import ApiCall, queue_for_sender
from flows.catalogue import default_catalogue
from flows.i18n import Language, text
from flows.state import ConversationState

logger = logging.getLogger(__name__)
# A person who asks again after the counsellor could not reach them, or after withdrawing,
# is a new request; other statuses are the counsellor's to change.
REOPENED_BY_A_NEW_REQUEST = frozenset({"unreachable", "withdrawn"})
# The counsellors' group reads French.
NOTICE_LANGUAGE: Language = "fr"


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

    @classmethod
    def from_settings(cls, settings: Settings) -> LeadHandoff:
        return cls(counsellor_chat_id=settings.counsellor_chat_id, public_url=settings.public_url)

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
        events: list[str],
        now: datetime,
    ) -> LeadRecord | None:
        """Record the lead when a conversation ends on one (again: a new request)."""
        if "finished" not in events or state.outcome != "lead":
            return None
        lead, created = await record_from_conversation(
            tx,
            conversation_id=conversation_id,
            channel=channel,
            referrer_code=referrer_code,
            state=state,
            now=now,
        )
        if not created and lead.status in REOPENED_BY_A_NEW_REQUEST:
            reopened = await set_status(tx, lead.id, "new", changed_by=ASSISTANT, now=now)
            lead = reopened or lead
        event: EventType = "lead.created" if created else "lead.updated"
        await queue_lead_event(tx, lead, event, now=now, admin_url=self.admin_url(lead.id))
        await self._notice(tx, lead, again=not created)
        self.queued.set()
        logger.info("lead recorded", extra={"lead": lead.id, "event": event})
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

    async def erase(self, tx: Transaction, conversation_id: str, *, now: datetime) -> bool:
        """Erase the conversation's lead, telling the endpoints that had it; whether one existed."""
        lead = await lead_of_conversation(tx, conversation_id)
        if lead is None:
            return False
        if await erase_lead_deliveries(tx, lead.id, now=now):
            self.queued.set()
        # Its status history goes with it (ON DELETE CASCADE).
        await tx.write("DELETE FROM leads WHERE id = :id", {"id": lead.id})
        logger.info("lead erased", extra={"lead": lead.id})
        return True

    async def _notice(self, tx: Transaction, lead: LeadRecord, *, again: bool) -> None:
        if self.counsellor_chat_id is None:
            return
        notice = {"chat_id": self.counsellor_chat_id, "text": self.notice_text(lead, again=again)}
        await queue_for_sender(tx, [ApiCall("sendMessage", notice)], now=lead.updated_at)

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
            "first_name": lead.first_name or "—",
            "site": lead.site_name or text("counsellor.no_site", language),
            "programmes": ", ".join(fitting) or text("counsellor.no_programme", language),
            "human": text("counsellor.human", language) if lead.human_requested else "",
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

"""How long personal data is kept, and purging now what is past its time (admins only).

The periods shown are the ones the service purges with (``Retention.from_settings``). A purge
started here is audited, its counts in the detail; the page shows the last one from there,
so the counts survive the redirect without any number in the address.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.accounts.audit_log import last_line, newest_lines
from bot.retention import MONTH_DAYS, Purged, Retention, purge
from bot.settings import Settings
from flows.i18n import N_
from webhook.admin.auth import Viewer, audit
from webhook.admin.common import allow, checked_form, database_of, render, see_other

router = APIRouter(prefix="/admin", include_in_schema=False)
Admin = Annotated[Viewer, Depends(allow("admin"))]

# What each count of a purge erased, in the order shown.
COUNT_LABELS = {
    "conversations": N_("Conversations effacées"),
    "leads": N_("Contacts clos effacés"),
    "inbox_updates": N_("Messages reçus effacés (Telegram, WhatsApp)"),
    # The name of that count in purges recorded before WhatsApp came.
    "telegram_updates": N_("Messages reçus effacés (Telegram, WhatsApp)"),
    "outbox_messages": N_("Messages envoyés effacés (Telegram, WhatsApp)"),
    "delivery_bodies": N_("Envois aux partenaires vidés de leurs données"),
}
_COUNT = re.compile(r"([a-z_]+)=(\d+)")


def retention_of(request: Request) -> Retention:
    settings: Settings = request.app.state.settings
    return Retention.from_settings(settings)


def purge_detail(purged: Purged) -> str:
    """The audit detail of a purge: its counts, e.g. ``conversations=2 leads=1 …``."""
    counts = asdict(purged)
    return " ".join(f"{name}={counts[name]}" for name in COUNT_LABELS if name in counts)


def counts_of(detail: str | None) -> dict[str, int]:
    found = {name: int(value) for name, value in _COUNT.findall(detail or "")}
    return {name: found[name] for name in COUNT_LABELS if name in found}


# The newest lines of the audit log shown on the page (the table keeps them all).
JOURNAL_SIZE = 100


@router.get("/data")
async def data_page(request: Request, viewer: Admin) -> Response:
    retention = retention_of(request)
    async with database_of(request).reading() as tx:
        last = await last_line(tx, "purge")
        journal = await newest_lines(tx, JOURNAL_SIZE)
    last_purge: dict[str, Any] | None = None
    if last is not None:
        last_purge = {"at": last.at, "actor": last.actor, "counts": counts_of(last.detail)}
    return render(
        request,
        "admin/data.html",
        viewer,
        conversation_days=retention.conversations.days,
        lead_months=retention.closed_leads.days // MONTH_DAYS,
        telegram_hours=int(retention.telegram_messages.total_seconds() // 3600),
        whatsapp_days=retention.whatsapp_messages.days,
        delivery_days=retention.delivery_bodies.days,
        last_purge=last_purge,
        count_labels=COUNT_LABELS,
        journal=journal,
    )


@router.post("/data/purge")
async def purge_now(request: Request, viewer: Admin) -> Response:
    await checked_form(request, viewer)
    purged = await purge(database_of(request), retention_of(request))
    async with database_of(request).transaction() as tx:
        await audit(tx, viewer, "purge", detail=purge_detail(purged))
    return see_other("/admin/data?done=purged")

"""Lead webhooks that failed or still wait, and sending them again (admins only).

The same operations as ``aiguillage deliveries`` (bot/leads/endpoints.py); every replay is
audited with the lead it concerns.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.clock import utcnow
from bot.leads import endpoints
from bot.leads.handoff import LeadHandoff
from bot.storage.database import Transaction
from flows.i18n import N_
from webhook.admin.auth import Viewer, audit
from webhook.admin.common import (
    AdminRefused,
    allow,
    checked_form,
    database_of,
    render,
    see_other,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
Admin = Annotated[Viewer, Depends(allow("admin"))]
# Rows shown per list; the totals above them count them all.
SHOWN = 200
MAX_ID = 40  # webhook_deliveries.id


@router.get("/deliveries")
async def deliveries_page(request: Request, viewer: Admin) -> Response:
    async with database_of(request).reading() as tx:
        known = await endpoints.list_endpoints(tx, now=utcnow())
        failed = await endpoints.list_deliveries(tx, state="failed", limit=SHOWN)
        pending = await endpoints.list_deliveries(tx, state="pending", limit=SHOWN)
    return render(
        request,
        "admin/deliveries.html",
        viewer,
        endpoints={info.id: info for info in known},
        failed=failed,
        pending=pending,
        # Failed ones that can be sent again (their lead's data is still here).
        replayable=sum(info.failed for info in known),
        waiting=sum(info.pending for info in known),
        shown=SHOWN,
    )


async def _replayable(tx: Transaction, delivery_id: str) -> str:
    """The lead of a failed delivery that can be sent again; else a refusal saying why."""
    found = await endpoints.find_delivery(tx, delivery_id) if len(delivery_id) <= MAX_ID else None
    if found is None:
        raise AdminRefused(N_("Cet envoi n'existe pas ou plus."), status=404)
    if found.erased:
        raise AdminRefused(
            N_("Les données de ce contact ont été effacées : rien à renvoyer."), status=409
        )
    if found.state != "failed":
        raise AdminRefused(
            N_("Cet envoi n'est pas en échec : il n'y a rien à relancer."), status=409
        )
    return found.lead_id


def _wake_worker(request: Request) -> None:
    """The service's own worker sends at once rather than at its next poll."""
    handoff: LeadHandoff = request.app.state.handoff
    handoff.queued.set()


@router.post("/deliveries/replay-failed")
async def replay_failed(request: Request, viewer: Admin) -> Response:
    await checked_form(request, viewer)
    async with database_of(request).transaction() as tx:
        ids = await endpoints.failed_ids(tx)
        for delivery_id in ids:
            lead_id = await _replayable(tx, delivery_id)
            await audit(
                tx, viewer, "replay_delivery", lead_id=lead_id, detail=f"{delivery_id} (all failed)"
            )
        await endpoints.replay(tx, ids, now=utcnow())
    _wake_worker(request)
    return see_other("/admin/deliveries?done=replayed")


@router.post("/deliveries/{delivery_id}/replay")
async def replay_one(request: Request, viewer: Admin, delivery_id: str) -> Response:
    await checked_form(request, viewer)
    async with database_of(request).transaction() as tx:
        lead_id = await _replayable(tx, delivery_id)
        await endpoints.replay(tx, [delivery_id], now=utcnow())
        await audit(tx, viewer, "replay_delivery", lead_id=lead_id, detail=delivery_id)
    _wake_worker(request)
    return see_other("/admin/deliveries?done=replayed")

"""The leads: a filtered list with CSV export, and a page per lead to follow it up."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from bot.accounts.users import User, list_users
from bot.clock import PARIS, utcnow
from bot.conversations.counsellor import NoConversation, hand_back, send_staff_message
from bot.conversations.repository import conversation_of_lead
from bot.conversations.service import ConversationService
from bot.leads import endpoints
from bot.leads.export import BATCH, lead_batches
from bot.leads.followup import add_note, assign, followup_of, transcript_of
from bot.leads.handoff import LeadHandoff
from bot.leads.payload import STATUSES, LeadRecord
from bot.leads.queries import Cursor, LeadFilters, Scope, count_leads, search_leads
from bot.leads.store import UnknownLead, read_lead
from bot.storage.database import Database, Transaction
from flows.catalogue import PROGRAMME_IDS, default_catalogue
from flows.i18n import N_, Language, gettext, text
from flows.presentation import readable_phone, value_text
from flows.render import render as render_text
from webhook.admin.auth import Viewer, audit
from webhook.admin.common import (
    ROLES_ALL,
    STAFF,
    AdminRefused,
    allow,
    checked_form,
    database_of,
    language_of,
    render,
    scope_of,
    see_other,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
Anyone = Annotated[Viewer, Depends(allow(*ROLES_ALL))]
Staff = Annotated[Viewer, Depends(allow(*STAFF))]

STATUS_LABELS = {
    "new": N_("Nouveau"),
    "contacted": N_("Contacté"),
    "appointment": N_("Rendez-vous"),
    "enrolled": N_("Inscrit"),
    "not_eligible": N_("Non éligible"),
    "unreachable": N_("Injoignable"),
    "withdrawn": N_("Abandon"),
}
FIT_LABELS = {"yes": N_("Oui"), "maybe": N_("Peut-être"), "no": N_("Non")}
PROFILE_LABELS = {
    "age": N_("Âge"),
    "child_age": N_("Âge de l'enfant"),
    "postal_code": N_("Code postal"),
    "situation": N_("Situation"),
    "france_travail": N_("France Travail"),
    "diploma_level": N_("Diplôme"),
    "criteria": N_("Situations déclarées"),
    "interests": N_("Intérêts"),
}
PREFERENCE_LABELS = {
    "call": N_("Appel"),
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
    "email": N_("E-mail"),
}
# The site filter's value for the leads with no site yet (no catalogue site has this id).
NO_SITE = "none"
# The list's pages: the leads older than a page's last one, or newer than its first one.
OLDER = "older"
NEWER = "newer"
CSV_COLUMNS_STAFF = (
    "id", "created_at", "status", "site", "programmes", "referrer_code", "first_name",
    "phone", "email", "contact_preference", "human_requested", "channel", "language",
)  # fmt: skip
CSV_COLUMNS_PARTNER = ("id", "created_at", "status", "site", "programmes", "referrer_code")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from(request: Request, viewer: Viewer) -> LeadFilters:
    """The list's filters from the query string; unknown values are ignored, never an error."""
    query = request.query_params
    status = query.get("status")
    programme = query.get("programme")
    site = query.get("site")
    sites = {s.id for s in default_catalogue().sites}
    # NUL characters are dropped on the way to the database: a search of them is no search.
    search = (query.get("q") or "").replace("\x00", "").strip()[:100]
    return LeadFilters(
        status=status if status in STATUSES else None,
        site=site if site in sites else None,
        no_site=site == NO_SITE,
        programme=programme if programme in PROGRAMME_IDS else None,
        referrer=(query.get("referrer") or "").strip()[:64] or None,
        date_from=_date(query.get("from")),
        date_to=_date(query.get("to")),
        human=query.get("human") == "1",
        # Partners search nothing personal.
        query=search if search and viewer.role != "partner" else None,
    )


def programme_names(lead: LeadRecord, language: Language) -> list[str]:
    return [
        text(f"programme.{p['id']}", language)
        for p in lead.orientation.get("programmes", [])
        if p.get("fit") != "no" and p.get("id") in PROGRAMME_IDS
    ]


@router.get("/leads")
async def leads_page(request: Request, viewer: Anyone) -> Response:
    filters = filters_from(request, viewer)
    query = request.query_params
    # A cursor that does not parse is ignored: the list opens at its first page.
    older_than = Cursor.parse(query.get(OLDER))
    newer_than = Cursor.parse(query.get(NEWER))
    # A read-only snapshot: off the event loop on SQLite, and no writer waits on it.
    async with database_of(request).reading() as tx:
        page = await search_leads(
            tx, filters, scope_of(viewer), older_than=older_than, newer_than=newer_than
        )
    language = language_of(request)
    rows = [{"lead": lead, "programmes": programme_names(lead, language)} for lead in page.leads]
    # The filters as given, encoded again (a value may hold & # +), for the pages and the CSV.
    kept = [(k, v) for k, v in query.multi_items() if k not in (OLDER, NEWER, "page", "done")]
    return render(
        request,
        "admin/leads.html",
        viewer,
        rows=rows,
        page=page,
        filters=filters,
        raw={
            k: query.get(k, "")
            for k in ("status", "site", "programme", "referrer", "from", "to", "q", "human")
        },
        statuses=STATUS_LABELS,
        sites=[(s.id, s.name) for s in default_catalogue().sites],
        programmes=[(p, text(f"programme.{p}", language)) for p in PROGRAMME_IDS],
        csv_href="/admin/leads.csv?" + urlencode(kept),
        newer_href=_page_href(kept, NEWER, page.newer),
        older_href=_page_href(kept, OLDER, page.older),
    )


def _page_href(kept: list[tuple[str, str]], side: str, cursor: Cursor | None) -> str | None:
    return "?" + urlencode([*kept, (side, cursor.token())]) if cursor is not None else None


@router.get("/leads.csv")
async def leads_csv(request: Request, viewer: Anyone) -> Response:
    """Every lead of the list's filters, streamed: written out batch by batch as read."""
    filters = filters_from(request, viewer)
    scope = scope_of(viewer)
    database = database_of(request)
    # Counted on a reader (off the event loop on SQLite), the audit line written after.
    async with database.reading() as tx:
        count = await count_leads(tx, filters, scope)
    async with database.transaction() as tx:
        await audit(tx, viewer, "export_csv", detail=f"{count} leads")
    columns = CSV_COLUMNS_PARTNER if viewer.role == "partner" else CSV_COLUMNS_STAFF
    name = f"contacts-{date.today().isoformat()}.csv"
    return StreamingResponse(
        csv_chunks(database, filters, scope, columns, language_of(request)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def csv_chunks(
    database: Database,
    filters: LeadFilters,
    scope: Scope,
    columns: tuple[str, ...],
    language: Language,
    *,
    batch_size: int = BATCH,
) -> AsyncIterator[bytes]:
    """The CSV file, its header first (before any read) and then one chunk per batch."""
    # UTF-8 with a byte order mark: Excel then reads the accents right.
    yield "\ufeff".encode() + _csv_lines([columns])
    async for batch in lead_batches(database, filters, scope, size=batch_size):
        yield _csv_lines(
            [_csv_safe(value) for value in _csv_values(lead, columns, language)] for lead in batch
        )


def _csv_lines(rows: Iterable[Iterable[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    return out.getvalue().encode("utf-8")


def _csv_values(lead: LeadRecord, columns: tuple[str, ...], language: Language) -> list[str]:
    values: dict[str, Any] = {
        "id": lead.id,
        "created_at": lead.created_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
        "status": gettext(STATUS_LABELS[lead.status], language),
        "site": lead.site_name or "",
        "programmes": ", ".join(programme_names(lead, language)),
        "referrer_code": lead.referrer_code or "",
        "first_name": lead.first_name or "",
        "phone": csv_phone(lead.phone) if lead.phone else "",
        "email": lead.email or "",
        "contact_preference": lead.contact_preference or "",
        "human_requested": "1" if lead.human_requested else "0",
        "channel": lead.channel,
        "language": lead.language,
    }
    return [values[c] for c in columns]


# Spreadsheets run a cell starting with one of these as a formula (OWASP's list): whatever
# follows, even a digit (`=1+1`, `-2+3`), the cell gets a leading apostrophe and stays text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_phone(number: str) -> str:
    """A phone as French staff dial it, never starting with ``+`` (no apostrophe needed).

    French numbers read 06 12 34 56 78; others get 00, the international prefix from France,
    in place of their + (00 447911123456 dials the same number as +447911123456).
    """
    shown = readable_phone(number)
    return "00 " + shown[1:] if shown.startswith("+") else shown


async def _lead_in_scope(tx: Transaction, viewer: Viewer, lead_id: str) -> LeadRecord:
    try:
        lead = await read_lead(tx, lead_id[:64])
    except UnknownLead:
        raise AdminRefused(N_("Ce contact n'existe pas ou a été effacé."), status=404) from None
    if not scope_of(viewer).allows(lead):
        # Whether it exists is not theirs to know either.
        raise AdminRefused(N_("Ce contact n'existe pas ou a été effacé."), status=404)
    return lead


def profile_lines(request: Request, lead: LeadRecord, language: Language) -> list[tuple[str, str]]:
    service: ConversationService = request.app.state.conversations
    flow = service.registry.current[service.flow_id]
    catalogue = default_catalogue()
    lines = []
    for name, label in PROFILE_LABELS.items():
        value = lead.profile.get(name)
        if value is None or value == []:
            continue
        shown = render_text(value_text(flow, name, value, catalogue), language)
        lines.append((gettext(label, language), shown))
    return lines


async def who_may_follow(tx: Transaction, lead: LeadRecord) -> list[User]:
    """The active accounts a lead may be assigned to: the admins and its site's counsellors
    (any counsellor while it has no site: they all see that queue)."""
    return [
        user
        for user in await list_users(tx)
        if user.active
        and (
            user.role == "admin"
            or (user.role == "counsellor" and Scope(sites=user.sites).allows(lead))
        )
    ]


@router.get("/leads/{lead_id}")
async def lead_page(request: Request, viewer: Anyone, lead_id: str) -> Response:
    language = language_of(request)
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        if viewer.role == "partner":
            await audit(tx, viewer, "view_lead_follow_up", lead_id=lead.id)
            return render(
                request,
                "admin/lead_partner.html",
                viewer,
                lead=lead,
                statuses=STATUS_LABELS,
                programmes=programme_names(lead, language),
            )
        followup = await followup_of(tx, lead.id)
        held = await conversation_of_lead(tx, lead.id)
        transcript = await transcript_of(tx, held.conversation_id) if held else []
        # WhatsApp past its 24-hour window, without a template: only the phone reaches them.
        writers = _conversations(request).writers
        phone_only = held is not None and not await writers.can_write(
            tx, held.channel, held.external_id, purpose="counsellor", now=utcnow()
        )
        deliveries = await endpoints.list_deliveries(tx, lead_id=lead.id, limit=100)
        counsellors = await who_may_follow(tx, lead)
        await audit(tx, viewer, "view_lead", lead_id=lead.id)
    return render(
        request,
        "admin/lead.html",
        viewer,
        lead=lead,
        followup=followup,
        held=held,
        phone_only=phone_only,
        transcript=transcript,
        deliveries=deliveries,
        counsellors=counsellors,
        sites=[(s.id, s.name) for s in default_catalogue().sites],
        statuses=STATUS_LABELS,
        fits=FIT_LABELS,
        preferences=PREFERENCE_LABELS,
        # Where the person wrote, named as the counsellors' notices name it.
        channel_name=text(f"channel.{lead.channel}", language),
        profile=profile_lines(request, lead, language),
        phone=readable_phone(lead.phone) if lead.phone else None,
        programme_name=lambda pid: text(f"programme.{pid}", language),
    )


def _conversations(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversations
    return service


def _handoff(request: Request) -> LeadHandoff:
    return _conversations(request).handoff


@router.post("/leads/{lead_id}/status")
async def change_status(request: Request, viewer: Staff, lead_id: str) -> Response:
    form = await checked_form(request, viewer)
    status = str(form.get("status", ""))
    if status not in STATUSES:
        raise AdminRefused(N_("Statut inconnu."), status=400)
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        changed = await _handoff(request).change_status(
            tx, lead.id, status, changed_by=viewer.email, now=utcnow()
        )
        if changed:
            await audit(tx, viewer, "change_status", lead_id=lead.id, detail=status)
    return see_other(f"/admin/leads/{lead.id}?done=status")


@router.post("/leads/{lead_id}/release")
async def release(request: Request, viewer: Staff, lead_id: str) -> Response:
    """A lead held by its address's lead limit, found genuine: it goes out as a new lead."""
    await checked_form(request, viewer)
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        if await _handoff(request).release(tx, lead.id, now=utcnow()):
            await audit(tx, viewer, "release", lead_id=lead.id)
    return see_other(f"/admin/leads/{lead.id}?done=released")


@router.post("/leads/{lead_id}/notes")
async def note(request: Request, viewer: Staff, lead_id: str) -> Response:
    form = await checked_form(request, viewer)
    body = str(form.get("body", "")).strip()
    if not body:
        raise AdminRefused(N_("La note est vide."), status=400)
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        await add_note(tx, lead.id, viewer.email, body, utcnow())
        await audit(tx, viewer, "add_note", lead_id=lead.id)
    return see_other(f"/admin/leads/{lead.id}?done=note")


@router.post("/leads/{lead_id}/assign")
async def assign_lead(request: Request, viewer: Staff, lead_id: str) -> Response:
    form = await checked_form(request, viewer)
    user_id = str(form.get("user", "")) or None
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        followers = {user.id for user in await who_may_follow(tx, lead)}
        if user_id is not None and user_id not in followers:
            raise AdminRefused(N_("Ce compte ne suit pas ce site."), status=400)
        await assign(tx, lead.id, user_id, utcnow())
        await audit(tx, viewer, "assign", lead_id=lead.id, detail=user_id or "nobody")
    return see_other(f"/admin/leads/{lead.id}?done=assigned")


@router.post("/leads/{lead_id}/site")
async def set_lead_site(request: Request, viewer: Staff, lead_id: str) -> Response:
    """Give a lead its site (mostly one that had none), so that its site's team follows it."""
    form = await checked_form(request, viewer)
    site = str(form.get("site", ""))
    async with database_of(request).transaction() as tx:
        # Out of scope is 404 whatever the form holds: nothing is told about the lead.
        lead = await _lead_in_scope(tx, viewer, lead_id)
        if site not in {s.id for s in default_catalogue().sites}:
            raise AdminRefused(N_("Site inconnu."), status=400)
        changed = await _handoff(request).change_site(tx, lead.id, site, now=utcnow())
        if changed is None:
            return see_other(f"/admin/leads/{lead.id}?done=site")
        await audit(tx, viewer, "set_site", lead_id=lead.id, detail=site)
        # Someone who does not follow the new site cannot keep the lead.
        assigned = (await followup_of(tx, lead.id)).assigned_to
        if assigned is not None and assigned not in {
            u.id for u in await who_may_follow(tx, changed)
        }:
            await assign(tx, lead.id, None, utcnow())
            await audit(tx, viewer, "assign", lead_id=lead.id, detail="nobody")
    if scope_of(viewer).allows(changed):
        return see_other(f"/admin/leads/{lead.id}?done=site")
    # Given to another site's team: no longer this counsellor's to see.
    return see_other("/admin/leads?done=site_moved")


@router.post("/leads/{lead_id}/reply")
async def reply(request: Request, viewer: Staff, lead_id: str) -> Response:
    form = await checked_form(request, viewer)
    body = str(form.get("body", "")).strip()
    if not body:
        raise AdminRefused(N_("Le message est vide."), status=400)
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        try:
            sent = await send_staff_message(
                tx,
                _conversations(request).writers,
                lead.id,
                author=viewer.email,
                body=body,
                now=utcnow(),
            )
        except NoConversation:
            raise AdminRefused(
                N_("La conversation n'existe plus : contactez la personne directement."), status=409
            ) from None
        await audit(tx, viewer, "reply", lead_id=lead.id)
    return see_other(f"/admin/leads/{lead.id}?done={'sent' if sent.reached else 'phone_only'}")


@router.post("/leads/{lead_id}/hand-back")
async def give_back(request: Request, viewer: Staff, lead_id: str) -> Response:
    await checked_form(request, viewer)
    service = _conversations(request)
    async with database_of(request).transaction() as tx:
        lead = await _lead_in_scope(tx, viewer, lead_id)
        try:
            await hand_back(tx, service, lead.id, now=utcnow())
        except NoConversation:
            raise AdminRefused(N_("La conversation n'existe plus."), status=409) from None
        await audit(tx, viewer, "hand_back", lead_id=lead.id)
    return see_other(f"/admin/leads/{lead.id}?done=handed_back")

"""Information sessions and appointment slots: counsellors open, move and cancel them, see who
booked, and mark who came.

Admins see every site's sessions, counsellors their own sites' only: another site's session
is answered 404, as an unknown one is. The changes go through the Appointments service, which
tells the booked people on their channel; each is written to the audit log afterwards.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.appointments import bookings
from bot.appointments.queries import booked_people, session_within, sessions_page
from bot.appointments.service import Appointments
from bot.appointments.sessions import (
    MAX_CAPACITY,
    MAX_DURATION_MINUTES,
    SessionProblem,
    SessionRecord,
)
from bot.conversations.service import ConversationService
from bot.settings import Settings
from flows.catalogue import PROGRAMME_IDS, default_catalogue
from flows.i18n import N_, Language, text
from webhook.admin.auth import Viewer, audit, clock_of
from webhook.admin.common import (
    STAFF,
    AdminRefused,
    allow,
    checked_form,
    database_of,
    language_of,
    render,
    see_other,
)
from webhook.admin.session_form import (
    SessionForm,
    add_problem,
    field_error,
    form_text,
    read_session_form,
    read_start,
)

router = APIRouter(prefix="/admin", include_in_schema=False)
Staff = Annotated[Viewer, Depends(allow(*STAFF))]

UNKNOWN = N_("Cette séance n'existe pas.")
# What a change says once done (?done=key): keys only, so that no link puts words on a page.
DONE = {
    "opened": N_("Séance ouverte : elle est proposée dans les conversations."),
    "moved": N_("Séance déplacée."),
    "cancelled": N_("Séance annulée."),
    "attended": N_("Présence enregistrée."),
    "missed": N_(
        "Absence enregistrée : la personne reçoit un message qui lui propose une autre date"
        " (si elle est joignable sur sa messagerie ou par SMS)."
    ),
}
BOOKING_STATUSES = {
    bookings.BOOKED: N_("Inscrit"),
    bookings.CANCELLED: N_("Annulé"),
    bookings.ATTENDED: N_("Présent"),
    bookings.MISSED: N_("Absent"),
}
MARKABLE = (bookings.BOOKED, bookings.ATTENDED, bookings.MISSED)


def _appointments(request: Request) -> Appointments:
    service: ConversationService = request.app.state.conversations
    return service.appointments


def _sites_of(viewer: Viewer) -> tuple[str, ...] | None:
    """The sites whose sessions the account manages; None: all of them (admins)."""
    return viewer.user.sites if viewer.role == "counsellor" else None


def _site_choices(viewer: Viewer) -> list[tuple[str, str]]:
    allowed = _sites_of(viewer)
    return [
        (site.id, site.name)
        for site in default_catalogue().sites
        if allowed is None or site.id in allowed
    ]


def _flash(request: Request) -> str | None:
    done = request.query_params.get("done", "")
    return DONE.get(done)


def _count(request: Request, name: str) -> int | None:
    """A count a redirect carried (how many people were told): digits only, else nothing."""
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and len(value) < 6 else None


def _sms_off(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.sms_api_key is None


def _programme_names(language: Language) -> dict[str, str]:
    return {p: text(f"programme.{p}", language) for p in PROGRAMME_IDS}


def _site_names() -> dict[str, str]:
    return {site.id: site.name for site in default_catalogue().sites}


async def _list_page(
    request: Request,
    viewer: Viewer,
    *,
    form: SessionForm | None = None,
    move_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    now = clock_of(request)()
    async with database_of(request).reading() as tx:
        page = await sessions_page(tx, now=now, sites=_sites_of(viewer))
    return render(
        request,
        "admin/sessions.html",
        viewer,
        status_code=status_code,
        page=page,
        form=form or SessionForm(values={"duration": "60"}),
        move_errors=move_errors or {},
        sites=_site_choices(viewer),
        site_names=_site_names(),
        programmes=_programme_names(language),
        sms_off=_sms_off(request),
        flash=_flash(request),
        told=_count(request, "told"),
        booked=_count(request, "of"),
        max_capacity=MAX_CAPACITY,
        max_duration=MAX_DURATION_MINUTES,
    )


@router.get("/sessions")
async def list_sessions_page(request: Request, viewer: Staff) -> Response:
    return await _list_page(request, viewer)


@router.post("/sessions")
async def open_session(request: Request, viewer: Staff) -> Response:
    posted = await checked_form(request, viewer)
    language = language_of(request)
    appointments = _appointments(request)
    sites = [site_id for site_id, _ in _site_choices(viewer)]
    form, new = read_session_form(posted, sites=sites, language=language, now=appointments.clock())
    if new is not None:
        try:
            session = await appointments.open_session(new, by=viewer.email)
        except SessionProblem as problems:
            for problem in str(problems).split("; "):
                add_problem(form, problem, language)
        else:
            async with database_of(request).transaction() as tx:
                await audit(tx, viewer, "open_session", detail=session.id)
            return see_other(f"/admin/sessions/{session.id}?done=opened")
    return await _list_page(request, viewer, form=form, status_code=400)


async def _session_in_scope(request: Request, viewer: Viewer, session_id: str) -> SessionRecord:
    async with database_of(request).transaction() as tx:
        found = await session_within(tx, session_id, sites=_sites_of(viewer))
    return _in_scope(found)


def _in_scope(found: SessionRecord | None) -> SessionRecord:
    if found is None:
        # Another site's session is not theirs to know of either.
        raise AdminRefused(UNKNOWN, status=404)
    return found


@router.get("/sessions/{session_id}")
async def session_page(request: Request, viewer: Staff, session_id: str) -> Response:
    # One snapshot: the session and its people as they were together.
    async with database_of(request).reading() as tx:
        session = _in_scope(await session_within(tx, session_id, sites=_sites_of(viewer)))
        people = await booked_people(tx, session.id)
    async with database_of(request).transaction() as tx:
        await audit(tx, viewer, "view_session", detail=session.id)
    language = language_of(request)
    return render(
        request,
        "admin/session.html",
        viewer,
        session=session,
        people=people,
        # Attendance is marked once the session has begun: not before anyone could come.
        started=session.starts_at <= clock_of(request)(),
        markable=MARKABLE,
        statuses=BOOKING_STATUSES,
        channel_name=lambda channel: text(f"channel.{channel}", language),
        site_names=_site_names(),
        programmes=_programme_names(language),
        sms_off=_sms_off(request),
        flash=_flash(request),
        told=_count(request, "told"),
        booked=_count(request, "of"),
    )


@router.post("/sessions/{session_id}/cancel")
async def cancel_session(request: Request, viewer: Staff, session_id: str) -> Response:
    """Asks first (how many will be told), then cancels once confirmed."""
    posted = await checked_form(request, viewer)
    session = await _session_in_scope(request, viewer, session_id)
    if session.status != "open":
        raise AdminRefused(N_("Cette séance est déjà annulée."), status=409)
    if posted.get("confirm") != "yes":
        return render(
            request,
            "admin/session_cancel.html",
            viewer,
            session=session,
            site_names=_site_names(),
            programmes=_programme_names(language_of(request)),
        )
    told = await _appointments(request).cancel_session(session.id, by=viewer.email)
    if told is None:  # cancelled meanwhile, by someone else
        raise AdminRefused(N_("Cette séance est déjà annulée."), status=409)
    async with database_of(request).transaction() as tx:
        await audit(tx, viewer, "cancel_session", detail=f"{session.id} told {told}")
    return see_other(f"/admin/sessions?done=cancelled&told={told}&of={session.seats_taken}")


@router.post("/sessions/{session_id}/move")
async def move_session(request: Request, viewer: Staff, session_id: str) -> Response:
    posted = await checked_form(request, viewer)
    session = await _session_in_scope(request, viewer, session_id)
    if session.status != "open":
        raise AdminRefused(N_("Cette séance est annulée : elle ne peut plus être déplacée."), 409)
    language = language_of(request)
    errors: dict[str, str] = {}
    appointments = _appointments(request)
    starts_at = read_start(form_text(posted, "date"), form_text(posted, "time"), errors, language)
    if starts_at is not None and starts_at <= appointments.clock():
        errors["date"] = field_error("start", language)
    if starts_at is None or errors:
        return await _list_page(
            request, viewer, move_errors={session.id: " ".join(errors.values())}, status_code=400
        )
    try:
        told = await appointments.move_session(session.id, starts_at, by=viewer.email)
    except SessionProblem:
        return await _list_page(
            request,
            viewer,
            move_errors={session.id: field_error("start", language)},
            status_code=400,
        )
    if told is None:
        raise AdminRefused(N_("Cette séance est annulée : elle ne peut plus être déplacée."), 409)
    async with database_of(request).transaction() as tx:
        await audit(tx, viewer, "move_session", detail=f"{session.id} to {starts_at.isoformat()}")
    return see_other(
        f"/admin/sessions/{session.id}?done=moved&told={told}&of={session.seats_taken}"
    )


@router.post("/sessions/{session_id}/bookings/{booking_id}/attendance")
async def mark_attendance(
    request: Request, viewer: Staff, session_id: str, booking_id: str
) -> Response:
    posted = await checked_form(request, viewer)
    session = await _session_in_scope(request, viewer, session_id)
    attended = posted.get("attended")
    if attended not in ("yes", "no"):
        raise AdminRefused(N_("Présent ou absent ?"), status=400)
    async with database_of(request).transaction() as tx:
        booking = await bookings.get_booking(tx, booking_id[:64])
    if booking is None or booking.session_id != session.id:
        raise AdminRefused(N_("Cette réservation n'existe pas."), status=404)
    if session.starts_at > clock_of(request)():
        raise AdminRefused(
            N_("La séance n'a pas encore commencé : la présence se note une fois qu'elle a lieu."),
            status=409,
        )
    wanted = bookings.ATTENDED if attended == "yes" else bookings.MISSED
    done = "attended" if attended == "yes" else "missed"
    if booking.status == wanted:  # marked already (a second click): nothing is sent again
        return see_other(f"/admin/sessions/{session.id}?done={done}")
    if booking.status not in MARKABLE:
        raise AdminRefused(N_("Cette réservation a été annulée : rien à noter."), status=409)
    marked = await _appointments(request).mark_attendance(
        booking.id, attended == "yes", by=viewer.email
    )
    if marked is None:  # cancelled meanwhile
        raise AdminRefused(N_("Cette réservation a été annulée : rien à noter."), status=409)
    async with database_of(request).transaction() as tx:
        await audit(
            tx, viewer, "mark_attendance", lead_id=marked.lead_id, detail=f"{marked.id} {wanted}"
        )
    return see_other(f"/admin/sessions/{session.id}?done={done}")

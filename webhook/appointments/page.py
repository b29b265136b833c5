"""``GET`` and ``POST /rdv/{token}``: a booking's page, opened from the link in an SMS.

It says when and where the appointment is and offers "J'y serai" and "Je ne peux plus venir"
(and no more SMS). Opening the link changes nothing (phones and mail scanners open links by
themselves); only the page's own form, posted with the field derived from the token, acts.
Whatever is wrong with a link (forged, expired, its booking erased) gets the same kind page
with a 404; the page names nobody and holds nothing but the appointment.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from bot.appointments.bookings import BOOKED, BY_PERSON, BookingRecord, get_booking
from bot.appointments.links import csrf_field, read_token, valid_csrf
from bot.appointments.sessions import get_session
from bot.channels.sms.queue import stop_sms
from bot.limits import retry_after_header
from bot.settings import Settings
from bot.signing_key import SigningKey
from bot.storage.database import Database
from flows.catalogue import default_catalogue
from flows.i18n import Language, parse_language, text
from flows.offers import spoken_datetime
from webhook.appointments.limits import LinkLimits
from webhook.deps import LanguageDep
from webhook.web import templates

router = APIRouter(tags=["appointments"], include_in_schema=False)
ACTIONS = ("confirm", "cancel", "stop_sms")
# The page's own style, inline, allowed by its hash alone.
STYLE = "\n".join(
    (
        "body{margin:0;background:#f3f5f6;color:#1b1f22;"
        'font:1.05rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}',
        "main{max-width:32rem;margin:0 auto;padding:1.25rem 1rem 2rem}",
        "h1{font-size:1.4rem;margin:0 0 1rem;color:#083f49}",
        "dl{margin:0 0 1.25rem;padding:1rem;background:#fff;border:1px solid #d5dbdf;"
        "border-radius:.75rem}",
        "dt{font-weight:700;margin-top:.5rem}dt:first-child{margin-top:0}dd{margin:0}",
        "form{display:flex;flex-direction:column;gap:.75rem;margin-bottom:1rem}",
        "button{font:inherit;min-height:3rem;padding:.6rem 1rem;border-radius:1.5rem;"
        "border:2px solid #0b5563;background:#fff;color:#083f49;font-weight:700;cursor:pointer}",
        "button.primary{background:#0b5563;color:#fff}",
        "button.quiet{border-color:transparent;background:transparent;"
        "text-decoration:underline;font-weight:400}",
        ":focus-visible{outline:3px solid #b36b00;outline-offset:2px}",
        ".outcome{padding:1rem;border-radius:.75rem;background:#e3f1f3;border:1px solid #0b5563}",
        "a{color:#083f49}",
    )
)
_STYLE_HASH = b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # The address holds the token: never sent on to another site, never kept by a cache.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}


class BookingActions(Protocol):
    """What the page asks of the appointments service (bot/appointments/service.py)."""

    async def confirm(self, booking_id: str, *, by: str) -> BookingRecord | None: ...

    async def cancel_booking(self, booking_id: str, *, by: str) -> BookingRecord | None: ...


@dataclass(frozen=True)
class Appointment:
    """What the page shows of a booking."""

    booking: BookingRecord
    when: str
    site: str
    place: str | None
    video_url: str | None

    @property
    def language(self) -> Language:
        return parse_language(self.booking.language)

    @property
    def video_link(self) -> str | None:
        """The video link, if it is a web address (never a script's)."""
        url = self.video_url
        return url if url and url.startswith(("https://", "http://")) else None


def mount_appointment_links(app: FastAPI, settings: Settings) -> None:
    """Serve the links' page, with its own limit per address."""
    app.state.appointment_link_limits = LinkLimits.from_settings(settings)
    app.include_router(router)


@router.get("/rdv/{token}", response_class=HTMLResponse)
async def appointment_page(request: Request, token: str, language: LanguageDep) -> HTMLResponse:
    """The appointment, and the buttons to answer it (opening it changes nothing)."""
    refused = _limited(request, language)
    if refused is not None:
        return refused
    appointment = await _appointment(request, token)
    if appointment is None:
        return _invalid(request, language)
    return _page(request, appointment, token)


@router.post("/rdv/{token}", response_class=HTMLResponse)
async def answer_appointment(request: Request, token: str, language: LanguageDep) -> HTMLResponse:
    """ "J'y serai", "Je ne peux plus venir", or no more SMS."""
    refused = _limited(request, language)
    if refused is not None:
        return refused
    appointment = await _appointment(request, token)
    if appointment is None:
        return _invalid(request, language)
    form = await request.form()
    action, given = form.get("action"), form.get("csrf")
    language = appointment.language
    if not valid_csrf(token, given if isinstance(given, str) else None, _key(request)):
        return _message(request, language, "appointment.form_expired", status=403)
    if action not in ACTIONS:
        return _message(request, language, "appointment.form_expired", status=400)
    booking_id = appointment.booking.id
    if action == "stop_sms":
        await _stop_sms(request, appointment.booking)
        return _page(request, appointment, token, outcome="appointment.sms_stopped")
    actions = _actions(request)
    if actions is None:
        return _message(request, language, "appointment.unavailable", status=503)
    if action == "confirm":
        done = await actions.confirm(booking_id, by=BY_PERSON)
        outcome = "appointment.confirmed"
    else:
        done = await actions.cancel_booking(booking_id, by=BY_PERSON)
        outcome = "appointment.cancelled"
    if done is None:
        outcome = "appointment.not_active"
    refreshed = await _appointment(request, token)
    return _page(request, refreshed or appointment, token, outcome=outcome)


async def _appointment(request: Request, token: str) -> Appointment | None:
    """The booking a genuine, unexpired token names, with its session; None otherwise."""
    now: datetime = request.app.state.clock()
    booking_id = read_token(token, _key(request), now=now)
    if booking_id is None:
        return None
    database: Database = request.app.state.database
    async with database.transaction() as tx:
        booking = await get_booking(tx, booking_id)
        session = await get_session(tx, booking.session_id) if booking else None
    if booking is None or session is None:
        return None
    language = parse_language(booking.language)
    sites = {site.id: site.name for site in default_catalogue().sites}
    return Appointment(
        booking=booking,
        when=spoken_datetime(session.starts_at, language),
        site=sites.get(session.site, session.site),
        place=session.place,
        video_url=session.video_url,
    )


async def _stop_sms(request: Request, booking: BookingRecord) -> None:
    if booking.sms_phone is None:
        return
    database: Database = request.app.state.database
    async with database.transaction() as tx:
        await stop_sms(tx, booking.sms_phone, now=request.app.state.clock())


def _actions(request: Request) -> BookingActions | None:
    """The appointments service: the services' own, else the conversations' one."""
    state = request.app.state
    actions: BookingActions | None = getattr(state, "appointments", None)
    if actions is None:
        conversations = getattr(state, "conversations", None)
        actions = getattr(conversations, "appointments", None)
    return actions


def _key(request: Request) -> bytes:
    key: SigningKey = request.app.state.signing_key
    return key.value.get_secret_value().encode("utf-8")


def _limited(request: Request, language: Language) -> HTMLResponse | None:
    limits: LinkLimits = request.app.state.appointment_link_limits
    wait = limits.wait(request)
    if not wait:
        return None
    response = _message(request, language, "appointment.too_many", status=429)
    response.headers["Retry-After"] = retry_after_header(wait)
    return response


def _invalid(request: Request, language: Language) -> HTMLResponse:
    return _message(
        request, language, "appointment.link_invalid", status=404, title="appointment.link_dead"
    )


def _message(
    request: Request,
    language: Language,
    message_id: str,
    *,
    status: int,
    title: str = "appointment.title",
) -> HTMLResponse:
    """A page that only says something (a dead link, too many tries)."""
    return _render(
        request,
        language,
        status,
        title=text(title, language),
        outcome=text(message_id, language),
    )


def _page(
    request: Request, appointment: Appointment, token: str, *, outcome: str | None = None
) -> HTMLResponse:
    language = appointment.language
    booking = appointment.booking
    active = booking.status == BOOKED
    return _render(
        request,
        language,
        200,
        title=text("appointment.title", language),
        outcome=text(outcome, language) if outcome else None,
        appointment=appointment,
        # Answers only while the booking holds a seat; a cancelled one shows it is.
        active=active,
        state=None if active or outcome else text("appointment.not_active", language),
        confirmed=booking.confirmed_at is not None,
        sms=booking.sms_phone is not None,
        csrf=csrf_field(token, _key(request)),
    )


def _render(
    request: Request,
    language: Language,
    status: int,
    *,
    title: str,
    outcome: str | None = None,
    appointment: Appointment | None = None,
    active: bool = False,
    state: str | None = None,
    confirmed: bool = False,
    sms: bool = False,
    csrf: str = "",
) -> HTMLResponse:
    def label(message_id: str) -> str:
        return text(message_id, language)

    return templates.TemplateResponse(
        request,
        "appointment.html",
        {
            "language": language,
            "style": STYLE,
            "title": title,
            "outcome": outcome,
            "appointment": appointment,
            "active": active,
            "state": state,
            "confirmed": confirmed,
            "sms": sms,
            "csrf": csrf,
            "chat_url": str(request.scope.get("root_path", "")).rstrip("/") + "/",
            "label": label,
        },
        status_code=status,
        headers=HEADERS,
    )

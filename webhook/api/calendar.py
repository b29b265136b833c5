"""``GET /api/chat/calendar/{token}.ics``: a web chat booking's calendar file, to download.

The web chat cannot send a document as the messengers do: its confirmation links here. The
token is a signed, expiring link to one booking (bot/appointments/links.py, the SMS links'
tokens), so the address opens the file without a session and names nobody; anything wrong
with it gets a 404 saying what, as JSON, like the rest of /api/chat.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response

from bot.appointments import bookings
from bot.appointments.calendar_file import CALENDAR_PATH, FILENAME, appointment_calendar
from bot.appointments.links import read_token
from bot.appointments.sessions import CANCELLED, get_session
from bot.signing_key import SigningKey
from bot.storage.database import Database
from flows.i18n import parse_language
from webhook.rate_limits import ClientAddressDep

router = APIRouter(tags=["web chat"])
INVALID_LINK = "token: unknown, expired or forged calendar link"
NO_BOOKING = "booking: no longer exists"
BOOKING_CANCELLED = "booking: cancelled, the seat was given back"
SESSION_CANCELLED = "session: cancelled by PôleS"
HEADERS = {
    "Content-Disposition": f'attachment; filename="{FILENAME}"',
    # The address holds the token: never passed on to another site nor kept by a cache (a
    # session moved since gives a new file at the same address).
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


@router.get(
    CALENDAR_PATH + "{token}.ics",
    summary="Download a booking's calendar file",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The .ics file"},
        404: {"description": "The link is unknown, expired or forged, or the booking ended"},
        429: {"description": "Too many requests from this address"},
    },
)
async def calendar_download(token: str, request: Request, address: ClientAddressDep) -> Response:
    """The booking's session as an ``.ics`` file, in the language the person booked in."""
    now: datetime = request.app.state.clock()
    booking_id = read_token(token, _key(request), now=now)
    if booking_id is None:
        raise HTTPException(404, detail=INVALID_LINK)
    database: Database = request.app.state.database
    async with database.transaction() as tx:
        booking = await bookings.get_booking(tx, booking_id)
        session = await get_session(tx, booking.session_id) if booking else None
    if booking is None or session is None:
        raise HTTPException(404, detail=NO_BOOKING)
    if booking.status == bookings.CANCELLED:
        raise HTTPException(404, detail=BOOKING_CANCELLED)
    if session.status == CANCELLED:
        raise HTTPException(404, detail=SESSION_CANCELLED)
    content = appointment_calendar(
        session,
        programme=booking.programme,
        language=parse_language(booking.language),
        booking_id=booking.id,
    )
    return Response(content, media_type="text/calendar; charset=utf-8", headers=HEADERS)


def _key(request: Request) -> bytes:
    key: SigningKey = request.app.state.signing_key
    return key.value.get_secret_value().encode("utf-8")

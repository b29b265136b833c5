"""The referral codes: what each brought, their links, QR codes and a poster to print."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.channels.telegram.runtime import TelegramRuntime
from bot.partners.codes import is_referral_code
from bot.partners.embedding import embed_snippet
from bot.partners.referral_links import Channel, ReferralLinks, referral_links
from bot.partners.referrers import Referrer, get_referrer, referrer_stats
from bot.partners.whatsapp_link import whatsapp_code_phrase
from bot.settings import Settings
from flows.i18n import N_
from webhook.admin.auth import Viewer
from webhook.admin.common import STAFF, AdminRefused, allow, database_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)
Staff = Annotated[Viewer, Depends(allow(*STAFF))]

COUNTS = ("conversations", "completions", "leads", "bookings", "attendances", "enrolments")
# A module is 10 units in the SVG, which scales with its viewBox; 20 pixels in the PNG, about
# 700 pixels across: sharp on a printed A4 page.
SVG_SCALE = 10
PNG_SCALE = 20
QUIET_ZONE = 4
# Refusals: French texts for the catalogues, translated where shown (admin/refused.html).
UNKNOWN = N_("Ce code partenaire n'est pas enregistré.")
NOT_OFFERED = N_("Ce code n'a pas de lien sur cette messagerie.")
# Where a code's links are listed (admin/referrers.html), each introduced by its channel.
LINK_LABELS: dict[Channel, str] = {
    "telegram": N_("Telegram :"),
    "web": N_("Web :"),
    "whatsapp": N_("WhatsApp :"),
}
# The poster's QR codes, in this order, each captioned. All three fit an A4 page (at 54 mm,
# webhook/static/poster.css); were one to go, WhatsApp would stay first, then the web chat,
# which any phone opens.
POSTER_ORDER: tuple[Channel, ...] = ("whatsapp", "telegram", "web")
POSTER_CAPTIONS: dict[Channel, str] = {
    "whatsapp": N_("WhatsApp"),
    "telegram": N_("Telegram"),
    "web": N_("Dans le navigateur"),
}


def bot_username(request: Request) -> str | None:
    """The bot's @name: from the settings, else as the running bot learnt it from Telegram."""
    settings: Settings = request.app.state.settings
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    telegram: TelegramRuntime | None = request.app.state.telegram
    if telegram is None:
        return None
    try:
        username: str | None = telegram.bot.username
    except RuntimeError:  # the bot was not initialised: Telegram could not be reached
        return None
    return username


def links_of(request: Request, code: str) -> ReferralLinks:
    """The code's links; Telegram's only when the bot's name is known.

    Without ``AIGUILLAGE_PUBLIC_URL`` the web chat's link is on the address this page was
    asked on: a plain ``make run`` still gets links, QR codes and posters.
    """
    settings: Settings = request.app.state.settings
    return referral_links(settings, bot_username(request), code, served_at=str(request.base_url))


def snippet_of(request: Request, code: str) -> str:
    """The line a partner pastes into its site to show the chat with its code: on the public
    address, else (as the links) on the address this page was asked on."""
    settings: Settings = request.app.state.settings
    return embed_snippet(settings.public_url or str(request.base_url), code)


def shown(channel: Channel, link: str) -> str:
    """A link as printed for people to type: without its scheme; WhatsApp's without the
    prefilled text, which nobody types (the poster spells the code out beside it)."""
    if channel == "whatsapp":
        link = link.split("?", 1)[0]
    return link.split("://", 1)[-1]


async def _registered(request: Request, code: str) -> Referrer:
    if not is_referral_code(code):
        raise AdminRefused(UNKNOWN, status=404)
    async with database_of(request).reading() as tx:
        referrer = await get_referrer(tx, code)
    if referrer is None:
        raise AdminRefused(UNKNOWN, status=404)
    return referrer


def _target(links: ReferralLinks, channel: str | None) -> str:
    """What a QR code opens: the channel's link; without a channel, as before WhatsApp came
    (QR codes already printed or bookmarked), Telegram's, else the web chat's."""
    target = links.of(channel) if channel else links.telegram or links.web_chat
    if target is None:
        raise AdminRefused(NOT_OFFERED, status=404)
    return target


async def _qr(request: Request, code: str, channel: str | None) -> tuple[str, segno.QRCode]:
    """The file name and QR code of a code's link on a channel."""
    referrer = await _registered(request, code)
    target = _target(links_of(request, referrer.code), channel)
    name = f"qr-{referrer.code}-{channel}" if channel else f"qr-{referrer.code}"
    # Always a full QR code (phones' cameras do not read Micro QR), level M or better.
    return name, segno.make_qr(target, error="m")


@router.get("/referrers")
async def referrers_page(request: Request, viewer: Staff) -> Response:
    # Counted over every conversation and lead: off the event loop on SQLite (a reading).
    async with database_of(request).reading() as tx:
        stats = await referrer_stats(tx)
    settings: Settings = request.app.state.settings
    rows: list[dict[str, Any]] = []
    for item in stats:
        offered: dict[Channel, str] = {}
        snippet: str | None = None
        # Links for registered codes only (and well-formed ones: nothing checks the table).
        if item.referrer is not None and item.code is not None and is_referral_code(item.code):
            offered = links_of(request, item.code).by_channel()
            snippet = snippet_of(request, item.code)
        rows.append({"stats": item, "links": offered, "snippet": snippet})
    return render(
        request,
        "admin/referrers.html",
        viewer,
        rows=rows,
        link_labels=LINK_LABELS,
        totals={name: sum(getattr(item, name) for item in stats) for name in COUNTS},
        retention_days=settings.retention_conversation_days,
        knows_bot=bot_username(request) is not None,
        # The channel is on but people cannot be sent to it: the operator should know why.
        whatsapp_without_number=settings.whatsapp_enabled and not settings.whatsapp_number,
        # Links then rest on the address this page was asked on: the operator should know.
        links_from_request=settings.public_url is None,
        served_at=str(request.base_url).rstrip("/"),
    )


@router.get("/referrers/{code}/qr.svg")
async def qr_svg(
    request: Request, viewer: Staff, code: str, channel: str | None = None
) -> Response:
    name, qr = await _qr(request, code, channel)
    out = io.BytesIO()
    # A viewBox and no width or height: the image takes whatever size it is given.
    qr.save(
        out,
        kind="svg",
        scale=SVG_SCALE,
        border=QUIET_ZONE,
        xmldecl=False,
        omitsize=True,
        light="#fff",
    )
    return Response(
        out.getvalue(),
        media_type="image/svg+xml",
        headers={"content-disposition": f'inline; filename="{name}.svg"'},
    )


@router.get("/referrers/{code}/qr.png")
async def qr_png(
    request: Request, viewer: Staff, code: str, channel: str | None = None
) -> Response:
    name, qr = await _qr(request, code, channel)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=PNG_SCALE, border=QUIET_ZONE)
    return Response(
        out.getvalue(),
        media_type="image/png",
        headers={"content-disposition": f'inline; filename="{name}.png"'},
    )


@router.get("/referrers/{code}/poster")
async def poster(request: Request, viewer: Staff, code: str) -> Response:
    referrer = await _registered(request, code)
    offered = links_of(request, referrer.code).by_channel()
    codes = [
        {
            "channel": channel,
            "caption": POSTER_CAPTIONS[channel],
            "link": offered[channel],
            "shown": shown(channel, offered[channel]),
        }
        for channel in POSTER_ORDER
        if channel in offered
    ]
    return render(
        request,
        "admin/poster.html",
        viewer,
        referrer=referrer,
        codes=codes,
        whatsapp_phrase=whatsapp_code_phrase(referrer.code),
    )

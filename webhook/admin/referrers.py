"""The referral codes: what each brought, their links, QR codes and a poster to print."""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.channels.telegram.runtime import TelegramRuntime
from bot.partners.codes import is_referral_code
from bot.partners.referral_links import links
from bot.partners.referrers import Referrer, get_referrer, referrer_stats
from bot.settings import Settings
from flows.i18n import N_
from webhook.admin.auth import Viewer
from webhook.admin.common import STAFF, AdminRefused, allow, database_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)
Staff = Annotated[Viewer, Depends(allow(*STAFF))]

COUNTS = ("conversations", "completions", "leads", "enrolments")
# A module is 10 units in the SVG, which scales with its viewBox; 20 pixels in the PNG, about
# 700 pixels across: sharp on a printed A4 page.
SVG_SCALE = 10
PNG_SCALE = 20
QUIET_ZONE = 4
# Refusals: French texts for the catalogues, translated where shown (admin/refused.html).
UNKNOWN = N_("Ce code partenaire n'est pas enregistré.")


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


def deep_links(request: Request, code: str) -> tuple[str | None, str]:
    """The code's Telegram link (None when the bot's name is unknown) and web chat link.

    Without ``AIGUILLAGE_PUBLIC_URL`` the web chat's link is on the address this page was
    asked on: a plain ``make run`` still gets links, QR codes and posters.
    """
    username = bot_username(request)
    found = links(request.app.state.settings, username, code, served_at=str(request.base_url))
    telegram = found.pop(0) if username else None
    return telegram, found[0]


def shown(link: str | None) -> str | None:
    """A link as printed for people to type: without its scheme."""
    return link.split("://", 1)[-1] if link else None


async def _registered(request: Request, code: str) -> Referrer:
    if not is_referral_code(code):
        raise AdminRefused(UNKNOWN, status=404)
    async with database_of(request).transaction() as tx:
        referrer = await get_referrer(tx, code)
    if referrer is None:
        raise AdminRefused(UNKNOWN, status=404)
    return referrer


def _target(request: Request, referrer: Referrer) -> str:
    """What the QR code opens: the Telegram link, else the web chat's."""
    telegram, web_chat = deep_links(request, referrer.code)
    return telegram or web_chat


async def _qr(request: Request, code: str) -> tuple[Referrer, segno.QRCode]:
    referrer = await _registered(request, code)
    # Always a full QR code (phones' cameras do not read Micro QR), level M or better.
    return referrer, segno.make_qr(_target(request, referrer), error="m")


@router.get("/referrers")
async def referrers_page(request: Request, viewer: Staff) -> Response:
    async with database_of(request).transaction() as tx:
        stats = await referrer_stats(tx)
    settings: Settings = request.app.state.settings
    rows: list[dict[str, Any]] = []
    for item in stats:
        telegram = web_chat = None
        # Links for registered codes only (and well-formed ones: nothing checks the table).
        if item.referrer is not None and item.code is not None and is_referral_code(item.code):
            telegram, web_chat = deep_links(request, item.code)
        rows.append({"stats": item, "telegram": telegram, "web_chat": web_chat})
    return render(
        request,
        "admin/referrers.html",
        viewer,
        rows=rows,
        totals={name: sum(getattr(item, name) for item in stats) for name in COUNTS},
        retention_days=settings.retention_conversation_days,
        knows_bot=bot_username(request) is not None,
        # Links then rest on the address this page was asked on: the operator should know.
        links_from_request=settings.public_url is None,
        served_at=str(request.base_url).rstrip("/"),
    )


@router.get("/referrers/{code}/qr.svg")
async def qr_svg(request: Request, viewer: Staff, code: str) -> Response:
    referrer, qr = await _qr(request, code)
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
        headers={"content-disposition": f'inline; filename="qr-{referrer.code}.svg"'},
    )


@router.get("/referrers/{code}/qr.png")
async def qr_png(request: Request, viewer: Staff, code: str) -> Response:
    referrer, qr = await _qr(request, code)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=PNG_SCALE, border=QUIET_ZONE)
    return Response(
        out.getvalue(),
        media_type="image/png",
        headers={"content-disposition": f'inline; filename="qr-{referrer.code}.png"'},
    )


@router.get("/referrers/{code}/poster")
async def poster(request: Request, viewer: Staff, code: str) -> Response:
    referrer = await _registered(request, code)
    target = _target(request, referrer)
    telegram, web_chat = deep_links(request, referrer.code)
    return render(
        request,
        "admin/poster.html",
        viewer,
        referrer=referrer,
        target=target,
        telegram=telegram,
        web_chat=web_chat,
        shown=shown,
    )

"""The web chat page at ``/``: one HTML page, its script and its style, talking to /api/chat."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from bot.partners.codes import is_referral_code
from flows.i18n import Language, gettext
from webhook.deps import LanguageDep, SettingsDep

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# The page loads nothing but its own files; a text that slipped past the script's escaping
# still could not run code or reach another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "object-src 'none'"
)
# The page's origin as embed.js reports it from a partner's page (``?origin=``): where the
# chat page may post its few messages (Escape pressed), nothing more.
PARENT_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")

router = APIRouter(tags=["web chat"])


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, french: str) -> str:
    # The language travels in the render context, so concurrent requests never share it.
    language: Language = context["language"]
    return gettext(french, language)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, count: int) -> str:
    # Catalogues hold no plural forms yet: French rules pick the form, then translate it.
    return _gettext(context, singular if count <= 1 else plural)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    return environment


templates = Jinja2Templates(env=_environment())


@cache
def asset_version(name: str) -> str:
    """A short digest of a static file, so that a new release is never served from cache."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


@router.get("/", response_class=HTMLResponse, summary="The web chat", include_in_schema=False)
async def chat_page(
    request: Request,
    language: LanguageDep,
    settings: SettingsDep,
    start: Annotated[str | None, Query(description="referral code of a partner")] = None,
    embed: Annotated[bool, Query(description="shown in a partner's page by /embed.js")] = False,
    origin: Annotated[str | None, Query(description="the partner page's origin")] = None,
) -> HTMLResponse:
    """The chat page in the visitor's language; ``?start=CODE`` is passed on to the first turn.

    ``?embed=1`` (from /embed.js): the page may be framed by the sites of
    ``AIGUILLAGE_EMBED_ORIGINS``, and tells the partner's page (``?origin=``) of Escape.
    """
    referral = start if start is not None and is_referral_code(start) else None
    base_path = str(request.scope.get("root_path", "")).rstrip("/")
    # Texts also quote chat commands such as /recommencer: only the site's own pages are links.
    site_pages = [settings.privacy_url] if settings.privacy_url.startswith("/") else []
    config = {
        "language": language,
        "start": referral,
        "api": f"{base_path}/api/chat",
        "pages": site_pages,
        # The page forgets a conversation left alone this long, as the server does.
        "idle_minutes": settings.web_session_idle_minutes,
    }
    policy = CONTENT_SECURITY_POLICY
    if embed:
        policy = policy.replace(
            "frame-ancestors 'none'", f"frame-ancestors {settings.embed_origins}"
        )
        if origin is not None and PARENT_ORIGIN.match(origin):
            config["embed_parent"] = origin
    response = templates.TemplateResponse(
        request,
        "chat.html",
        {
            "language": language,
            "other_language": "en" if language == "fr" else "fr",
            "base_path": base_path,
            "config": config,
            "asset_version": asset_version,
            # Inside a partner's page the footer's pages open in a tab of their own: they may
            # not be framed, and the conversation stays where it was.
            "new_tab": embed,
            # The notice the consent question names, wherever the operator put it.
            "privacy_url": (
                f"{base_path}{settings.privacy_url}?lang={language}"
                if settings.privacy_url.startswith("/")
                else settings.privacy_url
            ),
        },
        headers={
            "Content-Security-Policy": policy,
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
            # The page embeds the visitor's language and code; shared caches must not mix them.
            "Cache-Control": "no-store",
            "Vary": "Accept-Language",
        },
    )
    return response


def reading_page(
    request: Request, template: str, language: Language, **context: object
) -> HTMLResponse:
    """A page people read (``reading.html`` extended): in their language, with the chat's CSP."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "language": language,
            "base_path": str(request.scope.get("root_path", "")).rstrip("/"),
            "asset_version": asset_version,
            **context,
        },
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


def mount_static(app: FastAPI) -> None:
    """Serve ``webhook/static`` at ``/static`` (the chat's script, style and icon)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

"""What every admin page shares: access rules, CSRF, rendering, security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from bot.accounts.users import Role
from bot.clock import PARIS
from bot.leads.queries import Scope
from bot.storage.database import Database
from flows.i18n import N_, Language, parse_language
from webhook.admin.auth import Viewer, csrf_matches, current_viewer
from webhook.web import asset_version, templates

LANGUAGE_COOKIE = "aiguillage_admin_lang"
ROLES_ALL: tuple[Role, ...] = ("admin", "counsellor", "partner")
STAFF: tuple[Role, ...] = ("admin", "counsellor")
# No script at all, styles from the service only, no framing, forms to the service only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


# What an action says once done (?done=key after its redirect); a key, so that no link can put
# its own words on an admin page.
FLASH = {
    "status": N_("Statut enregistré."),
    "note": N_("Note ajoutée."),
    "assigned": N_("Attribution enregistrée."),
    "site": N_("Site enregistré."),
    "site_moved": N_("Site enregistré : l'équipe de ce site suit maintenant ce contact."),
    "sent": N_("Message envoyé."),
    "phone_only": N_(
        "Message gardé dans l'historique, mais pas envoyé : WhatsApp ne laisse écrire que dans"
        " les 24 heures qui suivent le dernier message de la personne (ou avec un modèle de"
        " message approuvé, non configuré ici). Pour l'instant, appelez-la."
    ),
    "handed_back": N_("L'assistant a repris la main."),
    "replayed": N_("Envoi relancé."),
    "purged": N_("Purge effectuée."),
    "released": N_("Demande transmise : outils et groupe des conseillers prévenus."),
}


class AdminRedirect(Exception):
    """Send the browser elsewhere (to sign in, mostly)."""

    def __init__(self, location: str) -> None:
        self.location = location


class AdminRefused(Exception):
    """The account may not do this: 403 with a reason (404 when even existence is private)."""

    def __init__(self, reason: str, status: int = 403) -> None:
        self.reason = reason
        self.status = status


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def language_of(request: Request) -> Language:
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return parse_language(chosen) if chosen in ("fr", "en") else "fr"


def allow(*roles: Role) -> Callable[[Request], Awaitable[Viewer]]:
    """A dependency: the signed-in account, if its role is one of these."""

    async def viewer(request: Request) -> Viewer:
        found = await current_viewer(request, database_of(request))
        if found is None:
            if request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise AdminRedirect(f"/admin/login?next={_quote(target)}")
            raise AdminRefused(N_("Session expirée : reconnectez-vous."))
        if found.role not in roles:
            raise AdminRefused(N_("Cette page n'est pas ouverte à votre compte."))
        return found

    return viewer


def _quote(path: str) -> str:
    return quote(path, safe="")


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The posted form, once its CSRF token is the session's."""
    form = await request.form()
    token = form.get("csrf_token")
    if not csrf_matches(viewer.csrf, token if isinstance(token, str) else None):
        raise AdminRefused(N_("Formulaire expiré ou venu d'ailleurs : rechargez la page."))
    return form


def scope_of(viewer: Viewer) -> Scope:
    if viewer.role == "counsellor":
        return Scope(sites=viewer.user.sites)
    if viewer.role == "partner":
        return Scope(referrers=viewer.user.referrers)
    return Scope()


def render(
    request: Request,
    name: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = language_of(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "language": language,
            "viewer": viewer,
            "paris": PARIS,
            "asset_version": asset_version,
            "flash": FLASH.get(request.query_params.get("done", "")),
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie(LANGUAGE_COOKIE, language, httponly=True, samesite="lax", path="/admin")
    return response


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.url.path.startswith("/admin"):
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
    return response

"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from bot.settings import Settings
from flows.i18n import Language, parse_language


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_language(
    lang: Annotated[Language | None, Query(description="fr (default) or en")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Language:
    """Explicit ``?lang=`` first, then the browser's Accept-Language, then French."""
    return lang or parse_language(accept_language)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if there is one."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.casefold() == "bearer" else None


SettingsDep = Annotated[Settings, Depends(get_settings)]
LanguageDep = Annotated[Language, Depends(get_language)]

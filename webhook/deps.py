"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from flows.i18n import Language, parse_language


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session_factory(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    return factory


async def get_session(
    factory: Annotated[async_sessionmaker[AsyncSession], Depends(get_session_factory)],
) -> AsyncIterator[AsyncSession]:
    async with factory() as session, session.begin():
        yield session


def get_language(
    lang: Annotated[Language | None, Query(description="fr (default) or en")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Language:
    """Explicit ``?lang=`` first, then the browser's Accept-Language, then French."""
    return lang or parse_language(accept_language)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_session_factory)]
LanguageDep = Annotated[Language, Depends(get_language)]

"""The admin view under test: the service, accounts of each role, a signed-in browser.

Accounts are hashed and checked by a cheap hasher, never Argon2 (a quarter of a second a
check). A test module may give its own ``clock`` (the service's time, e.g. a ManualClock) or
``hasher`` (e.g. one that holds its checks): the service and ``account`` then use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from bot.accounts.users import Passwords, add_user
from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.admin_browser import COUNSELLOR, PASSWORD, Account
from tests.auxil.passwords import CountingHasher
from tests.auxil.webhook_receiver import register_referrer
from webhook.app import create_app


@pytest.fixture
def hasher() -> CountingHasher:
    """A cheap stand-in for Argon2, whose quarter of a second a check is the service's only."""
    return CountingHasher()


@pytest.fixture
def passwords(hasher: CountingHasher) -> Passwords:
    return Passwords(hasher)


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """The service's time: the real one here."""
    return utcnow


@pytest.fixture
async def admin_app(
    settings: Settings, passwords: Passwords, clock: Callable[[], datetime]
) -> AsyncIterator[FastAPI]:
    """The whole service, without background workers (tests run what they need)."""
    application = create_app(settings, background=False, passwords=passwords, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(admin_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser without a session yet (cookies kept between requests)."""
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def account(admin_app: FastAPI, passwords: Passwords, clock: Callable[[], datetime]) -> Account:
    """Create an account: ``await account("counsellor", sites=["pantin"])`` returns its e-mail."""
    made = 0

    async def create(
        role: str, *, sites: list[str] | None = None, referrers: list[str] | None = None
    ) -> str:
        nonlocal made
        made += 1
        email = f"{role}{made}@poles.example"
        async with admin_app.state.database.transaction() as tx:
            await add_user(
                tx,
                email=email,
                password=PASSWORD,
                role=role,
                sites=sites or [],
                referrers=referrers or [],
                now=clock(),
                passwords=passwords,
            )
        return email

    return create


@pytest.fixture
async def counsellor_and_poissy(settings: Settings, passwords: Passwords) -> Settings:
    """For the browser tests: COUNSELLOR, of Pantin, and the Mission locale of Poissy's code,
    stored before the service runs on a real socket; the settings to start it with."""
    database = open_database(settings.database_url)
    try:
        async with database.transaction() as tx:
            await add_user(
                tx,
                email=COUNSELLOR,
                password=PASSWORD,
                role="counsellor",
                sites=["pantin"],
                referrers=[],
                now=utcnow(),
                passwords=passwords,
            )
            await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    finally:
        await database.close()
    return settings

"""Shared fixtures: settings, migrated databases (SQLite or PostgreSQL) and the web service."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from bot.settings import Settings, load_settings
from bot.storage.database import Database, open_database
from tests.auxil.databases import PostgresDatabases, SqliteDatabases
from tests.auxil.paths import ROOT
from tests.auxil.whatsapp_harness import WhatsAppHarness, whatsapp_service
from webhook.app import create_app

POSTGRES_URL_VARIABLE = "AIGUILLAGE_TEST_POSTGRES_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help=f"database for the db tests (postgresql needs {POSTGRES_URL_VARIABLE})",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Any test that touches the database is a db test, so `-m db` selects all of them.
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
    # What is about PostgreSQL itself (its round trips) runs with --db=postgresql only.
    if config.getoption("--db") != "postgresql":
        deselected = [item for item in items if item.get_closest_marker("postgresql_only")]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if item not in deselected]


@pytest.fixture(autouse=True, scope="session")
def _own_data_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # The default database (and what lives beside it) is per user: never the developer's own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        patch.delenv("AIGUILLAGE_DATABASE_URL", raising=False)
        patch.delenv("AIGUILLAGE_FLOWS_DIR", raising=False)
        yield


@pytest.fixture(scope="session")
def database_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.config.getoption("--db")
    return kind


@pytest.fixture(scope="session")
def databases(
    database_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqliteDatabases | PostgresDatabases]:
    if database_kind == "sqlite":
        yield SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
        return
    admin_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not admin_url:
        raise pytest.UsageError(f"--db=postgresql needs {POSTGRES_URL_VARIABLE} (see .ci/run)")
    postgres = PostgresDatabases(admin_url)
    yield postgres
    postgres.close()


@pytest.fixture
async def database_url(databases: SqliteDatabases | PostgresDatabases) -> AsyncIterator[str]:
    """A freshly migrated database of the chosen kind, dropped after the test."""
    url = await databases.create()
    yield url
    await databases.drop(url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """That database, opened as the product opens it (bot/storage/database.py)."""
    opened = open_database(database_url)
    yield opened
    await opened.close()


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # The developer's own .env must not leak into tests.
    monkeypatch.chdir(ROOT / "tests")
    return load_settings(environment="test", database_url=database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def quiet_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The service without its background work (delivery worker, purge, Telegram loops): the
    test runs what it needs, step by step."""
    application = create_app(settings, background=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def whatsapp(settings: Settings) -> AsyncIterator[WhatsAppHarness]:
    """The service with the WhatsApp channel on, against a fake Graph API, driven step by
    step."""
    async with whatsapp_service(settings) as harness:
        yield harness

"""Opening the configured database from a command (migrated when SQLite), and naming it."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

from bot.settings import Settings, default_database_url
from bot.storage import database as storage
from bot.storage.migrate import upgrade_embedded_database
from webhook.cli._errors import CliError
from webhook.cli._output import emit_error

# What a database that cannot be reached, entered or read raises, by its driver.
UNREACHABLE = (OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)
# Where the SQLite default used to be: the working directory of whoever ran the command.
FORMER_DEFAULT = Path("aiguillage.db")
ENV_FILE = Path(".env")


def describe_database(settings: Settings) -> list[str]:
    """The lines saying which database a command uses, and where its settings came from."""
    line = f"database: {settings.database_label}"
    if ENV_FILE.is_file():
        line += f" (settings from {ENV_FILE.absolute()})"
    lines = [line]
    former = FORMER_DEFAULT.absolute()
    if (
        settings.database_url == default_database_url()
        and former.is_file()
        and former != settings.sqlite_path
    ):
        lines.append(
            f"note: {former} is no longer the default database; to keep using it, set"
            f" AIGUILLAGE_DATABASE_URL=sqlite:///{former}"
        )
    return lines


def announce_database(settings: Settings) -> None:
    """Say on stderr which database a command reads (stdout stays the command's output)."""
    for line in describe_database(settings):
        emit_error(line)


@contextmanager
def reporting_unreachable(settings: Settings) -> Iterator[None]:
    """A database that cannot be used stops the command with one line, not a traceback."""
    try:
        yield
    except UNREACHABLE as error:
        raise CliError(f"cannot use the database {settings.database_label}: {error}") from None
    except Exception as error:
        # SQLAlchemy's errors wrap the driver's, from the migrations (Alembic's engine): the
        # statements of commands run on the drivers, which raise their own.
        sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy_errors is None or not isinstance(error, sqlalchemy_errors.DBAPIError):
            raise
        # Its message adds the statement and a link: the driver's own says enough.
        raise CliError(f"cannot use the database {settings.database_label}: {error.orig}") from None


def prepare_database(settings: Settings) -> None:
    """Give the SQLite file its folder and its migrations (others are migrated by operators)."""
    make_sqlite_folder(settings)
    with reporting_unreachable(settings):
        upgrade_embedded_database(settings.database_url)


def make_sqlite_folder(settings: Settings) -> None:
    """Create the folder of the SQLite file (SQLite makes the file, not its folder)."""
    path = settings.sqlite_path
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CliError(f"cannot create the folder {path.parent}: {error.strerror}") from None


def check_database(settings: Settings) -> None:
    """Prepare the database and reach it once, before a service starts on it."""

    async def reach() -> None:
        async with open_database(settings):
            pass

    asyncio.run(reach())


@asynccontextmanager
async def open_database(
    settings: Settings, *, batch_job: bool = False
) -> AsyncIterator[storage.Database]:
    """The database, prepared and reached, for the command's lifetime."""
    await asyncio.to_thread(prepare_database, settings)
    database = storage.open_database(settings.database_url, batch_job=batch_job)
    try:
        # Reached now, so that a wrong address or password is one line, not a traceback later:
        # a transaction connects (PostgreSQL's pool, with its password; SQLite's file, locked
        # for writing), even one that runs no statement.
        with reporting_unreachable(settings):
            async with database.transaction():
                pass
        yield database
    finally:
        await database.close()

"""Apply the Alembic migrations to a database (``aiguillage db upgrade``)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import sqlite_file

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# How every migration file names itself and its parent (one parent: the chain has no merges).
_REVISION_LINE = re.compile(r'^(down_)?revision\b[^=\n]*=\s*(?:"(\w+)"|None)\s*$', re.MULTILINE)


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration built in code, so no alembic.ini has to be found on disk."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation: escape it for passwords that contain one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring a database to a revision (the newest by default). Must run outside an event loop."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def upgrade_embedded_database(database_url: str) -> None:
    """Migrate the embedded SQLite default, which has no operator to do it; leave others."""
    # Every command opens the database: when it is already current, Alembic is not even
    # loaded (a third of a second of a command's start).
    if database_url.startswith("sqlite") and not _sqlite_is_current(database_url):
        upgrade_database(database_url)


def heads_from_files() -> frozenset[str] | None:
    """The newest revisions, read from the migration files; None when one reads unexpectedly."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
        names = sorted(found)  # ("", id) for revision before ("down_", parent) for down_revision
        if len(names) != 2 or names[0][0] != "" or names[1][0] != "down_" or not names[0][1]:
            return None
        revisions.add(names[0][1])
        if names[1][1]:
            parents.add(names[1][1])
    return frozenset(revisions - parents) or None


def _sqlite_is_current(database_url: str) -> bool:
    """Whether an existing SQLite file already stands at the newest revisions."""
    path = sqlite_file(database_url)
    if path is None or not path.is_file():
        return False
    heads = heads_from_files()
    # Only "no alembic_version" means "let Alembic migrate": any other error (a file that is
    # not a database) is the caller's to report. Handed to Alembic, it failed inside a
    # half-made aiosqlite connection left to the garbage collector.
    try:
        read_only = f"{path.as_uri()}?mode=ro"
        with closing(sqlite3.connect(read_only, uri=True)) as connection:
            stored = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return False  # new, or not migrated yet: Alembic knows what to do
    return heads is not None and frozenset(row[0] for row in stored) == heads


def current_heads() -> tuple[str, ...]:
    """The newest revision ids of the migration chain."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())

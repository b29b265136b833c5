"""Apply the Alembic migrations to a database (``aiguillage db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration built in code, so no alembic.ini has to be found on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation: escape it for passwords that contain one.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring a database to a revision (the newest by default). Must run outside an event loop."""
    command.upgrade(alembic_config(database_url), revision)


def upgrade_embedded_database(database_url: str) -> None:
    """Migrate the embedded SQLite default, which has no operator to do it; leave others."""
    if database_url.startswith("sqlite"):
        upgrade_database(database_url)


def current_heads() -> tuple[str, ...]:
    """The newest revision ids of the migration chain."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())

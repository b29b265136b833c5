"""The embedded database is migrated when it is behind, and Alembic is not loaded when it is not."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from alembic.script import ScriptDirectory

from bot.storage.migrate import (
    alembic_config,
    current_heads,
    heads_from_files,
    upgrade_database,
    upgrade_embedded_database,
)

ROOT = Path(__file__).resolve().parents[3]
UPGRADE_AND_TELL = """\
import sys
from bot.storage.migrate import upgrade_embedded_database
upgrade_embedded_database(sys.argv[1])
print("alembic" in sys.modules)
"""


def stored_revisions(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}


def test_the_heads_read_from_the_files_are_alembics() -> None:
    assert heads_from_files() == frozenset(current_heads())


def test_a_current_database_is_opened_without_loading_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'current.db'}"
    upgrade_database(url)
    loaded = subprocess.run(
        [sys.executable, "-c", UPGRADE_AND_TELL, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "False"


def test_a_database_one_migration_behind_is_brought_to_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "behind.db"
    url = f"sqlite+aiosqlite:///{path}"
    [head] = current_heads()
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade_database(url, previous)
    assert stored_revisions(path) == {previous}
    upgrade_embedded_database(url)
    assert stored_revisions(path) == {head}


def test_a_new_database_is_created_at_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    upgrade_embedded_database(f"sqlite+aiosqlite:///{path}")
    assert stored_revisions(path) == set(current_heads())

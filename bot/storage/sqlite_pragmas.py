"""How every SQLite connection of the driver layer (sqlite_driver.py, sqlite_wal.py) is set up."""

from __future__ import annotations

import sqlite3

JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


def sqlite_pragmas(connection: sqlite3.Connection) -> None:
    cursor = connection.cursor()
    try:
        # Wait for another writer rather than fail; set first, so the next pragmas wait too.
        cursor.execute("PRAGMA busy_timeout=5000")
        # Foreign keys make erasure cascade to transcripts and reminders.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers go on while a step is written. It is stored in the file: switching
        # takes a lock, so only the first connection to a new file does it.
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL loses nothing when the process crashes (only on a power cut), and
        # spares an fsync per step. PostgreSQL is the production database.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A log that starts over is cut back to 64 MB: a burst, or a long reader that held
        # checkpoints back, must not leave a large file behind (see sqlite_wal.py).
        cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    finally:
        cursor.close()

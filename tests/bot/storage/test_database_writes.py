"""Writes that wait for the next statement behave as if sent at once, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.storage.database import Database, DuplicateKey, Transaction
from bot.storage.values import as_json

# Everything a person may type that SQL quoting could get wrong.
AWKWARD = [
    "l'école d''été",
    "back\\slash \\' and \\\\",
    "$1 $$ $tag$ ; -- /* */ COMMIT; DROP TABLE login_attempts;",
    "émoji 🚲 et retour\nà la ligne\ttab",
    "",
]
AT = datetime(2026, 11, 22, 4, 5, 6, 789012, tzinfo=UTC)


async def keys(tx: Transaction) -> list[str]:
    return [r["key"] for r in await tx.fetch("SELECT key FROM login_attempts ORDER BY id")]


async def test_awkward_text_and_times_are_stored_exactly(database: Database) -> None:
    async with database.transaction() as tx:
        for key in AWKWARD:
            await tx.write(
                "INSERT INTO login_attempts (key, at) VALUES (:key, :at)", {"key": key, "at": AT}
            )
    async with database.transaction() as tx:
        rows = await tx.fetch("SELECT key, at FROM login_attempts ORDER BY id")
    assert [r["key"] for r in rows] == AWKWARD
    assert {str(r["at"])[:26] for r in rows} == {"2026-11-22 04:05:06.789012"}


async def test_a_nul_character_is_left_out_instead_of_failing_the_write(
    database: Database,
) -> None:
    async with database.transaction() as tx:
        await tx.write(
            "INSERT INTO login_attempts (key, at) VALUES (:key, :at)", {"key": "a\x00b", "at": AT}
        )
        await tx.execute(
            "INSERT INTO login_attempts (key, at) VALUES (:key, :at)", {"key": "\x00c", "at": AT}
        )
    async with database.transaction() as tx:
        assert await keys(tx) == ["ab", "c"]


async def test_awkward_json_is_stored_exactly(database: Database) -> None:
    payload: dict[str, Any] = {"update_id": 7, "message": {"text": AWKWARD, "chat": {"id": 1}}}
    row = {"channel": "telegram", "delivery_id": "7", "chat_id": 1, "position": 7}
    async with database.transaction() as tx:
        await tx.insert_rows(
            "inbox_updates", [row | {"payload": payload, "received_at": AT, "attempts": 0}]
        )
    async with database.transaction() as tx:
        row = await tx.fetch_one("SELECT payload FROM inbox_updates WHERE delivery_id = '7'")
    assert row is not None
    stored = row["payload"]
    assert as_json(stored) == payload


async def test_a_write_is_seen_by_the_statements_after_it(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.write("INSERT INTO login_attempts (key, at) VALUES ('a', :at)", {"at": AT})
        assert await keys(tx) == ["a"]
        await tx.write("INSERT INTO login_attempts (key, at) VALUES ('b', :at)", {"at": AT})
        changed = await tx.execute("UPDATE login_attempts SET key = key || '!'")
        assert changed == 2
        await tx.write("INSERT INTO login_attempts (key, at) VALUES ('c', :at)", {"at": AT})
        inserted = await tx.fetch(
            "INSERT INTO audit_log (at, actor, action) VALUES (:at, 'x', 'y') RETURNING id",
            {"at": AT},
            independent=True,
        )
        assert len(inserted) == 1
    async with database.transaction() as tx:
        assert await keys(tx) == ["a!", "b!", "c"]


async def test_a_write_failing_at_commit_rolls_everything_back(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.write(
            "INSERT INTO login_attempts (id, key, at) VALUES (1, 'kept', :at)", {"at": AT}
        )

    async def twin_after_another() -> None:
        async with database.transaction() as tx:
            await tx.write("INSERT INTO login_attempts (key, at) VALUES ('lost', :at)", {"at": AT})
            await tx.write(
                "INSERT INTO login_attempts (id, key, at) VALUES (1, 'twin', :at)", {"at": AT}
            )

    with pytest.raises(DuplicateKey):
        await twin_after_another()
    async with database.transaction() as tx:
        assert await keys(tx) == ["kept"]
        # The connection went back to the pool clean: the next transaction works.
        await tx.write("INSERT INTO login_attempts (key, at) VALUES ('next', :at)", {"at": AT})
    async with database.transaction() as tx:
        assert await keys(tx) == ["kept", "next"]


async def test_a_failing_write_surfaces_at_the_next_statement_on_both_databases(
    database: Database,
) -> None:
    twin = "INSERT INTO login_attempts (id, key, at) VALUES (1, 'twin', :at)"
    async with database.transaction() as tx:
        await tx.write(
            "INSERT INTO login_attempts (id, key, at) VALUES (1, 'kept', :at)", {"at": AT}
        )
    calls_returned: list[str] = []

    async def write_then_read() -> None:
        async with database.transaction() as tx:
            await tx.write(twin, {"at": AT})
            calls_returned.append("write")
            await tx.fetch("SELECT 1 AS one")
            calls_returned.append("fetch")

    async def execute() -> None:
        async with database.transaction() as tx:
            await tx.execute(twin, {"at": AT})  # for a caller that must know at once
            calls_returned.append("execute")

    with pytest.raises(DuplicateKey):
        await write_then_read()
    with pytest.raises(DuplicateKey):
        await execute()
    assert calls_returned == ["write"]
    async with database.transaction() as tx:
        assert await keys(tx) == ["kept"]

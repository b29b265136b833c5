"""SQLAlchemy Core statements run by the driver layer, with typed results, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from bot.storage.database import Database
from bot.storage.models import AuditEntry, InboxUpdate, LoginAttempt, Referrer

AT = datetime(2026, 11, 22, 4, 5, 6, 789012, tzinfo=UTC)


async def test_rows_come_back_typed_times_aware_and_in_lists_expanded(database: Database) -> None:
    async with database.transaction() as tx:
        for key in ("a", "b", "c"):
            await tx.run(insert(LoginAttempt).values(key=key, at=AT))
    async with database.transaction() as tx:
        rows = await tx.all(
            select(LoginAttempt.key, LoginAttempt.at)
            .where(LoginAttempt.key.in_(["a", "c", "zz"]))
            .order_by(LoginAttempt.key)
        )
        assert rows == [("a", AT), ("c", AT)]
        assert await tx.scalar(select(LoginAttempt.key).where(LoginAttempt.key == "b")) == "b"
        assert await tx.scalar(select(LoginAttempt.key).where(LoginAttempt.key == "x")) is None
        assert await tx.scalars(select(LoginAttempt.key).order_by(LoginAttempt.key)) == [
            "a",
            "b",
            "c",
        ]
        changed = await tx.run(update(LoginAttempt).where(LoginAttempt.key != "b").values(key="z"))
        assert changed == 2
        assert await tx.run(delete(LoginAttempt).where(LoginAttempt.key == "nobody")) == 0


async def test_python_defaults_json_and_returning(database: Database) -> None:
    async with database.transaction() as tx:
        await tx.run(insert(Referrer).values(code="ml-93", name="Mission locale"))
        created = await tx.scalar(select(Referrer.created_at).where(Referrer.code == "ml-93"))
        assert created is not None
        assert created.tzinfo is not None
        new_id = await tx.scalar(
            insert(AuditEntry).values(actor="x", action="y").returning(AuditEntry.id)
        )
        assert isinstance(new_id, int)
        await tx.run(
            insert(InboxUpdate).values(
                channel="telegram", delivery_id="7", position=7, payload={"n": [1, "é'"]}
            )
        )
        payload = await tx.scalar(select(InboxUpdate.payload))
        assert payload == {"n": [1, "é'"]}


async def test_a_statement_kept_compiled_takes_each_call_s_own_values(database: Database) -> None:
    async with database.transaction() as tx:
        for key in ("a", "b"):
            await tx.run(insert(LoginAttempt).values(key=key, at=AT))
    async with database.transaction() as tx:
        # The same shape twice (compiled once), then with an IN list (compiled each time).
        for key in ("a", "b"):
            assert await tx.scalars(select(LoginAttempt.key).where(LoginAttempt.key == key)) == [
                key
            ]
        for keys in (["a"], ["a", "b"]):
            found = select(LoginAttempt.key).where(LoginAttempt.key.in_(keys))
            assert sorted(await tx.scalars(found)) == keys

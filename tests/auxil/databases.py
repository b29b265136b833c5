"""Migrated test databases on SQLite or PostgreSQL, each test with its own copy."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import asyncpg

from bot.storage.migrate import upgrade_database


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    base = url.replace("postgresql+asyncpg://", "postgresql://")
    if database is None:
        return base
    return base.rsplit("/", 1)[0] + f"/{database}"


def _async_url(url: str, database: str) -> str:
    return _asyncpg_dsn(url, database).replace("postgresql://", "postgresql+asyncpg://", 1)


class SqliteDatabases:
    """Migrate one file once, copy it for each test (much faster than migrating each time)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.template = directory / "template.db"
        upgrade_database(f"sqlite+aiosqlite:///{self.template}")

    async def create(self) -> str:
        path = self.directory / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def drop(self, url: str) -> None:
        await asyncio.to_thread(self._remove, Path(url.removeprefix("sqlite+aiosqlite:///")))

    @staticmethod
    def _remove(path: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


class PostgresDatabases:
    """Migrate a template database once; each test gets CREATE DATABASE … TEMPLATE it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"aiguillage_template_{uuid.uuid4().hex[:8]}"
        asyncio.run(self._execute(f'CREATE DATABASE "{self.template}"'))
        upgrade_database(_async_url(admin_url, self.template))

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(self.admin_url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create(self) -> str:
        name = f"aiguillage_test_{uuid.uuid4().hex[:12]}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return _async_url(self.admin_url, name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        asyncio.run(self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))

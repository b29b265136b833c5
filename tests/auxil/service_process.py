"""``aiguillage`` commands in processes of their own, as in production: ``serve`` on a port,
``worker``; stopped with SIGTERM at the end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.auxil.paths import ROOT

AIGUILLAGE = Path(sys.executable).with_name("aiguillage")


@contextmanager
def command(
    database_url: str, *args: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """An ``aiguillage`` command in its own process, stopped (SIGTERM) at the end."""
    environment = os.environ | {
        "AIGUILLAGE_DATABASE_URL": database_url,
        "AIGUILLAGE_ENVIRONMENT": "test",
        "AIGUILLAGE_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    process = subprocess.Popen(  # noqa: S603
        [str(AIGUILLAGE), *args], env=environment, cwd=ROOT / "tests"
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def service(
    database_url: str, port: int, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``aiguillage serve`` in its own process."""
    args = ("serve", "--host", "127.0.0.1", "--port", str(port))
    with command(database_url, *args, env=env) as process:
        yield process


async def until_up(url: str) -> None:
    """Once the service answers its home page."""
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(300):
            try:
                if (await http.get("/")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the service did not start")

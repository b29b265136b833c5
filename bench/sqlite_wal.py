"""How big SQLite's write-ahead log grows under sustained web chat traffic, and at what CPU.

    python -m bench.sqlite_wal [--requests 20000] [--concurrency 20] [--every 2000]

A production report: after about 18k web chat requests the database was 35 MB and its WAL
560 MB, shrinking only at a restart. This drives the real service in this process (its ASGI
app through ``httpx.ASGITransport``, migrations applied to a fresh file): people talk to
``/api/chat`` from ``/start`` to their orientation, ``--concurrency`` at a time, until
``--requests`` requests were answered or ``--max-seconds`` have passed (the limits per address
and per session are raised: everyone comes from one address, faster than people type).
Along the way and at the end it prints the database's and the WAL's sizes and the CPU per
request (this process's ``time.process_time``, checkpoint threads included).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.logs import configure_logging
from bot.settings import load_settings
from bot.storage.migrate import upgrade_database
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from webhook.app import create_app

MIB = 1024 * 1024


@dataclass
class Progress:
    """Requests answered so far, and what the next line of figures starts from."""

    database: Path
    target: int
    deadline: float
    every: int
    sent: int = 0
    answered: int = 0
    largest_wal: int = 0
    lines: list[str] = field(default_factory=list)
    _mark: tuple[int, float, float] = (0, 0.0, 0.0)  # answered, CPU s, wall s

    _started_cpu: float = 0.0

    def wal_size(self) -> int:
        wal = Path(f"{self.database}-wal")
        return wal.stat().st_size if wal.exists() else 0

    def sizes(self) -> tuple[int, int]:
        return self.database.stat().st_size, self.wal_size()

    def cpu_per_request_ms(self) -> float:
        """Over the whole load, checkpoints included."""
        return (time.process_time() - self._started_cpu) * 1000 / max(self.answered, 1)

    def start(self) -> None:
        self._mark = (0, time.process_time(), time.perf_counter())
        self._started_cpu = self._mark[1]
        print("| requests | database MiB | WAL MiB | largest WAL MiB | CPU ms/request | req/s |")
        print("|---|---|---|---|---|---|")

    def take(self) -> bool:
        """Whether to send one more request (counted as sent if so)."""
        if self.sent >= self.target or time.perf_counter() >= self.deadline:
            return False
        self.sent += 1
        return True

    def count(self) -> None:
        self.answered += 1
        self.largest_wal = max(self.largest_wal, self.wal_size())
        if self.answered % self.every == 0:
            self.report()

    def report(self) -> None:
        done, cpu, wall = self._mark
        now_cpu, now_wall = time.process_time(), time.perf_counter()
        requests = max(self.answered - done, 1)
        database, wal = self.sizes()
        print(
            f"| {self.answered} | {database / MIB:.1f} | {wal / MIB:.1f}"
            f" | {self.largest_wal / MIB:.1f} | {(now_cpu - cpu) * 1000 / requests:.3f}"
            f" | {requests / (now_wall - wall):.0f} |",
            flush=True,
        )
        self._mark = (self.answered, now_cpu, now_wall)


async def one_person(client: httpx.AsyncClient, progress: Progress) -> None:
    """One conversation from /start to its orientation (or until enough requests were sent)."""
    body: dict[str, Any] = {"command": "start", "payload": "ML_POISSY"}
    headers: dict[str, str] = {}  # the session token, once the start gave one
    while progress.take():
        response = await client.post("/api/chat", json=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"/api/chat answered {response.status_code}: {response.text}")
        progress.count()
        reply = response.json()
        if reply["done"]:
            return
        headers = {"Authorization": f"Bearer {reply['session']}"}
        body = answer_for(reply["messages"][-1]["question"], SAMIR_IN_PANTIN)


async def people(client: httpx.AsyncClient, progress: Progress) -> None:
    """One person after another, until enough requests were sent."""
    while progress.sent < progress.target and time.perf_counter() < progress.deadline:
        await one_person(client, progress)


async def run(args: argparse.Namespace, work: Path) -> Progress:
    database = work / "wal-bench.db"
    url = f"sqlite+aiosqlite:///{database}"
    await asyncio.to_thread(upgrade_database, url)
    settings = load_settings(
        environment="test",
        database_url=url,
        log_level="WARNING",
        # Everyone comes from this process's one address, faster than people type.
        chat_address_per_minute=100_000,
        chat_session_per_minute=100_000,
        leads_per_address_per_hour=100_000,
    )
    app = create_app(settings, background=False)
    progress = Progress(database, args.requests, time.perf_counter() + args.max_seconds, args.every)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            progress.start()
            await asyncio.gather(*(people(client, progress) for _ in range(args.concurrency)))
            if progress.answered % args.every:
                progress.report()
            cpu_ms = progress.cpu_per_request_ms()
    database_size, wal_size = progress.sizes()  # after the service closed its connections
    print(
        f"\n{progress.answered} requests; at the end, after closing: database"
        f" {database_size / MIB:.1f} MiB, WAL {wal_size / MIB:.1f} MiB;"
        f" largest WAL seen {progress.largest_wal / MIB:.1f} MiB;"
        f" CPU per request {cpu_ms:.3f} ms"
    )
    return progress


def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="aiguillage-wal-") as tmp:
        asyncio.run(run(args, Path(tmp)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=20, help="people talking at once")
    parser.add_argument("--every", type=int, default=2000, help="requests between two lines")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())

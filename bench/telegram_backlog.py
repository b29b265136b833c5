"""What a Telegram backlog costs the process: memory and asyncio tasks while replies wait.

    python -m bench.telegram_backlog [--chats 1000,10000] [--senders 40] [--drain]
        [--database sqlite|postgresql]

N people send /start at once to the real webhook (over ASGI, ``--senders`` requests at a time,
as Telegram's 40 connections would); the service's own sender paces the replies at the Bot
API's 30 a second, to a fake Bot API in a thread of this process (tests/auxil/fake_bot_api.py).
Printed for each N: the process's RSS before the burst and once every update was accepted (the
backlog at its largest), the most asyncio tasks seen meanwhile, and the replies still waiting
then. With ``--drain`` it also waits for every reply (N / 30 seconds), checks that each chat got
exactly one, and prints the RSS after. RSS includes the fake API's recorded calls (a few hundred
bytes each). Issue #18: before, each waiting step held a task (about 5.5 KB a chat).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from pydantic import SecretStr

from bench import _procs
from bot.logs import configure_logging
from bot.settings import load_settings
from tests.auxil import telegram_updates as tg
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.fake_bot_api import FakeBotApi
from webhook.app import create_app

SECRET = "bench-secret"
FIRST_CHAT = 7_000_000
SAMPLE_EVERY = 0.05


def rss_mb() -> float:
    """This process's resident memory, in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Peak:
    """The most asyncio tasks and the highest RSS seen while the burst is fed."""

    def __init__(self) -> None:
        self.tasks = 0
        self.rss = 0.0

    async def watch(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self.tasks = max(self.tasks, len(asyncio.all_tasks()))
            self.rss = max(self.rss, rss_mb())
            await asyncio.sleep(SAMPLE_EVERY)


async def one_run(database_url: str, chats: int, args: argparse.Namespace) -> dict[str, float]:
    with FakeBotApi() as fake:
        settings = load_settings(
            database_url=database_url,
            telegram_token=SecretStr(TEST_TOKEN),
            telegram_webhook_secret=SecretStr(SECRET),
            telegram_bot_username="AiguillageBot",
            telegram_api_url=fake.base_url,
            log_level="WARNING",
        )
        app = create_app(settings, background=True)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                updates = asyncio.Queue[int]()
                for n in range(chats):
                    updates.put_nowait(FIRST_CHAT + n)

                async def post_updates() -> None:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                    while not updates.empty():
                        update = tg.message(updates.get_nowait(), "/start")
                        response = await client.post(
                            "/telegram/webhook", json=update, headers=headers
                        )
                        response.raise_for_status()
                        # Over ASGI, SQLite's statements need not yield: a server would, reading
                        # the next request from its socket, and the replies get sent meanwhile.
                        await asyncio.sleep(0)

                gc.collect()
                before = rss_mb()
                peak, stopping = Peak(), asyncio.Event()
                watching = asyncio.create_task(peak.watch(stopping))
                started = time.monotonic()
                await asyncio.gather(*(post_updates() for _ in range(args.senders)))
                fed = time.monotonic() - started
                peak.tasks = max(peak.tasks, len(asyncio.all_tasks()))
                at_peak = rss_mb()
                waiting = chats - _replies(fake, chats)
                figures = {
                    "chats": chats,
                    "fed_s": fed,
                    "waiting": waiting,
                    "rss_before": before,
                    "rss_fed": at_peak,
                    "tasks_peak": peak.tasks,
                }
                if args.drain:
                    deadline = time.monotonic() + chats / 20 + 60
                    while time.monotonic() < deadline:
                        if _replies(fake, chats) >= chats:
                            break
                        await asyncio.sleep(0.5)  # a fake in another thread: no event to wait on
                    figures["drain_s"] = time.monotonic() - started
                    figures["once_each"] = float(_once_each(fake, chats))
                stopping.set()
                await watching
                figures["rss_peak"] = max(peak.rss, at_peak)
        gc.collect()
        figures["rss_after"] = rss_mb()
    return figures


def _replies(fake: FakeBotApi, chats: int) -> int:
    return len(fake.calls_to("sendMessage"))


def _once_each(fake: FakeBotApi, chats: int) -> bool:
    """Every chat got exactly one reply (its welcome)."""
    counts = Counter(int(call.params["chat_id"]) for call in fake.calls_to("sendMessage"))
    return len(counts) == chats and set(counts.values()) == {1}


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING")
    rows = []
    with tempfile.TemporaryDirectory(prefix="aiguillage-backlog-") as tmp:
        for run, chats in enumerate(int(n) for n in args.chats.split(",")):
            url, admin_url = await _procs.migrated_database(
                args.database, Path(tmp) / f"backlog-{run}.db"
            )
            try:
                rows.append(await one_run(url, chats, args))
            finally:
                if admin_url is not None:
                    await _procs.drop_database(admin_url, url)
    print(f"{args.database}; RSS of this process (MB), fake Bot API included")
    print("| chats | fed in | replies waiting | tasks at peak | RSS before | RSS fed | peak |"
          " after | drained in | once each |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        drained = f"{row['drain_s']:.0f} s" if "drain_s" in row else "-"
        once = ("yes" if row["once_each"] else "NO") if "once_each" in row else "-"
        print(
            f"| {row['chats']:.0f} | {row['fed_s']:.1f} s | {row['waiting']:.0f}"
            f" | {row['tasks_peak']:.0f} | {row['rss_before']:.0f} | {row['rss_fed']:.0f}"
            f" | {row['rss_peak']:.0f} | {row['rss_after']:.0f} | {drained} | {once} |"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", default="1000,10000", help="comma-separated burst sizes")
    parser.add_argument("--senders", type=int, default=40, help="webhook requests at a time")
    parser.add_argument("--drain", action="store_true", help="wait for every reply")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

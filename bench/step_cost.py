"""CPU per Telegram update of the step alone: store, apply, queue, on SQLite and PostgreSQL.

    python -m bench.step_cost [--chats 200] [--repeat 5] [--databases sqlite,postgresql]

The load benchmark (``bench.telegram_load``) measures the whole bot beside the baselines, but
its figures move by ±10 % between runs, more than most changes to the database path. This one
takes that path apart: updates go straight to ``InboxProcessor.accept`` in this process (no
HTTP, replies queued but not sent), one chat after another, and the process's own CPU time
(``time.process_time``: the PostgreSQL server's is not in it) is divided by the updates. Each
chat sends /start, presses "yes" and "for me", types its age and its postal code: five updates,
two of them presses, as people do. Runs are interleaved; medians are printed, and the round
trips to PostgreSQL per update (counted on asyncpg's connection).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Bot

from bench import _procs
from bot.logs import configure_logging
from bot.settings import load_settings
from bot.storage.values import as_json
from tests.auxil import telegram_updates as tg
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.recording_request import RecordingRequest
from tests.auxil.round_trips import asyncpg_messages
from webhook.app import create_app

UPDATES_PER_CHAT = 5


def chat_updates(chat_id: int, first_id: int) -> list[dict[str, Any]]:
    """One person's first five updates (the buttons' data as the bot draws them)."""
    updates = [
        tg.message(chat_id, "/start"),
        tg.press(chat_id, "c|consent|yes"),
        tg.press(chat_id, "c|asker|self"),
        tg.message(chat_id, "23"),
        tg.message(chat_id, "93500"),
    ]
    for offset, update in enumerate(updates):
        update["update_id"] = first_id + offset
    return updates


async def one_run(database_url: str, chats: int, messages: list[str]) -> tuple[float, float]:
    """(CPU ms per update, round trips per update) of one run on a fresh database."""
    settings = load_settings(
        environment="test",
        database_url=database_url,
        telegram_token=SecretStr(TEST_TOKEN),
        telegram_webhook_secret=SecretStr("bench-secret"),
        telegram_bot_username="AiguillageBot",
        log_level="WARNING",
    )
    bot = Bot(TEST_TOKEN, request=RecordingRequest(), get_updates_request=RecordingRequest())
    app = create_app(settings, telegram_bot=bot, background=False)
    async with app.router.lifespan_context(app):
        processor = app.state.telegram.pipeline.processor
        processor.deliver = None  # the replies stay queued: only the step is measured
        for update in chat_updates(1, 1):  # warm-up: imports, caches, the first connections
            await processor.accept(update, webhook=True)
        updates = [u for chat in range(chats) for u in chat_updates(1000 + chat, 100 + chat * 10)]
        trips_before, cpu_before = len(messages), time.process_time()
        for update in updates:
            await processor.accept(update, webhook=True)
        cpu = time.process_time() - cpu_before
        trips = len(messages) - trips_before
        # Every chat got past its postal code: no press met an old keyboard.
        async with app.state.database.transaction() as tx:
            rows = await tx.fetch("SELECT state FROM conversations")
        answered = sum(as_json(r["state"])["answers"].get("postal_code") == "93500" for r in rows)
        if answered != chats + 1:
            raise RuntimeError(f"only {answered - 1} of {chats} chats answered every step")
    return cpu * 1000 / len(updates), trips / len(updates)


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING")
    kinds = args.databases.split(",")
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    with (
        asyncpg_messages() as messages,
        tempfile.TemporaryDirectory(prefix="aiguillage-step-") as tmp,
    ):
        for run in range(args.repeat):
            for kind in kinds:
                url, admin_url = await _procs.migrated_database(kind, Path(tmp) / f"step-{run}.db")
                try:
                    results[kind].append(await one_run(url, args.chats, messages))
                finally:
                    if admin_url is not None:
                        await _procs.drop_database(admin_url, url)
    updates = args.chats * UPDATES_PER_CHAT
    print(f"{updates} updates per run, {args.repeat} runs; CPU of this process only")
    print("| database | CPU ms/update (median) | runs | round trips/update |")
    print("|---|---|---|---|")
    for kind, runs in results.items():
        cpu = [c for c, _ in runs]
        listed = ", ".join(f"{c:.3f}" for c in cpu)
        trips = f"{statistics.median(t for _, t in runs):.2f}" if kind == "postgresql" else "–"
        print(f"| {kind} | {statistics.median(cpu):.3f} | {listed} | {trips} |")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

"""``aiguillage bot``: polling feeds the same inbox as the webhook."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.channels.telegram.runtime import TelegramRuntime
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Timing
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil import telegram_updates as tg
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.fake_bot_api import FakeBotApi
from tests.auxil.flow_files import write_broken_flow
from tests.auxil.servers import unused_port
from webhook.cli import bot_polling, main
from webhook.cli.bot_polling import poll


async def test_polled_updates_get_replies(settings: Settings) -> None:
    with FakeBotApi(token=TEST_TOKEN) as fake:
        configured = settings.model_copy(
            update={"telegram_token": SecretStr(TEST_TOKEN), "telegram_api_url": fake.base_url}
        )
        database = open_database(settings.database_url)
        service = ConversationService(database, FlowRegistry())
        runtime = TelegramRuntime(configured, service, database)
        runtime.pipeline.sender.chat_pace.interval = 0
        await runtime.start(webhook=False)
        fake.queue_update(tg.message(42, "/start"))
        fake.queue_update(tg.press(42, "c|consent|yes"))
        stop = asyncio.Event()
        polling = asyncio.create_task(poll(runtime, stop=stop))
        for _ in range(200):
            if len(fake.sent_texts(42)) >= 2:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(polling, timeout=5)
        await runtime.stop()
        await database.close()
        texts = fake.sent_texts(42)
    assert texts[0].startswith("Salut")
    assert texts[1] == "C'est pour toi, ou pour ton enfant ?"


def test_polling_needs_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIGUILLAGE_TELEGRAM_TOKEN", raising=False)
    assert main(["bot"]) == 2
    assert "AIGUILLAGE_TELEGRAM_TOKEN" in capsys.readouterr().err


async def test_polling_runs_with_the_configured_reminder_and_closing_delays(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    polled: list[TelegramRuntime] = []

    async def record_and_stop(
        runtime: TelegramRuntime, *, stop: asyncio.Event | None = None
    ) -> None:
        polled.append(runtime)

    monkeypatch.setattr(bot_polling, "poll", record_and_stop)
    with FakeBotApi(token=TEST_TOKEN) as fake:
        configured = settings.model_copy(
            update={
                "telegram_token": SecretStr(TEST_TOKEN),
                "telegram_api_url": fake.base_url,
                "reminder_delay_hours": 2.0,
                "close_after_days": 3.0,
            }
        )
        await bot_polling._main(configured)
    [runtime] = polled
    assert runtime.pipeline.reminders.service.timing == Timing(
        reminder_after=timedelta(hours=2), close_after=timedelta(days=3)
    )


def test_polling_stops_on_a_broken_flow_file_with_one_line_per_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_broken_flow(tmp_path)
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_TOKEN", TEST_TOKEN)
    # Nothing listens there: had the check let it start, polling would fail, not reach Telegram.
    monkeypatch.setenv("AIGUILLAGE_TELEGRAM_API_URL", f"http://127.0.0.1:{unused_port()}/bot")
    monkeypatch.setenv("AIGUILLAGE_FLOWS_DIR", str(tmp_path))
    assert main(["bot"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "aiguillage bot: 1 problem in flow files"
    assert lines[:-1] == ["broken.yaml: step 'hello': leads to unknown step 'ghost'"]

"""The bot client of a process: PTB's HTTP client, to Telegram or another Bot API server."""

from __future__ import annotations

import httpx

from bot.channels.telegram.runtime import make_bot
from bot.settings import Settings
from tests.auxil.bot_api_results import TEST_TOKEN
from tests.auxil.fake_bot_api import FakeBotApi


async def test_each_method_s_url_is_parsed_once(telegram_settings: Settings) -> None:
    with FakeBotApi(token=TEST_TOKEN) as fake:
        bot = make_bot(telegram_settings.model_copy(update={"telegram_api_url": fake.base_url}))
        async with bot:
            for text in ("un", "deux", "trois"):
                await bot.send_message(42, text)
        assert fake.sent_texts(42) == ["un", "deux", "trois"]
    parsed = vars(bot.request)["_parsed"]  # the client's parsed URLs, one per method
    assert sorted(url.path.rsplit("/", 1)[-1] for url in parsed.values()) == [
        "getMe",
        "sendMessage",
    ]
    assert all(isinstance(url, httpx.URL) for url in parsed.values())

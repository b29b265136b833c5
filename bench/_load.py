"""The load generator: simulated people talking to a bot's webhook, replies seen at the fake API.

Each person has a private chat of their own. They send /start, and after each reply (the next
sendMessage to their chat that the fake Bot API receives) they wait the think time and answer
it: a button when the reply has an inline keyboard, else a typed answer to its question.
Latency is the reply's arrival at the fake (``ApiCall.at``, time.monotonic in this process)
minus the moment the update's POST started, so it includes the webhook's own answer.

The people's walk (``run_people``) knows no messenger: a ``Channel`` says what a person sends
first, how it is posted, when the reply came and what they answer to it. Telegram's is here
(``TelegramChannel``); WhatsApp's is bench/_whatsapp.py. Both fakes keep their replies in a
``RepliesByChat``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import httpx

from tests.auxil import telegram_updates
from tests.auxil.fake_bot_api import ApiCall, FakeBotApi

WEBHOOK_PATH = "/telegram/webhook"
# Buttons that keep Aiguillage's pre-screening going the longest way (the baselines use them too).
PREFERRED = frozenset({"c|consent|yes", "c|asker|self", "c|situation|job_seeker"})
TEXT_ANSWERS = (
    ("âge", "23"),
    ("code postal", "93500"),
    ("prénom", "Samir"),
    ("numéro", "0612345678"),
    ("e-mail", "a@b.fr"),
)
TELEGRAM_CONNECTIONS = 40  # setWebhook's default max_connections


class Arrived(Protocol):
    """A call a fake API recorded, with the moment it arrived."""

    @property
    def at(self) -> float:  # time.monotonic() in this process
        ...


CallT = TypeVar("CallT", bound=Arrived)


class RepliesByChat(Generic[CallT]):
    """The messages each chat was sent, in order, and a wait for the next (in the event loop)."""

    def __init__(self) -> None:
        self._calls: defaultdict[int, list[CallT]] = defaultdict(list)
        self._events: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)

    def __getitem__(self, chat_id: int) -> list[CallT]:
        return self._calls[chat_id]

    def add(self, chat_id: int, call: CallT) -> None:
        self._calls[chat_id].append(call)
        self._events[chat_id].set()

    async def arrival(self, chat_id: int, after: float, within: float) -> float | None:
        """When the first message to the chat at or after `after` arrived; None if none came."""
        deadline = time.monotonic() + within
        event = self._events[chat_id]
        while True:
            event.clear()
            found = next((c for c in self._calls[chat_id] if c.at >= after), None)
            remaining = deadline - time.monotonic()
            if found is not None or remaining <= 0:
                return None if found is None else found.at
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue


class ReplyWatch(FakeBotApi):
    """The fake Bot API, telling the generator's event loop about each message it receives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(port=0)
        self.loop = loop
        self.replies = RepliesByChat[ApiCall]()
        self._seen = 0

    async def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        answered = await super().answer(method, params)  # recorded, with its arrival time
        if method.lower() == "sendmessage":
            self.loop.call_soon_threadsafe(self._collect)
        return answered

    def _collect(self) -> None:
        calls = self.calls
        for call in calls[self._seen :]:
            if call.method.lower() == "sendmessage" and call.status == 200:
                self.replies.add(int(call.params["chat_id"]), call)
        self._seen = len(calls)


class Channel(Protocol):
    """One messenger's side of a simulated person."""

    headers: dict[str, str]  # sent with every update

    def first(self, chat_id: int) -> Any:
        """What the person sends to begin."""
        ...

    async def post(self, client: httpx.AsyncClient, update: Any) -> bool:
        """Deliver it to the webhook as the messenger would; whether it was taken (200)."""
        ...

    async def next_reply(self, chat_id: int, after: float, within: float) -> float | None:
        """When the first message to the chat at or after `after` arrived; None if none came."""
        ...

    def answer(self, chat_id: int) -> Any | None:
        """What the person answers to the latest message; None when nothing more is asked."""
        ...


def start_command(chat_id: int) -> dict[str, Any]:
    """/start as Telegram sends it, with its bot_command entity (PTB's CommandHandler needs it)."""
    entity = {"type": "bot_command", "offset": 0, "length": len("/start")}
    return telegram_updates.message(chat_id, "/start", entities=[entity])


def next_update(chat_id: int, reply: dict[str, Any]) -> dict[str, Any] | None:
    """What the person answers to this reply; None when the bot asks nothing more."""
    markup = reply.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    data = [b["callback_data"] for row in rows or () for b in row if b.get("callback_data")]
    if data:
        if any(d.startswith("t|") for d in data):
            return telegram_updates.press(chat_id, data[-1])  # a multi-select's submit button
        pick = next((d for d in data if d in PREFERRED), data[0])
        return telegram_updates.press(chat_id, pick)
    text = str(reply.get("text") or "").strip()
    if not text.endswith("?"):
        return None
    question = text.rsplit("\n\n", 1)[-1].lower()
    answer = next((a for key, a in TEXT_ANSWERS if key in question), "ok")
    return telegram_updates.message(chat_id, answer)


class TelegramChannel:
    """Telegram's side: /start first, updates posted with the secret, replies at ReplyWatch."""

    def __init__(self, watch: ReplyWatch, secret: str) -> None:
        self.watch = watch
        self.headers = {"X-Telegram-Bot-Api-Secret-Token": secret}

    def first(self, chat_id: int) -> dict[str, Any]:
        return start_command(chat_id)

    async def post(self, client: httpx.AsyncClient, update: Any) -> bool:
        answer = await client.post(WEBHOOK_PATH, json=update)
        if answer.status_code != 200:
            return False
        # Telegram makes the call a webhook's response may carry (any bot may use it).
        await self.watch.take_webhook_answer(answer.content)
        return True

    async def next_reply(self, chat_id: int, after: float, within: float) -> float | None:
        return await self.watch.replies.arrival(chat_id, after, within)

    def answer(self, chat_id: int) -> dict[str, Any] | None:
        return next_update(chat_id, self.watch.replies[chat_id][-1].params)


@dataclass
class LoadResult:
    """What a load phase measured."""

    users: int
    sent: int = 0
    replied: int = 0
    missing: int = 0
    rejected: int = 0  # webhook answers other than 200
    latencies: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def wall(self) -> float:
        return max(self.finished - self.started, 1e-9)

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of the latencies, in seconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def _person(
    client: httpx.AsyncClient,
    channel: Channel,
    result: LoadResult,
    chat_id: int,
    *,
    steps: int,
    think: float,
    delay: float,
    reply_timeout: float,
) -> None:
    await asyncio.sleep(delay)
    update: Any | None = channel.first(chat_id)
    for step in range(steps):
        assert update is not None
        posted = time.monotonic()
        result.sent += 1
        try:
            if not await channel.post(client, update):
                result.rejected += 1
        except httpx.HTTPError:
            result.rejected += 1
        arrived = await channel.next_reply(chat_id, posted, reply_timeout)
        if arrived is None:
            return  # counted as missing
        result.replied += 1
        result.latencies.append(arrived - posted)
        result.finished = max(result.finished, arrived)
        if step == steps - 1:
            return
        await asyncio.sleep(think)
        update = channel.answer(chat_id)  # to the latest reply
        if update is None:
            return


async def run_people(
    url: str,
    channel: Channel,
    *,
    users: int,
    steps: int,
    think: float,
    first_chat: int,
    cap: float,
    reply_timeout: float = 30.0,
) -> LoadResult:
    """Run `users` people at once (their starts spread over one think time) until done or cap."""
    result = LoadResult(users=users)
    # Telegram's default; Meta names no limit, so WhatsApp's load gets the same.
    limits = httpx.Limits(max_connections=TELEGRAM_CONNECTIONS)
    headers = channel.headers
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as c:
        result.started = time.monotonic()
        tasks = [
            asyncio.create_task(
                _person(
                    c, channel, result, first_chat + i, steps=steps, think=think,
                    delay=think * i / users, reply_timeout=reply_timeout,
                )
            )
            for i in range(users)
        ]  # fmt: skip
        _, late = await asyncio.wait(tasks, timeout=cap)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    result.missing = result.sent - result.replied  # no reply in time, or cut short by the cap
    if not result.replied:
        result.finished = time.monotonic()
    return result

"""The aiogram 3 baseline: the benchmark's flow written the way aiogram's examples do it.

A ``Router`` with an FSM ``StatesGroup`` and ``F`` filters, the state in ``MemoryStorage``,
the webhook served by aiohttp (``SimpleRequestHandler`` + ``setup_application``). Updates are
handled in the background (the webhook answers at once, and nothing is returned in its body:
every reply goes to the Bot API over HTTP, as with the other bots). Every callback query is
answered, one message per reply.

python -m bench.baseline_aiogram --port 8083 --api-url http://127.0.0.1:8081/bot
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bench._baseline_flow import (
    STEPS,
    THANKS,
    WELCOME,
    Step,
    choice_value,
    keyboard_rows,
    parse_args,
    text_valid,
)

AGE = 2  # "Je corrige" goes back to the age question


class Form(StatesGroup):
    consent = State()
    asker = State()
    age = State()
    postal_code = State()
    situation = State()
    france_travail = State()
    diploma_level = State()
    allowances = State()
    life_situations = State()
    first_name = State()
    phone = State()
    confirm = State()


STATES: tuple[State, ...] = tuple(getattr(Form, step.name) for step in STEPS)
router = Router()


def markup(step: Step) -> InlineKeyboardMarkup | None:
    if not step.choices:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
            for row in keyboard_rows(step)
        ]
    )


async def ask(message: Message, state: FSMContext, index: int, before: str = "") -> None:
    """Send the question of step `index` (after `before`), and wait in its state."""
    step = STEPS[index]
    await state.set_state(STATES[index])
    text = f"{before}\n\n{step.question}" if before else step.question
    await message.answer(text, reply_markup=markup(step))


async def ask_next(message: Message, state: FSMContext, index: int) -> None:
    if index + 1 < len(STEPS):
        await ask(message, state, index + 1)
        return
    data = await state.get_data()
    await state.clear()
    await message.answer(THANKS.format(**data))


@router.message(CommandStart())
async def start(message: Message, state: FSMContext) -> None:
    await state.clear()
    await ask(message, state, 0, WELCOME)


def on_choice(index: int) -> Callable[[CallbackQuery, FSMContext], Awaitable[None]]:
    step = STEPS[index]

    async def handle(callback: CallbackQuery, state: FSMContext) -> None:
        await callback.answer()
        message = callback.message
        assert isinstance(message, Message)
        value = choice_value(step, callback.data)
        if value is None:
            await ask(message, state, index)
        elif step.name == "consent" and value == "no":
            await state.clear()
            await message.answer("Pas de souci, je n'ai rien gardé.")
        elif step.name == "confirm" and value == "edit":
            await ask(message, state, AGE)
        else:
            await state.update_data({step.name: value})
            await ask_next(message, state, index)

    return handle


def on_text(index: int) -> Callable[[Message, FSMContext], Awaitable[None]]:
    step = STEPS[index]

    async def handle(message: Message, state: FSMContext) -> None:
        if not text_valid(step, message.text):
            await ask(message, state, index, step.invalid)
            return
        await state.update_data({step.name: (message.text or "").strip()})
        await ask_next(message, state, index)

    return handle


for _index, _step in enumerate(STEPS):
    if _step.choices:
        router.callback_query.register(
            on_choice(_index), STATES[_index], F.data.startswith(f"c|{_step.name}|")
        )
    else:
        router.message.register(on_text(_index), STATES[_index], F.text)


async def health(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def main(args: argparse.Namespace) -> None:
    dispatcher = Dispatcher(storage=MemoryStorage())
    dispatcher.include_router(router)
    # from_base wants the server's root: it appends /bot{token}/{method} itself.
    server = TelegramAPIServer.from_base(args.api_url.rstrip("/").removesuffix("/bot"))
    bot = Bot(token=args.token, session=AiohttpSession(api=server))
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=args.secret, handle_in_background=True
    ).register(app, path="/telegram/webhook")
    app.router.add_get("/healthcheck", health)
    setup_application(app, dispatcher, bot=bot)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)  # as the other bots under test: no access log
    main(parse_args(__doc__))

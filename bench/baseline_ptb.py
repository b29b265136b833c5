"""The python-telegram-bot baseline: the benchmark's flow written the way PTB's examples do it.

A ``ConversationHandler`` (conversationbot.py) with the state in memory (``user_data``), on a
custom Starlette webhook served by uvicorn (customwebhookbot/starlettebot.py): the webhook
puts each update on ``application.update_queue`` and answers at once. Application defaults
(updates handled one at a time). Every callback query is answered, one message per reply.

python -m bench.baseline_ptb --port 8082 --api-url http://127.0.0.1:8081/bot
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

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

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, int]]
AGE = 2  # "Je corrige" goes back to the age question


def markup(step: Step) -> InlineKeyboardMarkup | None:
    if not step.choices:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row]
         for row in keyboard_rows(step)]
    )  # fmt: skip


async def ask(update: Update, index: int, before: str = "") -> int:
    """Send the question of step `index` (after `before`), and stay in that state."""
    step = STEPS[index]
    text = f"{before}\n\n{step.question}" if before else step.question
    assert update.effective_message is not None
    await update.effective_message.reply_text(text, reply_markup=markup(step))
    return index


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert context.user_data is not None
    context.user_data.clear()
    return await ask(update, 0, WELCOME)


async def ask_next(update: Update, context: ContextTypes.DEFAULT_TYPE, index: int) -> int:
    if index + 1 < len(STEPS):
        return await ask(update, index + 1)
    assert update.effective_message is not None
    assert context.user_data is not None
    await update.effective_message.reply_text(THANKS.format(**context.user_data))
    return ConversationHandler.END


def on_choice(index: int) -> Handler:
    step = STEPS[index]

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None
        assert context.user_data is not None
        await query.answer()
        value = choice_value(step, query.data)
        if value is None:
            return await ask(update, index)
        context.user_data[step.name] = value
        if step.name == "consent" and value == "no":
            await query.message.reply_text("Pas de souci, je n'ai rien gardé.")  # type: ignore[union-attr]
            return ConversationHandler.END
        if step.name == "confirm" and value == "edit":
            return await ask(update, AGE)
        return await ask_next(update, context, index)

    return handle


def on_text(index: int) -> Handler:
    step = STEPS[index]

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        assert context.user_data is not None
        if not text_valid(step, update.message.text):
            return await ask(update, index, step.invalid)
        context.user_data[step.name] = (update.message.text or "").strip()
        return await ask_next(update, context, index)

    return handle


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None
    await update.message.reply_text("À bientôt !")
    return ConversationHandler.END


def build_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    states: dict[object, list[object]] = {}
    for index, step in enumerate(STEPS):
        if step.choices:
            states[index] = [CallbackQueryHandler(on_choice(index), pattern=rf"^c\|{step.name}\|")]
        else:
            states[index] = [MessageHandler(filters.TEXT & ~filters.COMMAND, on_text(index))]
    with warnings.catch_warnings():  # per_message=False with callback queries, as intended
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states=states,  # type: ignore[arg-type]
            fallbacks=[CommandHandler("cancel", cancel)],
            allow_reentry=True,
        )


async def main(args: argparse.Namespace) -> None:
    application = (
        Application.builder().token(args.token).base_url(args.api_url).updater(None).build()
    )
    application.add_handler(build_conversation())

    async def telegram(request: Request) -> Response:
        """Handle incoming Telegram updates by putting them into the `update_queue`."""
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(secret.encode(), args.secret.encode()):
            return Response(status_code=403)
        await application.update_queue.put(
            Update.de_json(data=await request.json(), bot=application.bot)
        )
        return Response()

    async def health(_: Request) -> PlainTextResponse:
        return PlainTextResponse("The bot is still running fine :)")

    starlette_app = Starlette(
        routes=[
            Route("/telegram/webhook", telegram, methods=["POST"]),
            Route("/healthcheck", health, methods=["GET"]),
        ]
    )
    webserver = uvicorn.Server(
        config=uvicorn.Config(
            app=starlette_app, port=args.port, use_colors=False, host="127.0.0.1",
            log_level="warning",  # as the other bots under test: no access log
        )
    )  # fmt: skip
    async with application:
        await application.start()
        await webserver.serve()
        await application.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parse_args(__doc__)))

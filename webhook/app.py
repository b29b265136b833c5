"""The FastAPI application: built by a function so that tests can pass their own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI
from telegram import Bot

from bot.accounts.users import DEFAULT_PASSWORDS, Passwords
from bot.channels.web.chat import WebChat
from bot.clock import utcnow
from bot.funnel_rebuild import BackgroundRebuild
from bot.funnel_rebuild import prepare as funnel_prepare
from bot.retention import DailyPurge, Retention
from bot.settings import Settings
from bot.signing_key import load_signing_key
from bot.storage.database import open_database
from webhook import accessibility, embed, privacy, web
from webhook.access_log import AccessLog
from webhook.admin.mount import mount_admin
from webhook.api import calendar, chat, orient
from webhook.api_docs import mount_api_docs
from webhook.appointments.page import mount_appointment_links
from webhook.body_limit import BodyLimit
from webhook.channels.sms import SmsWebhook
from webhook.channels.telegram import TelegramWebhook
from webhook.channels.whatsapp import WhatsAppWebhook
from webhook.errors import install_error_handlers
from webhook.rate_limits import ChatLimits
from webhook.services import build_services
from webhook.strict_transport import StrictTransport


def create_app(
    settings: Settings,
    *,
    telegram_bot: Bot | None = None,
    background: bool = True,
    passwords: Passwords = DEFAULT_PASSWORDS,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The whole HTTP service for these settings (the database must be migrated already).

    The Telegram channel runs when a token is configured (or a bot is given, in tests);
    ``background=False`` leaves its workers to the caller, for step-by-step tests;
    ``passwords`` and ``clock`` serve the admin sign-in (tests give cheap or controlled ones).
    """
    signing_key = load_signing_key(settings)
    database = open_database(settings.database_url)
    services = build_services(
        settings, database, telegram_bot=telegram_bot, signing_key=signing_key
    )
    conversations, telegram = services.conversations, services.telegram
    whatsapp = services.whatsapp
    idle = timedelta(minutes=settings.web_session_idle_minutes)

    retention = Retention.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await conversations.prepare()
        # The funnel's stored stages, computed again if the flow's stages changed (or never
        # computed): in the background, the page says so meanwhile. An empty database (tests
        # without background) is up to date at once.
        funnel_stages = BackgroundRebuild(
            database, conversations.registry.current[conversations.flow_id]
        )
        if background:
            await funnel_stages.start()
        else:
            await funnel_prepare(database, funnel_stages.flow)
        if telegram is not None:
            await telegram.start(background=background)
        if whatsapp is not None:
            await whatsapp.start(background=background)
        await services.sms.start(background=background)
        purging = DailyPurge(database, retention) if background else None
        if purging is not None:
            purging.start()
        try:
            async with AsyncExitStack() as delivering:
                if background:
                    await delivering.enter_async_context(services.deliveries.running())
                    await delivering.enter_async_context(services.appointment_reminders.running())
                yield
        finally:
            if purging is not None:
                await purging.stop()
            await funnel_stages.stop()
            if telegram is not None:
                await telegram.stop()
            if whatsapp is not None:
                await whatsapp.stop()
            await services.sms.stop()
            await database.close()

    app = FastAPI(
        title="Aiguillage",
        description="Orientation assistant of PôleS: pre-screening rules, web chat and leads.",
        version="0.1.0",
        lifespan=lifespan,
        # Served by webhook/api_docs.py from a pinned package, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.signing_key = signing_key
    app.state.passwords = passwords
    app.state.clock = clock
    app.state.database = database
    app.state.conversations = conversations
    app.state.web_chat = WebChat(database, conversations, idle=idle)
    app.state.telegram = telegram
    app.state.whatsapp = whatsapp
    app.state.sms = services.sms
    app.state.handoff = services.handoff
    app.state.deliveries = services.deliveries
    app.state.chat_limits = ChatLimits.from_settings(settings)
    app.include_router(orient.router)
    app.include_router(chat.router)
    app.include_router(calendar.router)
    app.include_router(web.router)
    app.include_router(embed.router)
    app.include_router(privacy.router)
    app.include_router(accessibility.router)
    web.mount_static(app)
    mount_admin(app)
    mount_appointment_links(app, settings)
    mount_api_docs(app)
    install_error_handlers(app)
    # Inside the messengers' webhooks, which have their own limit for deliveries.
    app.add_middleware(BodyLimit)
    app.add_middleware(TelegramWebhook)
    app.add_middleware(WhatsAppWebhook)
    app.add_middleware(SmsWebhook)
    # Around the routes and the Telegram webhook, so that it times and records every request.
    app.add_middleware(AccessLog)
    if settings.public_url and settings.public_url.startswith("https://"):
        app.add_middleware(StrictTransport)
    return app

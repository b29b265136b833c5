"""Personal data is kept no longer than the privacy notice says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.conversations import ConversationService
from bot.flow_registry import FlowRegistry
from bot.retention import Retention, purge
from bot.storage.db import create_engine, create_session_factory
from bot.storage.models import (
    Conversation,
    Lead,
    OutboxMessage,
    TelegramUpdate,
    TranscriptEntry,
    WebhookDelivery,
    WebhookEndpoint,
)
from bot.storage.raw import open_raw_database
from bot.storage.types import utcnow
from flows.messages import Input
from webhook.cli import main


async def test_old_conversations_and_telegram_messages_are_erased(database_url: str) -> None:
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    database = open_raw_database(database_url)
    service = ConversationService(database, FlowRegistry())
    await service.prepare()
    for person in ("old", "recent"):
        await service.handle(channel="web", external_id=person, received=Input(command="start"))
        await service.handle(channel="web", external_id=person, received=Input(choice="yes"))
    long_ago = utcnow() - timedelta(days=91)
    async with factory() as session, session.begin():
        old = await session.scalar(select(Conversation).where(Conversation.external_id == "old"))
        assert old is not None
        old.updated_at = long_ago
        session.add(
            TelegramUpdate(
                update_id=1,
                chat_id=5,
                payload={"x": 1},
                received_at=long_ago,
                processed_at=long_ago,
            )
        )
        session.add(TelegramUpdate(update_id=2, chat_id=5, payload={"x": 2}))
        session.add(
            OutboxMessage(chat_id=5, method="sendMessage", payload={"text": "a"}, sent_at=long_ago)
        )
        session.add(OutboxMessage(chat_id=5, method="sendMessage", payload={"text": "b"}))
    async with factory() as session, session.begin():
        purged = await purge(session, Retention())
    async with factory() as session:
        people = (await session.scalars(select(Conversation.external_id))).all()
        transcripts = await session.scalar(select(func.count()).select_from(TranscriptEntry))
        updates = (await session.scalars(select(TelegramUpdate.update_id))).all()
        outbox = (await session.scalars(select(OutboxMessage.payload))).all()
    await engine.dispose()
    assert (purged.conversations, purged.telegram_updates, purged.outbox_messages) == (1, 1, 1)
    assert people == ["recent"]
    assert transcripts is not None
    assert transcripts > 0  # the recent one's transcript stays; the old one's went with it
    assert updates == [2]
    assert outbox == [{"text": "b"}]  # an unsent message is never purged


def test_the_purge_command_reports_what_it_erased(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.startswith("erased 0 conversations")


async def test_leads_outlive_their_conversation_and_old_webhook_bodies_are_emptied(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    long_ago, recently = utcnow() - timedelta(days=91), utcnow() - timedelta(days=2)
    async with factory() as session, session.begin():
        session.add(
            Conversation(
                id="c" * 32, channel="web", external_id="old", flow_id="prescreening",
                flow_version="1", state={}, updated_at=long_ago,
            )
        )  # fmt: skip
        await session.flush()
        session.add(
            Lead(
                id="l" * 32, conversation_id="c" * 32, channel="web", language="fr",
                profile={}, orientation={},
            )
        )  # fmt: skip
        session.add(WebhookEndpoint(id="e" * 32, name="CRM", url="https://x.example", secret="s"))
        await session.flush()
        for delivery_id, delivered_at in (
            ("msg_old", long_ago),
            ("msg_new", recently),
            ("msg_wait", None),
        ):  # noqa: E501
            session.add(
                WebhookDelivery(
                    id=delivery_id, endpoint_id="e" * 32, lead_id="l" * 32,
                    event_type="lead.created", body="{}", delivered_at=delivered_at,
                )
            )  # fmt: skip
    async with factory() as session, session.begin():
        purged = await purge(session, Retention())
    async with factory() as session:
        lead = await session.get(Lead, "l" * 32)
        bodies = dict(
            (await session.execute(select(WebhookDelivery.id, WebhookDelivery.body))).all()
        )
    await engine.dispose()
    assert purged.conversations == 1
    assert lead is not None  # the counsellors still follow it up
    assert lead.conversation_id is None
    assert purged.delivery_bodies == 1
    assert bodies == {"msg_old": None, "msg_new": "{}", "msg_wait": "{}"}

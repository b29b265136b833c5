"""Talking to the web chat API as a person would (/api/chat).

Tests name their people ("session-0123456789"); the server issues the real tokens. The
helpers remember the last token each name was given, and send it as a browser would.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from bot.channels.web.sessions import external_id_of
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.models import Conversation, Lead
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from webhook.app import create_app

SESSION = "session-0123456789"
# A person's name in a test → the token the server last gave them.
_tokens: dict[str, str] = {}


def token_of(session: str) -> str:
    """The token the server gave the person a test calls ``session``."""
    return _tokens[session]


def bearer(session: str) -> dict[str, str]:
    """The header a browser sends for this person (none before their first start)."""
    token = _tokens.get(session)
    return {"Authorization": f"Bearer {token}"} if token else {}


async def send(client: httpx.AsyncClient, session: str = SESSION, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/chat", json=body, headers=bearer(session))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    _tokens[session] = result["session"]
    return result


async def pushed(client: httpx.AsyncClient, session: str = SESSION, after: int = 0) -> Any:
    """What the page's polling gets: counsellor messages after an id."""
    response = await client.get(
        "/api/chat/messages", params={"after": after}, headers=bearer(session)
    )
    assert response.status_code == 200, response.text
    return response.json()


def last_question(reply: dict[str, Any]) -> dict[str, Any] | None:
    question: dict[str, Any] | None = reply["messages"][-1]["question"]
    return question


async def drive(
    client: httpx.AsyncClient, profile: dict[str, Any], session: str = SESSION, *, lang: str = "fr"
) -> tuple[dict[str, Any], list[str]]:
    """Answer every question from the profile until the conversation ends, as someone new."""
    _tokens.pop(session, None)
    reply = await send(client, session, command="start", payload="ML_POISSY")
    fields: list[str] = []
    orientation = None
    for _ in range(40):
        orientation = reply["orientation"] or orientation
        if reply["done"]:
            break
        question = last_question(reply)
        assert question is not None
        fields.append(question["field"])
        reply = await send(client, session, **answer_for(question, profile))
    assert reply["done"], f"not done after {fields}"
    assert orientation is not None
    return orientation, fields


async def become_a_lead(
    settings: Settings, profile: dict[str, Any], session: str = SESSION
) -> None:
    """Someone talks in the web chat of a service without background work, up to a lead."""
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as chat:
            await drive(chat, profile, session)


async def lead_of_session(database: Database, session: str) -> str:
    """The id of the lead a web chat session became."""
    async with database.transaction() as tx:
        lead_id = await tx.scalar(
            select(Lead.id)
            .join(Conversation, Conversation.id == Lead.conversation_id)
            .where(Conversation.external_id == external_id_of(token_of(session)))
        )
    assert lead_id is not None, f"no lead for {session}"
    return lead_id


async def web_chat_lead(
    app: FastAPI, session: str, profile: dict[str, Any] = SAMIR_IN_PANTIN
) -> str:
    """Someone who talks in the running app's web chat until they become a lead; its id."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chat") as chat:
        await drive(chat, profile, session)
    return await lead_of_session(app.state.database, session)

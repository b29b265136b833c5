"""The web chat channel: a browser's inputs applied on its session, and what it polls for.

The HTTP side (JSON bodies, headers, status codes) is webhook/api/chat.py; the session rules
(a server-made token, an idle limit) are sessions.py. Here: which conversation an input goes
to, and when an input begins someone new on a new token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.channels.web.sessions import (
    WEB_CHANNEL,
    LiveSession,
    external_id_of,
    live_session,
    new_token,
)
from bot.clock import utcnow
from bot.conversations.counsellor import Pushed, pushed_messages
from bot.conversations.service import ConversationService, Reply
from bot.storage.database import Database
from flows.inputs import fold
from flows.messages import Input

# After the end, these start someone new on a new session rather than reuse the old one.
RESTART_WORDS = ("recommencer", "restart")


class UnknownSession(LookupError):
    """The token is missing, made up, erased or idle for too long: it opens nothing."""


@dataclass(frozen=True)
class WebReply:
    """A reply, and the token the browser sends from now on (a new one after a start)."""

    token: str
    reply: Reply


def starts_someone_new(received: Input, session: LiveSession | None) -> bool:
    """Whether this input begins a new conversation, on a new token.

    A restart never reuses the token: whoever restarts on a shared browser is a new person,
    and their answers must not land in the previous person's conversation or lead.
    """
    if session is None or received.command == "restart":
        return True
    if not session.done:
        return False
    return received.choice == "restart" or fold(received.text or "") in RESTART_WORDS


class WebChat:
    """The web chat's conversations, on server-made session tokens."""

    def __init__(
        self, database: Database, service: ConversationService, *, idle: timedelta
    ) -> None:
        self.database = database
        self.service = service
        self.idle = idle

    async def session(self, token: str | None) -> LiveSession | None:
        """The live session of a token, or None."""
        async with self.database.transaction() as tx:
            return await live_session(tx, token, now=utcnow(), idle=self.idle)

    async def send(
        self, token: str | None, received: Input, *, language: str, source: str
    ) -> WebReply:
        """Apply an input on the token's session; a start without a live token begins one.

        ``source``: the browser's address, for the limits on leads. UnknownSession when the
        token opens nothing and the input does not start a conversation.
        """
        session = await self.session(token)
        if starts_someone_new(received, session):
            if session is None and received.command not in ("start", "restart"):
                raise UnknownSession
            token = new_token()
            # A partner's code (payload) is kept: the new conversation comes from the same link.
            received = Input(command="start", payload=received.payload)
        else:
            assert session is not None
            token = session.token
        reply = await self.service.handle(
            channel=WEB_CHANNEL,
            external_id=external_id_of(token),
            received=received,
            language=language,
            source=source,
        )
        return WebReply(token, reply)

    async def pushed(self, token: str | None, *, after: int) -> Pushed:
        """What counsellors wrote to the session since a transcript id (the page polls)."""
        session = await self.session(token)
        if session is None:
            raise UnknownSession
        async with self.database.transaction() as tx:
            return await pushed_messages(
                tx,
                self.service,
                channel=WEB_CHANNEL,
                external_id=session.external_id,
                after=after,
            )

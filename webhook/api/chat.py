"""POST /api/chat: the web chat's JSON API, one input in, the bot's messages out.

The session token is issued by the server on ``start`` and travels in the Authorization
header (``Bearer …``), never in a URL: see bot/channels/web/sessions.py for why and how long
it lives.
"""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Header, HTTPException, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.channels.web.chat import UnknownSession, WebChat
from bot.conversations.commands import typed_command
from flows.events import Event
from flows.i18n import Language
from flows.messages import Input
from flows.render import RenderedMessage, RenderedQuestion
from flows.rules import Orientation
from webhook.deps import LanguageDep, bearer_token
from webhook.errors import without_lone_surrogates
from webhook.rate_limits import ClientAddressDep, PollLimitDep, chat_limits

router = APIRouter(tags=["web chat"])
UNKNOWN_SESSION = (
    'session: unknown or expired session token; send {"command": "start"} without one'
    " to begin a new conversation"
)
AuthorizationHeader = Annotated[
    str | None, Header(description="Bearer <session token from a start reply>")
]
MAX_MESSAGE_ID = 2**31 - 1


class ChatRequest(BaseModel):
    """One input of the web chat: exactly one of text, choice, choices or command."""

    model_config = ConfigDict(extra="forbid")

    # A lone surrogate (half an emoji, cut by a client) is dropped: the person's message is kept.
    text: (
        Annotated[str, BeforeValidator(without_lone_surrogates), Field(max_length=4000)] | None
    ) = None
    choice: Annotated[str, Field(max_length=200)] | None = None
    choices: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)] | None = (
        None
    )
    command: Literal["start", "back", "restart", "human", "language"] | None = None
    payload: Annotated[str, Field(max_length=64)] | None = None

    @model_validator(mode="after")
    def _exactly_one_input(self) -> ChatRequest:
        given = [
            name
            for name in ("text", "choice", "choices", "command")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "send exactly one of text, choice, choices or command"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    def as_input(self) -> Input:
        return typed_command(
            Input(
                text=self.text,
                choice=self.choice,
                choices=tuple(self.choices) if self.choices is not None else None,
                command=self.command,
                payload=self.payload,
            )
        )


class ChatResponse(BaseModel):
    # The token to send back as "Authorization: Bearer …"; a new one after a (re)start.
    session: str
    messages: list[RenderedMessage]
    done: bool
    orientation: Orientation | None
    # The language the messages are written in ("fr", "en"): the page marks each one with it,
    # so that a screen reader reads it in the right voice.
    language: Language = "fr"
    # The person erased everything: the page forgets the token and the transcript.
    erased: bool = False


def unknown_session() -> HTTPException:
    return HTTPException(401, detail=UNKNOWN_SESSION, headers={"WWW-Authenticate": "Bearer"})


def web_chat(request: Request) -> WebChat:
    chat: WebChat = request.app.state.web_chat
    return chat


@router.post(
    "/api/chat",
    response_model=ChatResponse,
    summary="Send one input to the web chat",
    responses={401: {"description": "The session token is missing, unknown or expired"}},
)
async def chat(
    body: ChatRequest,
    request: Request,
    language: LanguageDep,
    address: ClientAddressDep,
    authorization: AuthorizationHeader = None,
) -> ChatResponse:
    """Apply an input to the session's conversation; ``start`` without a live token begins one."""
    repeats = chat_limits(request).replies
    token = bearer_token(authorization)
    if token is None or body.command == "back":
        return await _chat(body, request, language, address, token)
    fingerprint = f"{language} {body.model_dump_json()}"
    async with repeats.lock(token):
        repeated = repeats.repeated(token, fingerprint)
        if repeated is not None and _surely_a_repeat(body, cast(ChatResponse, repeated)):
            return cast(ChatResponse, repeated)
        response = await _chat(body, request, language, address, token)
        repeats.remember(token, fingerprint, response)
        return response


def _surely_a_repeat(body: ChatRequest, last: ChatResponse) -> bool:
    """Whether an input sent again at once (a double tap, a retry) cannot be meant anew.

    "back" twice is meant, and never gets here. A command again is a repeat. An answer is
    one only if the question now asked does not offer it: the same choice to a new question
    that offers it too ("Aucune" on two pages) may well be meant, and typed text always may.
    """
    if body.command is not None:
        return True
    question = last.messages[-1].question if last.messages else None
    offered = {c.value for c in question.choices} if question else set()
    if body.choice is not None:
        return body.choice not in offered
    if body.choices:
        return not set(body.choices) <= offered
    return False


async def _chat(
    body: ChatRequest, request: Request, language: Language, address: str, token: str | None
) -> ChatResponse:
    try:
        sent = await web_chat(request).send(
            token, body.as_input(), language=language, source=address
        )
    except UnknownSession:
        raise unknown_session() from None
    reply = sent.reply
    return ChatResponse(
        session=sent.token,
        messages=reply.messages,
        done=reply.done,
        orientation=reply.orientation,
        language=reply.language,
        erased=Event.ERASE_CONFIRMED in reply.events,
    )


class PushedMessage(BaseModel):
    id: int
    text: str


class PushedMessages(BaseModel):
    messages: list[PushedMessage]
    # A counsellor is talking with the person: the page says so, and the script waits.
    counsellor: bool
    # After a hand-back, the question asked again, with its buttons.
    question: RenderedQuestion | None = None


@router.get(
    "/api/chat/messages",
    response_model=PushedMessages,
    summary="Messages a counsellor wrote to this session since an id",
    responses={401: {"description": "The session token is missing, unknown or expired"}},
)
async def pushed(
    request: Request,
    _: PollLimitDep,
    authorization: AuthorizationHeader = None,
    # Transcript ids are 32-bit integers on PostgreSQL: a larger one cannot exist, and would
    # overflow the query.
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID)] = 0,
) -> PushedMessages:
    """The web page asks every few seconds: a web page cannot be written to first."""
    try:
        found = await web_chat(request).pushed(bearer_token(authorization), after=after)
    except UnknownSession:
        raise unknown_session() from None
    return PushedMessages(
        messages=[PushedMessage(id=i, text=t) for i, t in found.messages],
        counsellor=found.held,
        question=found.question,
    )

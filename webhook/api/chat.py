"""POST /api/chat: the web chat's JSON API, one input in, the bot's messages out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.conversations import ConversationService
from bot.counsellor_chat import pushed_messages
from bot.storage.raw import RawDatabase
from flows.messages import Input
from flows.render import RenderedMessage
from flows.rules import Orientation
from webhook.deps import LanguageDep
from webhook.errors import without_lone_surrogates

router = APIRouter(tags=["web chat"])
WEB_CHANNEL = "web"
MAX_MESSAGE_ID = 2**31 - 1


class ChatRequest(BaseModel):
    """One input of the web chat: exactly one of text, choice, choices or command."""

    model_config = ConfigDict(extra="forbid")

    session: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,128}$")]
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


class ChatResponse(BaseModel):
    messages: list[RenderedMessage]
    done: bool
    orientation: Orientation | None


@router.post("/api/chat", response_model=ChatResponse, summary="Send one input to the web chat")
async def chat(body: ChatRequest, request: Request, language: LanguageDep) -> ChatResponse:
    """Apply an input to the session's conversation; an unknown session starts a new one."""
    service: ConversationService = request.app.state.conversations
    reply = await service.handle(
        channel=WEB_CHANNEL,
        external_id=body.session,
        received=Input(
            text=body.text,
            choice=body.choice,
            choices=tuple(body.choices) if body.choices is not None else None,
            command=body.command,
            payload=body.payload,
        ),
        language=language,
    )
    return ChatResponse(messages=reply.messages, done=reply.done, orientation=reply.orientation)


class PushedMessage(BaseModel):
    id: int
    text: str


class PushedMessages(BaseModel):
    messages: list[PushedMessage]
    # A counsellor is talking with the person: the page says so, and the script waits.
    counsellor: bool


@router.get(
    "/api/chat/messages",
    response_model=PushedMessages,
    summary="Messages a counsellor wrote to this session since an id",
)
async def pushed(
    request: Request,
    session: Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{8,128}$")],
    # Transcript ids are 32-bit integers on PostgreSQL: a larger one cannot exist, and would
    # overflow the query.
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID)] = 0,
) -> PushedMessages:
    """The web page asks every few seconds: a web page cannot be written to first."""
    database: RawDatabase = request.app.state.database
    async with database.transaction() as tx:
        messages, held = await pushed_messages(
            tx, channel=WEB_CHANNEL, external_id=session, after=after
        )
    return PushedMessages(
        messages=[PushedMessage(id=i, text=t) for i, t in messages], counsellor=held
    )

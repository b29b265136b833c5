"""The console channel: a conversation in a terminal, stored like any other channel's."""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.conversations.commands import typed_command
from bot.conversations.service import ConversationService, Reply
from flows.messages import Input

CHANNEL = "console"
QUIT_WORDS = ("/quitter", "/quit", "/exit")


def parse_line(line: str) -> Input | None:
    """What a typed line means (commands as on every channel); None means quit."""
    text = line.strip()
    if text.split(" ", 1)[0] in QUIT_WORDS:
        return None
    return typed_command(Input(text=text))


def show(reply: Reply, out: TextIO) -> None:
    """Print a reply: texts, then numbered choices."""
    for message in reply.messages:
        out.write(f"\n🤖 {message.text}\n")
        question = message.question
        if question is None:
            continue
        for number, choice in enumerate(question.choices, start=1):
            out.write(f"   {number}. {choice.label}\n")
        if question.kind == "multi":
            # Several numbers at once; 0 is the question's own "none of these".
            if question.none:
                out.write(f"   0. {question.none}\n")
            out.write("   (1, 3…)\n")
    out.flush()


async def converse(
    service: ConversationService, session: str, language: str, stdin: TextIO, out: TextIO
) -> None:
    """Read lines until the person quits or input ends."""
    reply = await service.handle(
        channel=CHANNEL, external_id=session, received=Input(command="start"), language=language
    )
    show(reply, out)
    while True:
        out.write("\n> ")
        out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        received = parse_line(line)
        if received is None:
            break
        reply = await service.handle(channel=CHANNEL, external_id=session, received=received)
        show(reply, out)
    out.write(f"\nÀ bientôt ! (aiguillage chat --session {session} pour reprendre)\n")

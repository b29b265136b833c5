"""``aiguillage chat``: the same conversation in a terminal, stored like any other channel."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from typing import TextIO

from bot.conversations.commands import typed_command
from bot.conversations.service import ConversationService, Reply
from bot.services import conversation_service, flows_dir
from bot.settings import Settings, load_settings
from flows.i18n import LANGUAGES
from flows.messages import Input
from webhook.cli._database import announce_database, open_raw
from webhook.cli._output import emit
from webhook.cli.flows_cmd import check_flows_and_catalogue

CHANNEL = "console"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--session", help="resume this conversation (default: a new one)")
    parser.add_argument("--lang", choices=LANGUAGES, default="fr", help="language to start in")
    parser.set_defaults(handler=run)


def parse_line(line: str) -> Input | None:
    """What a typed line means (commands as on every channel); None means quit."""
    text = line.strip()
    if text.split(" ", 1)[0] in ("/quitter", "/quit", "/exit"):
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


async def _main(settings: Settings, session: str, language: str) -> None:
    async with open_raw(settings) as database:
        service = conversation_service(settings, database)
        await service.prepare()
        await converse(service, session, language, sys.stdin, sys.stdout)


def run(args: argparse.Namespace) -> int:
    session = args.session or f"console-{uuid.uuid4().hex[:12]}"
    settings = load_settings()
    check_flows_and_catalogue(flows_dir(settings))
    announce_database(settings)
    asyncio.run(_main(settings, session, args.lang))
    emit()
    return 0

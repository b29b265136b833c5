"""``aiguillage funnel rebuild``: compute every conversation's funnel stage again.

``serve`` does it in the background when it starts and finds the stages out of date (the
flow's questions changed, or a database from before the stages were kept); this command does
it now, in the same short batches, and says how many conversations it computed.
"""

from __future__ import annotations

import argparse
import asyncio

from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import DEFAULT_FLOW
from bot.funnel_rebuild import rebuild
from bot.settings import Settings, load_settings
from webhook.cli._database import announce_database, open_database
from webhook.cli._output import emit


def register(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rebuilding = actions.add_parser(
        "rebuild", help="compute the stored stages again if the flow's stages changed"
    )
    rebuilding.set_defaults(handler=run_rebuild)


async def _rebuild(settings: Settings) -> int:
    flow = FlowRegistry(settings.flow_folder).current[DEFAULT_FLOW]
    async with open_database(settings, batch_job=True) as database:
        return await rebuild(database, flow)


def run_rebuild(args: argparse.Namespace) -> int:
    settings = load_settings()
    announce_database(settings)
    computed = asyncio.run(_rebuild(settings))
    if computed:
        emit(f"computed the funnel stage of {computed} conversations")
    else:
        emit("the funnel stages were up to date")
    return 0

"""``aiguillage serve``: the HTTP service (web chat, APIs, Telegram webhook, admin)."""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

from bot.logs import configure_logging
from bot.settings import load_settings
from bot.storage.migrate import upgrade_embedded_database
from webhook.app import create_app
from webhook.cli._errors import CliError


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the HTTP service")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise CliError(f"--port: expected 1-65535, got {args.port}")
    settings = load_settings()
    configure_logging(settings.log_level)
    upgrade_embedded_database(settings.database_url)
    # Uvicorn's access line names the client's address and the query string (session
    # tokens): webhook.access_log writes one without them instead.
    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False
    )
    return 0

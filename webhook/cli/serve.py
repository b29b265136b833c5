"""``aiguillage serve``: the HTTP service (web chat, APIs, Telegram webhook, admin)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.logs import configure_logging
from bot.settings import load_settings
from webhook.app import create_app
from webhook.cli._database import check_database
from webhook.cli._errors import CliError
from webhook.cli.flows_cmd import check_flows_and_catalogue
from webhook.long_lived import freeze_after_start

logger = logging.getLogger(__name__)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise CliError(f"--port: expected 1-65535, got {args.port}")
    settings = load_settings()
    # Broken flow files, or a database with a wrong address or password, stop here with one
    # line each, not with a traceback in the server's start-up.
    check_flows_and_catalogue(settings.flow_folder)
    check_database(settings)
    configure_logging(settings.log_level)
    logger.info("database", extra={"database": settings.database_label})
    # Uvicorn's access line names the client's address and the query string (session
    # tokens): webhook.access_log writes one without them instead.
    uvicorn.run(
        freeze_after_start(create_app(settings)),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
    )
    return 0

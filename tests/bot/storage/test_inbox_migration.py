"""Migration 0010: the Telegram updates kept before it are in the one inbox after it, and back
again on a downgrade."""

from __future__ import annotations

import json

from alembic import command

from bot.clock import utcnow
from bot.storage.migrate import alembic_config
from tests.auxil.outside_loop import run_sql

UPDATE = {"update_id": 42, "message": {"chat": {"id": 5551234}, "text": "Bonjour"}}


def test_the_updates_kept_move_to_the_one_inbox_and_back(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0009")
    run_sql(
        database_url,
        "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at, processed_at,"
        " attempts) VALUES (42, 5551234, :payload, :now, NULL, 0)",
        {"payload": json.dumps(UPDATE), "now": utcnow()},
    )
    command.upgrade(config, "head")
    [row] = run_sql(
        database_url,
        "SELECT channel, delivery_id, chat_id, position, processed_at FROM inbox_updates",
    )
    # Still pending: the scan applies it after the upgrade, in its chat's order.
    assert dict(row) == {
        "channel": "telegram",
        "delivery_id": "42",
        "chat_id": 5551234,
        "position": 42,
        "processed_at": None,
    }
    command.downgrade(config, "0009")
    [back] = run_sql(database_url, "SELECT update_id, chat_id FROM telegram_updates")
    assert (back["update_id"], back["chat_id"]) == (42, 5551234)
    command.upgrade(config, "head")

"""What one address can do to the web chat in a bounded time: requests served, leads made.

    python -m bench.chat_abuse [--seconds 60] [--databases sqlite,postgresql] [--unlimited]

A script sends, as fast as the service answers, one conversation after another from a
single client address, each to the end as a lead (the web chat's API in this process, over
ASGI: no network, nothing leaves the machine). Printed per minute: answered requests, 429s,
leads recorded, leads held for review, deliveries queued and notices for the counsellors'
group. ``--unlimited`` sets every limit out of reach, to see what the limits prevent.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import _procs
from bot.clock import utcnow
from bot.settings import Settings, load_settings
from bot.storage.database import open_database
from bot.storage.migrate import upgrade_database
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from webhook.app import create_app

UNLIMITED = {
    "chat_address_per_minute": 100_000,
    "chat_session_per_minute": 100_000,
    "leads_per_address_per_hour": 100_000,
    "counsellor_notices_per_window": 1000,
}
GROUP = -1001


async def one_lead(http: httpx.AsyncClient, counts: dict[str, int]) -> None:
    """One conversation to the end; stops at the first refusal (the script tries again)."""
    body: dict[str, Any] = {"command": "start", "payload": "ML_POISSY"}
    headers: dict[str, str] = {}
    for _ in range(40):
        response = await http.post("/api/chat", json=body, headers=headers)
        if response.status_code == 429:
            counts["refused"] += 1
            return
        counts["served"] += 1
        reply = response.json()
        headers = {"Authorization": f"Bearer {reply['session']}"}
        question = reply["messages"][-1]["question"]
        if reply["done"] or question is None:
            return
        body = answer_for(question, SAMIR_IN_PANTIN)


async def run(settings: Settings, seconds: float) -> dict[str, float]:
    app = create_app(settings, background=False)
    # The group's notices are queued, never sent: no Telegram token, so no network at all.
    app.state.handoff.counsellor_chat_id = GROUP
    counts = {"served": 0, "refused": 0}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.66", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await one_lead(http, counts)
        async with app.state.database.transaction() as tx:
            leads = await tx.fetch("SELECT held_at FROM leads")
            deliveries = await tx.fetch("SELECT id FROM webhook_deliveries")
            notices = await tx.fetch(
                "SELECT id FROM outbox_messages WHERE chat_id = :group", {"group": GROUP}
            )
    per_minute = 60.0 / seconds
    return {
        "requests served": counts["served"] * per_minute,
        "requests refused (429)": counts["refused"] * per_minute,
        "leads": len(leads) * per_minute,
        "leads held": sum(1 for lead in leads if lead["held_at"]) * per_minute,
        "deliveries queued": len(deliveries) * per_minute,
        "group notices": len(notices) * per_minute,
    }


async def measure(kind: str, seconds: float, unlimited: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(folder) / 'abuse.db'}"
        else:
            url = await _procs.create_database(_procs.postgres_admin_url())
            url = url.replace("postgresql://", "postgresql+asyncpg://")
        await asyncio.to_thread(upgrade_database, url)
        settings = load_settings(
            environment="test",
            database_url=url,
            **(UNLIMITED if unlimited else {}),
        )
        database = open_database(settings.database_url)
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO referrers (code, name, created_at) VALUES ('ML_POISSY', 'ML', :now)",
                {"now": utcnow()},
            )
            await tx.execute(
                "INSERT INTO webhook_endpoints (id, url, name, secret, created_at) VALUES"
                " ('bench', 'https://crm.example/hook', 'CRM', 'whsec_x', :now)",
                {"now": utcnow()},
            )
        await database.close()
        return await run(settings, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--unlimited", action="store_true")
    args = parser.parse_args()
    for kind in args.databases.split(","):
        figures = asyncio.run(measure(kind, args.seconds, args.unlimited))
        label = "without limits" if args.unlimited else "with the default limits"
        print(f"{kind}, one address, {label}, per minute:")  # noqa: T201
        for name, value in figures.items():
            print(f"  {name:24} {value:8.0f}")  # noqa: T201


if __name__ == "__main__":
    main()

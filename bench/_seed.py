"""Real rows to copy: a few dozen people talk to the real web chat, then their rows are read.

The scale benchmark (bench/admin_scale.py) fills its database by copying these rows, so that
what the admin pages read has the shapes the engine really stores: states at every step of
the flow, transcripts, leads with their histories, lead webhooks, bookings. The people are the
product owner's personas (../shared/personas), each stopping at several questions, and going
on to the end; some leads are then moved through the counsellors' statuses.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.appointments.sessions import NewSession, add_session
from bot.clock import utcnow
from bot.settings import load_settings
from bot.storage.database import open_database
from bot.storage.migrate import upgrade_database
from flows.catalogue import PROGRAMME_IDS, default_catalogue
from tests.auxil.paths import PERSONAS_PATH
from tests.auxil.personas import SAMIR_IN_PANTIN, UnexpectedQuestion, answer_for
from webhook.app import create_app
from webhook.handoff.signing import new_secret

REFERRERS = ("ML_POISSY", "SALON_PANTIN", "AFFICHE_GONESSE", "FT_VITRY", "CAF_93")
# Nobody listens there: deliveries fail and are retried as they would be, on this machine only.
ENDPOINT_URL = "http://127.0.0.1:9/hook"
# Where people leave (None: they go to the end); each persona is run once per stop.
STOPS = (None, None, "consent", "age", "postal_code", "situation", "diploma_level", "phone")
# What counsellors then did with finished leads, in turn (the first is "new" already).
HISTORIES = (
    (),
    ("contacted",),
    ("contacted", "appointment"),
    ("contacted", "appointment", "enrolled"),
    ("contacted", "not_eligible"),
    ("unreachable",),
    ("contacted", "withdrawn"),
)
UNLIMITED = {
    "chat_address_per_minute": 100_000,
    "chat_session_per_minute": 100_000,
    "leads_per_address_per_hour": 100_000,
}
# The tables copied, with the rows of each (dicts of column to SQLite value).
TABLES = (
    "conversations",
    "transcript_entries",
    "leads",
    "lead_status_changes",
    "webhook_deliveries",
    "appointment_sessions",
    "appointment_bookings",
)


@dataclass
class Templates:
    """The seeded rows, by table; each a dict of column to the value SQLite stored."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, table: str) -> list[dict[str, Any]]:
        return self.rows.get(table, [])


def personas() -> list[dict[str, Any]]:
    """The personas' profiles; Samir alone when the shared folder is not beside the repo."""
    if not PERSONAS_PATH.exists():
        return [SAMIR_IN_PANTIN]
    return [p["profile"] for p in json.loads(PERSONAS_PATH.read_text(encoding="utf-8"))]


async def _talk(
    http: httpx.AsyncClient, profile: dict[str, Any], referrer: str | None, stop: str | None
) -> None:
    """One person on the web chat until asked `stop` (or to the end)."""
    body: dict[str, Any] = {"command": "start", "payload": referrer}
    headers: dict[str, str] = {}
    for _ in range(60):
        response = await http.post("/api/chat", json=body, headers=headers)
        response.raise_for_status()
        reply = response.json()
        headers = {"Authorization": f"Bearer {reply['session']}"}
        question = reply["messages"][-1]["question"] if reply["messages"] else None
        if reply["done"] or question is None or question["field"] == stop:
            return
        try:
            body = answer_for(question, profile)
        except UnexpectedQuestion:
            return  # a persona the flow asks something else: it leaves there, as people do
    raise RuntimeError("a seeded conversation did not end")


async def _seed(url: str) -> None:
    settings = load_settings(environment="test", database_url=url, **UNLIMITED)
    database = open_database(settings.database_url)
    now = utcnow()
    async with database.transaction() as tx:
        for code in REFERRERS:
            await tx.execute(
                "INSERT INTO referrers (code, name, created_at) VALUES (:code, :code, :now)",
                {"code": code, "now": now},
            )
        await tx.execute(
            "INSERT INTO webhook_endpoints (id, url, name, secret, created_at) VALUES"
            " ('bench', :url, 'CRM', :secret, :now)",
            {"url": ENDPOINT_URL, "secret": new_secret(), "now": now},
        )
        # Sessions open at every site, so that finished talks book one as people do.
        for site in default_catalogue().sites:
            new = NewSession(
                programmes=tuple(PROGRAMME_IDS), site=site.id, capacity=500,
                starts_at=now + timedelta(days=5), place="Salle 1",
            )  # fmt: skip
            await add_session(tx, new, created_by="bench@poles.example", now=now)
    await database.close()
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for number, profile in enumerate(personas()):
                for turn, stop in enumerate(STOPS):
                    referrer = REFERRERS[(number + turn) % len(REFERRERS)] if turn % 3 else None
                    await _talk(http, profile, referrer, stop)
        handoff = app.state.conversations.handoff
        async with app.state.database.transaction() as tx:
            leads = [row["id"] for row in await tx.fetch("SELECT id FROM leads ORDER BY id")]
            for number, lead_id in enumerate(leads):
                for status in HISTORIES[number % len(HISTORIES)]:
                    await handoff.change_status(
                        tx, lead_id, status, changed_by="camille@poles.example", now=utcnow()
                    )


def _read(path: Path) -> Templates:
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        rows = {
            table: [dict(row) for row in connection.execute(f"SELECT * FROM {table}")]  # noqa: S608
            for table in TABLES
        }
    finally:
        connection.close()
    return Templates(rows)


async def seed(work: Path) -> Templates:
    """Run the people on a fresh SQLite file in `work`; the rows they left."""
    path = work / "seed.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_database, url)
    await _seed(url)
    return _read(path)

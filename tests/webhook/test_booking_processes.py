"""Fifty people press for a twelve-seat session at once, through two ``aiguillage serve``
processes on one database: exactly twelve seats are taken, the others get the next date."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from bot.appointments import sessions
from bot.appointments.sessions import NewSession, SessionRecord
from bot.clock import utcnow
from bot.settings import Settings
from bot.storage.database import Database, open_database
from tests.auxil.personas import SAMIR_IN_PANTIN, answer_for
from tests.auxil.servers import unused_port
from tests.auxil.service_process import service, until_up
from tests.auxil.sessions import COUNSELLOR, bookings_of, session_now
from tests.auxil.web_chat import last_question, send

PEOPLE = 50
# Everyone writes from 127.0.0.1 here: the per-address limits would hold them back.
UNLIMITED = {
    "AIGUILLAGE_CHAT_ADDRESS_PER_MINUTE": "100000",
    "AIGUILLAGE_LEADS_PER_ADDRESS_PER_HOUR": "100000",
}


async def opened(database: Database, *, in_days: int, capacity: int) -> SessionRecord:
    now = utcnow()
    new = NewSession(
        programmes=("ecole_du_web",),
        site="pantin",
        starts_at=(now + timedelta(days=in_days)).replace(microsecond=0),
        capacity=capacity,
        place="12 rue Hoche, 93500 Pantin",
    )
    async with database.transaction() as tx:
        return await sessions.add_session(tx, new, created_by=COUNSELLOR, now=now)


async def up_to_the_dates(http: httpx.AsyncClient, person: str) -> dict[str, Any]:
    reply = await send(http, person, command="start")
    for _ in range(40):
        asked = last_question(reply)
        assert asked is not None
        if asked["field"] == "session":
            return asked
        reply = await send(http, person, **answer_for(asked, SAMIR_IN_PANTIN))
    raise AssertionError("no dates were offered")


async def test_fifty_people_through_two_processes_take_exactly_twelve_seats(
    settings: Settings,
) -> None:
    database = open_database(settings.database_url)
    first = await opened(database, in_days=3, capacity=12)
    later = await opened(database, in_days=10, capacity=60)
    ports = [unused_port(), unused_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    people = [f"person-{n}" for n in range(PEOPLE)]
    try:
        with (
            service(settings.database_url, ports[0], UNLIMITED),
            service(settings.database_url, ports[1], UNLIMITED),
        ):
            for url in urls:
                await until_up(url)
            async with (
                httpx.AsyncClient(base_url=urls[0], timeout=30) as a,
                httpx.AsyncClient(base_url=urls[1], timeout=30) as b,
            ):
                clients = [a, b]
                for n, person in enumerate(people):
                    asked = await up_to_the_dates(clients[n % 2], person)
                    assert [c["value"] for c in asked["choices"]] == [first.id, later.id, "none"]
                replies = await asyncio.gather(
                    *(
                        send(clients[n % 2], person, choice=first.id)
                        for n, person in enumerate(people)
                    )
                )
        assert (await session_now(database, first.id)).seats_taken == 12
        assert len(await bookings_of(database, first.id)) == 12
        booked = [r for r in replies if r["done"]]
        turned_away = [r for r in replies if not r["done"]]
        assert len(booked) == 12
        for reply in turned_away:
            texts = " ".join(m["text"] for m in reply["messages"])
            assert "la dernière place de cette date vient de partir" in texts
            asked = last_question(reply)
            assert asked is not None
            assert [c["value"] for c in asked["choices"]] == [later.id, "none"]
    finally:
        await database.close()

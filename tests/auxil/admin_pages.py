"""The admin view with something on every page, for the browser tests that visit them all.

Accounts of each role, a partner's endpoint that cannot be reached (deliveries waiting and
failing), a session at Pantin, and Samir, who came from the Mission locale of Poissy, booked it
and became a lead whose transcript is long enough to scroll and whose status changed twice.
Everything is made as people make it: the accounts and the endpoint as the command line would,
the rest over HTTP, through the web chat and the admin's forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from playwright.async_api import Page

from bot.accounts.users import Passwords, add_user
from bot.clock import PARIS, utcnow
from bot.settings import Settings
from bot.storage.database import open_database
from tests.auxil.admin_browser import COUNSELLOR, PASSWORD, csrf_of, sign_in
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.servers import unused_port
from tests.auxil.web_chat import drive, lead_of_session
from tests.auxil.webhook_receiver import register_endpoint

ADMIN = "admin@poles.example"
# A partner's account: Poissy's Mission locale, which sent Samir.
PARTNER = "ml-poissy@poles.example"
PERSON = "session-admin-pages"
# Counsellors' messages to Samir: with the conversation, more than the transcript's box holds.
REPLIES = [f"Message {n} de Camille : on se parle bientôt pour ton inscription." for n in range(8)]


@dataclass(frozen=True)
class AdminWorld:
    """What the admin pages show: the service's address and the ids to visit."""

    url: str
    lead_id: str
    session_id: str


async def add_staff(settings: Settings, passwords: Passwords) -> None:
    """ADMIN and PARTNER, and an endpoint nobody answers at, before the service runs."""
    database = open_database(settings.database_url)
    try:
        async with database.transaction() as tx:
            for email, role, referrers in (
                (ADMIN, "admin", []),
                (PARTNER, "partner", ["ML_POISSY"]),
            ):
                await add_user(
                    tx,
                    email=email,
                    password=PASSWORD,
                    role=role,
                    sites=[],
                    referrers=referrers,
                    now=utcnow(),
                    passwords=passwords,
                )
        # Nothing listens there: its deliveries wait, retried, with an error to show.
        await register_endpoint(
            database, f"http://127.0.0.1:{unused_port()}/hook", name="CRM de Poissy"
        )
    finally:
        await database.close()


async def fill_the_pages(url: str, settings: Settings) -> AdminWorld:
    """A session, Samir's booking and lead, two status changes and the counsellor's messages."""
    async with httpx.AsyncClient(base_url=url) as counsellor:
        response = await sign_in(counsellor, COUNSELLOR)
        assert response.status_code == 303, response.text
        starts = (utcnow() + timedelta(days=3)).astimezone(PARIS)
        opened = await counsellor.post(
            "/admin/sessions",
            data={
                "csrf_token": await csrf_of(counsellor, "/admin/sessions"),
                "programme": "ecole_du_web",
                "site": "pantin",
                "date": starts.strftime("%Y-%m-%d"),
                "time": "10:00",
                "duration": "60",
                "capacity": "12",
                "place": "12 rue Hoche, 93500 Pantin, salle 2",
            },
        )
        assert opened.status_code == 303, opened.text
        session_id = opened.headers["location"].split("/")[-1].split("?")[0]

        async with httpx.AsyncClient(base_url=url) as person:
            await drive(person, SAMIR_IN_PANTIN, PERSON)
        database = open_database(settings.database_url)
        try:
            lead_id = await lead_of_session(database, PERSON)
        finally:
            await database.close()

        token = await csrf_of(counsellor)
        for status in ("contacted", "appointment"):
            changed = await counsellor.post(
                f"/admin/leads/{lead_id}/status", data={"csrf_token": token, "status": status}
            )
            assert changed.status_code == 303, changed.text
        for body in REPLIES:
            sent = await counsellor.post(
                f"/admin/leads/{lead_id}/reply", data={"csrf_token": token, "body": body}
            )
            assert sent.status_code == 303, sent.text
    return AdminWorld(url, lead_id, session_id)


async def sign_in_with_the_form(page: Page, url: str, email: str, target: str) -> None:
    """Open ``target``, be sent to the login form, fill it and come back to ``target``."""
    await page.goto(url + target)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(f"**{target}")

"""A counsellor's day in a real browser (Debian's chromium, Playwright), against the real service.

A person talks in the web chat; a counsellor signs in, finds them, changes their status, adds a
note, writes to them through the bot and reads their answer, opens a partner's QR code and
exports the list. Screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from bot.accounts.users import Passwords
from bot.settings import Settings
from tests.auxil.admin_browser import COUNSELLOR, PASSWORD
from tests.auxil.chat_page import PHONE, converse
from tests.auxil.page_problems import Problems
from tests.auxil.paths import ARTIFACTS
from tests.auxil.servers import serve
from webhook.app import create_app

pytestmark = pytest.mark.browser

LAPTOP = ViewportSize(width=1280, height=900)
WAIT_MS = 15_000


@pytest.fixture
def live(chromium: Path, counsellor_and_poissy: Settings, passwords: Passwords) -> Iterator[str]:
    # The bot's name: the partners' page offers its t.me link and QR code.
    settings = counsellor_and_poissy.model_copy(update={"telegram_bot_username": "AiguillageBot"})
    # The conftest's cheap hasher: Argon2 would add half a second to the sign-in.
    with serve(create_app(settings, passwords=passwords)) as url:
        yield url


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)


async def test_a_counsellor_follows_up_a_person_from_sign_in_to_export(
    live: str, browser: Browser
) -> None:
    # The person, on a phone, sent by the Mission locale of Poissy.
    phone = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR"
    )
    person = await phone.new_page()
    person_problems = Problems()
    person_problems.watch(person)
    await person.goto(f"{live}/?start=ML_POISSY")
    await converse(person, person_problems)

    laptop = await browser.new_context(viewport=LAPTOP, locale="fr-FR", accept_downloads=True)
    page = await laptop.new_page()
    problems = Problems()
    problems.watch(page)

    # Signing in, sent back to the page first asked for.
    await page.goto(f"{live}/admin/leads?status=new")
    assert "/admin/login" in page.url
    await page.get_by_label("E-mail").fill(COUNSELLOR)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await shot(page, "login")
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/admin/leads?status=new")

    # Filtering the leads: by name, then by a status nobody has.
    await page.get_by_label("Prénom ou téléphone").fill("samir")
    await page.get_by_role("button", name="Filtrer").click()
    await page.get_by_role("link", name="Samir").first.wait_for()
    await shot(page, "leads")
    await page.get_by_label("Statut").select_option("enrolled")
    await page.get_by_role("button", name="Filtrer").click()
    await page.get_by_text("Aucun contact pour ces filtres.").wait_for()
    await page.get_by_role("link", name="Effacer les filtres").click()

    # The lead's page: status, note.
    await page.get_by_role("link", name="Samir").first.click()
    await page.get_by_role("heading", name="Coordonnées").wait_for()
    await page.locator('form[action$="/status"] select').select_option("contacted")
    await page.get_by_role("button", name="Changer le statut").click()
    await page.get_by_text("Statut enregistré.").wait_for()
    await page.get_by_label("Nouvelle note").fill("Appelée, rappeler jeudi matin.")
    await page.get_by_role("button", name="Ajouter la note").click()
    await page.get_by_text("Appelée, rappeler jeudi matin.").wait_for()

    # Writing to the person through the bot; their answer comes back on the lead page.
    await page.get_by_label("Écrire à la personne (via l'assistant)").fill(
        "Bonjour Samir, c'est Camille de PôleS. Quand es-tu disponible ?"
    )
    await page.get_by_role("button", name="Envoyer").click()
    await page.get_by_text("Message envoyé.").wait_for()
    await person.get_by_text("Quand es-tu disponible ?").wait_for(timeout=WAIT_MS)
    await person.get_by_test_id("text-input").fill("Demain matin ça me va !")
    await person.get_by_test_id("send-button").click()
    await person.wait_for_selector('#app[data-state="idle"], #app[data-state="done"]')
    await page.reload()
    await page.get_by_text("Demain matin ça me va !").wait_for()
    await shot(page, "lead")
    await page.get_by_role("button", name="Rendre la main à l'assistant").click()
    await page.get_by_text("L'assistant a repris la main.").wait_for()

    # A partner's QR code, to print.
    await page.get_by_role("link", name="Partenaires").click()
    await page.get_by_text("Mission locale de Poissy").wait_for()
    await shot(page, "referrers")
    poster = await page.context.new_page()
    await poster.goto(f"{live}/admin/referrers/ML_POISSY/poster")
    image = poster.locator("img.poster-qr").first
    await image.wait_for()
    assert await image.evaluate("img => img.complete && img.naturalWidth > 0")
    await shot(poster, "poster")

    # The export of the current list.
    await page.goto(f"{live}/admin/leads")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Exporter en CSV").click()
    download = await download_info.value
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][rows[0].index("first_name")] == "Samir"
    assert rows[1][rows[0].index("status")] == "Contacté"

    # A download ends its navigation on purpose: Chromium reports it as aborted, which
    # Problems leaves out (tests/auxil/page_problems.py).
    assert problems.found == []
    assert person_problems.found == []
    await laptop.close()
    await phone.close()

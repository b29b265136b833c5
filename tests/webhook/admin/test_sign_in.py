"""Signing in and out: sessions that really end, answers that reveal no account, a throttle
that slows guessers without locking the account's owner out, and chats that go on meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import URLSafeTimedSerializer

from bot.accounts.users import Passwords, add_user, set_disabled, set_password
from bot.settings import Settings
from tests.auxil.admin_browser import CSRF, PASSWORD, sign_in
from tests.auxil.clock import ManualClock
from tests.auxil.passwords import CountingHasher, HeldHasher
from tests.auxil.running_app import running
from webhook.app import create_app

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """The service's time, moved by the test."""
    return ManualClock(START)


@pytest.fixture
def service(admin_app: FastAPI) -> FastAPI:
    """The whole service (tests/webhook/admin/conftest.py), on this module's clock."""
    return admin_app


Browser = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def browser(service: FastAPI) -> AsyncIterator[Browser]:
    """``browser("203.0.113.7")``: a browser of its own at that address."""
    opened: list[httpx.AsyncClient] = []

    def open_at(address: str = "198.51.100.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=service, client=(address, 50000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(client)
        return client

    yield open_at
    for client in opened:
        await client.aclose()


async def is_signed_in(client: httpx.AsyncClient) -> bool:
    page = await client.get("/admin/leads")
    if page.status_code == 303:
        assert page.headers["location"].startswith("/admin/login")
        return False
    assert page.status_code == 200
    return True


async def test_a_cookie_signed_with_the_old_default_key_is_refused(
    service: FastAPI, browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    async with service.state.database.transaction() as tx:
        row = await tx.fetch_one("SELECT id FROM users WHERE email = :e", {"e": email})
    assert row is not None
    forger = browser()
    for payload in ({"u": row["id"], "c": "forged"}, "any-token"):
        for key in ("changethis", "change-me", "secret"):
            forged = URLSafeTimedSerializer(key, salt="admin-session").dumps(payload)
            forger.cookies.set("aiguillage_admin", forged, path="/admin")
            assert not await is_signed_in(forger)
            data = await forger.post("/admin/data/purge", data={"csrf_token": "forged"})
            assert data.status_code in (403, 404, 405)


async def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    counsellor = browser()
    assert (await sign_in(counsellor, email)).status_code == 303
    copied = counsellor.cookies["aiguillage_admin"]
    page = await counsellor.get("/admin/leads")
    token = CSRF.search(page.text)
    assert token is not None
    assert (
        await counsellor.post("/admin/logout", data={"csrf_token": token.group(1)})
    ).status_code == 303
    assert not await is_signed_in(counsellor)
    thief = browser("203.0.113.9")
    thief.cookies.set("aiguillage_admin", copied, path="/admin")
    assert not await is_signed_in(thief)


async def test_disabling_ends_every_session_for_good(
    service: FastAPI, browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    office, phone = browser(), browser("203.0.113.20")
    for client in (office, phone):
        assert (await sign_in(client, email)).status_code == 303
    async with service.state.database.transaction() as tx:
        await set_disabled(tx, email, now=START)
    assert not await is_signed_in(office)
    # Enabled again later, the account signs in anew: the old cookies stay dead.
    async with service.state.database.transaction() as tx:
        await tx.execute("UPDATE users SET disabled_at = NULL WHERE email = :e", {"e": email})
    assert not await is_signed_in(phone)
    assert (await sign_in(phone, email)).status_code == 303
    assert await is_signed_in(phone)


async def test_a_new_password_signs_out_who_had_the_old_one(
    service: FastAPI,
    browser: Browser,
    hasher: CountingHasher,
    account: Callable[..., Awaitable[str]],
) -> None:
    email = await account("admin")
    stolen = browser()
    assert (await sign_in(stolen, email)).status_code == 303
    async with service.state.database.transaction() as tx:
        await set_password(tx, email, "a brand new long password", passwords=Passwords(hasher))
    assert not await is_signed_in(stolen)
    assert (await sign_in(stolen, email)).status_code == 401
    assert (await sign_in(stolen, email, "a brand new long password")).status_code == 303


async def test_a_session_lasts_twelve_hours(
    browser: Browser, clock: ManualClock, account: Callable[..., Awaitable[str]]
) -> None:
    client = browser()
    assert (await sign_in(client, await account("admin"))).status_code == 303
    clock.now += timedelta(hours=11, minutes=59)
    assert await is_signed_in(client)
    clock.now += timedelta(minutes=2)
    assert not await is_signed_in(client)


async def test_every_sign_in_costs_one_password_check_whatever_the_account(
    service: FastAPI,
    browser: Browser,
    hasher: CountingHasher,
    account: Callable[..., Awaitable[str]],
) -> None:
    email = await account("admin")
    disabled = await account("admin")
    async with service.state.database.transaction() as tx:
        await set_disabled(tx, disabled, now=START)
    cases = [
        ("nobody@poles.example", PASSWORD, 401),
        (disabled, PASSWORD, 401),
        (email, "not the password", 401),
        (email, PASSWORD, 303),
    ]
    for number, (who, password, expected) in enumerate(cases):
        client = browser(f"198.51.100.{number + 10}")
        before = hasher.verified
        response = await sign_in(client, who, password)
        assert response.status_code == expected, who
        assert hasher.verified - before == 1, who
        if expected == 401:
            # The same words whether the address is unknown, disabled or the password wrong.
            assert "E-mail ou mot de passe incorrect." in response.text


async def test_chats_are_answered_while_a_password_is_being_checked(
    settings: Settings,
) -> None:
    held = HeldHasher()
    app = create_app(settings, background=False, passwords=Passwords(held))
    async with running(app) as client:
        signing_in = asyncio.create_task(sign_in(client, "nobody@poles.example"))
        assert await asyncio.to_thread(held.started.wait, 10)
        # The check is running, held: the service still answers a visitor of the chat.
        chat = await client.get("/")
        assert chat.status_code == 200
        assert not signing_in.done()
        held.release.set()
        assert (await signing_in).status_code == 401


async def test_wrong_passwords_from_one_place_do_not_lock_the_owner_out(
    browser: Browser, clock: ManualClock, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("counsellor", sites=["pantin"])
    attacker = browser("203.0.113.66")
    for _ in range(5):
        assert (await sign_in(attacker, email, "a guess of some sort")).status_code == 401
    # The guesser waits, even with the right password...
    held = await sign_in(attacker, email)
    assert held.status_code == 429
    assert "Trop de tentatives" in held.text
    assert "aiguillage_admin" not in held.headers.get("set-cookie", "")
    # ...while the counsellor, at the office, signs in.
    assert (await sign_in(browser("198.51.100.5"), email)).status_code == 303
    # After the window, the guesser's place is free again.
    clock.now += timedelta(minutes=15, seconds=1)
    assert (await sign_in(attacker, email)).status_code == 303


async def test_one_place_trying_many_accounts_is_held_back(
    browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    spray = browser("203.0.113.77")
    for number in range(20):
        answer = await sign_in(spray, f"guess{number}@poles.example", "Password2026!")
        assert answer.status_code == 401
    assert (await sign_in(spray, email)).status_code == 429
    assert (await sign_in(browser("198.51.100.6"), email)).status_code == 303


async def test_one_home_s_ipv6_network_trying_many_accounts_is_held_back(
    browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    # One subscriber holds a whole /64: a new address for every guess is still one place.
    email = await account("admin")
    for number in range(20):
        spray = browser(f"2001:db8:1:2::{number + 1:x}")
        answer = await sign_in(spray, f"guess{number}@poles.example", "Password2026!")
        assert answer.status_code == 401
    assert (await sign_in(browser("2001:db8:1:2::ff"), email)).status_code == 429
    assert (await sign_in(browser("2001:db8:1:3::1"), email)).status_code == 303


async def test_many_places_guessing_one_account_are_held_back_at_a_much_higher_count(
    browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    for place in range(25):  # 25 addresses, 4 guesses each: 100 failures, none over its own limit
        client = browser(f"203.0.113.{place + 100}")
        for _ in range(4):
            assert (await sign_in(client, email, "a guess of some sort")).status_code == 401
    assert (await sign_in(browser("198.51.100.7"), email)).status_code == 429


async def test_a_success_forgives_the_owners_own_slips(
    browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    owner = browser()
    for _ in range(4):
        assert (await sign_in(owner, email, "mistyped password")).status_code == 401
    assert (await sign_in(owner, email)).status_code == 303
    owner.cookies.clear()
    for _ in range(4):
        assert (await sign_in(owner, email, "mistyped again....")).status_code == 401
    assert (await sign_in(owner, email)).status_code == 303


async def test_a_mangled_cookie_is_the_sign_in_page_never_an_error(browser: Browser) -> None:
    client = browser()
    for value in ("garbage", "a.b.c", "x" * 4000, '"quoted"', "e30.ZZZZ.bad"):
        client.cookies.set("aiguillage_admin", value, path="/admin")
        assert not await is_signed_in(client), value
        assert (await client.get("/admin/login")).status_code == 200


async def test_behind_a_trusted_proxy_each_person_is_throttled_at_their_own_address(
    settings: Settings, hasher: CountingHasher
) -> None:
    behind_proxy = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    app = create_app(behind_proxy, background=False, passwords=Passwords(hasher))
    async with app.router.lifespan_context(app):
        async with app.state.database.transaction() as tx:
            await add_user(
                tx,
                email="sam@poles.example",
                password=PASSWORD,
                role="admin",
                sites=[],
                referrers=[],
                now=START,
                passwords=Passwords(hasher),
            )
        transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as proxy:
            proxy.headers["x-forwarded-for"] = "203.0.113.66"
            for _ in range(5):
                assert (await sign_in(proxy, "sam@poles.example", "a guess")).status_code == 401
            assert (await sign_in(proxy, "sam@poles.example")).status_code == 429
            # Another person through the same proxy is not held back by the guesser.
            proxy.cookies.clear()
            proxy.headers["x-forwarded-for"] = "198.51.100.5"
            assert (await sign_in(proxy, "sam@poles.example")).status_code == 303


async def test_guesses_sent_all_at_once_are_checked_no_more_than_the_limit(
    settings: Settings, account: Callable[..., Awaitable[str]]
) -> None:
    # The password check takes a while off the loop: guesses sent together used to find the
    # count still low, and all were checked.
    email = await account("admin")
    held = HeldHasher()
    app = create_app(settings, background=False, passwords=Passwords(held))
    async with running(app, client=("203.0.113.88", 50000)) as client:
        guesses = [
            asyncio.create_task(sign_in(client, email, f"guess number {n}")) for n in range(12)
        ]
        assert await asyncio.to_thread(held.started.wait, 10)
        held.release.set()
        answers = [response.status_code for response in await asyncio.gather(*guesses)]
    assert answers.count(401) == 5
    assert answers.count(429) == 7
    assert held.verified == 5


async def test_a_success_does_not_count_against_the_account_or_the_place(
    browser: Browser, account: Callable[..., Awaitable[str]]
) -> None:
    email = await account("admin")
    office = browser("198.51.100.9")
    for _ in range(25):  # more than the address's limit of 20, had successes counted
        assert (await sign_in(office, email)).status_code == 303
        office.cookies.clear()

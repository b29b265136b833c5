"""Using the admin view as a browser would: signing in through the form, reading CSRF tokens."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx

from tests.auxil.personas import SAMIR_IN_PANTIN

PASSWORD = "correct horse battery staple"
# The counsellor of Pantin the browser tests sign in as (``counsellor_and_poissy``).
COUNSELLOR = "camille@poles.example"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The person whose lead the admin tests look at.
PROFILE = SAMIR_IN_PANTIN
# The admin tests' ``account`` fixture: ``await account("counsellor", sites=["pantin"])``.
Account = Callable[..., Awaitable[str]]


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Sign in as a browser would: the form's CSRF token, then the post."""
    page = await client.get("/admin/login")
    token = CSRF.search(page.text)
    assert token is not None, page.text
    return await client.post(
        "/admin/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
    )


async def csrf_of(client: httpx.AsyncClient, path: str = "/admin/leads") -> str:
    """The session's CSRF token, as found in a page's forms."""
    page = await client.get(path)
    token = CSRF.search(page.text)
    assert token is not None, page.text
    return token.group(1)

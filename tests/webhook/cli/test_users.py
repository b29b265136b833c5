"""``aiguillage users``: the accounts of the admin view, created without a password in argv."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.accounts.users import Passwords
from bot.settings import Settings
from tests.auxil.admin_browser import PASSWORD, sign_in
from tests.auxil.passwords import CountingHasher
from tests.auxil.running_app import running
from webhook.app import create_app
from webhook.cli import main

# Argon2 costs a quarter of a second a hash by design: the commands take a cheap one here.
CHEAP = Passwords(CountingHasher())


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", settings.database_url)


def users(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run ``aiguillage users …`` with this on standard input: status, stdout, stderr."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(["users", *argv], passwords=CHEAP)
    out, err = capsys.readouterr()
    return status, out, err


def listed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    status, out, _ = users(monkeypatch, capsys, "list")
    assert status == 0
    return [line for line in out.splitlines() if "\t" in line]


def test_accounts_are_added_listed_and_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = users(monkeypatch, capsys, "list")
    assert status == 0
    assert out == "no account yet: aiguillage users add EMAIL --role admin --password-stdin\n"
    added = [
        ("Camille@Poles.example", ["--role", "admin"]),
        ("sam@poles.example", ["--role", "counsellor", "--site", "pantin", "--site", "gonesse"]),
        ("ml@poissy.example", ["--role", "partner", "--referrer", "ML_POISSY"]),
    ]
    for email, options in added:
        status, out, err = users(
            monkeypatch, capsys, "add", email, *options, "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert (status, err) == (0, "")
        assert out.startswith(f"account {email.lower()} added: ")
    assert listed(monkeypatch, capsys) == [
        "camille@poles.example\tadmin\tall leads\tactive",
        "ml@poissy.example\tpartner\treferrers ML_POISSY\tactive",
        "sam@poles.example\tcounsellor\tsites pantin, gonesse\tactive",
    ]
    status, out, _ = users(monkeypatch, capsys, "disable", "SAM@poles.example")
    assert status == 0
    assert out.startswith("account sam@poles.example disabled")
    sam = [line for line in listed(monkeypatch, capsys) if line.startswith("sam@")]
    assert sam[0].split("\t")[3].startswith("disabled since ")
    # Disabling twice changes nothing, and says nothing wrong.
    assert users(monkeypatch, capsys, "disable", "sam@poles.example")[0] == 0


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (
            ["add", "a@poles.example", "--role", "admin", "--password-stdin"],
            "too short\n",
            "password: expected at least 12 characters",
        ),
        (
            ["add", "a@poles.example", "--role", "counsellor", "--site", "nowhere",
             "--password-stdin"],
            PASSWORD,
            "--site 'nowhere': expected one of villeneuve-la-garenne, poissy, pantin",
        ),
        (
            ["add", "a@poles.example", "--role", "counsellor", "--password-stdin"],
            PASSWORD,
            "a counsellor needs at least one --site",
        ),
        (
            ["add", "a@poles.example", "--role", "partner", "--password-stdin"],
            PASSWORD,
            "a partner needs at least one --referrer",
        ),
        (
            ["add", "a@poles.example", "--role", "admin", "--site", "pantin", "--password-stdin"],
            PASSWORD,
            "an admin sees everything: no --site nor --referrer",
        ),
        (
            ["add", "a@poles.example", "--role", "boss", "--password-stdin"],
            PASSWORD,
            "--role 'boss': expected one of admin, counsellor, partner",
        ),
        (
            ["add", "not-an-address", "--role", "admin", "--password-stdin"],
            PASSWORD,
            "e-mail 'not-an-address': expected an address",
        ),
        (
            ["add", "a@poles.example", "--role", "admin"],
            PASSWORD,
            "add --password-stdin and give the password on standard input (never on the"
            " command line)",
        ),
        (["disable", "nobody@poles.example"], "", "no account for nobody@poles.example"),
    ],
)  # fmt: skip
def test_wrong_input_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    status, out, err = users(monkeypatch, capsys, *argv, stdin=stdin)
    assert status == 2
    assert out == ""
    assert err.startswith(f"aiguillage users: {message}")
    assert err.count("\n") == 1
    assert listed(monkeypatch, capsys) == []


def test_an_address_has_one_account(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("add", "camille@poles.example", "--role", "admin", "--password-stdin")
    assert users(monkeypatch, capsys, *argv, stdin=PASSWORD)[0] == 0
    again = ("add", "CAMILLE@poles.example", "--role", "admin", "--password-stdin")
    status, _, err = users(monkeypatch, capsys, *again, stdin="another long password\n")
    assert status == 2
    assert err == "aiguillage users: camille@poles.example already has an account\n"
    assert len(listed(monkeypatch, capsys)) == 1


def test_no_password_option_exists(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        users(monkeypatch, capsys, "add", "a@poles.example", "--role", "admin", "--password", "x")
    assert stopped.value.code == 2
    assert listed(monkeypatch, capsys) == []


def test_a_disabled_account_can_no_longer_sign_in(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    email = "camille@poles.example"
    argv = ("add", email, "--role", "admin", "--password-stdin")
    # The password is read as typed: inner spaces are part of it.
    assert users(monkeypatch, capsys, *argv, stdin=PASSWORD + "\n")[0] == 0

    async def browse() -> None:
        async with running(create_app(settings, background=False, passwords=CHEAP)) as c:
            assert (await sign_in(c, email)).status_code == 303
            assert (await c.get("/admin/data")).status_code == 200
            disabled = await asyncio.to_thread(main, ["users", "disable", email], passwords=CHEAP)
            assert disabled == 0
            # Out at the next click, and no way back in.
            page = await c.get("/admin/data")
            assert page.status_code == 303
            assert page.headers["location"].startswith("/admin/login")
            assert (await sign_in(c, email)).status_code == 401

    asyncio.run(browse())


def test_a_new_password_signs_out_every_session_of_the_account(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    email = "camille@poles.example"
    new_password = "another long passphrase"
    argv = ("add", email, "--role", "admin", "--password-stdin")
    assert users(monkeypatch, capsys, *argv, stdin=PASSWORD + "\n")[0] == 0
    status, out, err = users(
        monkeypatch, capsys, "password", email, "--password-stdin", stdin="short\n"
    )
    assert status == 2
    assert err.endswith("aiguillage users: password: expected at least 12 characters\n")
    status, _, err = users(
        monkeypatch,
        capsys,
        "password",
        "nobody@poles.example",
        "--password-stdin",
        stdin=new_password,
    )
    assert status == 2
    assert "no account for nobody@poles.example" in err

    async def browse() -> None:
        async with running(create_app(settings, background=False, passwords=CHEAP)) as c:
            assert (await sign_in(c, email)).status_code == 303
            assert (await c.get("/admin/leads")).status_code == 200
            monkeypatch.setattr("sys.stdin", io.StringIO(new_password + "\n"))
            changed = await asyncio.to_thread(
                main, ["users", "password", email, "--password-stdin"], passwords=CHEAP
            )
            assert changed == 0
            # The session opened with the old password is over.
            page = await c.get("/admin/leads")
            assert page.status_code == 303
            assert page.headers["location"].startswith("/admin/login")
            assert (await sign_in(c, email)).status_code == 401
            assert (await sign_in(c, email, new_password)).status_code == 303

    asyncio.run(browse())
    assert "password of camille@poles.example changed" in capsys.readouterr().out

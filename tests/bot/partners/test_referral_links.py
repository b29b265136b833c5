"""The links a partner shares, by channel: which are offered, and with what."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from bot.partners.referral_links import ReferralLinks, links, referral_links
from bot.partners.whatsapp_link import referral_code_in
from bot.settings import Settings, load_settings

# The WhatsApp channel's four settings: with them, the channel is on.
WHATSAPP_ON = {
    "whatsapp_token": "EAAtest",
    "whatsapp_phone_number_id": "106540352242922",
    "whatsapp_app_secret": "test-app-secret",
    "whatsapp_verify_token": "test-verify-token",
}


@pytest.fixture(autouse=True)
def _no_developer_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name in ("PUBLIC_URL", "WHATSAPP_NUMBER", *(key.upper() for key in WHATSAPP_ON)):
        monkeypatch.delenv(f"AIGUILLAGE_{name}", raising=False)


def settings(**values: object) -> Settings:
    return load_settings(environment="test", public_url="https://aiguillage.example", **values)


def test_with_whatsapp_on_and_its_number_a_code_has_a_link_on_every_channel() -> None:
    found = referral_links(
        settings(**WHATSAPP_ON, whatsapp_number="33612345678"), "AiguillageBot", "ML_POISSY"
    )
    assert found.telegram == "https://t.me/AiguillageBot?start=ML_POISSY"
    assert found.web_chat == "https://aiguillage.example/?start=ML_POISSY"
    assert found.whatsapp is not None
    assert found.whatsapp.startswith("https://wa.me/33612345678?text=Bonjour")
    assert list(found.by_channel()) == ["telegram", "web", "whatsapp"]
    assert found.of("whatsapp") == found.whatsapp
    assert found.of("sms") is None
    # The command line prints them in that order.
    assert links(
        settings(**WHATSAPP_ON, whatsapp_number="33612345678"), "AiguillageBot", "ML_POISSY"
    ) == [found.telegram, found.web_chat, found.whatsapp]


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({}, id="channel off"),
        pytest.param({"whatsapp_number": "33612345678"}, id="number but channel off"),
        pytest.param(WHATSAPP_ON, id="channel on without its number"),
    ],
)
def test_no_whatsapp_link_unless_the_channel_is_on_and_its_number_known(
    values: dict[str, object],
) -> None:
    found = referral_links(settings(**values), "AiguillageBot", "ML_POISSY")
    assert found.whatsapp is None
    assert "whatsapp" not in found.by_channel()
    assert not any("wa.me" in link for link in links(settings(**values), None, "ML_POISSY"))


def test_the_whatsapp_link_carries_its_own_code() -> None:
    configured = settings(**WHATSAPP_ON, whatsapp_number="33612345678")
    for code in ("ML_POISSY", "SALON"):
        link = referral_links(configured, None, code).whatsapp
        assert link is not None
        assert referral_code_in(unquote(link)) == code


def test_without_a_bot_name_or_an_address_only_what_is_known_is_offered() -> None:
    bare = load_settings(environment="test")
    assert referral_links(bare, None, "ML_POISSY") == ReferralLinks()
    assert links(bare, None, "ML_POISSY") == []
    served = referral_links(bare, None, "ML_POISSY", served_at="http://127.0.0.1:8000/")
    assert served == ReferralLinks(web_chat="http://127.0.0.1:8000/?start=ML_POISSY")

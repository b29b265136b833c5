"""AIGUILLAGE_EMBED_ORIGINS: which partners' sites may show the chat, refused when mistyped."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.partners.embedding import embed_snippet
from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _no_developer_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIGUILLAGE_EMBED_ORIGINS", raising=False)


def test_by_default_any_https_site_and_a_webmasters_own_computer() -> None:
    assert load_settings().embed_origins == "https: http://localhost:* http://127.0.0.1:*"


@pytest.mark.parametrize(
    ("value", "sources"),
    [
        ("https://www.ml-bondy.fr", "https://www.ml-bondy.fr"),
        # Copied from the address bar, with commas between: understood all the same.
        (
            "https://www.ml-bondy.fr/, https://*.Ville-Pantin.fr:8443",
            "https://www.ml-bondy.fr https://*.ville-pantin.fr:8443",
        ),
        ("http://localhost:8000 https:", "http://localhost:8000 https:"),
        ("'none'", "'none'"),
    ],
)
def test_origins_become_the_frame_ancestors_sources(value: str, sources: str) -> None:
    assert load_settings(embed_origins=value).embed_origins == sources


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://www.ml-bondy.fr", "only https:// sites may show the chat"),
        ("https://www.ml-bondy.fr/contact", "is not an origin"),
        ("www.ml-bondy.fr", "is not an origin"),
        ("*", "is not an origin"),
        ("https://a.fr; script-src *", "is not an origin"),
        ("https://a.fr:70000", "the port must be between 1 and 65535"),
        ("'none' https://a.fr", "'none' (no site may show the chat) goes alone"),
    ],
)
def test_a_wrong_origin_stops_the_start_and_is_named(value: str, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(embed_origins=value)
    assert str(refused.value).startswith("AIGUILLAGE_EMBED_ORIGINS: ")
    assert says in str(refused.value)


def test_the_snippet_cannot_be_broken_by_a_code_or_an_address() -> None:
    assert embed_snippet("https://chat.poles.example/", "ML-BONDY") == (
        '<script src="https://chat.poles.example/embed.js" data-code="ML-BONDY" async></script>'
    )
    assert '"><' not in embed_snippet('https://x.example/"><b', 'a"><b')

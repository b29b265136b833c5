"""The map link under a session's place: it must open on the place itself, whatever it holds."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.appointments.map_link import map_link


@pytest.mark.parametrize(
    "place",
    [
        "PôleS Pantin, 12 rue Hoche, 93500 Pantin",
        "Salle 2 & 3 #B, 5 bis av. de la République? 93200 Saint-Denis",
        "Maison des associations + Café 100% solidaire / étage 1",
    ],
)
def test_the_search_asks_openstreetmap_for_the_whole_place(place: str) -> None:
    link = map_link(place)

    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.openstreetmap.org", "/search")
    assert parse_qs(parts.query) == {"query": [place]}
    assert parts.fragment == ""


def test_the_link_is_one_word_a_messenger_makes_clickable_whole() -> None:
    link = map_link("12 rue Hoche\n93500   Pantin")

    assert link == "https://www.openstreetmap.org/search?query=12%20rue%20Hoche%2093500%20Pantin"
    assert link.isascii()
    assert not any(character.isspace() for character in link)

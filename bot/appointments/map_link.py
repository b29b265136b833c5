"""A map link for a session's place, so that a person can find the building from the message.

OpenStreetMap rather than a commercial map: no key, no tracking parameters, and its search
page opens on any phone's browser (and in map apps that read osm.org links).
"""

from __future__ import annotations

from urllib.parse import quote

SEARCH_URL = "https://www.openstreetmap.org/search?query="


def map_link(place: str) -> str:
    """OpenStreetMap's search for the place: ``https://www.openstreetmap.org/search?query=…``.

    Everything but letters and digits is percent-encoded (UTF-8), spaces as ``%20``: a place
    may hold ``&``, ``#``, ``+`` or ``?`` ("Salle 2 & 3, 12 bis rue …"), which would otherwise
    end or change the query. Line breaks and runs of spaces become one space.
    """
    one_line = " ".join(place.split())
    return SEARCH_URL + quote(one_line, safe="")

"""Names as counsellors type them: without accents or case, so that "ines" finds "Inès".

The key is stored beside the name (``leads.first_name_key``), so that the search is one
``LIKE`` on SQLite and PostgreSQL alike, with no collation or extension to install.
"""

from __future__ import annotations

import unicodedata

# The length of leads.first_name_key. NFKD spells some characters out at length (U+FDFA is
# 18 letters): a 60-character name's key can outgrow it, so keys are cut to fit.
MAX_KEY_LENGTH = 120
# Letters that no Unicode decomposition splits, spelt out as French people type them.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def search_key(text: str) -> str:
    """Lower case, accents dropped, ligatures spelt out: ``Lætitia-Inès`` → ``laetitia-ines``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

"""Typed commands (``/retour``, ``/langue en``…) understood the same on every channel."""

from __future__ import annotations

from flows.messages import Input

# French names are the ones in the Telegram menu; English names work as well.
TYPED_COMMANDS = {
    "start": "start",
    "retour": "back",
    "back": "back",
    "recommencer": "restart",
    "restart": "restart",
    "conseiller": "human",
    "human": "human",
    "langue": "language",
    "language": "language",
    "mes_donnees": "my_data",
    "my_data": "my_data",
    "supprimer": "erase",
    "delete": "erase",
}


def typed_command(received: Input) -> Input:
    """A text such as ``/retour`` becomes the command it names; anything else is unchanged."""
    text = (received.text or "").strip()
    if not text.startswith("/"):
        return received
    word, _, rest = text[1:].partition(" ")
    # Telegram appends the bot's name in groups: /retour@AiguillageBot.
    name = TYPED_COMMANDS.get(word.split("@", 1)[0].casefold())
    if name is None:
        return received
    return Input(command=name, payload=rest.strip() or None)

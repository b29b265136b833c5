"""Which chats may have a message left to the sender's loop, so that their next replies queue
behind it instead of overtaking it.

A step's replies are sent at once by the process that made them; a reply left to the loop (a
retry, a step's replies queued during a backlog) must still go before the chat's later ones.
Asking the database before every reply would cost a query per step; this remembers the chats
for which the question is worth asking. It may say "maybe" wrongly (the database answers), never
"no" wrongly: past ``limit`` chats it stops naming them and says "maybe" for every chat, until
the loop has found the outbox empty. Memory stays bounded whatever the backlog.
"""

from __future__ import annotations

# Chats named before "maybe" is answered for all of them (a few hundred KB at most).
MAX_NAMED_CHATS = 10_000


class ChatsBehind:
    """Chats that may have an older message waiting for the sender's loop."""

    def __init__(self, limit: int = MAX_NAMED_CHATS) -> None:
        self.limit = limit
        self._chats: set[int] = set()
        self._all = False
        # Counts additions: the loop forgets only what was added before it looked.
        self.generation = 0

    def add(self, chat_id: int) -> None:
        """A message of the chat was left to the loop (call it once the row says so)."""
        self.generation += 1
        if self._all:
            return
        if len(self._chats) >= self.limit:
            self._chats.clear()
            self._all = True
            return
        self._chats.add(chat_id)

    def may_have_older(self, chat_id: int) -> bool:
        return self._all or chat_id in self._chats

    def caught_up(self, chat_id: int) -> None:
        """The database said the chat has nothing older waiting."""
        self._chats.discard(chat_id)

    def forget_all(self, *, seen_at: int) -> None:
        """The loop found nothing left (having looked at generation ``seen_at``): unless a chat
        was added since, none is behind any more."""
        if self.generation == seen_at:
            self._chats.clear()
            self._all = False

    def remembers_any(self) -> bool:
        return self._all or bool(self._chats)

    def __len__(self) -> int:
        """How many chats are named (none once it answers "maybe" for all)."""
        return len(self._chats)

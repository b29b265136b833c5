"""What a step did, beside its messages: the events a channel or the hand-off acts on."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    """One thing that happened in a step (stored in logs by its value)."""

    # Emitted by the engine (flows/engine.py).
    STARTED = "started"
    FINISHED = "finished"
    HUMAN_REQUESTED = "human_requested"
    ANSWERS_FORGOTTEN = "answers_forgotten"
    ORIENTATION_READY = "orientation_ready"
    CONFIRMED = "confirmed"
    PROFILE_CHANGED = "profile_changed"
    STUCK = "stuck"
    RESTARTED = "restarted"
    DATA_REQUESTED = "data_requested"
    ERASE_CONFIRMED = "erase_confirmed"
    SESSION_CHOSEN = "session_chosen"  # a session was picked: the caller takes the seat
    REBOOKING = "rebooking"  # the person asked for another date (a reminder's button)
    # Added by the conversation service (bot/conversations/service.py).
    RETURNED = "returned"  # someone whose request was sent came back: told where it stands
    HELD = "held"  # a counsellor holds the conversation: the input waits for them

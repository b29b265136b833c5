"""Buttons' ids, the same on every messenger: "<kind>|<step>|<value>".

A press names the question it answers (its step), so that a button of an old question is told
apart from one of the current question. Kinds: c = choice, t = toggle and m = multi-select
submit (Telegram), m = a multi answered with none and p = the number the messenger knows
(WhatsApp), r = erase.

A reminder's buttons ("J'y serai", "Je ne peux plus venir", "Changer de date") answer no
question of the conversation: their step is ``rdv`` and the booking's id, and a press becomes
the ``appointment`` command, whatever the conversation is asking meanwhile.
"""

from __future__ import annotations

import hashlib
import re

from flows.messages import Input

SEPARATOR = "|"
# The shortest id a messenger takes: Telegram's callback data, 64 bytes (WhatsApp's: 256).
MAX_CALLBACK_DATA = 64
APPOINTMENT_STEP = "rdv"
APPOINTMENT_ACTIONS = ("confirm", "cancel", "change")
_APPOINTMENT = re.compile(r"rdv([0-9a-f]{32})")


def callback_data(kind: str, step: str, value: str) -> str:
    """``kind|step|value`` within 64 bytes on every messenger (a long step id is shortened)."""
    data = f"{kind}|{step}|{value}"
    if len(data.encode()) <= MAX_CALLBACK_DATA:
        return data
    short = hashlib.sha256(step.encode()).hexdigest()[:8]
    data = f"{kind}|{short}|{value}"
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"choice value too long for a button: {value!r}")
    return data


def step_matches(button_step: str, current_step: str) -> bool:
    """Whether a button belongs to the current step (also in its shortened form)."""
    short = hashlib.sha256(current_step.encode()).hexdigest()[:8]
    return button_step in (current_step, short)


def parts(data: str) -> tuple[str, str, str]:
    """The kind, step and value of a button's id (empty strings where an id lacks them)."""
    kind, step, value = (data.split(SEPARATOR, 2) + ["", ""])[:3]
    return kind, step, value


def appointment_press(step: str, value: str) -> Input | None:
    """The ``appointment`` command of a reminder's button, or None for any other button."""
    found = _APPOINTMENT.fullmatch(step)
    if found is None or value not in APPOINTMENT_ACTIONS:
        return None
    return Input(command="appointment", payload=f"{value}:{found.group(1)}")

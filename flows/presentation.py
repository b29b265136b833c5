"""What the person reads about their orientation and their answers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flows.catalogue import Catalogue
from flows.flow import Flow
from flows.i18n import Language
from flows.messages import Join, Literal, Say, Text
from flows.offers import NONE_OF_THEM, SessionOffer, spoken_datetime
from flows.places import default_places
from flows.profile import Profile
from flows.rules import Orientation
from flows.state import ConversationState


def orientation_messages(
    orientation: Orientation,
    profile: Profile,
    catalogue: Catalogue,
    place: Mapping[str, Any] | None = None,
) -> list[Text]:
    """The programmes that fit and why, where, and the next step; a maybe is a chance."""
    messages: list[Text] = []
    fitting = [p for p in orientation.programmes if p.fit != "no"]
    if fitting:
        messages.append(Say("orientation.intro"))
        for programme in fitting:
            messages.append(
                Say(
                    f"orientation.{programme.fit}",
                    {
                        "programme": Say(f"programme.{programme.id}"),
                        "reasons": Literal(" ".join(programme.reasons)),
                    },
                )
            )
    else:
        messages.append(Say("orientation.nothing"))
        messages.append(Say("orientation.other_routes"))
    if not orientation.sites and profile.postal_code is not None:
        # ``place``: the commune and department, named.
        messages.append(Say("orientation.out_of_area", dict(place or {})))
    for site_id in orientation.sites:
        site = catalogue.site(site_id)
        messages.append(Say(f"orientation.site.{site.status}", {"site": Literal(site.name)}))
    return messages


def value_text(
    flow: Flow,
    name: str,
    value: Any,
    catalogue: Catalogue,
    answers: Mapping[str, Any] | None = None,
) -> Text:
    """An answer as the person reads it: the label they chose, or what they typed.

    ``answers``: the others, for a commune read with its postal code ("Pierrefitte-sur-Seine
    (Saint-Denis)": the code names the commune déléguée, the INSEE code does not)."""
    steps = [s for s in flow.steps.values() if s.field == name]
    # Several steps may fill one field (criteria): their labels together name its values.
    labels = {c.value: Say(c.label) for s in steps for c in s.choices}
    if isinstance(value, list):
        parts = tuple(labels.get(v, Literal(str(v))) for v in value)
        # None of the choices, in the words the question offered ("Rien de particulier").
        none = next((s.none_label for s in steps if s.none_label), "summary.none")
        return Join(parts) if parts else Say(none)
    if any(s.choices_from == "sessions" for s in steps):
        # The booking itself is shown from its record (/mes_donnees lists it in full).
        return Say("booking.none" if value == NONE_OF_THEM else "booking.chosen")
    if any(s.choices_from == "communes" for s in steps):
        places = default_places()
        postal_code = str((answers or {}).get("postal_code") or "")
        found = [c for c in places.communes_for(postal_code) if c.insee == value]
        commune = found[0] if found else places.commune(str(value)) if value else None
        return Literal(commune.label) if commune else Say("summary.none")
    if any(s.choices_from == "qpvs" for s in steps):
        if value in ("no", "unknown"):
            return Say(f"qpv_district.{value}")
        return Literal(default_places().qpv_name(str(value)) or str(value))
    if any(s.choices_from == "sites" for s in steps):
        return Literal(catalogue.site(value).name) if value else Say("summary.none")
    if value is None:
        return Say("summary.none")
    if any(s.input == "phone" for s in steps):
        return Literal(readable_phone(str(value)))
    return labels.get(str(value), Literal(str(value)))


def readable_phone(number: str) -> str:
    """A stored +33 number as French people write it (06 12 34 56 78); others as stored."""
    if re.fullmatch(r"\+33[1-9]\d{8}", number):
        digits = "0" + number[3:]
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    return number


def summary_messages(flow: Flow, state: ConversationState, catalogue: Catalogue) -> list[Text]:
    """Every answer of the summary, one line each, before the person confirms."""
    lines: list[Say | Literal] = []
    for name in flow.summary_fields:
        if name not in state.answers:
            continue
        label = Say(flow.answers.get(name, f"field.{name}"))
        value = value_text(flow, name, state.answers[name], catalogue, state.answers)
        lines.append(Say("summary.line", {"label": label, "value": value}))
    return [Say("summary.intro"), Join(tuple(lines), separator="\n")]


def all_answers_message(flow: Flow, state: ConversationState, catalogue: Catalogue) -> Text:
    """Every answer kept, for /mes_donnees: the summary's fields and the others alike."""
    lines: list[Say | Literal] = []
    for name, value in state.answers.items():
        label = Say(flow.answers.get(name, f"field.{name}"))
        lines.append(
            Say(
                "summary.line",
                {"label": label, "value": value_text(flow, name, value, catalogue, state.answers)},
            )
        )
    return Join(tuple(lines), separator="\n")


def booking_messages(offer: SessionOffer, language: Language) -> list[Text]:
    """The confirmation of a booking: when, where (with a map), what to bring."""
    where: Text
    if offer.place:
        where = Say(
            "booking.place",
            {"place": Literal(offer.place), "map": Literal(offer.map_url or "")},
        )
    else:
        where = Say("booking.video", {"url": Literal(offer.video_url or "")})
    lines: list[Say | Literal] = [
        Say(
            "booking.confirmed",
            {
                "when": Literal(spoken_datetime(offer.starts_at, language)),
                "site": Literal(offer.site_name),
                "programme": Say(f"programme.{offer.programme}"),
            },
        ),
        where,
    ]
    if offer.bring:
        items = Join(tuple(Say(f"bring.{item}") for item in offer.bring), separator=", ")
        lines.append(Say("booking.bring", {"items": items}))
    lines.append(Say("booking.reminders"))
    return [Join(tuple(lines), separator="\n")]

"""The form that opens a session: read as posted, kept to be shown again, and each wrong
input named beside it in the counsellor's language (webhook/admin/sessions.py shows it).

The checks are the service's (``NewSession.problems``, in English for the command line); this
module reads the inputs (Paris date and time, numbers) and says each problem in French.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from starlette.datastructures import FormData

from bot.appointments.paris_time import NoSuchTime, paris_moment
from bot.appointments.sessions import MAX_CAPACITY, MAX_DURATION_MINUTES, NewSession
from flows.catalogue import PROGRAMME_IDS
from flows.i18n import N_, Language, gettext

# What a wrong field of the form says, next to the field (each names it).
FIELD_ERRORS = {
    "programme": N_("Programmes : cochez-en au moins un."),
    "site": N_("Site : choisissez l'un de vos sites."),
    "date": N_("Date : une date au format jj/mm/aaaa."),
    "time": N_("Heure : une heure au format hh:mm."),
    "start": N_("Date et heure : la séance doit être à venir."),
    "skipped": N_("Heure : cette heure n'existe pas à Paris ce jour-là (passage à l'heure d'été)."),
    "capacity": N_("Places : un nombre entier de 1 à %(max)s."),
    "duration": N_("Durée : un nombre de minutes de 5 à %(max)s."),
    "place": N_("Lieu : une adresse (300 caractères au plus) ou un lien de visio."),
    "video": N_("Lien de visio : une adresse https:// de 500 caractères au plus."),
}
# Which input each of the service's problems (``field: why``) is shown beside.
PROBLEM_INPUTS = {
    "programme": "programme",
    "site": "site",
    "start": "date",
    "capacity": "capacity",
    "duration": "duration",
    "place": "place",
    "video": "video",
}


@dataclass
class SessionForm:
    """The form as posted, kept to show it again, and what is wrong in it by input."""

    values: dict[str, str] = field(default_factory=dict)
    programmes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def field_error(key: str, language: Language) -> str:
    """What is wrong with an input (a FIELD_ERRORS key), in the counsellor's language."""
    message = gettext(FIELD_ERRORS[key], language)
    if key == "capacity":
        return message % {"max": MAX_CAPACITY}
    if key == "duration":
        return message % {"max": MAX_DURATION_MINUTES}
    return message


def form_text(form: FormData, name: str, limit: int = 600) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def read_start(
    day_text: str, time_text: str, errors: dict[str, str], language: Language
) -> datetime | None:
    """A date and a time of the form (Paris time) as a moment; errors named by input."""
    day: date | None = None
    at: time | None = None
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        errors["date"] = field_error("date", language)
    try:
        at = time.fromisoformat(time_text) if len(time_text) == 5 else None
    except ValueError:
        at = None
    if at is None:
        errors["time"] = field_error("time", language)
    if day is None or at is None:
        return None
    try:
        return paris_moment(day, at)
    except NoSuchTime:
        errors["time"] = field_error("skipped", language)
        return None


def _number(form: SessionForm, name: str, language: Language) -> int:
    try:
        return int(form.values[name])
    except ValueError:
        form.errors[name] = field_error(name, language)
        return 0


def read_session_form(
    posted: FormData, *, sites: Sequence[str], language: Language, now: datetime
) -> tuple[SessionForm, NewSession | None]:
    """The posted form, and the session it describes when nothing is wrong in it (its site
    one of ``sites``, its start after ``now``)."""
    form = SessionForm(
        values={
            name: form_text(posted, name)
            for name in ("site", "date", "time", "duration", "capacity", "place", "video")
        },
        programmes=[p for p in posted.getlist("programme") if isinstance(p, str)][:10],
    )
    form.values["duration"] = form.values["duration"] or "60"
    if not form.programmes or any(p not in PROGRAMME_IDS for p in form.programmes):
        form.errors["programme"] = field_error("programme", language)
    starts_at = read_start(form.values["date"], form.values["time"], form.errors, language)
    capacity = _number(form, "capacity", language)
    duration = _number(form, "duration", language)
    new = NewSession(
        programmes=tuple(dict.fromkeys(form.programmes)),
        site=form.values["site"],
        starts_at=starts_at or now,
        capacity=capacity,
        duration_minutes=duration,
        place=form.values["place"] or None,
        video_url=form.values["video"] or None,
    )
    for problem in new.problems(sites=sites, now=now):
        # A start that could not be read was only stood in for: its own error says so.
        if starts_at is not None or not problem.startswith("start:"):
            add_problem(form, problem, language)
    return form, (None if form.errors else new)


def add_problem(form: SessionForm, problem: str, language: Language) -> None:
    """One of the service's ``field: why`` problems, beside its input (the first one kept)."""
    name = problem.partition(":")[0]
    if name not in PROBLEM_INPUTS:  # a check this form does not know yet: said as it is
        form.errors.setdefault(name, problem)
        return
    form.errors.setdefault(PROBLEM_INPUTS[name], field_error(name, language))

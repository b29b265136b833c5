"""The funnel page: how far conversations go, as a table and a bar chart drawn on the server.

Counts only (bot/funnel.py says what each stage counts), so counsellors see every
conversation's figures, whatever their sites. Filters come from the query string: a referrer
code, the conversation's language, a period of days in Paris; a value that makes no sense is
ignored, never an error page. Opened without filters, the last 30 days (``?period=all``:
since the start). The figures are counted by the database from each conversation's stored
stage; while those are computed again (bot/funnel_rebuild.py) the page says so, and how far
it got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bot.clock import PARIS
from bot.conversations.service import ConversationService
from bot.funnel import FunnelFilters, Stage, load_funnel, referrer_codes
from bot.funnel_rebuild import progress
from bot.partners.codes import is_referral_code
from flows.flow import Flow
from flows.i18n import Language, UnknownMessageError, gettext, text
from webhook.admin.auth import Viewer
from webhook.admin.common import STAFF, allow, database_of, language_of, render

router = APIRouter(prefix="/admin", include_in_schema=False)
Staff = Annotated[Viewer, Depends(allow(*STAFF))]

FILTER_LANGUAGES = ("fr", "en")
# Dates outside these years are typing slips (and some would not fit a timestamp).
YEARS = range(2000, 2200)
# The chart's geometry, in SVG user units.
CHART_WIDTH = 720
BAR_AREA = 540
ROW_HEIGHT = 40
BAR_HEIGHT = 16
LABEL_LENGTH = 60
# The period shown when none is chosen: the last days, today included.
DEFAULT_DAYS = 30


def filters_from(request: Request, today: date | None = None) -> FunnelFilters:
    """The filters of the query string; the page opened without any: the last 30 days up to
    ``today`` (the form always sends its dates, even empty: a choice of all time)."""
    query = request.query_params
    referrer = (query.get("referrer") or "").strip()
    language = query.get("language")
    date_from = _date(query.get("from"))
    chosen = any(name != "lang" for name in query)
    if not chosen and today is not None:
        date_from = today - timedelta(days=DEFAULT_DAYS - 1)
    return FunnelFilters(
        referrer=referrer if is_referral_code(referrer) else None,
        language=language if language in FILTER_LANGUAGES else None,
        date_from=date_from,
        date_to=_date(query.get("to")),
    )


def _date(value: str | None) -> date | None:
    try:
        day = date.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None
    return day if day is not None and day.year in YEARS else None


def question_labels(language: Language) -> dict[str, str]:
    """What counsellors call the questions of the pre-screening flow."""
    return {
        "asker": gettext("Pour qui (soi ou son enfant)", language),
        "age": gettext("Âge", language),
        "child_age": gettext("Âge de l'enfant", language),
        "postal_code": gettext("Code postal", language),
        "situation": gettext("Situation", language),
        "france_travail": gettext("Inscription à France Travail", language),
        "diploma_level": gettext("Diplôme", language),
        "allowances": gettext("Aides perçues", language),
        "life_situations": gettext("Situations de vie", language),
        "interests": gettext("Centres d'intérêt", language),
    }


def stage_label(stage: Stage, flow: Flow, language: Language) -> str:
    if stage.kind == "question" and stage.step is not None:
        name = question_labels(language).get(stage.step) or _question_text(
            flow, stage.step, language
        )
        return gettext("Question : {name}", language).format(name=name)
    labels = {
        "started": gettext("Conversations commencées", language),
        "consent": gettext("Accord donné", language),
        "orientation": gettext("Orientation affichée", language),
        "contact": gettext("Coordonnées données", language),
        "lead": gettext("Contact enregistré", language),
        "contacted": gettext("Contactés par un conseiller", language),
        "booked": gettext("Rendez-vous réservés", language),
        "attended": gettext("Venus au rendez-vous", language),
        "enrolled": gettext("Inscrits", language),
    }
    return labels[stage.kind]


def _question_text(flow: Flow, step_id: str, language: Language) -> str:
    """A question the labels above do not know (the flow is data): its own words, cut short."""
    step = flow.steps.get(step_id)
    if step is None or step.ask is None:
        return step_id
    try:
        words = " ".join(text(step.ask, language).split())
    except UnknownMessageError:
        return step_id
    return words if len(words) <= LABEL_LENGTH else words[: LABEL_LENGTH - 1].rstrip() + "…"


def number(value: int, language: Language) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", "\u202f") if language == "fr" else grouped


def percent(value: float | None, language: Language) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}"
    return shown.replace(".", ",") + "\u00a0%" if language == "fr" else shown + "%"


@dataclass(frozen=True)
class Row:
    """A stage as the page shows it, with its bar."""

    key: str
    label: str
    count: str
    share: str
    dropped: str | None
    dropped_share: str
    bar_y: int
    bar_width: float
    label_y: int
    value_y: int


def rows_of(stages: list[Stage], flow: Flow, language: Language) -> list[Row]:
    largest = max((s.count for s in stages), default=0)
    rows = []
    for index, stage in enumerate(stages):
        top = index * ROW_HEIGHT
        width = round(BAR_AREA * stage.count / largest, 1) if largest else 0.0
        rows.append(
            Row(
                key=stage.key,
                label=stage_label(stage, flow, language),
                count=number(stage.count, language),
                share=percent(stage.share, language),
                dropped=number(stage.dropped, language) if stage.dropped is not None else None,
                dropped_share=percent(stage.dropped_share, language),
                bar_y=top + 18,
                bar_width=width,
                label_y=top + 14,
                value_y=top + 31,
            )
        )
    return rows


@router.get("/funnel")
async def funnel_page(request: Request, viewer: Staff) -> Response:
    language = language_of(request)
    now: datetime = request.app.state.clock()
    today = now.astimezone(PARIS).date()
    filters = filters_from(request, today)
    service: ConversationService = request.app.state.conversations
    flow = service.registry.current[service.flow_id]
    # A snapshot read off the event loop (SQLite: on a thread), never the steps' write lock.
    async with database_of(request).reading() as tx:
        stages = await load_funnel(tx, flow, filters)
        codes = await referrer_codes(tx)
        stored = await progress(tx, flow)
    updating = None
    if not stored.current:
        updating = gettext(
            "Les chiffres sont en cours de mise à jour ({done} conversations sur {total}) :"
            " ils peuvent être incomplets. Revenez dans quelques minutes.",
            language,
        ).format(done=number(stored.done, language), total=number(stored.total, language))
    rows = rows_of(stages, flow, language)
    started = stages[0].count if stages else 0
    last = stages[-1].count if stages else 0
    return render(
        request,
        "admin/funnel.html",
        viewer,
        rows=rows,
        started=started,
        summary=gettext(
            "Parcours des conversations : {started} commencées, {enrolled} jusqu'à l'inscription.",
            language,
        ).format(started=number(started, language), enrolled=number(last, language)),
        filters=filters,
        codes=codes,
        updating=updating,
        default_period=filters.date_from == today - timedelta(days=DEFAULT_DAYS - 1)
        and filters.date_to is None,
        chart_width=CHART_WIDTH,
        bar_area=BAR_AREA,
        chart_height=max(1, len(rows)) * ROW_HEIGHT,
    )

"""The privacy notice the consent question links to, in the visitor's language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from flows.i18n import text
from webhook.deps import LanguageDep
from webhook.web import reading_page

router = APIRouter(tags=["web chat"])
PARAGRAPHS = (
    "who",
    "what",
    "why",
    "who_sees",
    "how_long",
    "messengers",
    "sessions",
    "children",
    "rights",
)


@router.get("/confidentialite", response_class=HTMLResponse, include_in_schema=False)
async def privacy_notice(request: Request, language: LanguageDep) -> HTMLResponse:
    """What is kept, why, who sees it, for how long, and how to erase it."""
    return reading_page(
        request,
        "privacy.html",
        language,
        texts={"title": text("privacy.title", language), "back": text("privacy.back", language)},
        paragraphs=[text(f"privacy.{name}", language) for name in PARAGRAPHS],
    )

"""The accessibility statement ("déclaration d'accessibilité", RGAA 4.1), in the visitor's language.

Honest by construction: no independent audit has been made, so the RGAA says "non conforme";
the page says so, what was tested instead, what is known not to work, and where to complain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from flows.i18n import Language, text
from webhook.deps import LanguageDep, SettingsDep
from webhook.web import reading_page

router = APIRouter(tags=["web chat"])
# The day the statement was last checked against the service: change it with the texts.
STATEMENT_DATE = date(2026, 11, 30)
# The Défenseur des droits' own pages, as the RGAA's model statement links them.
RECOURSE_FORM_URL = "https://formulaire.defenseurdesdroits.fr/"
RECOURSE_DELEGATES_URL = "https://www.defenseurdesdroits.fr/saisir/delegues"


@dataclass(frozen=True)
class Link:
    label: str
    url: str | None = None


@dataclass(frozen=True)
class Paragraph:
    """A paragraph, with a link after its text (an address to write to) if it has one."""

    text: str
    link: Link | None = None


@dataclass(frozen=True)
class Section:
    """One heading of the statement: paragraphs, a list, then paragraphs."""

    title: str
    before: tuple[Paragraph, ...] = ()
    items: tuple[Link, ...] = ()
    after: tuple[Paragraph, ...] = ()


def statement(language: Language, *, contact: str | None) -> list[Section]:
    """The statement's sections after its introduction, in the RGAA model's order."""

    def say(name: str) -> str:
        return text(f"accessibility.{name}", language)

    def paragraphs(*names: str) -> tuple[Paragraph, ...]:
        return tuple(Paragraph(say(name)) for name in names)

    def items(group: str, *names: str) -> tuple[Link, ...]:
        return tuple(Link(say(f"{group}.{name}")) for name in names)

    # The e-mail address is a way to report only where PôleS has set one up.
    write_to = (
        (Paragraph(say("report.email"), Link(contact, f"mailto:{contact}")),) if contact else ()
    )
    return [
        Section(say("status.title"), paragraphs("status", "status_why", "status_instead")),
        Section(
            say("tested.title"),
            items=items(
                "tested", "axe", "states", "keyboard", "zoom", "motion", "contrast", "plain"
            ),
            after=paragraphs("tested.tools"),
        ),
        Section(
            say("limits.title"),
            items=items("limits", "audit", "screen_reader", "qr_code", "messengers"),
        ),
        Section(
            say("report.title"),
            (*paragraphs("report.chat"), *write_to, *paragraphs("report.answer")),
        ),
        Section(
            say("recourse.title"),
            paragraphs("recourse.intro"),
            items=(
                Link(say("recourse.form"), RECOURSE_FORM_URL),
                Link(say("recourse.delegate"), RECOURSE_DELEGATES_URL),
                Link(say("recourse.post")),
            ),
        ),
    ]


@router.get("/accessibilite", response_class=HTMLResponse, include_in_schema=False)
async def accessibility_statement(
    request: Request, language: LanguageDep, settings: SettingsDep
) -> HTMLResponse:
    """How accessible Aiguillage is, what was tested, and how to report a problem."""

    def say(name: str, **params: object) -> str:
        return text(f"accessibility.{name}", language, **params)

    return reading_page(
        request,
        "accessibility.html",
        language,
        texts={
            "title": say("title"),
            "commitment": say("commitment"),
            "scope": say("scope"),
            "date": say("date", date=format_date(STATEMENT_DATE, "long", locale=language)),
            "back": say("back"),
        },
        sections=statement(language, contact=settings.accessibility_contact),
    )

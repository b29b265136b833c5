"""The funnel page: exact counts, filters, the chart, and who may see it."""

from __future__ import annotations

import asyncio
import re

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from bot.appointments.bookings import bookings_of_lead
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.funnel import Stage
from bot.funnel_rebuild import rebuild
from bot.leads.store import lead_of_conversation
from bot.storage.models import FunnelPlan
from tests.auxil.admin_browser import PROFILE, Account, sign_in
from tests.auxil.funnel_data import EARLY, change_statuses, converse, move_to
from tests.auxil.sessions import open_session
from tests.auxil.webhook_receiver import register_referrer
from webhook.admin.funnel import number, percent, stage_label

CELL = re.compile(r'<td data-count="([a-z_:]+)">([^<]*)</td>')


async def people(app: FastAPI) -> None:
    """Four conversations through the service the page reads."""
    service: ConversationService = app.state.conversations
    # Registered codes: an unregistered one is kept as "unknown".
    async with app.state.database.transaction() as tx:
        for code in ("ML_POISSY", "SALON"):
            await register_referrer(tx, code)
    await converse(service, "refused", referrer="ML_POISSY", answers={"consent": {"choice": "no"}})
    await converse(service, "age", referrer="ML_POISSY", stop_at="postal_code")
    oriented = await converse(
        service,
        "oriented",
        referrer="SALON",
        language="en",
        answers={"contact_consent": {"choice": "no"}},
    )
    enrolled = await converse(service, "enrolled", referrer="SALON", language="en")
    await converse(service, "lead", referrer="ML_POISSY", profile=PROFILE)
    await change_statuses(service, enrolled, "contacted", "enrolled")
    await move_to(service, oriented, EARLY)


def counts(page: httpx.Response) -> dict[str, str]:
    assert page.status_code == 200, page.text
    return dict(CELL.findall(page.text))


async def signed_in(http: httpx.AsyncClient, account: Account, role: str) -> None:
    given = {"counsellor": {"sites": ["pantin"]}, "partner": {"referrers": ["SALON"]}}
    email = await account(role, **given.get(role, {}))
    response = await sign_in(http, email)
    assert response.status_code == 303, response.text


async def test_counsellors_see_every_conversation_counted(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await people(admin_app)
    await signed_in(http, account, "counsellor")

    page = await http.get("/admin/funnel?period=all")
    found = counts(page)
    assert found["started"] == "5"
    assert found["consent"] == "4"
    assert found["question:age"] == "4"
    assert found["question:child_age"] == "4"
    assert found["question:postal_code"] == "3"
    assert found["question:interests"] == "3"
    assert found["orientation"] == "3"
    assert found["contact"] == "2"
    assert found["lead"] == "2"
    assert found["contacted"] == "1"
    assert found["enrolled"] == "1"
    assert "<td>40,0\u00a0%</td>" in page.text  # lead: 2 of 5
    # The chart: drawn on the server, named for screen readers, no script anywhere.
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    assert 'role="img"' in svg
    summary = "Parcours des conversations : 5 commencées, 1 jusqu&#39;à l&#39;inscription."
    assert f'aria-label="{summary}"' in svg
    assert f"<title>{summary}</title>" in svg
    # A track and a bar per stage.
    assert svg.count("<rect") == 2 * len(found)
    assert "<title>Question : Âge : 4 (80,0\u00a0%)</title>" in svg
    assert "<script" not in page.text
    assert "style=" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]


async def test_bookings_and_attendance_have_their_rows(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await people(admin_app)
    service: ConversationService = admin_app.state.conversations
    await open_session(service.appointments)
    # Two more people book the session their conversation offers; one is marked present.
    await converse(service, "booked", referrer="ML_POISSY")
    present = await converse(service, "present", referrer="SALON", language="en")
    async with admin_app.state.database.transaction() as tx:
        lead = await lead_of_conversation(tx, present)
        assert lead is not None
        [booking] = await bookings_of_lead(tx, lead.id)
    await service.appointments.mark_attendance(booking.id, True, by="c@poles.example")
    await signed_in(http, account, "counsellor")

    page = await http.get("/admin/funnel?period=all")
    found = counts(page)
    # The enrolled person of people() booked nothing: enrolled, they count in both stages.
    stages = ("lead", "contacted", "booked", "attended", "enrolled")
    assert tuple(found[key] for key in stages) == ("4", "3", "3", "2", "1")
    assert '<th scope="row">Rendez-vous réservés</th>' in page.text
    assert "<title>Venus au rendez-vous : 2 (28,6\u00a0%)</title>" in page.text
    poissy = counts(await http.get("/admin/funnel?referrer=ML_POISSY"))
    assert tuple(poissy[key] for key in stages) == ("2", "1", "1", "0", "0")
    english = counts(await http.get("/admin/funnel?language=en"))
    assert tuple(english[key] for key in stages) == ("2", "2", "2", "2", "1")


async def test_filters_apply_and_bad_values_are_ignored(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await people(admin_app)
    await signed_in(http, account, "admin")

    poissy = counts(await http.get("/admin/funnel?referrer=ML_POISSY"))
    assert (poissy["started"], poissy["consent"], poissy["orientation"], poissy["lead"]) == (
        "3",
        "2",
        "1",
        "1",
    )
    english = counts(await http.get("/admin/funnel?language=en"))
    assert (english["started"], english["orientation"], english["enrolled"]) == ("2", "2", "1")
    # The oriented person started on 10 March 2024 in Paris (9 March in UTC).
    that_day = counts(await http.get("/admin/funnel?from=2024-03-10&to=2024-03-10"))
    assert (that_day["started"], that_day["orientation"], that_day["contact"]) == ("1", "1", "0")
    before = counts(await http.get("/admin/funnel?to=2024-03-09"))
    assert before["started"] == "0"
    combined = counts(await http.get("/admin/funnel?referrer=SALON&language=en&from=2024-03-11"))
    assert (combined["started"], combined["enrolled"]) == ("1", "1")

    nonsense = await http.get(
        "/admin/funnel?referrer=%3Cb%3E&language=de&from=yesterday&to=0001-01-01"
    )
    assert counts(nonsense)["started"] == "5"
    empty = await http.get("/admin/funnel?referrer=NOBODY")
    assert counts(empty)["started"] == "0"
    assert "Aucune conversation pour ces filtres." in empty.text
    # The filters are shown as chosen.
    chosen = await http.get("/admin/funnel?referrer=SALON&language=en&from=2024-03-11")
    assert '<option value="SALON" selected>' in chosen.text
    assert '<option value="en" selected>' in chosen.text
    assert 'name="from" value="2024-03-11"' in chosen.text


async def test_the_page_in_english(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await signed_in(http, account, "admin")
    page = await http.get("/admin/funnel?lang=en")
    assert counts(page)["started"] == "0"
    assert "<td>—</td>" in page.text


async def test_partners_are_refused_and_strangers_sent_to_sign_in(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    anonymous = await http.get("/admin/funnel?referrer=SALON")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/admin/login?next=%2Fadmin%2Ffunnel%3Freferrer%3DSALON"

    await signed_in(http, account, "partner")
    refused = await http.get("/admin/funnel")
    assert refused.status_code == 403
    assert "data-count" not in refused.text


def test_a_question_without_a_label_is_named_by_its_own_words() -> None:
    flow = FlowRegistry().current["prescreening"]

    def label(step: str) -> str:
        return stage_label(Stage("question", step, 1, None, None, None), flow, "fr")

    assert label("age") == "Question : Âge"
    assert (
        label("under_15") == "Question : Un parent peut continuer ici avec toi. On fait comme ça ?"
    )
    assert label("welcome") == "Question : welcome"
    long = label("consent")
    assert long.endswith("traiter…")
    assert len(long) <= len("Question : ") + 60
    assert (number(12345, "fr"), number(12345, "en")) == ("12\u202f345", "12,345")
    assert (percent(12.25, "en"), percent(None, "fr")) == ("12.2%", "—")


async def test_it_opens_on_the_last_30_days_and_all_time_is_a_link_away(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await people(admin_app)
    await signed_in(http, account, "admin")

    page = await http.get("/admin/funnel")
    # The oriented person started in 2024: not in the last 30 days.
    assert counts(page)["started"] == "4"
    assert "les 30 derniers jours" in page.text
    assert '<a href="/admin/funnel?period=all">Depuis le début</a>' in page.text
    assert 'name="from" value=""' not in page.text
    assert counts(await http.get("/admin/funnel?period=all"))["started"] == "5"


async def test_figures_being_computed_again_are_said_so(
    admin_app: FastAPI, http: httpx.AsyncClient, account: Account
) -> None:
    await people(admin_app)
    await signed_in(http, account, "admin")
    assert "mise à jour" not in (await http.get("/admin/funnel")).text
    # Another flow file's stages: every conversation's stage is computed again.
    async with admin_app.state.database.transaction() as tx:
        await tx.run(update(FunnelPlan).values(fingerprint="another flow", complete=True))
    service: ConversationService = admin_app.state.conversations
    flow = service.registry.current[service.flow_id]
    await rebuild(admin_app.state.database, flow, batch=2, stop=stopped())

    page = await http.get("/admin/funnel?period=all")
    assert '<p role="status">Les chiffres sont en cours de mise à jour (0 conversations sur 5)' in (
        page.text
    )
    await rebuild(admin_app.state.database, flow, batch=2)
    page = await http.get("/admin/funnel?period=all")
    assert "mise à jour" not in page.text
    assert counts(page)["started"] == "5"


def stopped() -> asyncio.Event:
    """A rebuild asked to stop before its first batch: it only records the new plan."""
    stop = asyncio.Event()
    stop.set()
    return stop

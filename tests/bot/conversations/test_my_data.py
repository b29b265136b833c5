"""What a returning person reads about the request already sent."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.conversations.my_data import request_status
from bot.leads.payload import LeadRecord
from flows.render import render


def sent_at(moment: datetime) -> LeadRecord:
    return LeadRecord(
        id="lead-1",
        created_at=moment,
        updated_at=moment,
        channel="web",
        referrer_code=None,
        language="fr",
        site="pantin",
        site_name="Pantin",
        first_name="Samir",
        phone="+33612345678",
        email=None,
        contact_preference="phone",
        human_requested=False,
        profile={},
        orientation={},
        status="new",
        history=(),
    )


def test_the_request_is_dated_by_the_day_in_paris() -> None:
    # 23:30 UTC on 29 November is already 30 November in Paris, where the person wrote.
    shown = render(request_status(sent_at(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))), "fr")
    assert "Ta demande du 30/11/2026 est bien arrivée" in shown
    assert "un conseiller va te contacter" in shown

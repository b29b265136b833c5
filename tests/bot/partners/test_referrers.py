"""What each partner's code brought, whatever channel its people wrote on."""

from __future__ import annotations

from bot.appointments.bookings import bookings_of_lead
from bot.conversations.service import ConversationService
from bot.leads.store import lead_of_conversation
from bot.partners.referrers import referrer_stats
from tests.auxil.funnel_data import change_statuses, converse
from tests.auxil.sessions import open_session
from tests.auxil.webhook_receiver import register_referrer


async def test_a_partners_figures_count_its_people_on_every_channel(
    service: ConversationService,
) -> None:
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    # A session is open: whoever finishes books it, on whatever channel.
    await open_session(service.appointments)
    # One person on the web chat and two on WhatsApp (one leaves early), one on Telegram.
    await converse(service, "web-person", referrer="ML_POISSY")
    whatsapp = await converse(service, "33612345678", channel="whatsapp", referrer="ML_POISSY")
    await converse(
        service, "33600000000", channel="whatsapp", referrer="ML_POISSY", stop_at="postal_code"
    )
    await converse(service, "123456789", channel="telegram", referrer="ML_POISSY")
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, whatsapp)
        assert lead is not None
        [booking] = await bookings_of_lead(tx, lead.id)
    await service.appointments.mark_attendance(booking.id, True, by="c@poles.example")
    await change_statuses(service, whatsapp, "enrolled")

    async with service.database.transaction() as tx:
        stats = await referrer_stats(tx)
    [poissy] = [item for item in stats if item.code == "ML_POISSY"]
    counted = (
        poissy.conversations, poissy.completions, poissy.leads, poissy.bookings,
        poissy.attendances, poissy.enrolments,
    )  # fmt: skip
    assert counted == (4, 3, 3, 3, 1, 1)

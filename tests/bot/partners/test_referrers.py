"""What each partner's code brought, whatever channel its people wrote on."""

from __future__ import annotations

from bot.conversations.service import ConversationService
from bot.partners.referrers import referrer_stats
from tests.auxil.funnel_data import change_statuses, converse
from tests.auxil.webhook_receiver import register_referrer


async def test_a_partners_figures_count_its_people_on_every_channel(
    service: ConversationService,
) -> None:
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    # One person on the web chat and two on WhatsApp (one leaves early), one on Telegram.
    await converse(service, "web-person", referrer="ML_POISSY")
    whatsapp = await converse(service, "33612345678", channel="whatsapp", referrer="ML_POISSY")
    await converse(
        service, "33600000000", channel="whatsapp", referrer="ML_POISSY", stop_at="postal_code"
    )
    await converse(service, "123456789", channel="telegram", referrer="ML_POISSY")
    await change_statuses(service, whatsapp, "contacted", "enrolled")

    async with service.database.transaction() as tx:
        stats = await referrer_stats(tx)
    [poissy] = [item for item in stats if item.code == "ML_POISSY"]
    counted = (poissy.conversations, poissy.completions, poissy.leads, poissy.enrolments)
    assert counted == (4, 3, 3, 1)

"""The funnel's figures, exactly, on conversations held through the real service."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.appointments.bookings import bookings_of_lead
from bot.clock import utcnow
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.funnel import (
    ConversationFacts,
    FunnelFilters,
    LeadFacts,
    Stage,
    funnel,
    load_funnel,
    referrer_codes,
    stage_definitions,
)
from bot.leads.store import lead_of_conversation
from flows.flow import Flow
from flows.state import ConversationState
from tests.auxil.funnel_data import EARLY, change_statuses, converse, move_to
from tests.auxil.personas import SAMIR_IN_PANTIN
from tests.auxil.sessions import open_session
from tests.auxil.webhook_receiver import register_referrer

PROFILE = SAMIR_IN_PANTIN
STAGE_KEYS = [
    "started",
    "consent",
    "question:asker",
    "question:age",
    "question:child_age",
    "question:postal_code",
    "question:commune",
    "question:situation",
    "question:france_travail",
    "question:diploma_level",
    "question:allowances",
    "question:qpv_district",
    "question:life_situations",
    "question:other_life_situations",
    "question:interests",
    "orientation",
    "contact",
    "lead",
    "contacted",
    "booked",
    "attended",
    "enrolled",
]


async def populate(service: ConversationService) -> dict[str, str]:
    """Nine people, each stopping somewhere else; their conversations' ids by name."""
    # Two registered partners: a code nobody registered would count as unknown.
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
        await register_referrer(tx, "SALON", "Salon emploi de Poissy")
    ids = {
        # Refuses to have their answers kept.
        "refused": await converse(
            service, "refused", referrer="ML_POISSY", answers={"consent": {"choice": "no"}}
        ),
        # Gives an age and leaves when asked the postal code.
        "age": await converse(service, "age", referrer="ML_POISSY", stop_at="postal_code"),
        # Twelve: told a parent must write, nothing kept.
        "young": await converse(
            service,
            "young",
            profile={**PROFILE, "age": 12},
            answers={None: {"choice": "later"}},
        ),
        # Gives a postal code, goes back to it from the next question, leaves.
        "back": await converse(
            service, "back", referrer="SALON", language="en", back_at="situation"
        ),
        # Reads the orientation, wants no contact.
        "oriented": await converse(
            service,
            "oriented",
            referrer="SALON",
            language="en",
            answers={"contact_consent": {"choice": "no"}},
        ),
        # Gives a phone number, leaves at the summary.
        "contact": await converse(service, "contact", referrer="ML_POISSY", stop_at="confirm"),
        "lead": await converse(service, "lead", referrer="ML_POISSY"),
        "unreached": await converse(service, "unreached", referrer="ML_POISSY", language="en"),
        "enrolled": await converse(service, "enrolled", referrer="SALON", language="en"),
    }
    await change_statuses(service, ids["unreached"], "contacted", "unreachable")
    await change_statuses(service, ids["enrolled"], "contacted", "appointment", "enrolled")
    await move_to(service, ids["enrolled"], EARLY)
    await move_to(service, ids["refused"], EARLY)
    return ids


def counts(stages: list[Stage]) -> dict[str, int]:
    return {s.key: s.count for s in stages}


def expected(*values: int) -> dict[str, int]:
    assert len(values) == len(STAGE_KEYS)
    return dict(zip(STAGE_KEYS, values, strict=True))


async def figures(service: ConversationService, filters: FunnelFilters) -> list[Stage]:
    async with service.database.transaction() as tx:
        return await load_funnel(tx, service.registry.current["prescreening"], filters)


async def test_the_figures_of_known_conversations(service: ConversationService) -> None:
    await populate(service)

    everyone = await figures(service, FunnelFilters())
    # started, consent, asker, age, child_age, postal_code, commune, situation,
    # france_travail, diploma, allowances, qpv_district, life_situations,
    # other_life_situations, interests, orientation, contact, lead,
    # contacted, booked, attended, enrolled (nobody booked: the enrolled person counts)
    assert counts(everyone) == expected(
        9, 8, 8, 8, 7, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 2, 1, 1, 1
    )
    by_key = {s.key: s for s in everyone}
    assert by_key["started"].share == 100.0
    assert by_key["started"].dropped is None
    assert by_key["consent"].dropped == 1
    assert by_key["consent"].dropped_share == pytest.approx(100 / 9)
    assert by_key["lead"].share == pytest.approx(300 / 9)
    assert by_key["contacted"].dropped == 1
    assert by_key["contacted"].dropped_share == pytest.approx(100 / 3)
    # Nobody booked: the enrolled person counts as booked and attended (the furthest stage).
    assert by_key["booked"].dropped_share == 50.0
    assert (by_key["attended"].dropped, by_key["enrolled"].dropped) == (0, 0)

    poissy = await figures(service, FunnelFilters(referrer="ML_POISSY"))
    assert counts(poissy) == expected(
        5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 1, 0, 0, 0
    )

    english = await figures(service, FunnelFilters(language="en"))
    assert counts(english) == expected(
        4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 1, 1, 1
    )

    salon_en = await figures(service, FunnelFilters(referrer="SALON", language="en"))
    assert counts(salon_en) == expected(
        3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1
    )

    nobody = await figures(service, FunnelFilters(referrer="NOBODY"))
    assert counts(nobody) == expected(*[0] * 22)
    assert all(s.share is None for s in nobody)


async def test_the_period_is_of_days_in_paris(service: ConversationService) -> None:
    await populate(service)
    day = date(2024, 3, 10)

    that_day = await figures(service, FunnelFilters(date_from=day, date_to=day))
    assert counts(that_day) == expected(
        2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
    )
    # 23:30 UTC on 9 March is already 10 March in Paris.
    day_before = await figures(service, FunnelFilters(date_to=date(2024, 3, 9)))
    assert counts(day_before)["started"] == 0
    since = await figures(service, FunnelFilters(date_from=date(2024, 3, 11)))
    assert counts(since) == expected(
        7, 7, 7, 7, 6, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 2, 1, 0, 0, 0
    )
    until_today = await figures(service, FunnelFilters(date_to=utcnow().date()))
    assert counts(until_today)["started"] == 9

    async with service.database.transaction() as tx:
        assert await referrer_codes(tx) == ["ML_POISSY", "SALON"]


async def test_people_on_every_channel_count_alike(service: ConversationService) -> None:
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
    # The same way through on the web chat, Telegram and WhatsApp: a lead, then a call.
    for channel, person in (("web", "web-person"), ("telegram", "1234"), ("whatsapp", "3361234")):
        conversation = await converse(service, person, channel=channel, referrer="ML_POISSY")
        await change_statuses(service, conversation, "contacted")
    # Someone on WhatsApp who leaves when asked the postal code.
    await converse(
        service, "3360000", channel="whatsapp", referrer="ML_POISSY", stop_at="postal_code"
    )

    for filters in (FunnelFilters(), FunnelFilters(referrer="ML_POISSY")):
        found = counts(await figures(service, filters))
        assert found["started"] == 4
        assert found["question:postal_code"] == 3
        assert (found["lead"], found["contacted"], found["enrolled"]) == (3, 3, 0)


# --- the rule itself, on states written by hand ----------------------------------------------


@pytest.fixture
def flow() -> Flow:
    return FlowRegistry().current["prescreening"]


def state(**values: Any) -> ConversationState:
    return ConversationState(flow_id="prescreening", flow_version="1", **values)


def furthest(
    flow: Flow, *states: ConversationState, leads: tuple[LeadFacts, ...] = ()
) -> list[str]:
    """The furthest stage of each conversation given alone (leads name them "0", "1"…)."""
    found = []
    for index, one in enumerate(states):
        own = [lead for lead in leads if lead.conversation_id == str(index)]
        stages = funnel(flow, [ConversationFacts(str(index), one)], own)
        found.append([s.key for s in stages if s.count][-1])
    return found


def test_the_stages_follow_the_flow(flow: Flow) -> None:
    assert [s.key for s in stage_definitions(flow)] == STAGE_KEYS


def test_a_conversation_counts_up_to_its_furthest_stage(flow: Flow) -> None:
    consented = {"consent": "yes", "asker": "self", "age": 30}
    assert furthest(
        flow,
        state(step="consent"),
        state(answers={"consent": "no"}, done=True, outcome="no_consent"),
        state(step="asker", answers={"consent": "yes"}, history=["consent"]),
        # Waiting at the postal code: the child's age, not theirs to answer, is passed.
        state(step="postal_code", answers=consented, history=["consent", "asker", "age"]),
        # Went back from the postal code: the answer is kept.
        state(step="postal_code", answers={**consented, "postal_code": "93500"}),
        # The allowances answered, not the life situations (criteria is filled by both).
        state(step="life_situations", answers={"criteria": []}, history=["allowances"]),
        # Stuck on the diploma question.
        state(step="stuck", stuck_at="diploma_level", answers={"consent": "yes"}),
        # Under 15, answers forgotten, waiting or gone.
        state(step="under_15"),
        state(done=True, outcome="under_15"),
        state(orientation_shown=True, answers={"consent": "yes"}),
        state(orientation_shown=True, answers={"email": "a@example.org"}),
        # A lead counts even if the answers were edited since.
        state(),
        state(),
        state(),
        state(),
        state(),
        state(),
        leads=(
            LeadFacts("11", frozenset({"new"})),
            LeadFacts("12", frozenset({"unreachable", "new", "appointment"})),
            # Booked, whatever became of the booking; attended, then enrolled.
            LeadFacts("13", frozenset({"new", "appointment"}), booked=True),
            LeadFacts("14", frozenset({"new", "appointment"}), booked=True, attended=True),
            LeadFacts("15", frozenset({"new", "enrolled", "withdrawn"})),
            LeadFacts("16", frozenset({"appointment", "enrolled"}), booked=True, attended=True),
        ),
    ) == [
        "started",
        "started",
        "consent",
        "question:child_age",
        "question:postal_code",
        # Waiting at the life situations: the district question before it was passed.
        "question:qpv_district",
        "question:france_travail",
        "question:age",
        "question:age",
        "orientation",
        "contact",
        "lead",
        "contacted",
        "booked",
        "attended",
        "enrolled",
        "enrolled",
    ]


def test_unreadable_states_and_foreign_leads(flow: Flow) -> None:
    broken = ConversationFacts.from_row({"id": "x", "state": '{"answers": 3}'})
    assert broken.state is None
    stages = funnel(flow, [broken], [LeadFacts("elsewhere", frozenset({"enrolled"}))])
    assert counts(stages) == expected(1, *[0] * 21)
    assert stages[1].dropped == 1
    assert stages[1].dropped_share == 100.0
    assert stages[2].dropped_share is None


# --- bookings, on sessions booked in the conversation ---------------------------------------

TAIL = ("lead", "contacted", "booked", "attended", "enrolled")


def tail(stages: list[Stage]) -> tuple[int, ...]:
    """The counts from the lead to the enrolment."""
    found = counts(stages)
    return tuple(found[key] for key in TAIL)


async def booking_of(service: ConversationService, conversation_id: str) -> str:
    """The id of the booking the conversation's lead made."""
    async with service.database.transaction() as tx:
        lead = await lead_of_conversation(tx, conversation_id)
        assert lead is not None
        [booking] = await bookings_of_lead(tx, lead.id)
    return booking.id


async def test_bookings_and_attendance_count_per_referrer_language_and_period(
    service: ConversationService,
) -> None:
    async with service.database.transaction() as tx:
        await register_referrer(tx, "ML_POISSY", "Mission locale de Poissy")
        await register_referrer(tx, "SALON", "Salon emploi de Poissy")
    appointments = service.appointments
    await open_session(appointments)
    # Everyone goes to the end; all but the first book the session offered to them.
    none_suits = {"session": {"choice": "none"}}
    ids = {
        "declined": await converse(service, "declined", referrer="ML_POISSY", answers=none_suits),
        "booked": await converse(service, "booked", referrer="ML_POISSY"),
        "cancelled": await converse(service, "cancelled", referrer="ML_POISSY", language="en"),
        "corrected": await converse(service, "corrected", referrer="SALON"),
        "attended": await converse(service, "attended", referrer="SALON", language="en"),
        "enrolled": await converse(service, "enrolled", referrer="SALON"),
    }
    booking = {name: await booking_of(service, ids[name]) for name in ids if name != "declined"}
    await appointments.cancel_booking(booking["cancelled"], by="person")
    # Marked present by mistake, then absent: the booking counts, the attendance does not.
    await appointments.mark_attendance(booking["corrected"], True, by="c@poles.example")
    await appointments.mark_attendance(booking["corrected"], False, by="c@poles.example")
    await appointments.mark_attendance(booking["attended"], True, by="c@poles.example")
    await appointments.mark_attendance(booking["enrolled"], True, by="c@poles.example")
    await change_statuses(service, ids["enrolled"], "enrolled")
    await move_to(service, ids["enrolled"], EARLY)

    # lead, contacted, booked, attended, enrolled
    assert tail(await figures(service, FunnelFilters())) == (6, 5, 5, 2, 1)
    everyone = {s.key: s for s in await figures(service, FunnelFilters())}
    assert everyone["booked"].share == pytest.approx(500 / 6)
    assert everyone["attended"].dropped == 3
    assert everyone["attended"].dropped_share == 60.0
    assert everyone["enrolled"].dropped_share == 50.0
    assert tail(await figures(service, FunnelFilters(referrer="ML_POISSY"))) == (3, 2, 2, 0, 0)
    assert tail(await figures(service, FunnelFilters(referrer="SALON"))) == (3, 3, 3, 2, 1)
    assert tail(await figures(service, FunnelFilters(language="en"))) == (2, 2, 2, 1, 0)
    salon_en = FunnelFilters(referrer="SALON", language="en")
    assert tail(await figures(service, salon_en)) == (1, 1, 1, 1, 0)
    day = date(2024, 3, 10)
    assert tail(await figures(service, FunnelFilters(date_from=day, date_to=day))) == (
        1, 1, 1, 1, 1,
    )  # fmt: skip
    since = FunnelFilters(date_from=date(2024, 3, 11))
    assert tail(await figures(service, since)) == (5, 4, 4, 1, 0)

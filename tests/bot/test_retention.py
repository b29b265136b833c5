"""Personal data is kept no longer than the privacy notice says."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from bot import retention as retention_module
from bot.appointments.bookings import bookings_of_lead
from bot.appointments.service import Appointments
from bot.batches import Batch, Batching
from bot.channels.sms.queue import queue_sms
from bot.channels.writers import Writers
from bot.clock import utcnow
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService
from bot.leads.handoff import LeadHandoff
from bot.leads.store import lead_of_conversation
from bot.retention import DailyPurge, Purged, Retention, purge
from bot.settings import SettingsError, load_settings
from bot.storage.database import Database, Transaction, open_database
from bot.storage.models import (
    AppointmentBooking,
    AppointmentReminder,
    AppointmentSession,
    Conversation,
    InboxUpdate,
    Lead,
    LeadNote,
    LeadStatusChange,
    OutboxMessage,
    SmsMessage,
    TranscriptEntry,
    WebhookDelivery,
    WebhookEndpoint,
)
from flows.messages import Input
from tests.auxil.bookings import book_soonest
from tests.auxil.clock import ManualClock
from tests.auxil.funnel_data import change_statuses, converse
from tests.auxil.sessions import bookings_of, open_session
from webhook.cli import main


async def purge_now(database: Database, retention: Retention) -> Purged:
    return await purge(database, retention)


async def test_old_conversations_and_telegram_messages_are_erased(database: Database) -> None:
    service = ConversationService(database, FlowRegistry())
    await service.prepare()
    for person in ("old", "recent"):
        await service.handle(channel="web", external_id=person, received=Input(command="start"))
        await service.handle(channel="web", external_id=person, received=Input(choice="yes"))
    long_ago = utcnow() - timedelta(days=91)
    async with database.transaction() as tx:
        await tx.run(
            update(Conversation)
            .where(Conversation.external_id == "old")
            .values(updated_at=long_ago)
        )
        await tx.run(
            insert(InboxUpdate).values(
                channel="telegram",
                delivery_id="1",
                position=1,
                chat_id=5,
                payload={"x": 1},
                received_at=long_ago,
                processed_at=long_ago,
            )
        )
        await tx.run(
            insert(InboxUpdate).values(
                channel="telegram", delivery_id="2", position=2, chat_id=5, payload={"x": 2}
            )
        )
        await tx.run(
            insert(OutboxMessage).values(
                chat_id=5, method="sendMessage", payload={"text": "a"}, sent_at=long_ago
            )
        )
        await tx.run(
            insert(OutboxMessage).values(chat_id=5, method="sendMessage", payload={"text": "b"})
        )
    purged = await purge_now(database, Retention())
    async with database.transaction() as tx:
        people = await tx.scalars(select(Conversation.external_id))
        transcripts = await tx.scalar(select(func.count()).select_from(TranscriptEntry))
        updates = await tx.scalars(select(InboxUpdate.position))
        outbox = await tx.scalars(select(OutboxMessage.payload))
    assert (purged.conversations, purged.inbox_updates, purged.outbox_messages) == (1, 1, 1)
    assert people == ["recent"]
    assert transcripts is not None
    assert transcripts > 0  # the recent one's transcript stays; the old one's went with it
    assert updates == [2]
    assert outbox == [{"text": "b"}]  # an unsent message is never purged


def test_the_purge_command_reports_what_it_erased(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.startswith("erased 0 conversations")


async def test_leads_outlive_their_conversation_and_old_webhook_bodies_are_emptied(
    database: Database,
) -> None:
    long_ago, recently = utcnow() - timedelta(days=91), utcnow() - timedelta(days=2)
    async with database.transaction() as tx:
        await tx.run(
            insert(Conversation).values(
                id="c" * 32, channel="web", external_id="old", flow_id="prescreening",
                flow_version="1", state={}, updated_at=long_ago,
            )
        )  # fmt: skip
        await tx.run(
            insert(Lead).values(
                id="l" * 32, conversation_id="c" * 32, channel="web", language="fr",
                profile={}, orientation={},
            )
        )  # fmt: skip
        await tx.run(
            insert(WebhookEndpoint).values(
                id="e" * 32, name="CRM", url="https://x.example", secret="s"
            )
        )
        for delivery_id, delivered_at in (
            ("msg_old", long_ago),
            ("msg_new", recently),
            ("msg_wait", None),
        ):
            await tx.run(
                insert(WebhookDelivery).values(
                    id=delivery_id, endpoint_id="e" * 32, lead_id="l" * 32,
                    event_type="lead.created", body="{}", delivered_at=delivered_at,
                )
            )  # fmt: skip
    purged = await purge_now(database, Retention())
    async with database.transaction() as tx:
        lead = await tx.first(select(Lead.id, Lead.conversation_id).where(Lead.id == "l" * 32))
        bodies = dict(await tx.all(select(WebhookDelivery.id, WebhookDelivery.body)))
    assert purged.conversations == 1
    # The counsellors still follow it up.
    assert lead == ("l" * 32, None)
    assert purged.delivery_bodies == 1
    assert bodies == {"msg_old": None, "msg_new": "{}", "msg_wait": "{}"}


async def test_leads_closed_long_ago_are_erased_with_their_history_and_webhook_data(
    database: Database,
) -> None:
    now = utcnow()
    closed_long_ago, closed_lately = now - timedelta(days=361), now - timedelta(days=359)
    leads = {
        "old": ("enrolled", closed_long_ago),
        "late": ("withdrawn", closed_lately),
        "open": ("new", None),
    }
    async with database.transaction() as tx:
        await tx.run(
            insert(WebhookEndpoint).values(
                id="e" * 32, name="CRM", url="https://x.example", secret="s"
            )
        )
        for name, (status, closed_at) in leads.items():
            await tx.run(
                insert(Lead).values(
                    id=name.ljust(32, "0"), channel="web", language="fr", profile={},
                    orientation={}, status=status, closed_at=closed_at,
                    created_at=now - timedelta(days=800),
                )
            )  # fmt: skip
        for name in leads:
            lead_id = name.ljust(32, "0")
            await tx.run(
                insert(LeadStatusChange).values(
                    lead_id=lead_id, status="new", changed_by="assistant"
                )
            )
            await tx.run(
                insert(LeadNote).values(lead_id=lead_id, author="c@poles.example", body="Rappelé")
            )
            await tx.run(
                insert(WebhookDelivery).values(
                    id=f"msg_{name}_sent", endpoint_id="e" * 32, lead_id=lead_id,
                    event_type="lead.updated", body="{}", delivered_at=now - timedelta(days=1),
                )
            )  # fmt: skip
        await tx.run(
            insert(WebhookDelivery).values(
                id="msg_old_waiting", endpoint_id="e" * 32, lead_id="old".ljust(32, "0"),
                event_type="lead.updated", body="{}", attempts=2, last_status=503,
            )
        )  # fmt: skip
    purged = await purge_now(database, Retention())
    async with database.transaction() as tx:
        left = set(await tx.scalars(select(Lead.id)))
        history = set(await tx.scalars(select(LeadStatusChange.lead_id)))
        notes = set(await tx.scalars(select(LeadNote.lead_id)))
        rows = await tx.all(
            select(
                WebhookDelivery.id,
                WebhookDelivery.body,
                WebhookDelivery.failed_at,
                WebhookDelivery.last_error,
            )
        )
    deliveries = {row[0]: row for row in rows}
    assert purged.leads == 1
    assert left == {"late".ljust(32, "0"), "open".ljust(32, "0")}
    assert history == notes == left
    # The rows stay as the trace of what was sent, without the lead's data; nothing is queued
    # (no lead.deleted: see bot/retention.py), and what still waited is given up.
    assert set(deliveries) == {"msg_old_sent", "msg_late_sent", "msg_open_sent", "msg_old_waiting"}
    _, body, failed_at, last_error = deliveries["msg_old_waiting"]
    assert body is None
    assert failed_at is not None
    assert last_error == "lead erased (retention) before delivery"
    assert deliveries["msg_old_sent"][1] is None
    assert deliveries["msg_late_sent"][1] == "{}"
    assert deliveries["msg_open_sent"][1] == "{}"


async def test_the_lead_retention_follows_its_setting(
    database_url: str, database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    settings = load_settings(database_url=database_url, retention_lead_months=2)
    retention = Retention.from_settings(settings)
    assert retention.closed_leads == timedelta(days=60)
    assert retention.conversations == timedelta(days=90)
    assert Retention.from_settings(load_settings(database_url=database_url)).closed_leads == (
        timedelta(days=360)
    )
    async with database.transaction() as tx:
        for name, days in (("a", 61), ("b", 59)):
            await tx.run(
                insert(Lead).values(
                    id=name * 32, channel="web", language="fr", profile={}, orientation={},
                    status="not_eligible", closed_at=utcnow() - timedelta(days=days),
                )
            )  # fmt: skip
    purged = await purge_now(database, retention)
    async with database.transaction() as tx:
        left = await tx.scalars(select(Lead.id))
    assert purged.leads == 1
    assert left == ["b" * 32]


@pytest.mark.parametrize("months", ["0", "121", "twelve"])
def test_a_wrong_lead_retention_is_named(
    months: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIGUILLAGE_RETENTION_LEAD_MONTHS", months)
    with pytest.raises(SettingsError, match="AIGUILLAGE_RETENTION_LEAD_MONTHS"):
        load_settings()


def test_the_purge_command_reports_the_erased_leads(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", database_url)
    monkeypatch.setenv("AIGUILLAGE_RETENTION_LEAD_MONTHS", "3")

    async def close_a_lead() -> None:
        database = open_database(database_url)
        async with database.transaction() as tx:
            await tx.run(
                insert(Lead).values(
                    id="x" * 32, channel="web", language="fr", profile={}, orientation={},
                    status="enrolled", closed_at=utcnow() - timedelta(days=91),
                )
            )  # fmt: skip
        await database.close()

    asyncio.run(close_a_lead())
    assert main(["purge"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("and 1 leads closed over 3 months ago")


async def test_stopping_the_daily_purge_lets_the_batch_under_way_finish(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()
    batches = 0

    async def slow_batch(tx: Transaction, limit: int) -> Batch:
        nonlocal batches
        batches += 1
        await tx.fetch("SELECT 1 AS one")  # the transaction holds its connection now
        entered.set()
        await release.wait()
        finished.set()
        return Batch(changed=limit, more=True)  # as if much more were due

    monkeypatch.setattr(retention_module, "_conversations_idle_since", lambda before: slow_batch)
    daily = DailyPurge(database, Retention())
    daily.start()
    await entered.wait()
    stopping = asyncio.create_task(daily.stop())  # the service stops during the purge
    await asyncio.sleep(0)
    assert not stopping.done()
    release.set()
    await stopping
    # The batch ran to its end instead of being cut off inside its transaction (which would
    # keep a connection out of the pool, and closing the database would wait for it forever),
    # and no other batch began: the service stops without waiting for the whole purge.
    assert finished.is_set()
    assert batches == 1
    await asyncio.wait_for(database.close(), timeout=30)


async def test_past_bookings_are_erased_with_their_closed_lead_and_no_sooner(
    database: Database,
) -> None:
    service = ConversationService(database, FlowRegistry())
    session = await open_session(service.appointments)
    enrolled = await converse(service, "enrolled-long-ago")
    followed = await converse(service, "still-followed")
    async with database.transaction() as tx:
        leads = {name: await lead_of_conversation(tx, name) for name in (enrolled, followed)}
        booked = {
            name: (await bookings_of_lead(tx, lead.id))[0]
            for name, lead in leads.items()
            if lead is not None
        }
        # The first reminder went out by SMS, as for a web chat person who agreed.
        old = booked[enrolled]
        await tx.run(
            update(AppointmentReminder)
            .where(
                AppointmentReminder.booking_id == old.id, AppointmentReminder.kind == "day_before"
            )
            .values(sent_at=utcnow())
        )
        await queue_sms(tx, booking_id=old.id, phone="+33612345678", text="Rappel", now=utcnow())
    await service.appointments.mark_attendance(old.id, True, by="c@poles.example")
    await change_statuses(service, enrolled, "enrolled")
    async with database.transaction() as tx:
        # Enrolled a year ago: past its retention.
        await tx.run(
            update(Lead)
            .where(Lead.conversation_id == enrolled)
            .values(closed_at=utcnow() - timedelta(days=361))
        )

    purged = await purge_now(database, Retention())

    async with database.transaction() as tx:
        bookings = set(await tx.scalars(select(AppointmentBooking.id)))
        reminders = set(await tx.scalars(select(AppointmentReminder.booking_id)))
        sms = await tx.scalars(select(func.count()).select_from(SmsMessage))
        sessions = await tx.scalars(select(AppointmentSession.id))
    assert purged.leads == 1
    # The cascade reaches the booking, its sent reminder and its SMS record (on SQLite too:
    # every connection turns foreign keys on).
    assert bookings == {booked[followed].id}
    assert reminders == {booked[followed].id}
    assert sms == [0]
    # The session stays, for the others who booked it.
    assert sessions == [session.id]


async def test_a_booking_forgets_how_to_reach_the_person_two_weeks_after_its_session(
    database: Database,
) -> None:
    clock = ManualClock(utcnow() - timedelta(days=30))
    writers, handoff = Writers(), LeadHandoff()
    appointments = Appointments(database, handoff=handoff, writers=writers, clock=clock)
    service = ConversationService(
        database, FlowRegistry(), handoff=handoff, writers=writers, appointments=appointments
    )
    await service.prepare()
    past = await open_session(appointments, starts_at=clock.now + timedelta(days=2))
    soon = await open_session(appointments, starts_at=utcnow() + timedelta(days=3))
    for chat, session in (("5001", past), ("5002", soon)):
        if session is soon:
            clock.now = utcnow()
        await book_soonest(service, "telegram", chat)

    purged = await purge(database, Retention())
    assert purged.booking_contacts == 1
    [old] = await bookings_of(database, past.id)
    [new] = await bookings_of(database, soon.id)
    assert (old.status, old.external_id, old.sms_phone) == ("booked", None, None)
    assert new.external_id == "5002"


async def _fill_due(database: Database, *, conversations: int, leads: int) -> None:
    """Conversations left alone long ago (with transcripts), leads closed long ago (with their
    history), and messages sent long ago; plus one of each still kept."""
    long_ago, now = utcnow() - timedelta(days=400), utcnow()
    async with database.transaction() as tx:
        for n in range(conversations + 1):
            conversation_id = f"c{n}".ljust(32, "0")
            await tx.run(
                insert(Conversation).values(
                    id=conversation_id, channel="web", external_id=f"person-{n}",
                    flow_id="prescreening", flow_version="1", state={},
                    updated_at=now if n == conversations else long_ago,
                )
            )  # fmt: skip
            for line in ("Bonjour", "Oui"):
                await tx.run(
                    insert(TranscriptEntry).values(
                        conversation_id=conversation_id, direction="in", body=line
                    )
                )
        for n in range(leads + 1):
            lead_id = f"l{n}".ljust(32, "0")
            await tx.run(
                insert(Lead).values(
                    id=lead_id, channel="web", language="fr", profile={}, orientation={},
                    status="enrolled", closed_at=now if n == leads else long_ago,
                )
            )  # fmt: skip
            await tx.run(
                insert(LeadStatusChange).values(
                    lead_id=lead_id, status="enrolled", changed_by="c@poles.example"
                )
            )
        for n in range(conversations + 1):
            await tx.run(
                insert(OutboxMessage).values(
                    chat_id=n, method="sendMessage", payload={"text": "a"},
                    sent_at=now if n == conversations else long_ago,
                )
            )  # fmt: skip


async def test_a_purge_of_more_rows_than_a_batch_erases_them_all(database: Database) -> None:
    await _fill_due(database, conversations=7, leads=5)
    between = 0

    async def count_batches() -> None:
        nonlocal between
        between += 1

    purged = await purge(database, Retention(), batching=Batching(size=2, between=count_batches))

    async with database.transaction() as tx:
        conversations = await tx.scalars(select(Conversation.external_id))
        transcripts = await tx.scalar(select(func.count()).select_from(TranscriptEntry))
        leads = await tx.scalars(select(Lead.id))
        history = await tx.scalars(select(LeadStatusChange.lead_id))
        sent = await tx.scalar(select(func.count()).select_from(OutboxMessage))
    # Everything due went, whatever the size of a batch, and the counts are of the whole purge.
    assert (purged.conversations, purged.leads, purged.outbox_messages) == (7, 5, 7)
    assert conversations == ["person-7"]
    assert transcripts == 2
    assert leads == history == ["l5".ljust(32, "0")]
    assert sent == 1
    # Batches of 2 then 1 (or 0): a pause after each full one, three for the seven
    # conversations, two for the five leads, three for the seven sent messages.
    assert between == 3 + 2 + 3


async def test_another_transaction_writes_between_two_batches_of_a_purge(
    database: Database,
) -> None:
    await _fill_due(database, conversations=5, leads=0)
    left_seen: list[int] = []

    async def someone_writes() -> None:
        # On SQLite a purge still inside its transaction would hold the one connection: this
        # write would wait for ever (hence the bound, to fail instead of hanging).
        async with asyncio.timeout(30), database.transaction() as tx:
            left_seen.append(
                await tx.scalar(
                    select(func.count())
                    .select_from(Conversation)
                    .where(Conversation.external_id != "person-5")
                )
                or 0
            )
            await tx.run(
                insert(Conversation).values(
                    channel="web", external_id=f"arrived-{len(left_seen)}",
                    flow_id="prescreening", flow_version="1", state={},
                )
            )  # fmt: skip

    purged = await purge(database, Retention(), batching=Batching(size=2, between=someone_writes))

    async with database.transaction() as tx:
        people = set(await tx.scalars(select(Conversation.external_id)))
    assert purged.conversations == 5
    # The conversations' batches were committed one by one (each write saw fewer due), and
    # the people who came meanwhile were served and kept.
    assert left_seen[:2] == [3, 1 + len(["arrived-1"])]
    assert {"person-5", "arrived-1", "arrived-2"} <= people
    assert not any(person.startswith("person-") and person != "person-5" for person in people)

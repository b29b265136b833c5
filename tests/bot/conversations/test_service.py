"""Conversations survive restarts and redeploys: every step is stored, versions are pinned."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import ConversationService, Reply
from bot.storage.database import open_database
from bot.storage.models import Conversation, TranscriptEntry
from flows.flow_loader import FLOWS_DIR
from flows.messages import Input
from tests.auxil.service_chat import finish_as_lead
from tests.auxil.stored_rows import conversation_row, count_rows
from tests.auxil.webhook_receiver import register_referrer

PRESCREENING = (FLOWS_DIR / "prescreening.yaml").read_text(encoding="utf-8")
# Version 2 asks the age differently: enough to tell which version a conversation runs on.
VERSION_2 = PRESCREENING.replace('version: "1"', 'version: "2"').replace(
    "    ask: age.ask\n", "    ask: child_age.ask\n"
)


class Service:
    """A ConversationService over its own database, as one `aiguillage serve` process."""

    def __init__(self, database_url: str, flows_dir: Path = FLOWS_DIR) -> None:
        self.database = open_database(database_url)
        self.service = ConversationService(self.database, FlowRegistry(flows_dir))

    async def __aenter__(self) -> Service:
        await self.service.prepare()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.database.close()

    async def send(self, person: str = "p1", **kwargs: object) -> Reply:
        return await self.service.handle(
            channel="web",
            external_id=person,
            received=Input(**kwargs),  # type: ignore[arg-type]
        )


def asked(reply: Reply) -> str | None:
    question = reply.messages[-1].question
    return question.field if question else None


async def test_a_restarted_service_resumes_where_the_person_stopped(database_url: str) -> None:
    async with Service(database_url) as first:
        # Only registered partners' codes are kept (others are "unknown").
        async with first.database.transaction() as tx:
            await register_referrer(tx, "ML_POISSY")
        await first.send(command="start", payload="ML_POISSY")
        await first.send(choice="yes")
        await first.send(choice="self")
        assert asked(await first.send(text="19")) == "postal_code"
    async with Service(database_url) as second:
        reply = await second.send(text="93500")
        assert asked(reply) == "situation"
        resumed = await second.send(command="start")
        assert "On reprend" in resumed.messages[0].text
        assert asked(resumed) == "situation"
        row = await conversation_row(second.database)
        assert row is not None
        assert row.referrer_code == "ML_POISSY"
        assert row.state["answers"]["age"] == 19
        assert await count_rows(second.database, TranscriptEntry) > 10


async def test_a_conversation_finishes_on_the_flow_version_it_started_with(
    database_url: str, tmp_path: Path
) -> None:
    async with Service(database_url) as old:
        await old.send(command="start")
        await old.send(choice="yes")
    (tmp_path / "prescreening.yaml").write_text(VERSION_2, encoding="utf-8")
    async with Service(database_url, tmp_path) as new:
        # The person who started on version 1 is asked as version 1 asks…
        assert "Quel âge as-tu" in (await new.send(choice="self")).messages[-1].text
        # …while someone new starts on version 2.
        await new.send("p2", command="start")
        await new.send("p2", choice="yes")
        assert "Quel âge a ton enfant" in (await new.send("p2", choice="self")).messages[-1].text
        # A restart moves the first person to the new version.
        await new.send(command="restart")
        await new.send(choice="yes")
        assert "Quel âge a ton enfant" in (await new.send(choice="self")).messages[-1].text


async def test_unknown_referral_codes_are_kept_as_unknown(database_url: str) -> None:
    async with Service(database_url) as service:
        await service.send(command="start", payload="<script>")
        row = await conversation_row(service.database)
        assert row is not None
        assert row.referrer_code == "unknown"


async def test_one_person_s_inputs_are_applied_in_order(database_url: str) -> None:
    import asyncio

    async with Service(database_url) as service:
        await service.send(command="start")
        replies = await asyncio.gather(
            service.send(choice="yes"), service.send(choice="self"), service.send(text="19")
        )
        assert [asked(r) for r in replies] == ["asker", "age", "postal_code"]


async def test_a_person_whose_request_was_sent_hears_where_it_stands_on_start(
    database_url: str,
) -> None:
    async with Service(database_url) as service:
        await finish_as_lead(service.service, "p1")
        back = await service.send(command="start")
        assert back.messages[0].text.startswith("Re ! 👋 Ta demande du ")
        assert "transmise, un conseiller va te contacter" in back.messages[0].text
        assert not any("Salut" in m.text for m in back.messages)
        assert "returned" in back.events
        # The end question still offers to start again.
        assert back.messages[-1].question is not None
        assert back.done


async def test_my_data_shows_what_the_lead_keeps_after_a_restart(database_url: str) -> None:
    async with Service(database_url) as service:
        await finish_as_lead(service.service, "p1")
        # On a channel where the same chat is the same person, a restart keeps the lead.
        await service.send(command="restart")
        data = await service.send(text="/mes_donnees")
        shown = "\n".join(m.text for m in data.messages)
        assert "Je ne garde encore aucune réponse" not in shown
        assert "Dans ta demande transmise à PôleS, je garde aussi :" in shown
        assert "Samir" in shown
        assert "06 12 34 56 78" in shown
        assert "93500" in shown
        assert "transmise, un conseiller va te contacter" in shown


async def test_my_data_does_not_repeat_answers_the_lead_holds_alike(database_url: str) -> None:
    async with Service(database_url) as service:
        await finish_as_lead(service.service, "p1")
        data = await service.send(text="/mes_donnees")
        shown = "\n".join(m.text for m in data.messages)
        assert shown.count("Samir") == 1
        assert "je garde aussi" not in shown


async def test_what_a_step_changes_is_stored_and_counted_where_it_now_belongs(
    database_url: str,
) -> None:
    """A step writes only the columns it changed: each change must still reach the row."""
    async with Service(database_url) as service:
        async with service.database.transaction() as tx:
            await register_referrer(tx, "ML_POISSY")
        await service.send(command="start")
        await service.send(choice="yes")
        await service.send(command="start", payload="ML_POISSY")  # the poster's code, later
        await service.send(command="language", payload="en")
        await service.send(choice="self")
        async with service.database.transaction() as tx:
            stored = await tx.first(
                select(
                    Conversation.referrer_code,
                    Conversation.language,
                    Conversation.status,
                    Conversation.funnel_stage,
                )
            )
        assert stored == ("ML_POISSY", "en", "active", "question:asker")
        await finish_as_lead(service.service, "p1")
        row = await conversation_row(service.database)
        assert row is not None
        assert row.status == "done"

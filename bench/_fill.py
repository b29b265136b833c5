"""Filling a migrated database to a given size quickly, by copying the seeded rows.

Each conversation is a copy of a real one (bench/_seed.py) under a new id, with its
transcript, a channel, a referral code, dates spread over the last year and the status the
reminders would have given it by now; a chosen share of them end as leads, each with the
status history, lead webhooks and bookings of the lead it copies, a first name and a phone
of its own. Audit lines and sessions are made up in the shapes the admin writes them.

What a year in production would have left is left: a conversation untouched for a week is
closed; webhook bodies are emptied 30 days after delivery and booking contacts 14 days after
the session (what the daily purge does), so that the service's purge at start finds nothing.

Rows go in batches: ``executemany`` on SQLite (one transaction a batch, synchronous off while
filling), ``COPY`` on PostgreSQL (asyncpg's ``copy_records_to_table``).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg
from sqlalchemy import JSON, Boolean

from bench._seed import ENDPOINT_URL, REFERRERS, Templates
from bot.leads.search_key import search_key
from bot.leads.store import CLOSING_STATUSES
from bot.storage.models import Base
from bot.storage.types import UTCDateTime
from webhook.handoff.signing import new_secret

Row = dict[str, Any]
YEAR = timedelta(days=365)
BATCH = 5_000  # conversations per batch (about 110,000 rows with their transcripts)
# Referral codes beside the seed's: a national roll-out has many partners.
PARTNER_CODES = tuple(f"PARTENAIRE_{number:02d}" for number in range(35))
CODES = REFERRERS + PARTNER_CODES
FIRST_NAMES = (
    "Inès", "Samir", "Léa", "Moussa", "Chloé", "Yanis", "Maëlle", "Kévin", "Aïcha", "Théo",
    "Fatoumata", "Lucas", "Zoé", "Mehdi", "Océane", "Ibrahima", "Jade", "Rayan", "Élodie", "Noé",
)  # fmt: skip
ADMINS = ("camille@poles.example", "admin@poles.example", "karim@poles.example")
AUDIT_ACTIONS = ("view_lead",) * 6 + ("change_status", "add_note", "assign", "export_csv")
# Shares of the lead webhooks that failed for good, and that still wait.
FAILED, PENDING = 0.03, 0.02


class Writer(Protocol):
    async def write(self, table: str, rows: list[Row]) -> None: ...


def _kinds(table: str) -> dict[str, str]:
    """Each column's kind where it needs converting: "time", "json" or "bool"."""
    kinds = {}
    for column in Base.metadata.tables[table].columns:
        if isinstance(column.type, UTCDateTime):
            kinds[column.name] = "time"
        elif isinstance(column.type, JSON):
            kinds[column.name] = "json"
        elif isinstance(column.type, Boolean):
            kinds[column.name] = "bool"
    return kinds


class SqliteWriter:
    """Batches through the standard library's sqlite3: what the product's driver stores."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA synchronous = OFF")  # a benchmark's fill, not data

    async def write(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        kinds = _kinds(table)

        def value(column: str, raw: Any) -> Any:
            kind = kinds.get(column)
            if raw is None:
                return None
            if kind == "time":
                return raw.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            if kind == "bool":
                return int(raw)
            return raw

        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        self.connection.execute("BEGIN")
        self.connection.executemany(
            statement, ([value(c, row[c]) for c in columns] for row in rows)
        )
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class PostgresWriter:
    """COPY through asyncpg; serial ids are given, their sequences set at the end."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def start(self) -> None:
        # The foreign keys' triggers, row by row, doubled the time of a COPY; the rows made
        # here refer to rows made before them, so the checks would find nothing.
        await self.connection.execute("SET session_replication_role = replica")

    async def write(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        # Times and booleans the seed left as SQLite stored them (text, 0 or 1) are read back;
        # the rest is as made.
        kinds = _kinds(table)
        texts = [c for c, kind in kinds.items() if kind == "time" and c in columns]
        flags = [c for c, kind in kinds.items() if kind == "bool" and c in columns]
        records = []
        for row in rows:
            for column in texts:
                if isinstance(row[column], str):
                    row[column] = _time(row[column])
            for column in flags:
                row[column] = bool(row[column])
            records.append(tuple(row[c] for c in columns))
        await self.connection.copy_records_to_table(table, records=records, columns=columns)

    async def finish(self) -> None:
        await self.connection.execute("SET session_replication_role = DEFAULT")
        for table in ("transcript_entries", "lead_status_changes", "audit_log"):
            await self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await self.connection.execute("VACUUM ANALYZE")  # what autovacuum does after a load


@dataclass
class Filled:
    """What the fill made, and things the measures need from it."""

    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    phones: list[str] = field(default_factory=list)  # a few leads' phones, to search for

    def count(self, table: str, made: int) -> None:
        self.rows[table] += made


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass
class _Template:
    """One seeded conversation, its times made relative to its start."""

    conversation: Row
    lines: list[Row]  # its transcript
    lead: Row | None
    changes: list[Row]
    deliveries: list[Row]
    bookings: list[Row]
    duration: timedelta  # start to last step


def _templates(seeded: Templates) -> tuple[list[_Template], list[_Template]]:
    """The seeded conversations: those that made a lead, and the others."""
    by: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for line in seeded.of("transcript_entries"):
        by["lines"][line["conversation_id"]].append(line)
    for table in ("lead_status_changes", "webhook_deliveries", "appointment_bookings"):
        for row in seeded.of(table):
            by[table][row["lead_id"]].append(row)
    lead_of = {lead["conversation_id"]: lead for lead in seeded.of("leads")}
    with_lead: list[_Template] = []
    without: list[_Template] = []
    for conversation in seeded.of("conversations"):
        lead = lead_of.get(conversation["id"])
        lead_id = lead["id"] if lead else ""
        template = _Template(
            conversation,
            sorted(by["lines"][conversation["id"]], key=lambda line: line["id"]),
            lead,
            sorted(by["lead_status_changes"][lead_id], key=lambda change: change["id"]),
            by["webhook_deliveries"][lead_id],
            by["appointment_bookings"][lead_id],
            _time(conversation["updated_at"]) - _time(conversation["created_at"]),  # type: ignore[operator]
        )
        (with_lead if lead else without).append(template)
    return with_lead, without


class _Ids:
    def __init__(self) -> None:
        self.serial: dict[str, int] = defaultdict(int)

    def next(self, table: str) -> int:
        self.serial[table] += 1
        return self.serial[table]


def _external_id(channel: str, number: int) -> str:
    """Unique per channel, as (channel, external_id) is: drawn at random, chats would collide."""
    if channel == "telegram":
        return str(1_000_000_000 + number)
    if channel == "whatsapp":
        return f"336{number:08d}"
    return uuid.uuid4().hex + uuid.uuid4().hex  # a web session's key, 64 characters


class Filler:
    """Makes the rows of `conversations` conversations and `leads` leads, batch by batch."""

    def __init__(self, seeded: Templates, *, conversations: int, leads: int, now: datetime):
        self.with_lead, self.without = _templates(seeded)
        if not self.with_lead or not self.without:
            raise RuntimeError("the seed made no lead, or only leads")
        self.sessions_seed = seeded.of("appointment_sessions")
        self.total, self.leads, self.now = conversations, leads, now
        self.rng = random.Random(18)
        self.ids = _Ids()
        self.filled = Filled()
        self.sessions: list[Row] = []

    async def fill(self, writer: Writer) -> Filled:
        await self._fixed_rows(writer)
        leads_made = 0
        for start in range(0, self.total, BATCH):
            batch: dict[str, list[Row]] = defaultdict(list)
            for number in range(start, min(start + BATCH, self.total)):
                # Exactly `leads` of the conversations end as leads, spread evenly.
                makes_lead = (number * self.leads) // self.total != (
                    (number + 1) * self.leads
                ) // self.total
                self._conversation(batch, number, makes_lead)
                leads_made += makes_lead
            await self._write(writer, batch)
        while leads_made < self.leads:  # more leads than conversations: theirs were erased
            batch = defaultdict(list)
            for _ in range(min(BATCH, self.leads - leads_made)):
                self._conversation(batch, leads_made, True, keep_conversation=False)
                leads_made += 1
            await self._write(writer, batch)
        await self._write(writer, {"audit_log": self._audit_lines()})
        return self.filled

    async def _write(self, writer: Writer, batch: dict[str, list[Row]]) -> None:
        for table in (
            "conversations", "transcript_entries", "leads", "lead_status_changes",
            "webhook_deliveries", "appointment_bookings", "audit_log",
        ):  # fmt: skip
            await writer.write(table, batch.get(table, []))
            self.filled.count(table, len(batch.get(table, [])))

    async def _fixed_rows(self, writer: Writer) -> None:
        year_ago = self.now - YEAR
        await writer.write(
            "referrers", [{"code": c, "name": c, "created_at": year_ago} for c in CODES]
        )
        await writer.write("webhook_endpoints", [{
            "id": "bench", "name": "CRM", "url": ENDPOINT_URL, "secret": new_secret(),
            "created_at": year_ago,
        }])  # fmt: skip
        # A session a week at each seeded site over the year, and four weeks ahead.
        for week in range(-52, 5):
            for seeded in self.sessions_seed:
                starts = self.now + timedelta(weeks=week, hours=self.rng.randrange(-48, 48))
                self.sessions.append(seeded | {
                    "id": uuid.uuid4().hex, "starts_at": starts, "seats_taken": 0,
                    "created_at": starts - timedelta(days=20),
                    "updated_at": starts - timedelta(days=20),
                })  # fmt: skip
        await writer.write("appointment_sessions", self.sessions)
        self.filled.count("appointment_sessions", len(self.sessions))

    def _conversation(
        self, batch: dict[str, list[Row]], number: int, makes_lead: bool,
        *, keep_conversation: bool = True,
    ) -> None:  # fmt: skip
        rng = self.rng
        pool = self.with_lead if makes_lead else self.without
        template = pool[number % len(pool)]
        started = self.now - rng.random() * YEAR
        last_step = started + template.duration
        channel = rng.choices(("web", "telegram", "whatsapp"), (6, 3, 1))[0]
        referrer = rng.choice(CODES) if rng.random() < 0.4 else None
        conversation_id = uuid.uuid4().hex
        seeded = template.conversation
        if keep_conversation:
            status = seeded["status"]
            idle = self.now - last_step > timedelta(days=7)
            if status == "active" and idle:
                status = "closed"  # the reminders closed it a week after its last answer
            batch["conversations"].append(seeded | {
                "id": conversation_id, "channel": channel,
                "external_id": _external_id(channel, number), "referrer_code": referrer,
                "status": status, "created_at": started, "updated_at": last_step,
                "reminded_at": last_step + timedelta(days=1) if status == "closed" else None,
                "remind_at": None,
                "close_at": last_step + timedelta(days=7) if status == "active" else None,
            })  # fmt: skip
            for offset, line in enumerate(template.lines):
                batch["transcript_entries"].append(line | {
                    "id": self.ids.next("transcript_entries"),
                    "conversation_id": conversation_id,
                    "created_at": started + timedelta(seconds=offset * 6),
                })  # fmt: skip
        if makes_lead and template.lead is not None:
            self._lead(batch, template, conversation_id if keep_conversation else None,
                       channel, referrer, last_step)  # fmt: skip

    def _lead(
        self, batch: dict[str, list[Row]], template: _Template, conversation_id: str | None,
        channel: str, referrer: str | None, created: datetime,
    ) -> None:  # fmt: skip
        rng = self.rng
        lead_id = uuid.uuid4().hex
        first_name = rng.choice(FIRST_NAMES)
        phone = f"+336{rng.randrange(10**8):08d}"
        if len(self.filled.phones) < 20 and rng.random() < 0.01:
            self.filled.phones.append(phone)
        # Each status change a few days after the one before, never after now.
        at, changes = created, []
        for change in template.changes:
            changes.append(change | {
                "id": self.ids.next("lead_status_changes"), "lead_id": lead_id, "at": at,
            })  # fmt: skip
            at = min(self.now, at + timedelta(days=rng.uniform(0.5, 10)))
        status = changes[-1]["status"] if changes else "new"
        updated = changes[-1]["at"] if changes else created
        batch["lead_status_changes"] += changes
        batch["leads"].append(template.lead | {  # type: ignore[operator]
            "id": lead_id, "conversation_id": conversation_id, "created_at": created,
            "updated_at": updated, "channel": channel, "referrer_code": referrer,
            "first_name": first_name, "first_name_key": search_key(first_name), "phone": phone,
            "email": f"{search_key(first_name)}.{rng.randrange(10**4)}@example.org",
            "status": status, "closed_at": updated if status in CLOSING_STATUSES else None,
            "human_requested": bool(template.lead["human_requested"]),  # type: ignore[index]
        })  # fmt: skip
        for delivery in template.deliveries:
            fate = rng.random()
            done = created + timedelta(seconds=2)
            failed = fate < FAILED
            delivered = not failed and fate >= FAILED + PENDING
            old = self.now - done > timedelta(days=30) and (failed or delivered)
            batch["webhook_deliveries"].append(delivery | {
                "id": f"msg_{uuid.uuid4().hex}", "lead_id": lead_id,
                "body": None if old else delivery["body"], "created_at": created,
                # One still waiting is between two tries of a receiver that is down: its next
                # is hours away, not due all at once when the service starts.
                "next_attempt_at": done if failed or delivered else self._next_try(rng),
                "attempts": 12 if failed else (1 if delivered else 6),
                "delivered_at": done if delivered else None,
                "failed_at": done if failed else None,
                "last_status": 500 if failed else (200 if delivered else None),
                "last_error": "HTTP 500" if failed else None,
            })  # fmt: skip
        for booking in template.bookings:
            session = self._session_near(created)
            past = session["starts_at"] < self.now
            contacts_kept = self.now - session["starts_at"] < timedelta(days=14)
            batch["appointment_bookings"].append(booking | {
                "id": uuid.uuid4().hex, "session_id": session["id"], "lead_id": lead_id,
                "channel": channel, "booked_at": created,
                "status": rng.choice(("attended", "missed")) if past else "booked",
                "ended_at": session["starts_at"] if past else None,
                "ended_by": "camille@poles.example" if past else None,
                "external_id": booking["external_id"] if contacts_kept else None,
                "sms_phone": phone if contacts_kept and booking["sms_phone"] else None,
            })  # fmt: skip

    def _next_try(self, rng: random.Random) -> datetime:
        return self.now + timedelta(hours=rng.uniform(1, 24))

    def _session_near(self, moment: datetime) -> Row:
        """A session of the week after `moment` (the sessions are in weeks, sites in turn)."""
        sites = max(1, len(self.sessions_seed))
        week = min(56, max(0, int((moment - self.now) / timedelta(weeks=1)) + 53))
        return self.sessions[week * sites + self.rng.randrange(sites)]

    def _audit_lines(self) -> list[Row]:
        """Three lines a lead over the year: mostly leads seen, some changes and exports."""
        lines = []
        for _ in range(self.leads * 3):
            action = self.rng.choice(AUDIT_ACTIONS)
            lines.append({
                "id": self.ids.next("audit_log"),
                "at": self.now - self.rng.random() * YEAR,
                "actor": self.rng.choice(ADMINS), "action": action,
                "lead_id": None if action == "export_csv" else uuid.uuid4().hex,
                "detail": "120 leads" if action == "export_csv" else None,
            })  # fmt: skip
        return lines

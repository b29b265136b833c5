"""The counsellors' pages on a year of data: latency, memory, and the freeze others feel.

    python -m bench.admin_scale [--conversations 100000] [--leads 10000]
        [--databases sqlite,postgresql] [--repeat 3] [--json out.json] [--keep DIR]

For each database: a fresh one, migrated by ``aiguillage db upgrade``, filled by copying the
rows a few dozen real conversations left (bench/_seed.py, bench/_fill.py: transcripts, leads
with their histories, lead webhooks some of which failed, bookings, audit lines); then
``aiguillage serve`` on it in its own process, an admin signed in through the login form, and
each admin page of issue #18 fetched ``--repeat`` times: median and 95th percentile of the
whole answer, the first byte of the CSV, the service's resident memory before, at its peak
and after, and the worst wait of a probe (a web chat session polling its messages every
20 ms on its own connection: how long the service froze for the people chatting). Last, a
tenth of the conversations and leads are made due, and ``aiguillage purge`` runs while the
probe, now a new conversation every 20 ms (a write), measures the wait.

Retention is set to 400 days (conversations) and 14 months (closed leads) in the service,
so that the year of data stays until the purge is measured. ``--keep DIR`` keeps the
databases (the SQLite file in DIR, the PostgreSQL database's URL in DIR/postgresql.url) for
``EXPLAIN``; they are kept after the purge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from sqlalchemy import select

from bench import _measure, _procs
from bench._fill import Filler, PostgresWriter, SqliteWriter
from bench._seed import Templates, seed
from bench._watch import Watched, rss_mb, watching
from bot.clock import utcnow
from bot.conversations.flow_registry import FlowRegistry
from bot.conversations.service import DEFAULT_FLOW
from bot.funnel_rebuild import mark_current
from bot.funnel_stages import refresh_conversations
from bot.leads import outcomes
from bot.storage.database import open_database
from bot.storage.models import Lead
from tests.auxil.admin_browser import PASSWORD, sign_in

ADMIN = "bench-admin@poles.example"
PARIS = ZoneInfo("Europe/Paris")
RETENTION_DAYS = 400
RETENTION_LEAD_MONTHS = 14
RUN_PAUSE = 0.3  # seconds between two runs of a page
# Made due for the purge: past both retentions (14 months of 30 days is 420 days).
DUE_AGE = timedelta(days=440)
# About a tenth of random hexadecimal ids sort below it (0x19a / 0x1000 = 10.0 %).
TENTH = "19a"
SERVICE_SETTINGS = {
    "AIGUILLAGE_ENVIRONMENT": "test",
    "AIGUILLAGE_RETENTION_CONVERSATION_DAYS": str(RETENTION_DAYS),
    "AIGUILLAGE_RETENTION_LEAD_MONTHS": str(RETENTION_LEAD_MONTHS),
    # The probe asks 50 times a second from one address: the limits would refuse it.
    "AIGUILLAGE_CHAT_ADDRESS_PER_MINUTE": "100000",
    "AIGUILLAGE_CHAT_SESSION_PER_MINUTE": "100000",
    "AIGUILLAGE_POLL_ADDRESS_PER_MINUTE": "100000",
    "AIGUILLAGE_POLL_SESSION_PER_MINUTE": "100000",
    "AIGUILLAGE_LEADS_PER_ADDRESS_PER_HOUR": "100000",
}
COLUMNS: _measure.Columns = (
    ("database", "database", "{:<10}"),
    ("page", "page", "{:<28}"),
    ("median_ms", "median ms", "{:>9}"),
    ("p95_ms", "p95 ms", "{:>8}"),
    ("first_byte_ms", "1st byte ms", "{:>11}"),
    ("probe_max_ms", "probe max ms", "{:>12}"),
    ("rss_before_mb", "RSS before MB", "{:>13}"),
    ("rss_peak_mb", "RSS peak MB", "{:>11}"),
    ("rss_after_mb", "RSS after MB", "{:>12}"),
)


def pages(phone: str) -> list[tuple[str, str]]:
    """(name, path) of each page measured, as issue #18's table lists them."""
    today = datetime.now(PARIS).date()
    month = f"from={today - timedelta(days=30)}&to={today}"
    typed = "0" + phone.removeprefix("+33")  # as a counsellor types it: 06…
    return [
        # Opened bare, the page shows 30 days; all time is its "Depuis le début" link.
        ("funnel (all time)", "/admin/funnel?period=all"),
        ("funnel (30 days)", f"/admin/funnel?{month}"),
        ("leads.csv (all leads)", "/admin/leads.csv"),
        ("referrers", "/admin/referrers"),
        # The oldest page, by its address: the leads just after 1970 (paged by key, issue #18).
        ("leads, last page", "/admin/leads?newer=0.0"),
        ("leads?q=<phone>", f"/admin/leads?q={typed}"),
        ("data", "/admin/data"),
        ("deliveries", "/admin/deliveries"),
        ("sessions", "/admin/sessions"),
    ]


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: with three runs, the 95th percentile is the slowest."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def _fetch(http: httpx.AsyncClient, path: str) -> tuple[float, float]:
    """(seconds to the first byte of the body, to the whole answer); refuses a non-200."""
    started = time.monotonic()
    first = None
    async with http.stream("GET", path) as response:
        async for _ in response.aiter_raw():
            first = first or time.monotonic() - started
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
    return first or 0.0, time.monotonic() - started


def _row(kind: str, name: str, runs: list[tuple[float, float]], seen: Watched) -> dict[str, Any]:
    totals = [total for _, total in runs]
    return {
        "database": kind,
        "page": name,
        "median_ms": round(statistics.median(totals) * 1000, 1),
        "p95_ms": round(percentile(totals, 0.95) * 1000, 1),
        "first_byte_ms": round(statistics.median(first for first, _ in runs) * 1000, 1),
        "probe_max_ms": round(seen.worst_wait_ms, 1),
        "probe_failures": seen.failures,
        "rss_peak_mb": round(seen.rss_peak_mb),
        "runs_ms": [round(total * 1000, 1) for total in totals],
    }


async def measure_pages(
    kind: str, bot: _procs.BotProcess, args: argparse.Namespace, phone: str
) -> list[dict[str, Any]]:
    rows = []
    async with httpx.AsyncClient(base_url=bot.url, timeout=600) as admin:
        signed = await sign_in(admin, ADMIN)
        if signed.status_code != 303:
            raise RuntimeError(f"sign-in answered {signed.status_code}")
        async with httpx.AsyncClient(base_url=bot.url) as person:
            started = await person.post("/api/chat", json={"command": "start"})
        token = started.json()["session"]

        async def poll(http: httpx.AsyncClient) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            return await http.get("/api/chat/messages", params={"after": 0}, headers=headers)

        async with watching(bot.url, bot.pid, poll) as idle:
            await asyncio.sleep(1.0)
        print(f"  idle probe: worst {idle.worst_wait_ms:.1f} ms", file=sys.stderr)
        for name, path in pages(phone):
            before = rss_mb(bot.pid)
            runs = []
            async with watching(bot.url, bot.pid, poll) as seen:
                for _ in range(args.repeat):
                    runs.append(await _fetch(admin, path))
                    # A pause between runs: else the probe, served after the next run's
                    # request, would wait through two pages and report their sum.
                    await asyncio.sleep(RUN_PAUSE)
            await asyncio.sleep(0.5)  # what a page frees is freed by then, or kept
            row = _row(kind, name, runs, seen)
            row |= {"rss_before_mb": round(before), "rss_after_mb": round(rss_mb(bot.pid))}
            print(f"  {name}: {row['median_ms']} ms", file=sys.stderr, flush=True)
            rows.append(row)
    return rows


async def make_due(url: str, *, postgres: bool) -> None:
    """A tenth of the conversations and leads past their retention (the leads closed then)."""
    due = utcnow() - DUE_AGE
    conversations = f"UPDATE conversations SET updated_at = $1 WHERE id < '{TENTH}'"
    leads = (
        "UPDATE leads SET closed_at = $1, status = CASE WHEN closed_at IS NULL"
        f" THEN 'withdrawn' ELSE status END WHERE id < '{TENTH}'"
    )
    if postgres:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(conversations, due)
            await connection.execute(leads, due)
        finally:
            await connection.close()
        return
    with sqlite3.connect(url.split("///", 1)[1], isolation_level=None) as connection:
        stored = due.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        connection.execute(conversations.replace("$1", "?"), (stored,))
        connection.execute(leads.replace("$1", "?"), (stored,))


async def measure_purge(
    kind: str, bot: _procs.BotProcess, url: str, settings: dict[str, str], *, due: bool
) -> dict[str, Any]:
    """`aiguillage purge` while the probe starts a conversation every 20 ms.

    Run once with nothing due (the command's own start and its scans), then with a tenth due.
    """
    if due:
        await make_due(url, postgres=kind == "postgresql")

    async def new_conversation(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post("/api/chat", json={"command": "start"})

    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")}
    env = inherited | settings | {"AIGUILLAGE_DATABASE_URL": url, "AIGUILLAGE_LOG_LEVEL": "WARNING"}
    before = rss_mb(bot.pid)
    async with watching(bot.url, bot.pid, new_conversation) as seen:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            str(_measure.BIN / "aiguillage"), "purge", env=env, cwd=_procs.ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
        duration = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"aiguillage purge failed: {output.decode(errors='replace')}")
    print(f"  purge: {output.decode().strip().splitlines()[-1]}", file=sys.stderr)
    name = "aiguillage purge (1/10 due)" if due else "aiguillage purge (none due)"
    row = _row(kind, name, [(0.0, duration)], seen)
    return row | {
        "first_byte_ms": None,
        "rss_before_mb": round(before),
        "rss_after_mb": round(rss_mb(bot.pid)),
    }


def _add_admin(url: str) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")}
    env = inherited | {"AIGUILLAGE_DATABASE_URL": url, "AIGUILLAGE_LOG_LEVEL": "WARNING"}
    subprocess.run(
        [str(_measure.BIN / "aiguillage"), "users", "add", ADMIN, "--role", "admin",
         "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True,
    )  # fmt: skip


async def fill(kind: str, url: str, templates: Templates, args: argparse.Namespace) -> Any:
    started = time.monotonic()
    filler = Filler(templates, conversations=args.conversations, leads=args.leads, now=utcnow())
    if kind == "postgresql":
        connection = await asyncpg.connect(url)
        try:
            writer = PostgresWriter(connection)
            await writer.start()
            filled = await filler.fill(writer)
            await writer.finish()
        finally:
            await connection.close()
    else:
        sqlite_writer = SqliteWriter(url.split("///", 1)[1])
        try:
            filled = await filler.fill(sqlite_writer)
        finally:
            sqlite_writer.close()
    seconds = time.monotonic() - started
    rows = sum(filled.rows.values())
    print(
        f"{kind}: filled {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s):"
        f" {dict(filled.rows)}",
        file=sys.stderr,
        flush=True,
    )
    return filled, {"seconds": round(seconds, 1), "rows": dict(filled.rows)}


async def funnel_stages(url: str) -> float:
    """Make the copied rows' funnel stages (and leads' outcomes) the service's, as its rebuild
    (and migration 0015) would; seconds taken.

    The copied states keep their template's ``state_stage`` (same state, same stage); a lead's
    stage depends on its own copied history and bookings, so the database computes it, with
    the service's own statement. Then the plan is marked current, or ``serve`` would start a
    rebuild of every conversation in the background while the pages are measured.
    """
    started = time.monotonic()
    flow = FlowRegistry().current[DEFAULT_FLOW]
    database = open_database(url)
    try:
        async with database.transaction() as tx:
            with_leads = await tx.scalars(
                select(Lead.conversation_id).where(Lead.conversation_id.is_not(None))
            )
        for start in range(0, len(with_leads), 5000):
            async with database.transaction() as tx:
                chunk = [c for c in with_leads[start : start + 5000] if c is not None]
                await refresh_conversations(tx, chunk)
        # What became of each lead (the partners' figures), as migration 0015 fills it.
        async with database.transaction() as tx:
            lead_ids = await tx.scalars(select(Lead.id))
        for start in range(0, len(lead_ids), 5000):
            async with database.transaction() as tx:
                await outcomes.refresh(tx, lead_ids[start : start + 5000])
        async with database.transaction() as tx:
            await mark_current(tx, flow)
    finally:
        await database.close()
    return round(time.monotonic() - started, 1)


async def settle_after_stages(url: str) -> None:
    """VACUUM what computing the stages rewrote (100k conversations at 1M), as autovacuum does
    within a minute of it (migration 0016): else the funnel's index-only scans read the table
    for nearly every row, which a year of steps would never leave them to do."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE conversations, leads")
    finally:
        await connection.close()


async def one_database(
    kind: str, args: argparse.Namespace, templates: Templates, work: Path
) -> dict[str, Any]:
    """Fill, serve, measure the pages and the purge on one database; its figures."""
    postgres = kind == "postgresql"
    folder = args.keep or work
    admin_url = _procs.postgres_admin_url() if postgres else ""
    if postgres:
        url = await _procs.create_database(admin_url)
    else:
        (folder / "admin-scale.db").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{folder / 'admin-scale.db'}"
    try:
        await _measure.upgrade(url)
        filled, fill_figures = await fill(kind, url, templates, args)
        fill_figures["stages_s"] = await funnel_stages(url)
        if postgres:
            await settle_after_stages(url)
        await asyncio.to_thread(_add_admin, url)
        settings = SERVICE_SETTINGS | {"AIGUILLAGE_SECRET_KEY": secrets.token_urlsafe(32)}
        bot = _measure.aiguillage(f"serve-{kind}", settings, url, work)
        try:
            await asyncio.to_thread(bot.start, 300)
            rss_start = rss_mb(bot.pid)
            rows = await measure_pages(kind, bot, args, (filled.phones or ["+33600000000"])[0])
            rss_after_pages = rss_mb(bot.pid)
            purges = [
                await measure_purge(kind, bot, url, settings, due=False),
                await measure_purge(kind, bot, url, settings, due=True),
            ]
        finally:
            bot.stop()
        return {
            "database": kind,
            "fill": fill_figures,
            "rss_start_mb": round(rss_start),
            "rss_after_pages_mb": round(rss_after_pages),
            "pages": rows,
            "purges": purges,
        }
    finally:
        if postgres and args.keep:
            (args.keep / "postgresql.url").write_text(url + "\n")
        elif postgres:
            await _procs.drop_database(admin_url, url)


async def main(args: argparse.Namespace) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="aiguillage-admin-scale-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        templates = await seed(work)
        print(
            f"seeded {len(templates.of('conversations'))} real conversations"
            f" in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        for kind in args.databases:
            print(f"… {kind}", file=sys.stderr, flush=True)
            results.append(await one_database(kind, args, templates, work))
    report(args, results)


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    size = f"{args.conversations:,} conversations, {args.leads:,} leads"
    about = _measure.machine() | {"size": size, "runs": args.repeat}
    print(", ".join(f"{key}={value}" for key, value in about.items()))
    rows = [row for result in results for row in [*result["pages"], *result["purges"]]]
    print("\n".join(_measure.table(COLUMNS, rows)))
    for result in results:
        fill_figures = result["fill"]
        rows_filled = sum(fill_figures["rows"].values())
        print(
            f"{result['database']}: fill {fill_figures['seconds']} s for {rows_filled:,} rows;"
            f" serve RSS {result['rss_start_mb']} MB at start,"
            f" {result['rss_after_pages_mb']} MB after the pages;"
            f" probe failures {sum(r['probe_failures'] for r in result['pages'])} during pages,"
            f" {sum(r['probe_failures'] for r in result['purges'])} during the purges"
        )
    if args.json:
        document = {"settings": about, "results": results}
        args.json.write_text(json.dumps(document, indent=2) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each page")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="keep the databases in (or named in) DIR")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(args.databases) - {"sqlite", "postgresql"}:
        parser.error(f"--databases: unknown {', '.join(sorted(unknown))}")
    if args.repeat < 1 or args.conversations < 1 or args.leads < 1:
        parser.error("--repeat, --conversations and --leads: at least 1")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        args.keep = args.keep.resolve()
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

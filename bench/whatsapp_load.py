"""WhatsApp load benchmark: simulated people through the service's WhatsApp webhook, against a
fake Graph API.

python -m bench.whatsapp_load [--users 25] [--think 1.0] [--steps 10]
    [--databases sqlite,postgres] [--duration-cap 120] [--repeat 1] [--json out.json]
    [--profile DIR]

The same people, think times and steps as bench.telegram_load, so that CPU per update and p99
stand beside Telegram's: `aiguillage serve` in its own process (its CPU read from /proc), with
only the WhatsApp channel on, its Graph API a fake one in this process. Each message is a
notification signed with the app secret, as Meta sends it. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench import _measure, _procs
from bench._whatsapp import GraphWatch, WhatsAppChannel, shown_text

DATABASES = ("sqlite", "postgres")
APP_SECRET = "bench-app-secret-0123456789abcdef"
VERIFY_TOKEN = "bench-verify-token"
# wa_ids: French mobile numbers (33 7…), the warm-up's apart from the measured people's.
FIRST_CHAT = 33_700_000_000
WARMUP_CHAT = 33_790_000_000


def service(database_url: str, watch: GraphWatch, work: Path, name: str) -> _procs.BotProcess:
    """`aiguillage serve` with the WhatsApp channel on (and Telegram off)."""
    settings = {
        "AIGUILLAGE_WHATSAPP_TOKEN": watch.token,
        "AIGUILLAGE_WHATSAPP_PHONE_NUMBER_ID": watch.phone_number_id,
        "AIGUILLAGE_WHATSAPP_APP_SECRET": APP_SECRET,
        "AIGUILLAGE_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "AIGUILLAGE_WHATSAPP_API_URL": watch.api_url,
    }
    return _measure.aiguillage(name, settings, database_url, work)


async def bench_database(database: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the service, warm it up, measure one load phase, stop it; one row of the table."""
    name = f"whatsapp-{database}"
    postgres = database == "postgres"
    watch = GraphWatch(asyncio.get_running_loop())
    async with _measure.fresh_database(name, work, postgres=postgres) as database_url, watch:
        bot = service(database_url, watch, work, name)
        measured = await _measure.measure(
            bot, WhatsAppChannel(watch, APP_SECRET), args, postgres=postgres,
            warmup_chat=WARMUP_CHAT, first_chat=FIRST_CHAT,
        )  # fmt: skip
    log = bot.log_path.read_text(errors="replace") if bot.log_path else ""
    if log.strip():  # the service logs at WARNING: any line under load is worth a look
        print(f"{name}'s log:\n{bot.log_tail(30)}", file=sys.stderr)
    calls = [c for c in watch.calls if measured.result.started <= c.at]
    kinds = Counter(c.body.get("type", "?") if isinstance(c.body, dict) else "?" for c in calls)
    first = watch.replies[FIRST_CHAT]
    return _measure.figures(name, measured) | {
        "graph_calls": dict(sorted(kinds.items())),
        "graph_errors": sum(1 for c in calls if c.status != 200),
        "log_lines": len(log.splitlines()),
        # What the first person was asked: to check that the talk is the Telegram one's.
        "questions": [_measure.last_question(shown_text(c.body)) for c in first],
    }


COLUMNS = (
    ("bot", "bot", "{:<18}"),
    ("users", "users", "{:>5}"),
    ("updates", "updates", "{:>7}"),
    ("missing", "missing", "{:>7}"),
    ("rejected", "rejected", "{:>8}"),
    ("wall_s", "wall s", "{:>6}"),
    ("updates_per_s", "upd/s", "{:>6}"),
    ("p50_ms", "p50 ms", "{:>7}"),
    ("p95_ms", "p95 ms", "{:>7}"),
    ("p99_ms", "p99 ms", "{:>7}"),
    ("cpu_s", "CPU s", "{:>6}"),
    ("cpu_ms_per_update", "CPU ms/upd", "{:>10}"),
    ("db_cpu_ms_per_update", "+PG server ms/upd", "{:>17}"),
)
COUNTS = (*_measure.COUNTS, "graph_errors", "log_lines")


async def main(args: argparse.Namespace) -> int:
    rounds = await _measure.run_rounds(
        args.databases, args.repeat, lambda database, work: bench_database(database, args, work)
    )
    # Rounds are keyed by database, rows named after the service (whatsapp-sqlite…).
    rows = _measure.summarise(args.databases, rounds, COUNTS)
    notes = []
    for row in rows:
        trouble = {k: row[k] for k in ("graph_errors", "log_lines") if row[k]}
        notes.append(f"{row['bot']}: Graph API messages {row['graph_calls']}" + (
            f"; {trouble} (logs above)" if trouble else ""))  # fmt: skip
    _measure.report(args, COLUMNS, rows, rounds, notes)
    clean = all(row["missing"] == 0 and row["rejected"] == 0 for row in rows)
    return 0 if rows and clean else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _measure.parse_args(
        argv, __doc__.split("\n")[0], users=25, option="--databases", names=DATABASES,
        helps={
            "steps": "messages each person sends",
            "duration_cap": "seconds, per run",
            "repeat": "runs per database; medians shown",
            "profile": "py-spy the service's load into DIR",
        },
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

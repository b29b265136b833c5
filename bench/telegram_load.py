"""Telegram load benchmark: simulated people through each bot's webhook, against a fake Bot API.

python -m bench.telegram_load [--users 50] [--think 1.0] [--steps 10]
    [--bots aiguillage-sqlite,aiguillage-postgres,ptb,aiogram] [--duration-cap 120]
    [--repeat 1] [--json out.json] [--profile DIR]

Each bot runs in its own process (its CPU time is read from /proc); the fake Bot API runs in
this process, so a reply's arrival and the update's POST are on the same clock. A short warm-up
(2 people, not measured) precedes each measured load. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench import _measure, _procs
from bench._load import ReplyWatch, TelegramChannel

BOTS = ("aiguillage-sqlite", "aiguillage-postgres", "ptb", "aiogram")
TOKEN = "123456:TEST-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
SECRET = "bench-secret"
FIRST_CHAT = 100_000


def bot_process(name: str, api_url: str, database_url: str, work: Path) -> _procs.BotProcess:
    if name.startswith("aiguillage"):
        settings = {
            "AIGUILLAGE_TELEGRAM_TOKEN": TOKEN,
            "AIGUILLAGE_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "AIGUILLAGE_TELEGRAM_API_URL": api_url,
        }
        return _measure.aiguillage(name, settings, database_url, work)
    port = _procs.free_port()
    module = {"ptb": "bench.baseline_ptb", "aiogram": "bench.baseline_aiogram"}[name]
    command = [sys.executable, "-m", module, "--port", str(port), "--api-url", api_url]
    command += ["--token", TOKEN, "--secret", SECRET]
    return _procs.BotProcess(name, command, port, "/healthcheck", {}, work / f"{name}.log")


async def bench_bot(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the bot, warm it up, measure one load phase, stop it; one row of the table."""
    if name == "aiogram" and importlib.util.find_spec("aiogram") is None:
        raise RuntimeError("aiogram is not installed: .venv/bin/pip install -e '.[dev,bench]'")
    postgres = name == "aiguillage-postgres"
    watch = ReplyWatch(asyncio.get_running_loop())
    async with _measure.fresh_database(name, work, postgres=postgres) as database_url, watch:
        bot = bot_process(name, watch.base_url, database_url, work)
        measured = await _measure.measure(
            bot, TelegramChannel(watch, SECRET), args, postgres=postgres, warmup_chat=900_000,
            first_chat=FIRST_CHAT,
        )  # fmt: skip
    calls = Counter(c.method for c in watch.calls if measured.result.started <= c.at)
    first = watch.replies[FIRST_CHAT]
    return _measure.figures(name, measured) | {
        "api_calls": dict(sorted(calls.items())),
        # What the first person was asked: to check that every bot held a comparable talk.
        "questions": [_measure.last_question(str(c.params.get("text", ""))) for c in first],
    }


COLUMNS = (
    ("bot", "bot", "{:<20}"),
    ("users", "users", "{:>5}"),
    ("updates", "updates", "{:>7}"),
    ("missing", "missing", "{:>7}"),
    ("wall_s", "wall s", "{:>6}"),
    ("updates_per_s", "upd/s", "{:>6}"),
    ("p50_ms", "p50 ms", "{:>7}"),
    ("p99_ms", "p99 ms", "{:>7}"),
    ("cpu_s", "CPU s", "{:>6}"),
    ("cpu_ms_per_update", "CPU ms/upd", "{:>10}"),
    ("db_cpu_ms_per_update", "+PG server ms/upd", "{:>17}"),
)


def comparisons(rows: list[dict[str, Any]]) -> list[str]:
    """Each Aiguillage row against the PTB baseline (the target) and aiogram (the aim)."""
    by_name = {row["bot"]: row for row in rows}
    lines = []
    for row in rows:
        for base in ("ptb", "aiogram"):
            other = by_name.get(base)
            if not row["bot"].startswith("aiguillage") or other is None:
                continue
            cpu = row["cpu_ms_per_update"] / max(other["cpu_ms_per_update"], 1e-9)
            rate = row["updates_per_s"] / max(other["updates_per_s"], 1e-9)
            p99 = row["p99_ms"] / max(other["p99_ms"], 1e-9)
            goal = "target" if base == "ptb" else "aim"
            lines.append(
                f"{row['bot']} vs {base}: CPU/update ×{cpu:.2f}, updates/s ×{rate:.2f},"
                f" p99 ×{p99:.2f}  ({goal}: ≤1, ≥1, ≤1)"
            )
    return lines


def per_round_ratios(rounds: list[dict[str, dict[str, Any]]]) -> list[str]:
    """CPU per update against PTB run by run: bots of one round ran minutes apart."""
    lines = []
    names = {name for one in rounds for name in one if name.startswith("aiguillage")}
    for name in sorted(names):
        ratios = [
            one[name]["cpu_ms_per_update"] / max(one["ptb"]["cpu_ms_per_update"], 1e-9)
            for one in rounds
            if name in one and "ptb" in one
        ]
        if ratios:
            shown = ", ".join(f"×{ratio:.2f}" for ratio in ratios)
            lines.append(f"{name} vs ptb, CPU/update run by run: {shown}")
    return lines


async def main(args: argparse.Namespace) -> int:
    rounds = await _measure.run_rounds(
        args.bots, args.repeat, lambda name, work: bench_bot(name, args, work)
    )
    rows = _measure.summarise(args.bots, rounds)
    notes = ["\n".join(comparisons(rows))]
    if args.repeat > 1:
        notes.append("\n".join(per_round_ratios(rounds)))
    _measure.report(args, COLUMNS, rows, rounds, notes)
    return 0 if rows and all(row["missing"] == 0 for row in rows) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _measure.parse_args(
        argv, __doc__.split("\n")[0], users=50, option="--bots", names=BOTS,
        helps={
            "steps": "updates each person sends",
            "duration_cap": "seconds, per bot",
            "repeat": "runs per bot; medians shown",
            "profile": "py-spy each bot's load into DIR",
        },
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

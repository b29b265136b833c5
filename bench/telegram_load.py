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
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import _procs, _profile
from bench._load import ReplyWatch, run_load

BOTS = ("aiguillage-sqlite", "aiguillage-postgres", "ptb", "aiogram")
TOKEN = "123456:TEST-token-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
SECRET = "bench-secret"
FIRST_CHAT = 100_000
BIN = Path(sys.executable).parent


def bot_process(name: str, api_url: str, database_url: str, work: Path) -> _procs.BotProcess:
    port = _procs.free_port()
    log = work / f"{name}.log"
    if name.startswith("aiguillage"):
        env = {
            "AIGUILLAGE_TELEGRAM_TOKEN": TOKEN,
            "AIGUILLAGE_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "AIGUILLAGE_TELEGRAM_API_URL": api_url,
            "AIGUILLAGE_DATABASE_URL": database_url,
            "AIGUILLAGE_LOG_LEVEL": "WARNING",
        }
        command = [str(BIN / "aiguillage"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        return _procs.BotProcess(name, command, port, "/docs", env, log)
    module = {"ptb": "bench.baseline_ptb", "aiogram": "bench.baseline_aiogram"}[name]
    command = [sys.executable, "-m", module, "--port", str(port), "--api-url", api_url]
    command += ["--token", TOKEN, "--secret", SECRET]
    return _procs.BotProcess(name, command, port, "/healthcheck", {}, log)


async def upgrade(database_url: str) -> None:
    env = os.environ | {"AIGUILLAGE_DATABASE_URL": database_url, "AIGUILLAGE_LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        str(BIN / "aiguillage"), "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError("aiguillage db upgrade failed")


async def bench_bot(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the bot, warm it up, measure one load phase, stop it; one row of the table."""
    if name == "aiogram" and importlib.util.find_spec("aiogram") is None:
        raise RuntimeError("aiogram is not installed: .venv/bin/pip install -e '.[dev,bench]'")
    postgres = name == "aiguillage-postgres"
    admin_url = _procs.postgres_admin_url() if postgres else ""
    # A new file every run: a second run on the first one's file would meet finished talks.
    database_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(dir=work)}/{name}.db"
    if postgres:
        database_url = await _procs.create_database(admin_url)
        await upgrade(database_url)
    watch = ReplyWatch(asyncio.get_running_loop())
    await asyncio.to_thread(watch.start)
    bot = bot_process(name, watch.base_url, database_url, work)
    try:
        await asyncio.to_thread(bot.start)
        await run_load(
            bot.url, SECRET, watch, users=args.warmup_users, steps=args.steps, think=0.05,
            first_chat=900_000, cap=60,
        )  # fmt: skip
        await asyncio.sleep(1.0)  # let the warm-up's last background work finish
        profiler = None
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            output = args.profile / f"{name}.folded"
            profiler = _profile.start(bot.pid, output, gil=args.profile_gil)
            await asyncio.sleep(1.0)  # py-spy attaches
        cpu_before = _procs.tree_cpu_seconds(bot.pid)
        db_before = _procs.postgres_cpu_seconds() if postgres else 0.0
        result = await run_load(
            bot.url, SECRET, watch, users=args.users, steps=args.steps, think=args.think,
            first_chat=FIRST_CHAT, cap=args.duration_cap,
        )  # fmt: skip
        await asyncio.sleep(0.5)  # the last replies' bookkeeping belongs to the load too
        cpu = _procs.tree_cpu_seconds(bot.pid) - cpu_before
        db_cpu = _procs.postgres_cpu_seconds() - db_before if postgres else None
        if profiler is not None:
            _profile.stop(profiler)
    finally:
        bot.stop()
        await asyncio.to_thread(watch.stop)
        if postgres:
            await _procs.drop_database(admin_url, database_url)
    calls = Counter(c.method for c in watch.calls if result.started <= c.at)
    first = watch.replies[FIRST_CHAT]
    done = max(result.replied, 1)
    return {
        "bot": name,
        "users": result.users,
        "updates": result.sent,
        "missing": result.missing,
        "rejected": result.rejected,
        "wall_s": round(result.wall, 2),
        "updates_per_s": round(result.replied / result.wall, 1),
        "p50_ms": round(result.percentile(0.50) * 1000, 1),
        "p99_ms": round(result.percentile(0.99) * 1000, 1),
        "max_ms": round(max(result.latencies, default=float("nan")) * 1000, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_update": round(cpu / done * 1000, 2),
        "db_cpu_ms_per_update": None if db_cpu is None else round(db_cpu / done * 1000, 2),
        "api_calls": dict(sorted(calls.items())),
        # What the first person was asked: to check that every bot held a comparable talk.
        "questions": [str(c.params.get("text", "")).rsplit("\n\n", 1)[-1][:60] for c in first],
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


def table(rows: list[dict[str, Any]]) -> list[str]:
    def cell(spec: str, value: Any) -> str:
        return spec.format("–" if value is None else value)

    lines = ["| " + " | ".join(cell(spec, title) for _, title, spec in COLUMNS) + " |"]
    lines.append("|" + "|".join("-" * (len(cell(s, t)) + 2) for _, t, s in COLUMNS) + "|")
    lines += ["| " + " | ".join(cell(s, r[key]) for key, _, s in COLUMNS) + " |" for r in rows]
    return lines


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


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--exclude", "*"],
        cwd=_procs.ROOT, capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "commit": commit or "?",
    }


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One bot's runs as one row: the median of each figure, the sums of the counts."""
    row = dict(runs[len(runs) // 2]) | {"runs": len(runs)}
    for key in ("wall_s", "updates_per_s", "p50_ms", "p99_ms", "max_ms", "cpu_s",
                "cpu_ms_per_update", "db_cpu_ms_per_update"):  # fmt: skip
        values = [run[key] for run in runs if run[key] is not None]
        row[key] = round(statistics.median(values), 2) if values else None
    for key in ("updates", "missing", "rejected"):
        row[key] = sum(run[key] for run in runs)
    return row


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
    rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-") as tmp:
        for number in range(args.repeat):
            rounds.append({})
            for name in args.bots:  # interleaved, so that a slow minute hits every bot
                print(f"… {name} (run {number + 1}/{args.repeat})", file=sys.stderr, flush=True)
                try:
                    rounds[-1][name] = await bench_bot(name, args, Path(tmp))
                except Exception as error:  # one bot failing must not hide the others' figures
                    print(f"{name}: not measured: {error!r}", file=sys.stderr)
    runs = {name: [one[name] for one in rounds if name in one] for name in args.bots}
    rows = [median_row(runs[name]) if len(runs[name]) > 1 else runs[name][0]
            for name in args.bots if runs[name]]  # fmt: skip
    about = machine() | {"users": args.users, "think_s": args.think, "steps": args.steps}
    about |= {"runs": args.repeat}
    print(", ".join(f"{key}={value}" for key, value in about.items()))
    if args.repeat > 1:
        print("medians over the runs (counts summed):")
    print("\n".join(table(rows)))
    print("\n".join(comparisons(rows)))
    if args.repeat > 1:
        print("\n".join(per_round_ratios(rounds)))
    if args.profile:
        for name in args.bots:
            if (path := args.profile / f"{name}.folded").exists():
                print(f"\nprofile of {name} ({path}):\n" + "\n".join(_profile.summarise(path)))
    if args.json:
        document = {"settings": about, "results": rows, "runs": rounds}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if rows and all(row["missing"] == 0 for row in rows) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated people at once")
    parser.add_argument("--think", type=float, default=1.0, help="seconds before each answer")
    parser.add_argument("--steps", type=int, default=10, help="updates each person sends")
    parser.add_argument("--bots", default=",".join(BOTS), help=f"among {','.join(BOTS)}")
    parser.add_argument("--duration-cap", type=float, default=120, help="seconds, per bot")
    parser.add_argument("--warmup-users", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs per bot; medians shown")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help="py-spy each bot's load into DIR")
    parser.add_argument("--profile-gil", action="store_true", help="only GIL-holding samples")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    args.bots = [name.strip() for name in args.bots.split(",") if name.strip()]
    if unknown := set(args.bots) - set(BOTS):
        parser.error(f"--bots: unknown {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

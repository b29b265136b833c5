"""What the load benchmarks share around the people's walk: one measured load, its figures, the
rounds, the table and the command line.

bench.telegram_load and bench.whatsapp_load measure the same way so that their figures stand
side by side: a throwaway database, the service in its own process (its CPU, and PostgreSQL's,
read from /proc), a short warm-up not measured, then one load phase (bench/_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import _procs, _profile
from bench._load import Channel, LoadResult, run_people

BIN = Path(sys.executable).parent
Row = dict[str, Any]
Columns = tuple[tuple[str, str, str], ...]  # (figure, title, format) of each column
# Figures a row of several runs shows as their median; the counts are summed instead.
MEDIANS = ("wall_s", "updates_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "cpu_s",
           "cpu_ms_per_update", "db_cpu_ms_per_update")  # fmt: skip
COUNTS = ("updates", "missing", "rejected")


def aiguillage(
    name: str, settings: dict[str, str], database_url: str, work: Path
) -> _procs.BotProcess:
    """`aiguillage serve` on a free port with only these settings, logging warnings to work/."""
    port = _procs.free_port()
    env = settings | {"AIGUILLAGE_DATABASE_URL": database_url, "AIGUILLAGE_LOG_LEVEL": "WARNING"}
    command = [str(BIN / "aiguillage"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return _procs.BotProcess(name, command, port, "/docs", env, work / f"{name}.log")


async def upgrade(database_url: str) -> None:
    env = os.environ | {"AIGUILLAGE_DATABASE_URL": database_url, "AIGUILLAGE_LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        str(BIN / "aiguillage"), "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError("aiguillage db upgrade failed")


@contextlib.asynccontextmanager
async def fresh_database(name: str, work: Path, *, postgres: bool) -> AsyncIterator[str]:
    """The URL of an empty database, migrated on PostgreSQL, dropped afterwards."""
    if not postgres:
        # A new file every run: a second run on the first one's file would meet finished talks.
        yield f"sqlite+aiosqlite:///{tempfile.mkdtemp(dir=work)}/{name}.db"
        return
    admin_url = _procs.postgres_admin_url()
    database_url = await _procs.create_database(admin_url)
    try:
        await upgrade(database_url)
        yield database_url
    finally:
        await _procs.drop_database(admin_url, database_url)


@dataclass
class Measured:
    """One load phase and the CPU it cost."""

    result: LoadResult
    cpu: float  # the service's process tree, in seconds
    db_cpu: float | None  # every PostgreSQL server process's; None on SQLite


async def measure(
    bot: _procs.BotProcess,
    channel: Channel,
    args: argparse.Namespace,
    *,
    postgres: bool,
    warmup_chat: int,
    first_chat: int,
) -> Measured:
    """Start the service, warm it up, measure one load phase (profiled if asked), stop it."""
    try:
        await asyncio.to_thread(bot.start)
        await run_people(
            bot.url, channel, users=args.warmup_users, steps=args.steps, think=0.05,
            first_chat=warmup_chat, cap=60,
        )  # fmt: skip
        await asyncio.sleep(1.0)  # let the warm-up's last background work finish
        profiler = None
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            output = args.profile / f"{bot.name}.folded"
            profiler = _profile.start(bot.pid, output, gil=args.profile_gil)
            await asyncio.sleep(1.0)  # py-spy attaches
        cpu_before = _procs.tree_cpu_seconds(bot.pid)
        db_before = _procs.postgres_cpu_seconds() if postgres else 0.0
        result = await run_people(
            bot.url, channel, users=args.users, steps=args.steps, think=args.think,
            first_chat=first_chat, cap=args.duration_cap,
        )  # fmt: skip
        await asyncio.sleep(0.5)  # the last replies' bookkeeping belongs to the load too
        cpu = _procs.tree_cpu_seconds(bot.pid) - cpu_before
        db_cpu = _procs.postgres_cpu_seconds() - db_before if postgres else None
        if profiler is not None:
            _profile.stop(profiler)
    finally:
        bot.stop()
    return Measured(result, cpu, db_cpu)


def figures(name: str, measured: Measured) -> Row:
    """The row's figures both benchmarks show; each adds what its fake API saw."""
    result, cpu, db_cpu = measured.result, measured.cpu, measured.db_cpu
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
        "p95_ms": round(result.percentile(0.95) * 1000, 1),
        "p99_ms": round(result.percentile(0.99) * 1000, 1),
        "max_ms": round(max(result.latencies, default=float("nan")) * 1000, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_update": round(cpu / done * 1000, 2),
        "db_cpu_ms_per_update": None if db_cpu is None else round(db_cpu / done * 1000, 2),
    }


def last_question(text: str) -> str:
    """What a message asks (its last paragraph), short: to check that the talks compare."""
    return text.rsplit("\n\n", 1)[-1][:60]


async def run_rounds(
    names: list[str], repeat: int, bench: Callable[[str, Path], Awaitable[Row]]
) -> list[dict[str, Row]]:
    """Each name's row, `repeat` rounds of them; a failure is said and leaves its row out."""
    rounds: list[dict[str, Row]] = []
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-") as tmp:
        for number in range(repeat):
            rounds.append({})
            for name in names:  # interleaved, so that a slow minute hits every one
                print(f"… {name} (run {number + 1}/{repeat})", file=sys.stderr, flush=True)
                try:
                    rounds[-1][name] = await bench(name, Path(tmp))
                except Exception as error:  # one failing must not hide the others' figures
                    print(f"{name}: not measured: {error!r}", file=sys.stderr)
    return rounds


def median_row(runs: list[Row], counts: tuple[str, ...] = COUNTS) -> Row:
    """One name's runs as one row: the median of each figure, the sums of the counts."""
    if len(runs) == 1:
        return runs[0]
    row = dict(runs[len(runs) // 2]) | {"runs": len(runs)}
    for key in MEDIANS:
        values = [run[key] for run in runs if run[key] is not None]
        row[key] = round(statistics.median(values), 2) if values else None
    for key in counts:
        row[key] = sum(run[key] for run in runs)
    return row


def summarise(
    names: list[str], rounds: list[dict[str, Row]], counts: tuple[str, ...] = COUNTS
) -> list[Row]:
    """A row for each name measured at least once, in the names' order."""
    runs = {name: [one[name] for one in rounds if name in one] for name in names}
    return [median_row(runs[name], counts) for name in names if runs[name]]


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


def table(columns: Columns, rows: list[Row]) -> list[str]:
    def cell(spec: str, value: Any) -> str:
        return spec.format("–" if value is None else value)

    lines = ["| " + " | ".join(cell(spec, title) for _, title, spec in columns) + " |"]
    lines.append("|" + "|".join("-" * (len(cell(s, t)) + 2) for _, t, s in columns) + "|")
    lines += ["| " + " | ".join(cell(s, r[key]) for key, _, s in columns) + " |" for r in rows]
    return lines


def report(
    args: argparse.Namespace,
    columns: Columns,
    rows: list[Row],
    rounds: list[dict[str, Row]],
    notes: list[str],
) -> None:
    """The settings, the table, the benchmark's notes, the profiles; the JSON if asked."""
    about = machine() | {"users": args.users, "think_s": args.think, "steps": args.steps}
    about |= {"runs": args.repeat}
    print(", ".join(f"{key}={value}" for key, value in about.items()))
    if args.repeat > 1:
        print("medians over the runs (counts summed):")
    print("\n".join(table(columns, rows)))
    for note in notes:
        print(note)
    if args.profile:
        for name in (row["bot"] for row in rows):
            if (path := args.profile / f"{name}.folded").exists():
                print(f"\nprofile of {name} ({path}):\n" + "\n".join(_profile.summarise(path)))
    if args.json:
        document = {"settings": about, "results": rows, "runs": rounds}
        args.json.write_text(json.dumps(document, indent=2) + "\n")


def parse_args(
    argv: list[str] | None,
    description: str,
    *,
    users: int,
    option: str,
    names: tuple[str, ...],
    helps: Mapping[str, str],
) -> argparse.Namespace:
    """The options both benchmarks take; `option` lists what is measured (some of `names`).

    `helps` words the help of "steps", "duration_cap", "repeat" and "profile" for the benchmark.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--users", type=int, default=users, help="simulated people at once")
    parser.add_argument("--think", type=float, default=1.0, help="seconds before each answer")
    parser.add_argument("--steps", type=int, default=10, help=helps["steps"])
    parser.add_argument(option, default=",".join(names), help=f"among {','.join(names)}")
    parser.add_argument("--duration-cap", type=float, default=120, help=helps["duration_cap"])
    parser.add_argument("--warmup-users", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help=helps["repeat"])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help=helps["profile"])
    parser.add_argument("--profile-gil", action="store_true", help="only GIL-holding samples")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    dest = option.removeprefix("--")
    chosen = [name.strip() for name in getattr(args, dest).split(",") if name.strip()]
    if unknown := set(chosen) - set(names):
        parser.error(f"{option}: unknown {', '.join(sorted(unknown))}")
    setattr(args, dest, chosen)
    return args

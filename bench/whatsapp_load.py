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
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench import _procs, _profile
from bench._load import run_people
from bench._whatsapp import GraphWatch, WhatsAppChannel, shown_text
from bench.telegram_load import BIN, machine, median_row, upgrade

DATABASES = ("sqlite", "postgres")
APP_SECRET = "bench-app-secret-0123456789abcdef"
VERIFY_TOKEN = "bench-verify-token"
# wa_ids: French mobile numbers (33 7…), the warm-up's apart from the measured people's.
FIRST_CHAT = 33_700_000_000
WARMUP_CHAT = 33_790_000_000


def service(database_url: str, watch: GraphWatch, work: Path, name: str) -> _procs.BotProcess:
    """`aiguillage serve` with the WhatsApp channel on (and Telegram off)."""
    port = _procs.free_port()
    env = {
        "AIGUILLAGE_WHATSAPP_TOKEN": watch.token,
        "AIGUILLAGE_WHATSAPP_PHONE_NUMBER_ID": watch.phone_number_id,
        "AIGUILLAGE_WHATSAPP_APP_SECRET": APP_SECRET,
        "AIGUILLAGE_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "AIGUILLAGE_WHATSAPP_API_URL": watch.api_url,
        "AIGUILLAGE_DATABASE_URL": database_url,
        "AIGUILLAGE_LOG_LEVEL": "WARNING",
    }
    command = [str(BIN / "aiguillage"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return _procs.BotProcess(name, command, port, "/docs", env, work / f"{name}.log")


async def bench_database(database: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the service, warm it up, measure one load phase, stop it; one row of the table."""
    name = f"whatsapp-{database}"
    postgres = database == "postgres"
    admin_url = _procs.postgres_admin_url() if postgres else ""
    # A new file every run: a second run on the first one's file would meet finished talks.
    database_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(dir=work)}/{name}.db"
    if postgres:
        database_url = await _procs.create_database(admin_url)
        await upgrade(database_url)
    watch = GraphWatch(asyncio.get_running_loop())
    await asyncio.to_thread(watch.start)
    channel = WhatsAppChannel(watch, APP_SECRET)
    bot = service(database_url, watch, work, name)
    load = {"steps": args.steps, "headers": {"Content-Type": "application/json"}}
    try:
        await asyncio.to_thread(bot.start)
        await run_people(
            bot.url, channel, users=args.warmup_users, think=0.05, first_chat=WARMUP_CHAT,
            cap=60, **load,
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
        result = await run_people(
            bot.url, channel, users=args.users, think=args.think, first_chat=FIRST_CHAT,
            cap=args.duration_cap, **load,
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
    log = bot.log_path.read_text(errors="replace") if bot.log_path else ""
    if log.strip():  # the service logs at WARNING: any line under load is worth a look
        print(f"{name}'s log:\n{bot.log_tail(30)}", file=sys.stderr)
    calls = [c for c in watch.calls if result.started <= c.at]
    kinds = Counter(c.body.get("type", "?") if isinstance(c.body, dict) else "?" for c in calls)
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
        "graph_calls": dict(sorted(kinds.items())),
        "graph_errors": sum(1 for c in calls if c.status != 200),
        "log_lines": len(log.splitlines()),
        # What the first person was asked: to check that the talk is the Telegram one's.
        "questions": [
            shown_text(c.body).rsplit("\n\n", 1)[-1][:60] for c in watch.replies[FIRST_CHAT]
        ],
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


def table(rows: list[dict[str, Any]]) -> list[str]:
    def cell(spec: str, value: Any) -> str:
        return spec.format("–" if value is None else value)

    lines = ["| " + " | ".join(cell(spec, title) for _, title, spec in COLUMNS) + " |"]
    lines.append("|" + "|".join("-" * (len(cell(s, t)) + 2) for _, t, s in COLUMNS) + "|")
    lines += ["| " + " | ".join(cell(s, r[key]) for key, _, s in COLUMNS) + " |" for r in rows]
    return lines


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One database's runs as one row: medians (telegram_load's), p95 and counts added."""
    if len(runs) == 1:
        return runs[0]
    row = median_row(runs)
    row["p95_ms"] = sorted(run["p95_ms"] for run in runs)[len(runs) // 2]
    for key in ("rejected", "graph_errors", "log_lines"):
        row[key] = sum(run[key] for run in runs)
    return row


async def main(args: argparse.Namespace) -> int:
    rounds: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-") as tmp:
        for number in range(args.repeat):
            rounds.append({})
            for database in args.databases:  # interleaved, so that a slow minute hits both
                print(f"… {database} (run {number + 1}/{args.repeat})", file=sys.stderr, flush=True)
                try:
                    rounds[-1][database] = await bench_database(database, args, Path(tmp))
                except Exception as error:  # one database failing must not hide the other's
                    print(f"{database}: not measured: {error!r}", file=sys.stderr)
    runs = {name: [one[name] for one in rounds if name in one] for name in args.databases}
    rows = [summary(runs[name]) for name in args.databases if runs[name]]
    about = machine() | {"users": args.users, "think_s": args.think, "steps": args.steps}
    about |= {"runs": args.repeat}
    print(", ".join(f"{key}={value}" for key, value in about.items()))
    if args.repeat > 1:
        print("medians over the runs (counts summed):")
    print("\n".join(table(rows)))
    for row in rows:
        trouble = {k: row[k] for k in ("graph_errors", "log_lines") if row[k]}
        print(f"{row['bot']}: Graph API messages {row['graph_calls']}" + (
            f"; {trouble} (logs above)" if trouble else ""))  # fmt: skip
    if args.profile:
        for database in args.databases:
            if (path := args.profile / f"whatsapp-{database}.folded").exists():
                print(f"\nprofile of whatsapp-{database} ({path}):")
                print("\n".join(_profile.summarise(path)))
    if args.json:
        document = {"settings": about, "results": rows, "runs": rounds}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    clean = all(row["missing"] == 0 and row["rejected"] == 0 for row in rows)
    return 0 if rows and clean else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=25, help="simulated people at once")
    parser.add_argument("--think", type=float, default=1.0, help="seconds before each answer")
    parser.add_argument("--steps", type=int, default=10, help="messages each person sends")
    parser.add_argument("--databases", default=",".join(DATABASES), help="among sqlite,postgres")
    parser.add_argument("--duration-cap", type=float, default=120, help="seconds, per run")
    parser.add_argument("--warmup-users", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs per database; medians shown")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help="py-spy the service's load into DIR")
    parser.add_argument("--profile-gil", action="store_true", help="only GIL-holding samples")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(args.databases) - set(DATABASES):
        parser.error(f"--databases: unknown {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

"""The bots under test as subprocesses: starting, readiness, CPU time, a throwaway database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds incl. reaped children) of a process, if alive."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = data[data.index("(") + 1 : data.rindex(")")]
    fields = data[data.rindex(")") + 2 :].split()  # fields[0] is field 3 of proc(5): state
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return comm, int(fields[1]), ticks / CLOCK_TICKS


def _all_processes() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (living or reaped)."""
    processes = _all_processes()
    tree, total = {pid}, 0.0
    for child in sorted(processes):  # children have larger pids, except after a pid wrap
        if processes[child][1] in tree:
            tree.add(child)
    for member in tree:
        total += processes[member][2] if member in processes else 0.0
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL server process on this machine (the bench's server)."""
    return sum(cpu for comm, _, cpu in _all_processes().values() if comm == "postgres")


@dataclass
class BotProcess:
    """A bot under test in its own process, logging to a file."""

    name: str
    command: list[str]
    port: int
    ready_path: str
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> None:
        """Start it and wait until its ready path answers 200."""
        self._log = self.log_path.open("wb") if self.log_path else None
        # Only the settings given here: none inherited (no AIGUILLAGE_PUBLIC_URL, no setWebhook).
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")}
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=inherited | self.env,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start-up: {self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.url + self.ready_path).status_code == 200:
                        return
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {self.ready_path}: {self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL after 15 s; only this process."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def postgres_admin_url() -> str:
    """The PostgreSQL server to use: from the environment, else CI's throwaway server."""
    for variable in ("AIGUILLAGE_BENCH_POSTGRES_URL", "AIGUILLAGE_TEST_POSTGRES_URL"):
        if os.environ.get(variable):
            return os.environ[variable]
    started = subprocess.run(
        [str(ROOT / ".ci" / "postgres-start")], capture_output=True, text=True, check=True
    )
    return started.stdout.strip().splitlines()[-1]


async def create_database(admin_url: str) -> str:
    """A fresh, empty database on that server; its URL."""
    name = f"bench_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def migrated_database(kind: str, sqlite_file: Path) -> tuple[str, str | None]:
    """A fresh database migrated to the head: (its URL, the PostgreSQL admin URL to drop it
    with, or None for SQLite, at ``sqlite_file``)."""
    from bot.storage.migrate import upgrade_database

    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{sqlite_file}"
        await asyncio.to_thread(upgrade_database, url)
        return url, None
    admin_url = postgres_admin_url()
    url = await create_database(admin_url)
    await asyncio.to_thread(upgrade_database, url.replace("postgresql://", "postgresql+asyncpg://"))
    return url, admin_url

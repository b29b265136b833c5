"""Sampling a bot under test with py-spy during the load phase (``--profile DIR``).

py-spy samples from outside the process (``--nonblocking``: the bot is never paused) and
writes collapsed stacks (``--format raw``: one ``thread;frame;frame;… count`` line per stack),
which flamegraph.pl, inferno or speedscope draw. The summary here: functions by own and total
samples. A thread blocked in C with the GIL released (aiosqlite's, during a query or an fsync)
counts as active; ``gil=True`` keeps only the samples of the thread holding the GIL, which is
closer to Python CPU time. SQLAlchemy's greenlets show as stacks of their own.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

LINE_NUMBER = re.compile(r":\d+\)$")
OURS = re.compile(r"\((bot|flows|webhook|bench)/")


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return found


def start(pid: int, output: Path, *, gil: bool = False, rate: int = 200) -> subprocess.Popen[bytes]:
    command = [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--output", str(output)]
    command += ["--rate", str(rate), "--nonblocking", "--threads"] + (["--gil"] if gil else [])
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(profiler: subprocess.Popen[bytes]) -> None:
    """Stop sampling; py-spy writes its file on SIGINT."""
    profiler.send_signal(signal.SIGINT)
    try:
        _, errors = profiler.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        profiler.kill()
        _, errors = profiler.communicate()
    if profiler.returncode not in (0, -signal.SIGINT) and errors:
        print(f"py-spy: {errors.decode(errors='replace').strip()[-500:]}", file=sys.stderr)


def summarise(collapsed: Path, top: int = 20) -> list[str]:
    """Lines: the functions with the most samples where they run (own) and below them (total)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, _, rest = stack.partition(";")  # "thread (0x7f…)": not a function
        frames = [LINE_NUMBER.sub(")", frame) for frame in rest.split(";") if frame]
        if not frames:
            continue
        samples += count
        threads[thread] += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return ["(no samples)"]
    lines = [
        f"{samples} samples, by thread: "
        + ", ".join(
            f"{t.removeprefix('thread ')} {n / samples:.0%}" for t, n in threads.most_common(4)
        )
        + (", …" if len(threads) > 4 else "")
    ]
    lines.append("by own time:")
    lines += [f"  {n / samples:6.1%}  {frame}" for frame, n in own.most_common(top)]
    ours = Counter({f: n for f, n in total.items() if OURS.search(f)})
    lines.append("our functions by total time (own + callees):")
    lines += [f"  {n / samples:6.1%}  {frame}" for frame, n in ours.most_common(top)]
    return lines

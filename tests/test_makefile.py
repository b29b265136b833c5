"""``make run`` listens where it is told: ``make run PORT=8080 HOST=0.0.0.0``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def planned_serve(*assignments: str) -> str:
    """The serve command make run would start (make -n only prints, it runs nothing)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # A PORT or HOST in the environment would be taken as the default.
    environment = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}
    done = subprocess.run(
        ["make", "-n", "run", *assignments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    [serve] = [line for line in done.stdout.splitlines() if " serve " in line]
    return serve


def test_make_run_serves_on_the_given_port_and_host() -> None:
    assert planned_serve("PORT=8080", "HOST=0.0.0.0").endswith(
        "aiguillage serve --host 0.0.0.0 --port 8080"
    )


def test_make_run_defaults_to_this_machine_on_port_8000() -> None:
    assert planned_serve().endswith("aiguillage serve --host 127.0.0.1 --port 8000")

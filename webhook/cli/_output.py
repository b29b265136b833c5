"""Writing to the terminal: the only place where the command line prints."""

from __future__ import annotations

import json
import sys


def emit(line: str = "") -> None:
    """One line on standard output."""
    sys.stdout.write(line + "\n")


def emit_json(data: object) -> None:
    """Pretty JSON on standard output, accents kept readable."""
    emit(json.dumps(data, ensure_ascii=False, indent=2))


def emit_error(line: str) -> None:
    """One line on standard error, for commands that report several problems before failing."""
    sys.stderr.write(line + "\n")

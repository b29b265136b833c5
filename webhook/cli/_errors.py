"""The error a sub-command raises to stop with one clear line."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class CliError(Exception):
    """Wrong input on the command line; the message says what is wrong."""


def run_reporting(work: Coroutine[Any, Any, T], *errors: type[Exception]) -> T:
    """Run a command's coroutine; the given errors (which name what is wrong) become CliError."""
    try:
        return asyncio.run(work)
    except errors as error:
        raise CliError(str(error)) from None

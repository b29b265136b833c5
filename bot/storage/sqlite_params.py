"""SQL text with ``:name`` parameters turned into SQLite's ``?`` and their values, once per text."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from bot.storage.database import Params
from bot.storage.values import to_sqlite

NAME = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=1024)
def _qmark(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "?"

    return NAME.sub(replace, sql), tuple(names)


def sqlite_args(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    """The statement for sqlite3, and its values in the order of its ``?``."""
    text, names = _qmark(sql)
    given = params or {}
    return text, [to_sqlite(given[name]) for name in names]

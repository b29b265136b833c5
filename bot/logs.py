"""Structured logging: one JSON object per line, never personal data (ids and events only)."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# Uvicorn's access line: client address, method, path with its query string, HTTP version,
# status. The address and the query string (session tokens) must not reach the logs.
_UVICORN_ACCESS_ARGS = 5


class JsonFormatter(logging.Formatter):
    """Render a record and its ``extra`` fields as JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = traceback_without_messages(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False, default=str)


def traceback_without_messages(error: BaseException) -> str:
    """Where an error came from (frames and types, causes included), without its message.

    A message can quote the value that caused it: a duplicate key's phone number, the text a
    codec refused, a name in a KeyError. The frames and the types say where to look.
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for link in reversed(chain):
        tb: TracebackType | None = link.__traceback__
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(tb))
        kind = type(link)
        parts.append(f"{kind.__module__}.{kind.__qualname__} (message left out of the logs)\n")
    return "".join(parts)


def path_without_query(target: str) -> str:
    """A request target without its query string or fragment (where tokens travel)."""
    return target.split("?", 1)[0].split("#", 1)[0]


class AccessLogFilter(logging.Filter):
    """Keep uvicorn's access lines as method, path and status: no address, no query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != _UVICORN_ACCESS_ARGS:
            # A shape we do not know could carry anything: better lost than leaked.
            return False
        _client, method, target, _version, status = args
        record.msg = "request"
        record.args = None
        record.__dict__.update(method=method, path=path_without_query(str(target)), status=status)
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send JSON logs to stderr; quieten libraries that log request bodies or tokens."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs full URLs, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogFilter) for f in access.filters):
        access.addFilter(AccessLogFilter())

"""Structured logging: one JSON object per line, never personal data (ids and events only)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

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
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


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

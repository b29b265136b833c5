"""Errors turned into responses at the HTTP edge: a 422 that always renders, a bare 500.

FastAPI's own 422 echoes each rejected value back; a NaN, an infinity (``1e309``) or a lone
surrogate cannot be written as JSON, so rendering the 422 itself failed with a 500. Here an
error keeps what names the problem (``loc``, ``msg``, ``type``) and never the value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)

# UTF-8 cannot encode these alone: a client may send them escaped (\ud800) in JSON.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def printable(text: str) -> str:
    """The text with lone surrogates replaced, so that it can be encoded as UTF-8."""
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def _location_part(part: Any) -> str | int:
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    return printable(str(part))


def safe_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One validation error as JSON can always carry it: where, what, and which kind."""
    return {
        "type": printable(str(error.get("type", "value_error"))),
        "loc": [_location_part(part) for part in error.get("loc", ())],
        "msg": printable(str(error.get("msg", "invalid value"))),
    }


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=422, content={"detail": [safe_error(error) for error in exc.errors()]}
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # One line for the operator: the route's template and the kind of error, never the
    # request's values (a path may carry an id or a token, a body personal data).
    route = request.scope.get("route")
    logger.error(
        "request failed",
        extra={
            "method": request.method,
            "route": getattr(route, "path", "unknown"),
            "error": type(exc).__name__,
        },
    )
    return JSONResponse(status_code=500, content={"detail": "Internal server error"})


def install_error_handlers(app: FastAPI) -> None:
    """Every rejected request gets a 422 naming its fields; anything else, a bare 500."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)


def without_lone_surrogates(value: object) -> object:
    """A string with its lone surrogates removed (anything else as it is, for the validator)."""
    return _LONE_SURROGATE.sub("", value) if isinstance(value, str) else value

"""A fake Telegram Bot API server over real HTTP, for tests and the load benchmark.

python -m tests.auxil.fake_bot_api --port 8081 [--delay 0.05] [--token 123456:ABC...]
"""

from __future__ import annotations

import argparse
import dataclasses
import email.message
import email.parser
import json
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.bot_api_results import ApiCall, BotApiRecorder, decode_param
from tests.auxil.servers import ServedInThread

__all__ = ["ApiCall", "FakeBotApi", "Upload"]


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file a call uploaded (multipart): the call's parameters name it by its metadata only."""

    method: str
    field: str
    filename: str
    content_type: str
    content: bytes


class FakeBotApi(BotApiRecorder, ServedInThread):
    """The Bot API subset Aiguillage uses, served by uvicorn on 127.0.0.1 in a daemon thread.

    Point python-telegram-bot at it with ``Bot(token, base_url=fake.base_url)``, where
    ``fake.base_url == f"{fake.url}/bot"``. PTB 22 builds each call's URL as
    ``base_url + token + "/" + method`` (unless base_url contains ``{token}``), exactly as for
    the default ``https://api.telegram.org/bot``; AIGUILLAGE_TELEGRAM_API_URL takes the same form.

    Routes are ``GET|POST /bot<token>/<method>``, reading the query string and a JSON,
    form-urlencoded or multipart body (PTB 22's HTTPXRequest sends form-urlencoded fields, or
    multipart when uploading files; values are JSON-decoded except free-text ones). Use it as
    ``with FakeBotApi() as fake:`` (also fine in async tests: the server has its own loop) or
    ``async with``. `token` set: other tokens get 401. `delay_seconds` delays every answer.
    For a server in another process: ``GET /_fake/calls``, ``GET /_fake/stats``,
    ``POST /_fake/updates`` (one update as JSON) and ``POST /_fake/clear``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay_seconds: float = 0.0,
        token: str | None = None,
    ) -> None:
        super().__init__(delay_seconds=delay_seconds)
        self.host, self.port, self.token = host, port, token
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._uploads: list[Upload] = []

    @property
    def uploads(self) -> list[Upload]:
        """The files uploaded so far, oldest first, with their bytes."""
        with self._lock:
            return list(self._uploads)

    def clear(self) -> None:
        """Forget calls, uploads, programmed failures and queued updates."""
        super().clear()
        with self._lock:
            self._uploads.clear()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What `telegram.Bot(token, base_url=...)` takes: the token and method are appended."""
        return f"{self.url}/bot"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/_fake/calls", self._control, methods=["GET"]),
                Route("/_fake/stats", self._control, methods=["GET"]),
                Route("/_fake/updates", self._control, methods=["POST"]),
                Route("/_fake/clear", self._control, methods=["POST"]),
            ]
        )

    def start(self) -> None:
        """Serve in a daemon thread; return once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("FakeBotApi is already running")
        server = self._bind(log_config=None)  # logs go to the root logger, as the tests' own
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="FakeBotApi", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("FakeBotApi did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving (in-flight answers get 2 s) and close the listening socket."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until SIGINT or SIGTERM (the command line uses this)."""
        server = self._bind(log_level="info", access_log=False)
        sys.stdout.write(f"FakeBotApi serving base_url={self.base_url}\n")
        sys.stdout.flush()
        try:
            server.run(sockets=[self._socket] if self._socket else None)
        finally:
            self.stop()

    def _bind(self, **options: Any) -> uvicorn.Server:
        options |= {"lifespan": "off", "http": "h11", "loop": "asyncio"}
        config = uvicorn.Config(self.app(), timeout_graceful_shutdown=2, **options)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it back-to-back calls on one connection
        # wait ~40 ms each for a delayed ACK, which Telegram's servers never make anyone do.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((self.host, self.port))
        self._socket.listen(128)  # connections wait in the backlog until uvicorn accepts them
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(config)
        return self._server

    async def _api(self, request: Request) -> JSONResponse:
        if self.token is not None and request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        files: dict[str, bytes] = {}
        raw = dict(request.query_params) | await read_body(request, files)
        params = {name: decode_param(name, value) for name, value in raw.items()}
        method = request.path_params["method"]
        with self._lock:  # before the call is recorded: a test that saw the call sees its file
            self._uploads.extend(
                Upload(method, name, params[name]["filename"], params[name]["content_type"], data)
                for name, data in files.items()
            )
        status, body = await self.answer(method, params)
        return JSONResponse(body, status)

    async def _control(self, request: Request) -> JSONResponse:
        action = request.url.path.rsplit("/", 1)[-1]
        if action == "updates":
            return JSONResponse({"update_id": self.queue_update(await request.json())})
        if action == "clear":
            self.clear()
            return JSONResponse({"ok": True})
        calls = self.calls
        if action == "calls":
            return JSONResponse([dataclasses.asdict(call) for call in calls])
        by_method: dict[str, int] = {}
        for call in calls:
            by_method[call.method] = by_method.get(call.method, 0) + 1
        stats = {"calls": len(calls), "by_method": by_method}
        stats |= {"max_rate_per_chat": self.max_rate_per_chat()}
        return JSONResponse(stats | {"max_rate_overall": self.max_rate_overall()})


async def read_body(request: Request, files: dict[str, bytes] | None = None) -> dict[str, Any]:
    """The body's fields: JSON object, form-urlencoded or multipart (files as their metadata,
    and their bytes in ``files`` by field name when given)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if not body:
        return {}
    if content_type.startswith("application/json"):
        data: dict[str, Any] = json.loads(body)
        return data
    if content_type.startswith("multipart/form-data"):
        return parse_multipart(body, content_type, files)
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def parse_multipart(
    body: bytes, content_type: str, files: dict[str, bytes] | None = None
) -> dict[str, Any]:
    header = email.message.Message()
    header["content-type"] = content_type
    boundary = b"--" + str(header.get_boundary()).encode()
    fields: dict[str, Any] = {}
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        part = email.parser.BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        name = str(part.get_param("name", header="content-disposition"))
        filename = part.get_filename()
        if filename is None:
            fields[name] = content.decode()
        else:
            mime_type = part.get_content_type()
            fields[name] = {"filename": filename, "content_type": mime_type, "size": len(content)}
            if files is not None:
                files[name] = content
    return fields


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Telegram Bot API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--token", help="accept only this token (others get 401)")
    args = parser.parse_args(argv)
    FakeBotApi(
        host=args.host, port=args.port, delay_seconds=args.delay, token=args.token
    ).serve_forever()


if __name__ == "__main__":
    main()

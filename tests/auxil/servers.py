"""The service on a real socket: uvicorn in a thread, on a free 127.0.0.1 port; and the
fakes served that way, used as context managers alike."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import uvicorn


def unused_port() -> int:
    """A port nothing listens on (for a receiver that is down, until it is started on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: Any, *, port: int = 0, access_log: bool = False) -> Iterator[str]:
    """Run the ASGI app until the block ends; yields its base URL (``access_log``: uvicorn's)."""
    # Binding here, before uvicorn starts, means no other process can take the port meanwhile.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no delayed-ACK waits
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    access = logging.getLogger("uvicorn.access")
    before = (access.handlers[:], access.propagate)
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="info" if access_log else "warning",
        access_log=access_log,
        ws="none",
    )
    # Without access lines uvicorn silences its access logger for the whole process, and a
    # later server asked for them would log nothing: this server's setting stays its own.
    access.handlers, access.propagate = before
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the service did not start (see the log above)")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


class ServedInThread(ABC):
    """A fake served in a thread of its own, whose ``start`` and ``stop`` block until done:
    ``with`` in sync tests, ``async with`` in async ones, where they run in a worker thread so
    that the test's event loop goes on meanwhile."""

    @abstractmethod
    def start(self) -> None:
        """Serve; return once connections are accepted."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and free the port."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


class ServedApp(ServedInThread):
    """A fake whose ``app()`` is served on 127.0.0.1 (``url`` once started). ``stopping`` is
    set when it stops, so that answers it delays go out at once instead of holding the end."""

    def __init__(self) -> None:
        self.url = ""  # http://127.0.0.1:<port>, once started
        self.stopping = threading.Event()
        self._stack: contextlib.ExitStack | None = None

    @abstractmethod
    def app(self) -> Any:
        """The ASGI application to serve."""

    def start(self) -> None:
        if self._stack is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self.stopping.clear()
        stack = contextlib.ExitStack()
        self.url = stack.enter_context(serve(self.app()))
        self._stack = stack

    def stop(self) -> None:
        self.stopping.set()
        if self._stack is not None:
            self._stack.close()
        self._stack = None

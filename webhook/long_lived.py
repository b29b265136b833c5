"""Keeping Python's garbage collector from pausing the service for everyone.

What the service loads at its start (SQLAlchemy, pydantic models, the flows, the catalogue,
the templates) lives as long as the process: several hundred thousand objects, which every
full collection walked again, holding the event loop 100–140 ms at a time (issue #18, seen
during a CSV export and a purge at 100k conversations: one person's wait in ten seconds).
Frozen once the service has started, they are left out of every later collection, which then
walks only what was made since.

Only for ``aiguillage serve``: a frozen object is never collected, so tests, which build many
applications in one process, keep the collector as it is.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def freeze_after_start(app: FastAPI) -> FastAPI:
    """The same application, whose start ends with the objects it made frozen."""
    started: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with started(served) as state:
            gc.collect()  # what the start left behind goes first, not frozen with the rest
            gc.freeze()
            yield state

    app.router.lifespan_context = lifespan
    return app

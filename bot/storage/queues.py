"""Per-chat queues in a table (inbox, outbox): only the oldest pending row of a chat is ready."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Exists, select
from sqlalchemy.orm import InstrumentedAttribute, aliased


def earlier_pending_in_chat(
    model: type[Any], order: InstrumentedAttribute[int], done: InstrumentedAttribute[Any]
) -> Exists:
    """True for a row when its chat has an older row still pending: it must wait its turn."""
    earlier = aliased(model)
    older: ColumnElement[bool] = getattr(earlier, order.key) < order
    return (
        select(getattr(earlier, order.key))
        .where(
            getattr(earlier, done.key).is_(None),
            earlier.chat_id == model.chat_id,
            older,
        )
        .exists()
    )

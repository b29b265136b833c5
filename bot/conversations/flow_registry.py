"""Which flow definition a conversation runs on: the current files, or the version it pinned."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Select, insert, select

from bot.clock import utcnow
from bot.storage.database import Transaction
from bot.storage.models import FlowVersion
from flows.flow import Flow
from flows.flow_loader import FLOWS_DIR, flow_files, parse_flow


def _definition(flow_id: str, version: str) -> Select[str]:
    return select(FlowVersion.definition).where(
        FlowVersion.flow_id == flow_id, FlowVersion.version == version
    )


class FlowRegistry:
    """Current flows from their files; older versions from the database, parsed once."""

    def __init__(self, directory: Path = FLOWS_DIR) -> None:
        self._sources: dict[str, str] = {}
        self.current: dict[str, Flow] = {}
        for path in flow_files(directory):
            text = path.read_text(encoding="utf-8")
            flow = parse_flow(text, source=path.name)
            self._sources[flow.id] = text
            self.current[flow.id] = flow
        self._pinned: dict[tuple[str, str], Flow] = {
            (f.id, f.pinned_version): f for f in self.current.values()
        }

    def replace(self, text: str, *, source: str = "flow") -> Flow:
        """Deploy a new definition of a flow (new conversations start on it)."""
        flow = parse_flow(text, source=source)
        self._sources[flow.id] = text
        self.current[flow.id] = flow
        self._pinned[(flow.id, flow.pinned_version)] = flow
        return flow

    async def record_current(self, tx: Transaction) -> None:
        """Keep every current definition in the database so later versions can still run it."""
        for flow_id, flow in self.current.items():
            if await tx.scalar(_definition(flow_id, flow.pinned_version)) is None:
                await tx.run(
                    insert(FlowVersion).values(
                        flow_id=flow_id,
                        version=flow.pinned_version,
                        definition=self._sources[flow_id],
                        created_at=utcnow(),
                    )
                )

    async def pinned(self, tx: Transaction, flow_id: str, version: str) -> Flow:
        """The definition a conversation started with."""
        key = (flow_id, version)
        if key not in self._pinned:
            definition = await tx.scalar(_definition(flow_id, version))
            if definition is None:
                # Its definition is lost: finishing on the current one beats failing the person.
                return self.current[flow_id]
            self._pinned[key] = parse_flow(definition, source=f"{flow_id}@{version}")
        return self._pinned[key]

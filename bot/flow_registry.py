"""Which flow definition a conversation runs on: the current files, or the version it pinned."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import FlowVersion
from flows.flow import Flow
from flows.flow_loader import FLOWS_DIR, flow_files, parse_flow


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

    async def record_current(self, session: AsyncSession) -> None:
        """Keep every current definition in the database so later versions can still run it."""
        for flow_id, flow in self.current.items():
            if await session.get(FlowVersion, (flow_id, flow.pinned_version)) is None:
                session.add(
                    FlowVersion(
                        flow_id=flow_id,
                        version=flow.pinned_version,
                        definition=self._sources[flow_id],
                    )
                )

    async def pinned(self, session: AsyncSession, flow_id: str, version: str) -> Flow:
        """The definition a conversation started with."""
        key = (flow_id, version)
        if key not in self._pinned:
            definition = await session.scalar(
                select(FlowVersion.definition).where(
                    FlowVersion.flow_id == flow_id, FlowVersion.version == version
                )
            )
            if definition is None:
                # Its definition is lost: finishing on the current one beats failing the person.
                return self.current[flow_id]
            self._pinned[key] = parse_flow(definition, source=f"{flow_id}@{version}")
        return self._pinned[key]

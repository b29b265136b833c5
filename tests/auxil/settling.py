"""Driving a messenger's pipeline step by step in tests (its jobs are not running)."""

from __future__ import annotations

from bot.messaging.pipeline import Pipeline


async def settle(pipeline: Pipeline) -> None:
    """Process and send until nothing is left: what the background jobs would do."""
    for _ in range(50):
        done = await pipeline.processor.process_pending()
        await pipeline.processor.drain()  # the scan's replies are sent in the background
        await pipeline.sender.flush()  # replies delivered at once are marked in batches
        sent = await pipeline.sender.send_pending()
        if not done and not sent:
            return

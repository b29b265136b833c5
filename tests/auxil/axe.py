"""Accessibility checks with axe-core in the page under test (the engine Deque publishes on npm).

``make test`` installs the pinned axe-core into ``.venv/axe``; without it an accessibility check
is skipped, unless AIGUILLAGE_REQUIRE_BROWSER=1 (CI), where it fails instead.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from tests.auxil.paths import ROOT

AXE_SCRIPT = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# RGAA 4.1 asks for WCAG 2.1 A and AA; best practices catch landmarks and regions as well.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Impacts that no page may have, whatever the reason.
BLOCKING = {"serious", "critical"}


@cache
def _script(path: Path = AXE_SCRIPT) -> str:
    return path.read_text(encoding="utf-8")


def axe_available() -> None:
    """Skip (or fail in CI) when axe-core was not installed."""
    if AXE_SCRIPT.exists():
        return
    reason = f"{AXE_SCRIPT} not found: `make test` installs axe-core with npm"
    if os.environ.get("AIGUILLAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"AIGUILLAGE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


async def violations(page: Page, *, selector: str | None = None) -> list[dict[str, Any]]:
    """What axe-core finds in the page as it is now (or in ``selector`` only)."""
    axe_available()
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated rather than added as a <script>: a strict page CSP must not stop the check.
        await page.evaluate(_script())
    found: list[dict[str, Any]] = await page.evaluate(
        """async ([context, tags]) => {
            const result = await window.axe.run(context ?? document, {
                runOnly: { type: "tag", values: tags },
                resultTypes: ["violations"],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(" ")),
            }));
        }""",
        [selector, TAGS],
    )
    return found


def described(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes'][:3]}" for v in found)


async def assert_accessible(
    page: Page, *, allowed: dict[str, str] | None = None, selector: str | None = None
) -> None:
    """No violation at all, except those ``allowed`` with their written reason (never a serious
    or critical one)."""
    allowed = allowed or {}
    found = await violations(page, selector=selector)
    blocking = [v for v in found if v["impact"] in BLOCKING or v["id"] not in allowed]
    assert not blocking, f"axe-core found on {page.url}:\n{described(blocking)}"

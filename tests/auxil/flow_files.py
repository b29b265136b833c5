"""A flow file with one broken reference: the commands that load flows must refuse it."""

from __future__ import annotations

from pathlib import Path

# Its one problem, as the commands print it: "step 'hello': leads to unknown step 'ghost'".
BROKEN_FLOW = """\
id: broken
version: "1"
start: hello
steps:
  hello:
    say: [welcome.hello]
    next: ghost
"""


def write_broken_flow(folder: Path) -> None:
    """Put the broken flow in ``folder`` as ``broken.yaml``."""
    (folder / "broken.yaml").write_text(BROKEN_FLOW, encoding="utf-8")

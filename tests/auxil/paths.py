"""Where the tests find the repository, and where they leave what a person should look at."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The browser tests' screenshots, kept after the run for a person to look at.
ARTIFACTS = ROOT / "test-artifacts"
# The product owner's personas, in the shared folder beside the repository.
PERSONAS_PATH = ROOT.parent / "shared" / "personas" / "public.json"

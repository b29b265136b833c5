"""An installed wheel (not an editable checkout) has its catalogues: English stays English."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the wheel is built from; the copy keeps the build's files out of the working tree.
SOURCES = ("bot", "flows", "webhook", "locales", "pyproject.toml", "README.md")
SHOW_INSTALLED = """\
import flows
from flows.i18n import text
print(flows.__file__)
print(text("welcome.hello", "en"))
"""


def test_an_installed_wheel_speaks_english(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        original = ROOT / name
        if original.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(original, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(original, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # Offline: the build uses this environment's setuptools (a dev dependency).
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")]
    subprocess.run([*build, str(source)], check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("aiguillage-*.whl")
    installed = tmp_path / "installed"
    install = [*pip, "install", "--no-deps", "--no-compile", "--target", str(installed)]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True)

    # The installed copy first on the path, run from elsewhere than the checkout.
    environment = {**os.environ, "PYTHONPATH": str(installed)}
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_INSTALLED],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert shown[0].startswith(str(installed))
    assert shown[1] == "Hi! 👋 I'm Aiguillage, the PôleS assistant."

"""The layout's rules, checked on the source itself (with ``ast``, so comments and strings that
merely mention a module never count):

- tests take fixtures from conftest files (pytest hands them over by name) and helpers from
  tests/auxil/: nothing imports a test module or a conftest, so that a test file can move or
  go without breaking another;
- imports point one way, webhook → bot → flows, and the product never imports tests or bench;
- SQL lives in bot/'s storage and repository modules, never in webhook/ (HTTP handlers and
  commands call functions of bot/), neither as text nor as SQLAlchemy statements.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.auxil.paths import ROOT

HELPERS = "tests.auxil"
# What each package may not import: the arrows go webhook → bot → flows, never back.
FORBIDDEN = {
    "flows": ("bot", "webhook", "tests", "bench"),
    "bot": ("webhook", "tests", "bench"),
    # Nor does webhook/ build statements: SQLAlchemy is for bot/'s storage modules.
    "webhook": ("tests", "bench", "sqlalchemy"),
}
SQL_KEYWORDS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}


@dataclass(frozen=True)
class Import:
    """One import statement of a source file: the module it names and, for ``from m import
    n``, each ``m.n`` too, since a name may be a module (``from tests.bot import conftest``)."""

    path: Path
    line: int
    modules: tuple[str, ...]

    def naming(self, offending: Callable[[str], bool]) -> str | None:
        """``file:line: imports module`` for the first module ``offending`` picks, if any."""
        for module in self.modules:
            if offending(module):
                return f"{self.path.relative_to(ROOT)}:{self.line}: imports {module}"
        return None


def sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def module_of(path: Path) -> str:
    """``tests/bot/conftest.py`` → ``tests.bot.conftest``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[Import]:
    """Every import of a file, anywhere in it (lazy ones count), relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_of(path) if path.name == "__init__.py" else module_of(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, (alias.name,))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{module}" if module else base
            names = tuple(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
            yield Import(path, node.lineno, (module, *names))


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def is_test_module(module: str) -> bool:
    """A conftest, or a module of tests/ other than the helpers (packages' own files aside)."""
    if module.split(".")[-1] == "conftest":
        return True
    is_file = (ROOT / module.replace(".", "/")).with_suffix(".py").is_file()
    return is_file and within(module, "tests") and not within(module, HELPERS)


def offending_imports(folders: tuple[str, ...], offending: Callable[[str], bool]) -> list[str]:
    found = (
        statement.naming(offending) for path in sources(*folders) for statement in imports(path)
    )
    return [where for where in found if where is not None]


def test_nothing_imports_a_test_module_or_a_conftest() -> None:
    offending = offending_imports(("tests", "bench"), is_test_module)
    assert offending == [], (
        "fixtures belong in conftest.py files, helpers in tests/auxil/:\n" + "\n".join(offending)
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_from_webhook_to_bot_to_flows(package: str) -> None:
    forbidden = FORBIDDEN[package]
    offending = offending_imports(
        (package,), lambda module: any(within(module, other) for other in forbidden)
    )
    assert offending == [], f"{package}/ may not import {forbidden}:\n" + "\n".join(offending)


def sql_texts(path: Path) -> Iterator[str]:
    """Where a string literal of the file starts as a statement does (f-strings included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words = node.value.split(None, 1)
            if words and words[0] in SQL_KEYWORDS:
                yield f"{path.relative_to(ROOT)}:{node.lineno}: {words[0]} …"


def test_webhook_holds_no_sql() -> None:
    offending = [found for path in sources("webhook") for found in sql_texts(path)]
    assert offending == [], "SQL belongs in bot/'s storage modules:\n" + "\n".join(offending)

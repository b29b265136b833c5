"""The key that signs admin session cookies: AIGUILLAGE_SECRET_KEY, or one made once and kept.

Outside production the service must start with no setting at all, yet never sign with a key
anyone could know (a known key lets anyone forge an admin's cookie). So when no key is set, a
random one is made at first start and kept in a file only the service's user can read: beside
the SQLite database by default, in the data directory with PostgreSQL, or where
AIGUILLAGE_SECRET_KEY_FILE says. Production requires AIGUILLAGE_SECRET_KEY (bot/settings.py).
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.settings import (
    ENV_PREFIX,
    MIN_SECRET_KEY_LENGTH,
    PLACEHOLDER_SECRETS,
    Settings,
    SettingsError,
    default_data_dir,
)

logger = logging.getLogger(__name__)
KEY_FILE_NAME = "aiguillage.secret"


@dataclass(frozen=True)
class SigningKey:
    """The key, and where it came from (said in the logs; never the key itself)."""

    value: SecretStr
    source: str


def key_file_path(settings: Settings) -> Path | None:
    """Where a generated key is kept; None for an in-memory database (a key for this run)."""
    if settings.secret_key_file:
        return Path(settings.secret_key_file)
    if not settings.is_sqlite:
        return default_data_dir() / KEY_FILE_NAME
    database = settings.sqlite_path
    return database.with_suffix(".secret") if database is not None else None


def load_signing_key(settings: Settings) -> SigningKey:
    """The configured key, else the kept one, made at first start; logs where it comes from."""
    if settings.secret_key is not None:
        key = SigningKey(settings.secret_key, f"{ENV_PREFIX}SECRET_KEY")
    else:
        path = key_file_path(settings)
        if path is None:
            key = SigningKey(SecretStr(secrets.token_urlsafe(48)), "this run only")
        else:
            key = SigningKey(SecretStr(_kept_key(path)), str(path.resolve()))
    logger.info("admin sessions signed with the key from %s", key.source)
    return key


def _kept_key(path: Path) -> str:
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        _publish_new_key(path)
    except FileExistsError:
        pass  # another process made it first: theirs is the key
    except OSError as error:
        raise SettingsError(
            f"{ENV_PREFIX}SECRET_KEY_FILE: cannot keep a new key in {path}"
            f" ({error.strerror}); set {ENV_PREFIX}SECRET_KEY or a writable"
            f" {ENV_PREFIX}SECRET_KEY_FILE"
        ) from None
    return _read_key(path)


def _read_key(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise  # none yet: the caller makes one
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not text"
        raise SettingsError(
            f"{ENV_PREFIX}SECRET_KEY_FILE: cannot read the key kept in {path} ({reason})"
        ) from None
    if len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in PLACEHOLDER_SECRETS:
        raise SettingsError(
            f"{ENV_PREFIX}SECRET_KEY_FILE: {path} holds no usable key (expected at least"
            f" {MIN_SECRET_KEY_LENGTH} random characters); delete it and a new one is made at start"
        )
    return key


def _publish_new_key(path: Path) -> None:
    """Write a new key readable by its owner only, appearing whole or not at all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        # A hard link never replaces an existing file: two first starts agree on one key.
        os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)

"""One Settings object for the whole service, read from AIGUILLAGE_* variables and .env."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.partners.embedding import DEFAULT_EMBED_ORIGINS, parse_embed_origins

ENV_PREFIX = "AIGUILLAGE_"
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "changeme", "secret"})
# The shortest signing key accepted: set in production, or kept in a file (bot/signing_key.py).
MIN_SECRET_KEY_LENGTH = 32
TELEGRAM_TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def default_data_dir() -> Path:
    """Where the service keeps its files unless told otherwise: ``$XDG_DATA_HOME/aiguillage``.

    Not the working directory: every command must find the same database wherever it runs.
    """
    base = os.environ.get("XDG_DATA_HOME", "")
    # The XDG specification says to ignore a relative value.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "aiguillage"


def default_database_url() -> str:
    """The SQLite file in the data directory (an absolute path: four slashes)."""
    return f"sqlite+aiosqlite:///{default_data_dir() / 'aiguillage.db'}"


class SettingsError(ValueError):
    """A setting has a wrong value; the message names the variable and what is expected."""


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=default_database_url)
    # The flow files (*.yaml); by default the ones shipped with the package.
    flows_dir: Path | None = None
    # Signs the admin session cookies. Unset outside production: a random key is made at first
    # start and kept in secret_key_file (see bot/signing_key.py); never a known constant.
    secret_key: SecretStr | None = None
    # Where that generated key is kept; by default beside the SQLite database
    # (aiguillage.db -> aiguillage.secret), or in the data directory with PostgreSQL.
    secret_key_file: str | None = None
    public_url: str | None = None
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None
    # For deep links (https://t.me/<name>?start=CODE); asked of Telegram when not set.
    telegram_bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
    # WhatsApp Business Platform (Cloud API): the channel is on when all four are set.
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = Field(default=None, pattern=r"^[0-9]{1,32}$")
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    # The Graph API base with its version; /{phone-number-id}/messages is appended.
    whatsapp_api_url: str = "https://graph.facebook.com/v23.0"
    # The business number in international form without "+" (for wa.me links), e.g. 33612345678.
    whatsapp_number: str | None = Field(default=None, pattern=r"^[1-9][0-9]{6,14}$")
    # Approved message templates, sent when the 24-hour window is closed (none: not written to).
    whatsapp_template_reminder: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    whatsapp_template_counsellor: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    whatsapp_template_appointment: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    # The language the templates were approved in (Meta's code: fr, en, en_US…).
    whatsapp_template_language: str = Field(default="fr", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    privacy_url: str = "/confidentialite"
    # Where people report an accessibility problem, shown on /accessibilite (optional: without
    # it, the statement names only "Parler à un conseiller" in the chat).
    accessibility_contact: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    reminder_delay_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    close_after_days: float = Field(default=7.0, gt=0, le=365)
    # A Telegram group told of each new lead (first name, site, programmes, a link): its chat
    # id, negative for groups. Needs the Telegram token.
    counsellor_chat_id: int | None = None
    # What the privacy notice promises: conversations left alone are erased after 3 months.
    retention_conversation_days: int = Field(default=90, ge=1, le=3650)
    # Closed leads (enrolled, not eligible, unreachable, withdrawn) are erased this many
    # months (of 30 days) after they were closed, with their history and notes.
    retention_lead_months: int = Field(default=12, ge=1, le=120)
    # A web chat session opens nothing after this long without activity: a shared browser
    # (a public PC, a family phone) does not hand one person's answers to the next.
    web_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Abuse of the web chat (see bot/limits.py): inputs and polls a minute per client address
    # and per session, leads an hour per address (beyond: recorded, but held for review).
    chat_address_per_minute: int = Field(default=120, ge=1, le=100_000)
    chat_session_per_minute: int = Field(default=60, ge=1, le=100_000)
    poll_address_per_minute: int = Field(default=240, ge=1, le=100_000)
    poll_session_per_minute: int = Field(default=30, ge=1, le=100_000)
    leads_per_address_per_hour: int = Field(default=5, ge=1, le=100_000)
    # The same input re-sent by a session this soon (a double tap, a retry) gets the last
    # reply again instead of a second step.
    chat_repeat_seconds: float = Field(default=2.0, ge=0, le=60)
    # A lead finished again within this many minutes sends at most one more lead.updated.
    lead_update_window_minutes: float = Field(default=5.0, ge=0, le=24 * 60)
    # The counsellors' group gets at most this many notices a window; the rest in one digest.
    counsellor_notices_per_window: int = Field(default=10, ge=1, le=1000)
    counsellor_notice_window_minutes: float = Field(default=10.0, gt=0, le=24 * 60)
    # Sessions and appointments (bot/appointments): how far ahead dates are offered, how
    # many, and the two reminders: the day before at this Paris hour, and hours before.
    appointment_horizon_days: int = Field(default=28, ge=1, le=365)
    appointment_offers: int = Field(default=3, ge=1, le=9)
    appointment_reminder_evening_hour: int = Field(default=18, ge=0, le=23)
    appointment_reminder_hours_before: float = Field(default=2.0, gt=0, le=72)
    # SMS reminders for web chat people who agreed (Brevo transactional SMS): off without a key.
    sms_api_key: SecretStr | None = None
    sms_api_url: str = "https://api.brevo.com/v3"
    # The sender name shown on the phone (3 to 11 letters or digits, as operators require).
    sms_sender: str = Field(default="PoleS", pattern=r"^[A-Za-z0-9]{3,11}$")
    # Brevo calls back with delivery reports and STOP answers on /sms/webhook?token=...
    sms_webhook_token: SecretStr | None = None
    # Reverse proxies whose X-Forwarded-For names the client (addresses or networks, comma
    # separated); by default the socket peer is the client.
    trusted_proxies: str = ""
    # Partners' sites that may show the chat in a frame (/embed.js): origins separated by
    # spaces, "https:" for any https site, or 'none' (see bot/partners/embedding.py).
    embed_origins: str = DEFAULT_EMBED_ORIGINS

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # People paste plain URLs; the service always talks through the async drivers.
        for plain, async_scheme in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                value = async_scheme + value[len(plain) :]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("expected a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/") if value else value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError("expected an http:// or https:// address of a Bot API server")
        return value

    @field_validator("whatsapp_api_url")
    @classmethod
    def _graph_api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
            raise ValueError(
                "expected an http(s):// address such as https://graph.facebook.com/v23.0"
            )
        return value.rstrip("/")

    @property
    def whatsapp_enabled(self) -> bool:
        """The WhatsApp channel is on: it can read, check and answer notifications."""
        return None not in (
            self.whatsapp_token,
            self.whatsapp_phone_number_id,
            self.whatsapp_app_secret,
            self.whatsapp_verify_token,
        )

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TELEGRAM_TOKEN_PATTERN.match(value.get_secret_value()):
            raise ValueError("expected a BotFather token such as 123456:ABC-…")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.match(value.get_secret_value()):
            raise ValueError("expected 1-256 characters among A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _whatsapp_all_or_nothing(self) -> Settings:
        needed = {
            "AIGUILLAGE_WHATSAPP_TOKEN": self.whatsapp_token,
            "AIGUILLAGE_WHATSAPP_PHONE_NUMBER_ID": self.whatsapp_phone_number_id,
            "AIGUILLAGE_WHATSAPP_APP_SECRET": self.whatsapp_app_secret,
            "AIGUILLAGE_WHATSAPP_VERIFY_TOKEN": self.whatsapp_verify_token,
        }
        missing = [name for name, value in needed.items() if value is None]
        if missing and len(missing) < len(needed):
            # Half a channel would accept messages it cannot check or answer.
            raise ValueError(
                "whatsapp: the channel needs its four settings; missing " + ", ".join(missing)
            )
        return self

    @model_validator(mode="after")
    def _counsellor_chat_needs_telegram(self) -> Settings:
        if self.counsellor_chat_id is not None and self.telegram_token is None:
            raise ValueError(
                "counsellor_chat_id: the counsellors' group is written to by the bot:"
                " set AIGUILLAGE_TELEGRAM_TOKEN too, or leave this unset"
            )
        return self

    @field_validator("secret_key")
    @classmethod
    def _no_known_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        # A placeholder is known to everyone: anyone could sign an admin's cookie with it.
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "a placeholder known to everyone: remove it (a random key is then made and kept"
                " beside the database) or set a random value"
            )
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"secret_key: expected a random value of at least {MIN_SECRET_KEY_LENGTH}"
                    " characters in production"
                    " (python -c 'import secrets; print(secrets.token_urlsafe())')"
                )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in _listed(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or network (e.g. 10.0.0.0/8)"
                ) from None
        return value

    @field_validator("embed_origins")
    @classmethod
    def _embed_origins(cls, value: str) -> str:
        # Kept as the CSP's frame-ancestors sources, checked and normalised once here.
        return " ".join(parse_embed_origins(value))

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The trusted reverse proxies, parsed."""
        return tuple(ipaddress.ip_network(p, strict=False) for p in _listed(self.trusted_proxies))

    @property
    def flow_folder(self) -> Path:
        """The folder of the flow files: AIGUILLAGE_FLOWS_DIR, or the ones shipped with the code."""
        from flows.flow_loader import FLOWS_DIR  # loads the flows' schema: only when asked

        return self.flows_dir or FLOWS_DIR

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file as an absolute path; None for PostgreSQL or in memory."""
        return sqlite_file(self.database_url)

    @property
    def database_label(self) -> str:
        """Which database this is, for people: a file path, or PostgreSQL without password."""
        if self.is_sqlite:
            path = self.sqlite_path
            return str(path) if path is not None else "SQLite in memory"
        # Built from the parts, so that the password and query options are never shown.
        parts = urlsplit(self.database_url)
        user = f"{parts.username}@" if parts.username else ""
        address = parts.netloc.rpartition("@")[2] or "localhost"
        return f"postgresql://{user}{address}{parts.path}"


def sqlite_file(database_url: str) -> Path | None:
    """A SQLite URL's database file as an absolute path; None for PostgreSQL or in memory."""
    if not database_url.startswith("sqlite"):
        return None
    _, separator, rest = database_url.partition(":///")
    path = rest.split("?", 1)[0]
    if not separator or path in ("", ":memory:"):
        return None
    return Path(path).absolute()


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    if not field and ":" in message:  # model-level checks name their field first
        field, message = (part.strip() for part in message.split(":", 1))
    return f"{ENV_PREFIX}{field.upper()}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and .env); SettingsError names the first wrong variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None

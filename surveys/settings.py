"""Settings from FOLLOWUP_* environment variables (and a .env file), loaded once, frozen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from surveys import language
from surveys.domain.names import normalise

ENV_PREFIX = "FOLLOWUP_"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the environment variable."""


SUPPORTED_DRIVERS = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
"""The async drivers followup runs on; every supported URL is rewritten to one of them."""


def async_database_url(url: str) -> str:
    """Pick the async driver for a plain SQLAlchemy URL (sqlite → aiosqlite, postgresql → asyncpg)."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for plain in ("postgresql://", "postgres://", "postgresql+psycopg2://", "postgresql+psycopg://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


def _int_list(value: object) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    text = str(value or "").strip()
    return tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())


DEFAULT_ROLES = (
    "social worker",
    "teacher",
    "police",
    "health",
    "youth worker",
    "early years",
    "residential care",
    "housing",
    "licensing",
    "elected member",
    "other",
)
DEFAULT_AGENCIES = (
    "children's services",
    "education",
    "police",
    "health",
    "youth services",
    "voluntary sector",
    "licensing",
    "other",
)


class Settings(BaseSettings):
    """Everything the app reads from its environment; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True)

    database_url: str = "sqlite+aiosqlite:///followup.db"
    bot_token: SecretStr | None = None
    bot_username: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    evaluator_ids: Annotated[tuple[int, ...], NoDecode] = ()
    timezone: str = "Europe/London"
    send_window: str = "09:30-16:30"
    reminder_days: Annotated[tuple[int, ...], NoDecode] = (3, 7)
    checkin_window_days: int = Field(default=21, ge=1, le=365)
    retention_days: int = Field(default=30, ge=0, le=3650)
    suppress_below: int = Field(default=5, ge=3, le=100)
    dispatch_interval_seconds: float = Field(default=30.0, gt=0)
    evaluation_contact: str = "your training officer"
    secret_key: SecretStr | None = None
    roles: Annotated[tuple[str, ...], NoDecode] = DEFAULT_ROLES
    agencies: Annotated[tuple[str, ...], NoDecode] = DEFAULT_AGENCIES
    log_level: str = "INFO"
    default_language: str = language.ENGLISH  # en|cy: for courses that set none and chats not enrolled yet
    # The weekly pulse (scheduler.pulse) flags a wave that closed with fewer answers than this % of attendance.
    pulse_alert_below: int = Field(default=50, ge=1, le=100)

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        url = async_database_url(value)
        if not url.startswith(SUPPORTED_DRIVERS):
            raise ValueError("unsupported database URL: use sqlite:///PATH or postgresql://USER@HOST/NAME")
        return url

    @field_validator("admin_ids", "evaluator_ids", "reminder_days", mode="before")
    @classmethod
    def _ints(cls, value: object) -> tuple[int, ...]:
        try:
            return _int_list(value)
        except ValueError:
            raise ValueError("expected whole numbers separated by commas") from None

    @field_validator("roles", "agencies", mode="before")
    @classmethod
    def _names(cls, value: object) -> tuple[str, ...]:
        names = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
        cleaned = tuple(normalise(n) for n in names if str(n).strip())
        if not cleaned:
            raise ValueError("expected a comma-separated list of names")
        return cleaned

    @field_validator("reminder_days")
    @classmethod
    def _at_most_two(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) > 2 or any(d < 1 for d in value) or list(value) != sorted(set(value)):
            raise ValueError("expected at most two increasing day counts, e.g. 3,7")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("send_window")
    @classmethod
    def _window(cls, value: str) -> str:
        start, end = parse_window(value)
        if start >= end:
            raise ValueError("the window must start before it ends")
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        return language.parse(value)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def window(self) -> tuple[time, time]:
        """The daily send window as (start, end) local times."""
        return parse_window(self.send_window)

    @property
    def zone(self) -> ZoneInfo:
        """The default zone for courses that do not name one."""
        return ZoneInfo(self.timezone)


def parse_window(value: str) -> tuple[time, time]:
    """Parse 'HH:MM-HH:MM' into two times."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError("expected HH:MM-HH:MM, e.g. 09:30-16:30") from None
    return start, end


def load_settings(env: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    """Load settings once; a bad value raises SettingsError naming the variable."""
    source = dict(os.environ if env is None else env)
    values = {key[len(ENV_PREFIX) :].lower(): val for key, val in source.items() if key.startswith(ENV_PREFIX)}
    try:
        # Explicit values beat the .env file; reading the process env again is disabled so an
        # injected mapping (tests) is the whole truth.
        return Settings(_env_file=env_file if env is None else None, **values)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            # pydantic starts a validator's own message with "Value error, ": the message is enough.
            lines.append(f"{ENV_PREFIX}{field.upper()}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(lines)) from None

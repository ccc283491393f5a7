"""The process settings: every environment variable slotbot reads, typed, read once at start.

This module owns `ProcessSettings` (the SLOTBOT_*, STRIPE_*, TWILIO_*, TELEGRAM_* and SMTP_*
variables with today's defaults) and the holder the running process keeps them in. The
entry points (the app factory, `slotbot serve` and `slotbot worker`) build them from the
environment with `from_environ` — a bad value is one `ProcessSettingsError` line naming
the variable ("TWILIO_READ_TIMEOUT: must be a number, got 'abc'"), said at start — and
`install` them; code below reads `current()`, never the environment itself.

Outside a started server (tests, an app built for TESTING) nothing is installed and
`current()` validates the mapping the entry layer handed to `read_from` as it is at that
moment (cached while it does not change), so what a test sets before a call is seen.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
PREFIXES = ("SLOTBOT_", "STRIPE_", "TWILIO_", "TELEGRAM_", "SMTP_", "PROMETHEUS_")
_OFF = "off"
# An empty rate limit turns it off; any other empty variable counts as unset.
_EMPTY_IS_OFF = "SLOTBOT_RATE_LIMIT_"


class ProcessSettingsError(ValueError):
    """An environment variable with a value slotbot cannot use: one line, variable first."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class LogFormat(StrEnum):
    """How log lines are written."""

    PLAIN = "plain"
    JSON = "json"


class PaymentsChoice(StrEnum):
    """SLOTBOT_PAYMENTS: what pay links do without Stripe."""

    SANDBOX = "sandbox"
    OFF = "off"
    # Stripe is chosen by STRIPE_SECRET_KEY; "stripe" here says the same and is not an error
    # (it never was: with a key set the variable was not read).
    STRIPE = "stripe"


def _kw(name: str) -> dict[str, Any]:
    """The Field keywords that bind a field to its environment variable."""
    return {"validation_alias": AliasChoices(name), "serialization_alias": name}


class ProcessSettings(BaseSettings):
    """Every variable the code reads, typed; `None` where unset means "not configured"."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_ignore_empty=True, case_sensitive=True
    )

    # --- where things are
    config_file: Path = Field(Path("business.toml"), **_kw("SLOTBOT_CONFIG"))
    database_url: str = Field(DEFAULT_URL, **_kw("SLOTBOT_DATABASE_URL"))
    # Checked at start by webhooks.exposure.public_url_problem (its one line names the form).
    public_url: str | None = Field(None, **_kw("SLOTBOT_PUBLIC_URL"))
    # Set by `slotbot serve` to where it listens, for links when no public URL is set.
    listen_url: str | None = Field(None, **_kw("SLOTBOT_LISTEN_URL"))
    spool_dir: str | None = Field(None, **_kw("SLOTBOT_SPOOL_DIR"))
    pdf_font: str | None = Field(None, **_kw("SLOTBOT_PDF_FONT"))
    pdf_font_bold: str | None = Field(None, **_kw("SLOTBOT_PDF_FONT_BOLD"))
    # --- secrets and access
    secret_key: str | None = Field(None, **_kw("SLOTBOT_SECRET_KEY"))
    owner_key: str | None = Field(None, **_kw("SLOTBOT_OWNER_KEY"))
    owner_key_file: Path | None = Field(None, **_kw("SLOTBOT_OWNER_KEY_FILE"))
    health_token: str | None = Field(None, **_kw("SLOTBOT_HEALTH_TOKEN"))
    metrics_token: str | None = Field(None, **_kw("SLOTBOT_METRICS_TOKEN"))
    payments: PaymentsChoice | None = Field(None, **_kw("SLOTBOT_PAYMENTS"))
    # --- running
    log_format: LogFormat = Field(LogFormat.PLAIN, **_kw("SLOTBOT_LOG_FORMAT"))
    log_level: str = Field("INFO", **_kw("SLOTBOT_LOG_LEVEL"))
    kick: bool = Field(True, **_kw("SLOTBOT_KICK"))  # wake the courier after a commit
    max_body_bytes: int = Field(1024 * 1024, ge=1, **_kw("SLOTBOT_MAX_BODY_BYTES"))
    replies_per_minute: int = Field(20, ge=0, **_kw("SLOTBOT_REPLIES_PER_MINUTE"))  # 0: off
    rate_limit_chat_ip: str = Field("600/minute", **_kw("SLOTBOT_RATE_LIMIT_CHAT_IP"))
    rate_limit_chat_session: str = Field("60/minute", **_kw("SLOTBOT_RATE_LIMIT_CHAT_SESSION"))
    rate_limit_new_sessions: str = Field("1000/hour", **_kw("SLOTBOT_RATE_LIMIT_NEW_SESSIONS"))
    rate_limit_forms_ip: str = Field("120/minute", **_kw("SLOTBOT_RATE_LIMIT_FORMS_IP"))
    rate_limit_forms_link: str = Field("30/minute", **_kw("SLOTBOT_RATE_LIMIT_FORMS_LINK"))
    rate_limit_exempt: str = Field("127.0.0.0/8,::1", **_kw("SLOTBOT_RATE_LIMIT_EXEMPT"))
    rate_limit_storage: str = Field("memory://", **_kw("SLOTBOT_RATE_LIMIT_STORAGE"))
    prometheus_multiproc_dir: str | None = Field(None, **_kw("PROMETHEUS_MULTIPROC_DIR"))
    # --- Stripe
    stripe_secret_key: str | None = Field(None, **_kw("STRIPE_SECRET_KEY"))
    stripe_api_base: str | None = Field(None, **_kw("STRIPE_API_BASE"))
    stripe_webhook_secret: str | None = Field(None, **_kw("STRIPE_WEBHOOK_SECRET"))
    # --- Twilio (SMS, WhatsApp)
    twilio_account_sid: str | None = Field(None, **_kw("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str | None = Field(None, **_kw("TWILIO_AUTH_TOKEN"))
    twilio_sms_from: str | None = Field(None, **_kw("TWILIO_SMS_FROM"))
    twilio_whatsapp_from: str | None = Field(None, **_kw("TWILIO_WHATSAPP_FROM"))
    twilio_messaging_service_sid: str | None = Field(None, **_kw("TWILIO_MESSAGING_SERVICE_SID"))
    twilio_api_base: str | None = Field(None, **_kw("TWILIO_API_BASE"))
    twilio_connect_timeout: float = Field(5.0, gt=0, **_kw("TWILIO_CONNECT_TIMEOUT"))
    twilio_read_timeout: float = Field(10.0, gt=0, **_kw("TWILIO_READ_TIMEOUT"))
    # --- Telegram
    telegram_bot_token: str | None = Field(None, **_kw("TELEGRAM_BOT_TOKEN"))
    telegram_api_base: str | None = Field(None, **_kw("TELEGRAM_API_BASE"))
    telegram_webhook_url: str | None = Field(None, **_kw("TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_secret: str | None = Field(None, **_kw("TELEGRAM_WEBHOOK_SECRET"))
    telegram_connect_timeout: float = Field(5.0, gt=0, **_kw("TELEGRAM_CONNECT_TIMEOUT"))
    telegram_read_timeout: float = Field(10.0, gt=0, **_kw("TELEGRAM_READ_TIMEOUT"))
    telegram_poll_timeout: int = Field(25, ge=0, **_kw("TELEGRAM_POLL_TIMEOUT"))
    telegram_poller_lease: float = Field(30.0, gt=0, **_kw("TELEGRAM_POLLER_LEASE"))
    # --- email
    smtp_host: str | None = Field(None, **_kw("SMTP_HOST"))
    smtp_from: str | None = Field(None, **_kw("SMTP_FROM"))
    smtp_port: int = Field(587, ge=1, le=65535, **_kw("SMTP_PORT"))
    smtp_user: str | None = Field(None, **_kw("SMTP_USER"))
    smtp_password: str | None = Field(None, **_kw("SMTP_PASSWORD"))
    smtp_starttls: bool | None = Field(None, **_kw("SMTP_STARTTLS"))  # None: by the port
    smtp_timeout: float = Field(10.0, gt=0, **_kw("SMTP_TIMEOUT"))

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: Any, init_settings: Any, **_sources: Any
    ) -> tuple[Any, ...]:
        """Only the mapping given: the entry layer decides what the environment is."""
        return (init_settings,)

    @field_validator("payments", mode="before")
    @classmethod
    def _folded(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        folded = value.strip().lower() if isinstance(value, str) else value
        if folded not in tuple(LogFormat):
            raise ValueError(f"{value!r} is not plain or json")
        return folded

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        name = value.strip().upper() if isinstance(value, str) else value
        if name not in logging.getLevelNamesMapping():
            raise ValueError(f"{value!r} is not DEBUG, INFO, WARNING or ERROR")
        return name

    @field_validator("replies_per_minute", mode="before")
    @classmethod
    def _replies(cls, value: Any) -> Any:
        return 0 if isinstance(value, str) and value.strip().lower() == _OFF else value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ProcessSettings:
        """The settings an environment gives; ProcessSettingsError names the first bad one."""
        known = _variables()
        values = {
            k: v
            for k, v in environ.items()
            if k in known and (str(v).strip() != "" or k.startswith(_EMPTY_IS_OFF))
        }
        try:
            return cls(**values)
        except ValidationError as exc:
            raise _one_line(exc) from None

    @property
    def links_base(self) -> str:
        """Where customers reach this app: the public URL, else where the server listens."""
        return (self.public_url or self.listen_url or DEFAULT_PUBLIC_URL).rstrip("/")

    def value(self, variable: str) -> str | None:
        """One setting as text by its variable name ("SLOTBOT_PUBLIC_URL"); None when unset."""
        if variable not in _variables():
            raise KeyError(f"{variable} is not a process setting")
        return self._as_env.get(variable)

    @cached_property
    def _as_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for name, value in self.model_dump(by_alias=True, exclude_none=True).items():
            env[name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return env

    def as_env(self) -> dict[str, str]:
        """The settings as the variables they came from (set ones only), for env readers."""
        return dict(self._as_env)


@cache
def _variables() -> tuple[str, ...]:
    return tuple(str(field.serialization_alias) for field in ProcessSettings.model_fields.values())


_PROBLEMS = {
    "float_parsing": "must be a number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
}


def _one_line(exc: ValidationError) -> ProcessSettingsError:
    """The first validation error as "VARIABLE: problem, got 'value'"."""
    error = exc.errors()[0]
    variable = str(error["loc"][0]) if error["loc"] else "environment"
    kind, context = error["type"], error.get("ctx") or {}
    if kind in _PROBLEMS:
        problem = _PROBLEMS[kind]
    elif kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        bound = context.get("gt", context.get("ge", context.get("le")))
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # "more than 0", not "more than 0.0"
        words = {"greater_than": "more than", "greater_than_equal": "at least"}
        problem = f"must be {words.get(kind, 'at most')} {bound}"
    elif kind == "enum":
        problem = f"must be one of {context.get('expected', '')}"
    else:  # a validator's own sentence, which quotes the value itself
        return ProcessSettingsError(variable, str(error["msg"]).removeprefix("Value error, "))
    return ProcessSettingsError(variable, f"{problem}, got {error['input']!r}")


_installed: ProcessSettings | None = None
_source: Mapping[str, str] = {}
_lock = threading.Lock()
_read: dict[tuple[tuple[str, str], ...], ProcessSettings] = {}


def install(settings: ProcessSettings | None) -> None:
    """Make `settings` this process's (a server or worker at start); None uninstalls."""
    global _installed
    _installed = settings


def read_from(environment: Mapping[str, str]) -> None:
    """Where `current()` looks while nothing is installed: the entry layer passes its
    environment (tests and test apps, so a variable set before a call is seen)."""
    global _source
    _source = environment


def current() -> ProcessSettings:
    """This process's settings: the installed ones, else those `read_from` gives now."""
    if _installed is not None:
        return _installed
    seen = tuple(sorted((k, v) for k, v in _source.items() if k.startswith(PREFIXES)))
    with _lock:
        found = _read.get(seen)
        if found is None:
            _read.clear()  # one entry: the environment as last seen
            found = _read[seen] = ProcessSettings.from_environ(dict(seen))
    return found

"""The process settings: every variable typed, read once at start, a bad value one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.billing.payments.gateway import stripe_configured
from bot.billing.payments.links import public_url
from bot.config import process
from bot.config.process import ProcessSettings, ProcessSettingsError
from bot.core.errors import SlotbotError
from tests.conftest import DEMO_CONFIG, ROOT

LAYERS_BELOW_WEBHOOKS = ("bot", "conversations", "storage")
_VARIABLE = re.compile(r"\"((?:SLOTBOT|STRIPE|TWILIO|TELEGRAM|SMTP|PROMETHEUS)_[A-Z_]*[A-Z])\"")


@pytest.fixture
def installed() -> Iterator[None]:
    """Whatever a test installs is uninstalled afterwards."""
    yield
    process.install(None)


def test_the_defaults_are_todays() -> None:
    settings = ProcessSettings.from_environ({})
    assert settings.config_file == Path("business.toml")
    assert settings.database_url == "sqlite:///slotbot.db"
    assert settings.links_base == "http://127.0.0.1:8000"
    assert (settings.twilio_connect_timeout, settings.twilio_read_timeout) == (5.0, 10.0)
    assert (settings.telegram_connect_timeout, settings.telegram_read_timeout) == (5.0, 10.0)
    assert (settings.telegram_poll_timeout, settings.telegram_poller_lease) == (25, 30.0)
    assert (settings.smtp_port, settings.smtp_timeout, settings.smtp_starttls) == (587, 10.0, None)
    assert (settings.max_body_bytes, settings.replies_per_minute) == (1024 * 1024, 20)
    assert settings.kick is True and settings.log_level == "INFO"
    assert settings.rate_limit_chat_ip == "600/minute"
    assert settings.rate_limit_exempt == "127.0.0.0/8,::1"
    assert settings.stripe_secret_key is None and settings.public_url is None


def test_empty_variables_are_unset_but_an_empty_rate_limit_is_off() -> None:
    settings = ProcessSettings.from_environ({"SMTP_PORT": "", "SLOTBOT_RATE_LIMIT_CHAT_IP": ""})
    assert settings.smtp_port == 587
    assert settings.value("SLOTBOT_RATE_LIMIT_CHAT_IP") == ""
    assert ProcessSettings.from_environ({"SLOTBOT_REPLIES_PER_MINUTE": "off"}).replies_per_minute == 0


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("TWILIO_READ_TIMEOUT", "abc", "TWILIO_READ_TIMEOUT: must be a number, got 'abc'"),
        ("TELEGRAM_POLL_TIMEOUT", "2.5", "TELEGRAM_POLL_TIMEOUT: must be a whole number, got '2.5'"),
        ("SMTP_PORT", "0", "SMTP_PORT: must be at least 1, got '0'"),
        ("SLOTBOT_KICK", "maybe", "SLOTBOT_KICK: must be true or false, got 'maybe'"),
        ("TELEGRAM_POLLER_LEASE", "-1", "TELEGRAM_POLLER_LEASE: must be more than 0, got '-1'"),
        ("SLOTBOT_LOG_FORMAT", "xml", "SLOTBOT_LOG_FORMAT: 'xml' is not plain or json"),
        ("SLOTBOT_PAYMENTS", "free", "SLOTBOT_PAYMENTS: must be one of 'sandbox', 'off' or 'stripe', got 'free'"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(variable: str, value: str, line: str) -> None:
    with pytest.raises(ProcessSettingsError) as caught:
        ProcessSettings.from_environ({variable: value})
    assert str(caught.value) == line


def test_the_cli_says_a_bad_value_in_one_line_at_start_and_exits_2() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TWILIO_CONNECT_TIMEOUT": "soon"}
    done = subprocess.run(
        [sys.executable, "-m", "webhooks.cli", "--config", str(DEMO_CONFIG), "config", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == "slotbot: error: TWILIO_CONNECT_TIMEOUT: must be a number, got 'soon'\n"


def test_the_app_factory_refuses_a_bad_value_before_it_starts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhooks.app import create_app

    monkeypatch.setenv("SMTP_TIMEOUT", "ten")
    with pytest.raises(SlotbotError, match=r"^SMTP_TIMEOUT: must be a number, got 'ten'$"):
        create_app({"DATABASE_URL": sqlite_url, "BUSINESS_CONFIG": str(DEMO_CONFIG), "TESTING": True})
    monkeypatch.delenv("SMTP_TIMEOUT")
    with pytest.raises(SlotbotError, match=r"^SLOTBOT_MAX_BODY_BYTES: must be a whole number"):
        create_app(
            {
                "DATABASE_URL": sqlite_url,
                "BUSINESS_CONFIG": str(DEMO_CONFIG),
                "TESTING": True,
                "SLOTBOT_MAX_BODY_BYTES": "lots",
            }
        )


def test_the_app_keeps_its_settings_with_its_config_laid_over_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhooks.app import create_app

    monkeypatch.setenv("TWILIO_READ_TIMEOUT", "3")
    app = create_app(
        {
            "DATABASE_URL": sqlite_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            "SLOTBOT_PUBLIC_URL": "https://book.example.com",
        }
    )
    try:
        settings: ProcessSettings = app.extensions["slotbot.process"]
        assert settings.twilio_read_timeout == 3.0
        assert settings.public_url == "https://book.example.com"
    finally:
        app.extensions["slotbot.db"].dispose()


def test_installed_settings_are_what_bot_code_reads(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOTBOT_PUBLIC_URL", "https://from-the-environment.example")
    assert public_url() == "https://from-the-environment.example"  # nothing installed yet
    process.install(
        ProcessSettings.from_environ(
            {"SLOTBOT_PUBLIC_URL": "https://at-start.example/", "STRIPE_SECRET_KEY": "sk_test_1"}
        )
    )
    monkeypatch.setenv("SLOTBOT_PUBLIC_URL", "https://changed-later.example")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    assert public_url() == "https://at-start.example"
    assert stripe_configured()


def test_the_listen_url_stands_in_for_a_missing_public_url() -> None:
    settings = ProcessSettings.from_environ({"SLOTBOT_LISTEN_URL": "http://shop.local:8000/"})
    assert settings.links_base == "http://shop.local:8000"


def _sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from (ROOT / folder).rglob("*.py")


def test_nothing_below_webhooks_reads_the_environment() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources(*LAYERS_BELOW_WEBHOOKS)
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "os.environ" in line or "getenv" in line
    ]
    assert readers == []


def test_every_variable_the_code_names_is_a_process_setting() -> None:
    named = {
        found
        for path in _sources("bot", "conversations", "storage", "webhooks")
        for found in _VARIABLE.findall(path.read_text(encoding="utf-8"))
    }
    known = set(ProcessSettings.from_environ({}).as_env()) | {
        str(field.serialization_alias) for field in ProcessSettings.model_fields.values()
    }
    assert named and named <= known, sorted(named - known)
    for name in named:
        ProcessSettings.from_environ({}).value(name)  # each readable by its name

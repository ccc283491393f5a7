"""`slotbot config reload`: a changed business.toml reaches a running app without a restart."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import DEMO_CONFIG, ROOT
from webhooks import context


def reload(config: Path, database: str) -> subprocess.CompletedProcess[str]:
    """Run `slotbot config reload` as a real process, as an owner would."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "webhooks.cli",
            "--config",
            str(config),
            "--database",
            database,
            "config",
            "reload",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def shop(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, Path]]:
    """The app serving a copy of the demo business.toml that the test may edit."""
    from webhooks.app import create_app

    config = tmp_path / "business.toml"
    config.write_text(DEMO_CONFIG.read_text())
    logo = tmp_path / "webhooks" / "static" / "demo-logo.svg"
    logo.parent.mkdir(parents=True)
    logo.write_bytes((ROOT / "webhooks" / "static" / "demo-logo.svg").read_bytes())
    monkeypatch.setattr(context, "RELOAD_CHECK_SECONDS", 0.0)
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(config),
            "TESTING": True,
            "SLOTBOT_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    yield app, config
    app.extensions["slotbot.db"].dispose()


def ask(app: Flask, text: str) -> str:
    answer = app.test_client().post("/api/chat", json={"session": "reload-1", "text": text})
    assert answer.status_code == 200
    return " ".join(message["text"] for message in answer.get_json()["messages"])


def test_a_reloaded_business_toml_is_served_without_a_restart(shop, db_url):
    app, config = shop
    assert "Maple &amp; Mane Salon" in app.test_client().get("/owner").get_data(as_text=True)
    assert "$45" in ask(app, "how much is a haircut?")
    text = config.read_text().replace('name = "Maple & Mane Salon"', 'name = "Maple & Mane Studio"')
    config.write_text(text.replace('price = "45.00"', 'price = "52.00"', 1))
    result = reload(config, db_url)
    assert result.returncode == 0, result.stderr
    assert "applied" in result.stdout
    assert "$52" in ask(app, "how much is a haircut?")
    assert "Maple &amp; Mane Studio" in app.test_client().get("/owner").get_data(as_text=True)


def test_a_broken_business_toml_is_refused_and_the_old_one_kept(shop, db_url):
    app, config = shop
    config.write_text(
        config.read_text()
        .replace('price = "45.00"', 'price = "cheap"', 1)
        .replace('timezone = "America/New_York"', 'timezone = "Mars/Olympus"')
    )
    result = reload(config, db_url)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("slotbot: error: ")]
    assert len(errors) == 2, result.stderr
    assert "nothing applied" in result.stderr
    assert "$45" in ask(app, "how much is a haircut?")
    assert "Maple &amp; Mane Salon" in app.test_client().get("/owner").get_data(as_text=True)

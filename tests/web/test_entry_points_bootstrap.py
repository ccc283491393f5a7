"""Every entry point registers the domain-event subscribers before anything can publish.

The suite's conftest bootstraps the bus for all tests, so these run in a fresh interpreter:
there an entry point that forgot `bootstrap()` would leave the bus unready.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )


def test_the_web_app_factory_registers_the_subscribers(tmp_path: Path) -> None:
    code = f"""
from bot.core import events
assert not events.bus.ready
from webhooks.app import create_app
create_app({{"DATABASE_URL": "sqlite:///{tmp_path}/app.db",
            "BUSINESS_CONFIG": "{ROOT / 'business.toml'}", "TESTING": True}})
assert events.bus.ready, "create_app did not bootstrap"
print("ready")
"""
    done = _fresh(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ready" in done.stdout


def test_the_conversation_engine_registers_the_subscribers(tmp_path: Path) -> None:
    code = """
from bot.core import events
from conversations.engine import Engine
assert not events.bus.ready
try:
    Engine(None)
except Exception:
    pass  # only the bootstrap in its constructor matters here
assert events.bus.ready, "Engine did not bootstrap"
print("ready")
"""
    done = _fresh(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ready" in done.stdout


def test_the_command_line_registers_the_subscribers(tmp_path: Path) -> None:
    code = f"""
from click.testing import CliRunner
from bot.core import events
from webhooks.cli import cli
assert not events.bus.ready
result = CliRunner().invoke(cli, ["--config", "{ROOT / 'business.toml'}", "config", "check"])
assert events.bus.ready, "the CLI group did not bootstrap: " + result.output
print("ready")
"""
    done = _fresh(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ready" in done.stdout

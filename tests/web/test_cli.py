"""The `slotbot` command line, run as a real process: one clear line for every mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Service
from tests.conftest import DEMO_CONFIG, ROOT


def slotbot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run `slotbot ARGS` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "webhooks.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("slotbot: error: "), lines[0]
    return lines[0]


def with_demo_logo(folder: Path) -> None:
    """Copy the demo's logo beside a copied business.toml, where its relative path points."""
    logo = folder / "webhooks" / "static" / "demo-logo.svg"
    logo.parent.mkdir(parents=True, exist_ok=True)
    logo.write_bytes((ROOT / "webhooks" / "static" / "demo-logo.svg").read_bytes())


def test_config_check_accepts_the_demo_business():
    result = slotbot("config", "check", str(DEMO_CONFIG))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "Maple & Mane Salon" in result.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('timezone = "America/New_York"', 'timezone = "America/New_Yrok"'), "business.timezone"),
        (('price = "45.00"', 'price = "-5"'), "services[0].price"),
        (("duration_minutes = 45", "durration_minutes = 45"), "durration_minutes"),
        (('tue = "09:00-19:00"', 'tue = "19:00-09:00"'), "hours.tue"),
        (("[rules]", "[rules\n"), "business.toml"),
    ],
)
def test_a_bad_config_gives_one_line_naming_the_field(tmp_path, change, expected):
    with_demo_logo(tmp_path)
    bad = tmp_path / "business.toml"
    bad.write_text(DEMO_CONFIG.read_text().replace(*change, 1))
    line = one_error_line(slotbot("config", "check", str(bad)))
    assert expected in line


def test_a_bad_config_changes_nothing_in_the_database(tmp_path):
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    assert (
        slotbot("--database", database, "--config", str(DEMO_CONFIG), "slots", "haircut").returncode
        == 0
    )
    with Database(database).read() as session:
        before = session.scalar(select(func.count()).select_from(Service))
    bad = tmp_path / "bad.toml"
    bad.write_text(DEMO_CONFIG.read_text().replace('name = "Haircut"', 'name = ""', 1))
    one_error_line(slotbot("--database", database, "--config", str(bad), "slots", "haircut"))
    with Database(database).read() as session:
        assert session.scalar(select(func.count()).select_from(Service)) == before
        assert session.scalar(select(Service.name).where(Service.key == "haircut")) == "Haircut"


def test_db_upgrade_creates_the_schema(tmp_path):
    database = f"sqlite:///{tmp_path / 'new.db'}"
    result = slotbot("--database", database, "db", "upgrade")
    assert result.returncode == 0 and "up to date" in result.stdout


def test_slots_prints_open_times_for_a_day(tmp_path):
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    result = slotbot(
        "--database",
        database,
        "--config",
        str(DEMO_CONFIG),
        "slots",
        "Haircut",
        "--when",
        "2027-01-05",
        "--staff",
        "sam",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("Tue 05 Jan 2027 09:00") and lines[0].endswith("Sam Rivera")
    assert all("Sam Rivera" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("slots", "pedicure"), "unknown service 'pedicure'"),
        (("slots", "haircut", "--staff", "bob"), "unknown staff 'bob'"),
        (("slots", "haircut", "--when", "blorp"), "cannot understand 'blorp'"),
        (("slots", "haircut", "--limit", "-3"), "--limit"),
        (("serve", "--port", "99999"), "--port"),
        (("frobnicate",), "No such command"),
        (("slots",), "Missing argument"),
    ],
)
def test_bad_arguments_give_one_clear_line(tmp_path, args, expected):
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    line = one_error_line(slotbot("--database", database, "--config", str(DEMO_CONFIG), *args))
    assert expected in line


def test_init_writes_a_template_that_validates_and_never_overwrites(tmp_path):
    target = tmp_path / "business.toml"
    assert slotbot("init", str(target)).returncode == 0
    assert slotbot("config", "check", str(target)).returncode == 0
    line = one_error_line(slotbot("init", str(target)))
    assert "already exists" in line


def test_config_check_names_every_problem_one_line_each(tmp_path):
    with_demo_logo(tmp_path)
    bad = tmp_path / "business.toml"
    text = DEMO_CONFIG.read_text()
    for change in [
        ('timezone = "America/New_York"', 'timezone = "Europe/Lodnon"'),
        ('tue = "09:00-19:00"', 'tue = "19:00-09:00"'),
        ('price = "120.00"', 'price = "a lot"'),
        ('finance_charge = "1.5%"', 'finance_charge = "1.5"'),
        ("[branding]", "[brandng]"),
    ]:
        assert change[0] in text
        text = text.replace(*change, 1)
    bad.write_text(text)
    result = slotbot("config", "check", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("slotbot: error: ") for line in lines), lines
    fields = [line.removeprefix("slotbot: error: ").split(":")[0] for line in lines]
    assert sorted(fields) == sorted(
        ["business.timezone", "hours.tue", "services[1].price", "billing.finance_charge", "brandng"]
    ), lines
    assert "did you mean 'Europe/London'" in result.stderr
    assert "did you mean 'branding'" in result.stderr


def test_config_check_with_one_problem_prints_just_that_line(tmp_path):
    with_demo_logo(tmp_path)
    bad = tmp_path / "business.toml"
    bad.write_text(DEMO_CONFIG.read_text().replace('deposit = "20%"', 'deposit = "20"', 1))
    line = one_error_line(slotbot("config", "check", str(bad)))
    assert 'services[1].deposit: must be a percent like "20%" or an amount like "10.00"' in line

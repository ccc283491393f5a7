"""A database with rows in it upgrades to every head and back down, keeping its guards.

Branch migrations that rebuild a table on SQLite fail once rows point at it (foreign keys
are on while migrating) and drop the appointment overlap triggers; this runs them on data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from storage.migrate import alembic_config, upgrade
from tests.conftest import BACKENDS, _libpq_dsn, _schema_url, postgres_url, require_postgres

BEFORE_THE_BRANCHES = ("0013", "0012", "0011")  # the heads an older install had


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no migrations yet), once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_dsn(postgres_url()), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _schema_url(schema)
    finally:
        with psycopg.connect(_libpq_dsn(postgres_url()), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def test_a_database_with_customers_and_staff_upgrades_and_downgrades(empty_url):
    config = alembic_config(empty_url)
    for head in BEFORE_THE_BRANCHES:
        command.upgrade(config, head)
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staff (key, name, active) VALUES ('sam', 'Sam', true)"))
        conn.execute(
            text("INSERT INTO customer (name, created_at, notes) VALUES ('Jo', :t, '')"),
            {"t": "2026-01-01 00:00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO customer_identity (customer_id, channel, address, created_at,"
                " promotions_opt_in) VALUES (1, 'sms', '+15550001', :t, false)"
            ),
            {"t": "2026-01-01 00:00:00"},
        )
    engine.dispose()
    upgrade(empty_url)
    assert _count(empty_url, "SELECT count(*) FROM customer_identity") == 1
    if empty_url.startswith("sqlite"):
        triggers = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        assert _count(empty_url, triggers) == 2
    command.downgrade(config, "0009")
    assert _count(empty_url, "SELECT count(*) FROM customer") == 1
    if empty_url.startswith("sqlite"):
        assert _count(empty_url, triggers) == 2

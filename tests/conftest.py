"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, the app and its client.

Every storage and booking test that takes `db` runs twice: on a fresh SQLite file and on a
fresh schema in PostgreSQL. PostgreSQL comes from $SLOTBOT_TEST_DATABASE_URL or the local
server on 127.0.0.1:5432; without one the PostgreSQL half skips with the reason — except
under CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from bot.bootstrap import bootstrap
from bot.config import process
from storage.db import Database
from storage.migrate import upgrade
from tests.pg_schemas import SchemaPool

# No test asserts wall-clock time, and by default hypothesis does: a 200 ms deadline per
# example and a "too slow" health check fail correct tests on a busy machine.
settings.register_profile("slotbot", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("slotbot")
# A test is a process start that changes its variables as it goes (monkeypatch.setenv):
# bot code reads the process settings from the environment as it is at each call.
process.read_from(os.environ)

# The domain event subscribers (bot/bootstrap.py), as every entry point registers them.
bootstrap()

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "business.toml"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ARTIFACTS = ROOT / "tests" / "artifacts"


def postgres_url() -> str:
    """The PostgreSQL server the tests use."""
    return os.environ.get("SLOTBOT_TEST_DATABASE_URL") or PG_DEFAULT


def _libpq_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    parts = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "dbname": parsed.database or "postgres",
    }
    if parsed.password:
        parts["password"] = parsed.password
    return " ".join(f"{k}={v}" for k, v in parts.items())


_PG_STATE: dict[str, str | None] = {}


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers (checked once per run)."""
    if "problem" not in _PG_STATE:
        import psycopg

        try:
            with psycopg.connect(
                _libpq_dsn(postgres_url()), connect_timeout=3, autocommit=True
            ) as conn:
                # Once per database: extensions are database-wide, schemas are per test (and the
                # search_path excludes public, so a stray public.alembic_version cannot fool us).
                conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
            _PG_STATE["problem"] = None
        except Exception as exc:  # any failure to connect means "not here"
            _PG_STATE["problem"] = f"PostgreSQL not reachable at {postgres_url()}: {exc}"
    return _PG_STATE["problem"]


def require_postgres() -> None:
    """Skip (on a laptop) or fail (under CI) when PostgreSQL is not reachable."""
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI requires PostgreSQL: {problem}")
    pytest.skip(problem)


def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty, migrated database on `backend`, gone afterwards.

    The migrations run once per test process into a template. On SQLite each test gets a copy
    of the file; on PostgreSQL a schema from this process's pool (tests/pg_schemas.py), made
    from the template's dump and, after each test, emptied and renamed for the next one —
    holding exactly what migrating would, at a fraction of the cost of making one per test.
    """
    if backend == "sqlite":
        path = tmp_path / "slotbot.db"
        shutil.copyfile(_sqlite_template(), path)
        yield f"sqlite:///{path}"
        return
    require_postgres()
    pool = _schema_pool()
    schema = pool.take()
    try:
        yield _schema_url(schema)
    finally:
        pool.give_back(schema)


_POOL: list[SchemaPool] = []


def _schema_pool() -> SchemaPool:
    """This test process's PostgreSQL schemas (dropped when the session ends)."""
    if not _POOL:
        _POOL.append(SchemaPool(_libpq_dsn(postgres_url()), _postgres_template))
    return _POOL[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's schemas (nothing of a run stays in the test database) and close
    its browser."""
    from tests.browser import close_browser

    for pool in _POOL:
        pool.close()
    close_browser()


_TEMPLATES: dict[str, Any] = {}


def _schema_url(schema: str) -> str:
    base = postgres_url()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def _sqlite_template() -> Path:
    """A migrated SQLite file, made once per test process."""
    if "sqlite" not in _TEMPLATES:
        folder = tempfile.mkdtemp(prefix="slotbot-template-")
        atexit.register(shutil.rmtree, folder, True)
        path = Path(folder) / "template.db"
        upgrade(f"sqlite:///{path}")
        _TEMPLATES["sqlite"] = path
    return _TEMPLATES["sqlite"]


def _postgres_template() -> tuple[str, str]:
    """A migrated PostgreSQL schema, made once per test process, and its dump as SQL."""
    if "postgres" not in _TEMPLATES:
        import psycopg

        schema = f"t_tmpl_{uuid.uuid4().hex[:16]}"
        dsn = _libpq_dsn(postgres_url())
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            upgrade(_schema_url(schema))
            dump = subprocess.run(
                [
                    "pg_dump",
                    "--dbname",
                    dsn,
                    "--schema",
                    schema,
                    "--inserts",
                    "--no-owner",
                    "--no-privileges",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        # psql meta-commands (\\restrict in newer dumps) are not SQL.
        script = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
        _TEMPLATES["postgres"] = (schema, script)
    return _TEMPLATES["postgres"]


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL, once per backend."""
    yield from fresh_database_url(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty SQLite database URL (for tests about SQLite itself)."""
    yield from fresh_database_url("sqlite", tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A `Database` on a migrated, empty database, once per backend."""
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True, scope="session")
def owner_key_file_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Servers the tests start keep their generated owner key in a temporary folder, not in
    the checkout's instance/ (where the developer's own `make run` key lives)."""
    previous = os.environ.get("SLOTBOT_OWNER_KEY_FILE")
    os.environ["SLOTBOT_OWNER_KEY_FILE"] = str(tmp_path_factory.mktemp("instance") / "owner-key")
    yield
    if previous is None:
        os.environ.pop("SLOTBOT_OWNER_KEY_FILE", None)
    else:
        os.environ["SLOTBOT_OWNER_KEY_FILE"] = previous


@pytest.fixture
def artifacts() -> Path:
    """A folder for screenshots and other things a person should look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The slotbot Flask app on a fresh database with the demo business loaded."""
    from webhooks.app import create_app

    application = create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            # fresh_database_url's database is migrated already: migrating again finds
            # nothing to do, after loading every migration script (tests of migrating on
            # start build their own app).
            "MIGRATE_ON_START": False,
            # Each test its own spool (PostgreSQL's default would be ./instance/spool).
            "SLOTBOT_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    yield application
    application.extensions["slotbot.db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for `app`."""
    return app.test_client()


def process_inbox(app: Flask) -> int:
    """What the worker does after a webhook: handle the inbox, then send the replies."""
    from webhooks.channels import courier, inbox_processor

    handled = inbox_processor(app).run_pending()
    courier(app).drain()
    return handled


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep captured output UTF-8-safe: hostile-input tests log lone surrogates, and a report
    carrying one cannot be sent from a pytest-xdist worker (an internal error, not a failure)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [
        (title, text.encode("utf-8", "backslashreplace").decode("utf-8"))
        for title, text in report.sections
    ]
    if isinstance(report.longrepr, str):
        report.longrepr = report.longrepr.encode("utf-8", "backslashreplace").decode("utf-8")

"""Engine and session setup for SQLite (default) and PostgreSQL (psycopg 3).

SQLite gets WAL, `synchronous=NORMAL`, foreign keys and a busy timeout on every connection,
and every write transaction starts with `BEGIN IMMEDIATE`: pysqlite's default deferred BEGIN
takes the write lock only at the first write, so two check-then-insert bookings can both
pass their check. Read-only work may ask for a deferred BEGIN (`Database.read()`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///slotbot.db"
_BEGIN_OPTION = "slotbot_sqlite_begin"


def database_url(url: str | None = None) -> str:
    """The database URL: the argument, else $SLOTBOT_DATABASE_URL, else ./slotbot.db."""
    url = url or os.environ.get("SLOTBOT_DATABASE_URL") or DEFAULT_URL
    # Accept the bare scheme people paste from hosting dashboards.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine with slotbot's connection settings for the URL's backend."""
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One engine plus the two ways of using it: a write transaction and a read."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        reader_bind = (
            self.engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
            if self.is_sqlite
            else self.engine
        )
        self._reader = sessionmaker(reader_bind, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read session; on SQLite it does not take the write lock.

        Closing (not rolling back) ends the transaction without expiring loaded objects, so
        what was read stays readable after the block.
        """
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def lock_calendars(
    session: Session, staff_ids: Iterable[int], resource_ids: Iterable[int] = ()
) -> None:
    """Serialise bookings that touch the same staff members or resources.

    SQLite's BEGIN IMMEDIATE already serialises every writer. On PostgreSQL a
    transaction-scoped advisory lock per key makes check-then-insert of holds safe; the
    exclusion constraint remains the last word for appointments.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Two-key form: (1, id) for staff, (2, id) for resources; sorted to avoid deadlocks.
    keys = sorted({(1, i) for i in staff_ids} | {(2, i) for i in resource_ids})
    for space, key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:s, :k)"), {"s": space, "k": key})

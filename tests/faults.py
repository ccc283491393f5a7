"""Database faults on demand, for tests of what happens when the database refuses writes.

- `SqliteWriteFault`: every SQLite connection the database opens from now on is a
  `sqlite3.Connection` whose cursors raise `sqlite3.OperationalError("disk I/O error")` on
  INSERT / UPDATE / DELETE while the fault is on. It sits below SQLAlchemy, so it also
  catches the webhook's bare prepared insert (`storage.db.PreparedInsert`).
- `PostgresTerminator`: while on, every write statement first has the server terminate
  all of the database's connections (`pg_terminate_backend`, by application_name), so the
  statement meets a connection the server has really cut.
- `FailingStatements`: the next `times` statements matching a pattern raise the driver's
  own OperationalError (both backends; SQLAlchemy wraps it as it would a real one).

Each counts what it refused, so tests assert on events, not on time.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import Any

import psycopg
from sqlalchemy import event

from storage.db import Database

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class SqliteWriteFault:
    """Make a SQLite database refuse every write ("disk I/O error") while `on`."""

    def __init__(self) -> None:
        self.on = False
        self.refused = 0
        self._lock = threading.Lock()

    def install(self, *databases: Database) -> SqliteWriteFault:
        """Route these databases' future connections through the fault (pools emptied)."""
        connection_class = self._connection_class()
        for db in databases:
            assert db.is_sqlite

            @event.listens_for(db.engine, "do_connect")
            def _connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
                params["factory"] = connection_class

            db.engine.dispose()
        return self

    def check(self, sql: str) -> None:
        """Raise as a failing disk would, if the fault is on and `sql` writes."""
        if self.on and _WRITE.match(sql):
            with self._lock:
                self.refused += 1
            raise sqlite3.OperationalError("disk I/O error")

    def _connection_class(self) -> type[sqlite3.Connection]:
        fault = self

        class Cursor(sqlite3.Cursor):
            def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
                fault.check(sql)
                return super().execute(sql, parameters)

            def executemany(self, sql: str, parameters: Any, /) -> Cursor:
                fault.check(sql)
                return super().executemany(sql, parameters)

        class Connection(sqlite3.Connection):
            def cursor(self, factory: Any = Cursor) -> Any:  # type: ignore[override]
                return super().cursor(factory)

            def execute(self, sql: str, parameters: Any = (), /) -> Any:  # type: ignore[override]
                return self.cursor().execute(sql, parameters)

        return Connection


class PostgresTerminator:
    """While `on`, the server terminates the application's connections before each write."""

    def __init__(self, admin_dsn: str, application_name: str) -> None:
        self.admin_dsn = admin_dsn
        self.application_name = application_name
        self.on = False
        self.terminated = 0  # backends the server cut
        self.refused = 0  # writes that met a cut connection
        self._lock = threading.Lock()
        self._admin: psycopg.Connection[Any] | None = None

    def install(self, *databases: Database) -> PostgresTerminator:
        """Watch these databases' statements."""
        for db in databases:
            assert db.is_postgres
            event.listen(db.engine, "before_cursor_execute", self._before)
        return self

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not (self.on and _WRITE.match(statement)):
            return
        with self._lock:
            if self._admin is None:
                self._admin = psycopg.connect(self.admin_dsn, autocommit=True)
            rows = self._admin.execute(
                # The timeout makes the call wait until each backend is really gone.
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (self.application_name,),
            ).fetchall()
            self.terminated += sum(1 for (done,) in rows if done)
            self.refused += 1

    def close(self) -> None:
        """Close the admin connection."""
        if self._admin is not None:
            self._admin.close()


class FailingStatements:
    """The next `times` statements whose SQL matches `pattern` fail as a database blip."""

    def __init__(self, db: Database, pattern: str, times: int) -> None:
        self.db = db
        self.pattern = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        self.left = times
        self.refused = 0
        self._lock = threading.Lock()
        event.listen(db.engine, "before_cursor_execute", self._before)

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not self.pattern.search(statement):
            return
        with self._lock:
            if self.left <= 0:
                return
            self.left -= 1
            self.refused += 1
        if self.db.is_postgres:
            raise psycopg.OperationalError("terminating connection due to administrator command")
        raise sqlite3.OperationalError("attempt to write a readonly database")

    def remove(self) -> None:
        """Stop watching."""
        event.remove(self.db.engine, "before_cursor_execute", self._before)

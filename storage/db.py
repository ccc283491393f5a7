"""Engine and session setup for SQLite (default) and PostgreSQL (psycopg 3).

SQLite gets WAL, `synchronous=NORMAL`, foreign keys and a busy timeout on every connection,
and every write transaction starts with `BEGIN IMMEDIATE`: pysqlite's default deferred BEGIN
takes the write lock only at the first write, so two check-then-insert bookings can both
pass their check. Read-only work may ask for a deferred BEGIN (`Database.read()`).

SQLite has one writer at a time, and a writer that finds the lock taken sleeps in the busy
handler (1, 2, 5, 10 … ms) and tries again — under load most of a short write's latency is
that sleeping. So `Database.write()` first queues for a `WriterLock`: a thread lock inside
the process and an flock(2) on a file beside the database across processes, which wakes the
next writer the moment the last one commits, and lets the worker's long turns give way to
the web's short writes. The busy timeout still covers writers that do not take it (a
migration, the sqlite3 shell).
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Insert, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///slotbot.db"
_BEGIN_OPTION = "slotbot_sqlite_begin"


def database_url(url: str | None = None) -> str:
    """The database URL: the argument (the process settings' SLOTBOT_DATABASE_URL), else
    ./slotbot.db."""
    url = url or DEFAULT_URL
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


class WriterLock:
    """Writers to one SQLite file take turns: a thread lock here, flock(2) across processes.

    A background writer (the worker: conversation turns, scheduled jobs) gives way to
    foreground ones (webhooks, pages): a foreground writer holds a shared fcntl lock on
    byte 1 of the lock file while it waits and writes, and stamps the file with the time it
    finished; a background writer queues only once no foreground writer is waiting and none
    wrote in the last `QUIET` seconds — or after `GIVE_WAY` seconds, so a flood of webhooks
    slows the worker down but cannot stop it. A webhook waits behind one turn at most.

    Re-entrant per thread (a nested write only waits on SQLite, as before). Opened lazily,
    so a process forked after creating the Database gets its own open file description.
    `clock` and `sleep` are CLOCK_MONOTONIC and time.sleep; tests hand in a clock of their own
    (every process sharing the lock file must use the same one).
    """

    GIVE_WAY = 0.05  # the longest a background writer waits for the web to be quiet
    QUIET = 0.002  # … which is when no foreground writer waits or wrote this recently
    POLL = 0.0005  # how often a waiting background writer looks again

    def __init__(
        self,
        path: str,
        *,
        background: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.background = background
        self._clock = clock
        self._sleep = sleep
        self._thread_lock = threading.RLock()
        self._depth = threading.local()
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block."""
        with self._thread_lock:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            try:
                if depth == 0:
                    self._acquire(self._file())
                try:
                    yield
                finally:
                    if depth == 0:
                        fd = self._file()
                        if not self.background:
                            os.pwrite(fd, _STAMP.pack(self._clock()), _STAMP_AT)
                        fcntl.flock(fd, fcntl.LOCK_UN)
                        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 1)
            finally:
                self._depth.n = depth

    def _acquire(self, fd: int) -> None:
        # Byte 1 is the foreground's room: held shared by foreground writers while they wait
        # and write, taken exclusively by a background writer on its way to the lock. (fcntl
        # locks are per process; the thread lock above lets one thread per process be here.)
        if self.background:
            self._wait_for_the_room(fd)
        else:
            fcntl.lockf(fd, fcntl.LOCK_SH, 1, 1)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, 1)
            raise
        if self.background:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, 1)  # foreground writers may queue behind us

    def _wait_for_the_room(self, fd: int) -> None:
        deadline = self._clock() + self.GIVE_WAY
        while True:
            now = self._clock()
            stamp = os.pread(fd, _STAMP.size, _STAMP_AT)
            last = _STAMP.unpack(stamp)[0] if len(stamp) == _STAMP.size else 0.0
            if now - last >= self.QUIET:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 1)
                    return
                except OSError:  # a foreground writer is waiting
                    pass
            if now >= deadline:
                return
            self._sleep(self.POLL)

    def close(self) -> None:
        """Close the lock file (the lock is never held by a closed Database)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


# Where foreground writers leave the time (CLOCK_MONOTONIC, the same in every process) of
# their last commit, in the lock file: the background's sign that the web is busy.
_STAMP = struct.Struct("d")
_STAMP_AT = 8


def _writer_lock(url: str, background: bool) -> WriterLock | None:
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    return WriterLock(name + "-writer.lock", background=background)


class Database:
    """One engine plus the two ways of using it: a write transaction and a read."""

    def __init__(
        self, url: str | None = None, *, background: bool = False, **engine_kwargs: Any
    ) -> None:
        """`background`: this process's writes give way to the web's (see `WriterLock`)."""
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
        self.writer_lock = _writer_lock(self.url, background)
        self.prepared: dict[str, PreparedInsert] = {}  # hot statements, by name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
        if self.writer_lock is None:
            with self._writer() as session, session.begin():
                yield session
            return
        with self.writer_lock.held(), self._writer() as session, session.begin():
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
        """Close every pooled connection (and the writer lock's file)."""
        self.engine.dispose()
        if self.writer_lock is not None:
            self.writer_lock.close()


class PreparedInsert:
    """An INSERT … RETURNING compiled once, run in a write transaction of its own.

    For the one statement on a hot path — a webhook recording a delivery. On SQLite it runs
    on a bare DB-API connection with the columns' own bind processors, skipping SQLAlchemy's
    per-execution work (two thirds of the cost of this tiny transaction); on PostgreSQL it
    is an ordinary Core execution.
    """

    def __init__(self, db: Database, statement: Insert, columns: Sequence[str]) -> None:
        self.db = db
        self.statement = statement
        self._sql = ""
        self._binds: list[tuple[str, Any]] = []
        if db.is_sqlite:
            dialect = db.engine.dialect
            compiled = statement.compile(dialect=dialect, column_keys=list(columns))
            table = statement.table
            self._sql = str(compiled)
            self._binds = [
                (key, table.c[key].type.bind_processor(dialect))  # type: ignore[attr-defined]
                for key in compiled.positiontup or ()
            ]

    def returning(self, values: Mapping[str, Any]) -> Any:
        """Insert one row; the first RETURNING column, or None when nothing was inserted."""
        if not self._sql:
            with self.db.engine.begin() as connection:  # PostgreSQL: no writer lock
                return connection.execute(self.statement, dict(values)).scalar()
        params = tuple(
            process(values[key]) if process else values[key] for key, process in self._binds
        )
        lock = self.db.writer_lock
        with lock.held() if lock is not None else nullcontext():
            connection = self.db.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    row = cursor.execute(self._sql, params).fetchone()
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                finally:
                    cursor.close()
            finally:
                connection.close()  # back to the pool
        return row[0] if row else None


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

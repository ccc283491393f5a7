"""The PostgreSQL schemas the tests run in: made once per test process, emptied and reused.

Replaying the template's dump (45 tables with their indexes and sequences) and dropping the
schema afterwards cost about 1.1 s per test — most of a PostgreSQL test's time — and churned
the catalogue so that the test database grew by gigabytes a day. So a schema is made once and,
when its test ends, emptied instead of dropped: DELETE from the tables that have rows (children
before parents), the sequences set back to the template's values, then renamed to a fresh name
so that nothing still connected under the old name reaches the next test. The next test gets it
as if new: same tables, no rows, same sequences, a name never used before.

It is reused only when that is provably the same as new: a test that changed the structure
(a downgrade, a dropped column, a new table — compared against the catalogue as it was when the
schema was made) or that left a transaction open on it gets its schema dropped and the next
test a freshly made one.

Each test process holds a session advisory lock named in its schemas' names for as long as it
runs; a schema whose lock nobody holds is left over from a process that was killed, and the
next pool to start drops it.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

# Schemas are t_p<lock key>_<hex>; the lock key is a bigint advisory lock (the app's own locks
# are all two-int locks, a separate key space in PostgreSQL, so they can never collide).
_NAME = re.compile(r"^t_p(\d+)_[0-9a-f]+$")
_APPLICATION_NAME = "slotbot-test-schemas"
_SETVAL = re.compile(r"^SELECT pg_catalog\.setval\('[^.]+\.(\w+)', (\d+), (true|false)\);$", re.M)
# A leaked connection still inside a transaction on the schema: wait this long, then give up.
_LOCK_TIMEOUT = "2s"
# Dropping waits this long for a test's leftover connection, then leaves the schema for later.
_DROP_LOCK_TIMEOUT = "10s"

# What "the same structure" means: every relation, column, default, constraint, trigger,
# function and sequence setting in the schema, by object id (so dropped-and-recreated counts
# as changed), and the migration the schema is at.
_STRUCTURE = """
SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
  SELECT concat_ws(':', 'c', c.oid, c.relname, c.relkind::text, c.relnatts) AS x
    FROM pg_class c WHERE c.relnamespace = %(ns)s
  UNION ALL
  SELECT concat_ws(':', 'a', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
                   a.attnotnull, a.atthasdef, a.attisdropped)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE c.relnamespace = %(ns)s AND a.attnum > 0
  UNION ALL
  SELECT concat_ws(':', 'd', d.oid) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
   WHERE c.relnamespace = %(ns)s
  UNION ALL
  SELECT concat_ws(':', 'k', k.oid, k.conname) FROM pg_constraint k WHERE k.connamespace = %(ns)s
  UNION ALL
  SELECT concat_ws(':', 't', t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = %(ns)s
  UNION ALL
  SELECT concat_ws(':', 'p', p.oid) FROM pg_proc p WHERE p.pronamespace = %(ns)s
  UNION ALL
  SELECT concat_ws(':', 'q', s.seqrelid, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                   s.seqcycle)
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = %(ns)s
  UNION ALL
  SELECT concat_ws(':', 'v', version_num) FROM alembic_version
) parts
"""


def _local(script: str) -> str:
    """The dump with its session settings (lock_timeout = 0, an empty search_path, ...) made
    local to the transaction that replays it, so the pool's connection keeps its own."""
    script = re.sub(r"^SET (\w+) =", r"SET LOCAL \1 =", script, flags=re.M)
    return script.replace(
        "set_config('search_path', '', false)", "set_config('search_path', '', true)"
    )


@dataclass
class _Schema:
    """One migrated schema: its current name and its structure as made."""

    name: str
    oid: int
    structure: str


@dataclass
class SchemaPool:
    """Migrated schemas for one test process; `take` one per test, `give_back` it after."""

    dsn: str
    template: Callable[[], tuple[str, str]]  # -> (template schema name, its dump as SQL)
    _free: list[_Schema] = field(default_factory=list)
    _taken: dict[str, _Schema] = field(default_factory=dict)
    _left: list[str] = field(default_factory=list)  # could not be dropped yet: retried at close
    _admin: psycopg.Connection | None = None
    _key: int = 0
    # From the template, once: the tables children first, and the sequences' values.
    _delete_order: list[str] | None = None
    _sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def take(self) -> str:
        """The name of an empty, migrated schema no other test is using."""
        conn = self._connection()
        schema = self._free.pop() if self._free else self._make(conn)
        self._taken[schema.name] = schema
        return schema.name

    def give_back(self, name: str) -> None:
        """Empty the schema `name` for the next test, or drop it when it cannot be reused."""
        schema = self._taken.pop(name, None)
        if schema is None:  # the pool has closed (a generator finalised at exit): dropped
            return
        conn = self._connection()
        try:
            reusable = self._empty(conn, schema)
        except psycopg.Error:
            reusable = False
        if reusable:
            self._free.append(schema)
        else:
            self._drop(conn, schema.name)

    def close(self) -> None:
        """Drop every schema this process made and let go of its lock."""
        if self._admin is None:
            return
        names = [*(s.name for s in self._free), *self._taken, *self._left]
        self._left.clear()
        for name in names:
            self._drop(self._admin, name)
        self._free.clear()
        self._taken.clear()
        self._admin.close()
        self._admin = None

    # ------------------------------------------------------------------ internals

    def _connection(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed or self._admin.broken:
            if self._admin is not None:
                # The lock went with the connection: these names may now be taken as stale.
                self._free.clear()
            self._admin = psycopg.connect(
                self.dsn, autocommit=True, application_name=_APPLICATION_NAME
            )
            self._key = random.getrandbits(62)
            self._admin.execute("SELECT pg_advisory_lock(%s)", (self._key,))
            self._admin.execute(f"SET lock_timeout = '{_DROP_LOCK_TIMEOUT}'")
            self._drop_stale(self._admin)
        return self._admin

    def _new_name(self) -> str:
        return f"t_p{self._key}_{uuid.uuid4().hex[:12]}"

    def _make(self, conn: psycopg.Connection) -> _Schema:
        template, script = self.template()
        name = self._new_name()
        with conn.transaction():
            conn.execute(_local(script).replace(template, name))
        if self._delete_order is None:
            self._learn(conn, name, script)
        row = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
        assert row is not None
        with conn.transaction():
            conn.execute(f"SET LOCAL search_path = {name}")
            structure = conn.execute(_STRUCTURE, {"ns": row[0]}).fetchone()
        assert structure is not None
        return _Schema(name=name, oid=row[0], structure=structure[0])

    def _learn(self, conn: psycopg.Connection, name: str, script: str) -> None:
        """From the first schema made: the tables in an order safe to delete from (children
        first) and the sequences' values as the template has them."""
        self._sequences = {
            m.group(1): (int(m.group(2)), m.group(3) == "true") for m in _SETVAL.finditer(script)
        }
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (name,)
            )
        ]
        edges = conn.execute(
            "SELECT child.relname, parent.relname FROM pg_constraint k"
            " JOIN pg_class child ON child.oid = k.conrelid"
            " JOIN pg_class parent ON parent.oid = k.confrelid"
            " JOIN pg_namespace n ON n.oid = k.connamespace"
            " WHERE n.nspname = %s AND k.contype = 'f' AND k.conrelid <> k.confrelid",
            (name,),
        ).fetchall()
        # A table goes once every table referring to it has gone.
        referrers: dict[str, set[str]] = {t: set() for t in tables}
        for child, parent in edges:
            referrers[parent].add(child)
        order: list[str] = []
        while referrers:
            ready = sorted(t for t, kids in referrers.items() if not kids)
            if not ready:  # a cycle (none today): _empty falls back to TRUNCATE ... CASCADE
                order.extend(sorted(referrers))
                break
            order.extend(ready)
            for t in ready:
                del referrers[t]
            for kids in referrers.values():
                kids.difference_update(ready)
        self._delete_order = [t for t in order if t != "alembic_version"]

    def _empty(self, conn: psycopg.Connection, schema: _Schema) -> bool:
        """Delete every row the test left and restore the sequences; False if not reusable."""
        assert self._delete_order is not None
        name = schema.name
        with conn.transaction():
            conn.execute(f"SET LOCAL search_path = {name}")
            conn.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
            # Waits for (or, past the timeout, refuses) any transaction still open on the schema.
            conn.execute(
                "LOCK TABLE " + ", ".join(self._delete_order) + " IN ACCESS EXCLUSIVE MODE"
            )
            structure = conn.execute(_STRUCTURE, {"ns": schema.oid}).fetchone()
            if structure is None or structure[0] != schema.structure:
                return False
            with_rows = {
                r[0]
                for r in conn.execute(
                    " UNION ALL ".join(
                        f"(SELECT '{t}' FROM {t} LIMIT 1)" for t in self._delete_order
                    )
                )
            }
            try:
                with conn.transaction():
                    for table in self._delete_order:
                        if table in with_rows:
                            conn.execute(f"DELETE FROM {table}")
            except psycopg.errors.IntegrityError:
                # A cycle of foreign keys (none today): TRUNCATE follows them in one go.
                conn.execute(f"TRUNCATE {', '.join(sorted(with_rows))} CASCADE")
            moved = conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences"
                " WHERE schemaname = %s AND last_value IS NOT NULL",
                (name,),
            ).fetchall()
            for sequence, _last in moved:
                value, called = self._sequences.get(sequence, (1, False))
                conn.execute("SELECT setval(%s, %s, %s)", (f"{name}.{sequence}", value, called))
            schema.name = self._new_name()
            conn.execute(f"ALTER SCHEMA {name} RENAME TO {schema.name}")
        return True

    def _drop(self, conn: psycopg.Connection, name: str) -> None:
        try:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        except psycopg.Error:
            # Still in use past the timeout: tried again at close, else by the next pool.
            if name not in self._left:
                self._left.append(name)

    def _drop_stale(self, conn: psycopg.Connection) -> None:
        """Drop the schemas of test processes that are gone (their lock is free)."""
        owners: dict[int, list[str]] = {}
        for (name,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_p%'"):
            match = _NAME.match(name)
            if match and name not in self._taken:  # ours in use, after a reconnect: not stale
                owners.setdefault(int(match.group(1)), []).append(name)
        for key, names in owners.items():
            if key == self._key:
                continue
            (free,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() or (False,)
            if not free:
                continue
            try:
                for name in names:
                    self._drop(conn, name)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

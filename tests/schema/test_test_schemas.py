"""The PostgreSQL schemas the tests run in (tests/pg_schemas.py): a reused schema is as new.

Each test here drives a pool of its own, apart from the one the other tests use.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests import pg_schemas
from tests.conftest import _libpq_dsn, _postgres_template, postgres_url, require_postgres
from tests.pg_schemas import SchemaPool

pytestmark = pytest.mark.postgres


@pytest.fixture
def admin() -> Iterator[psycopg.Connection]:
    require_postgres()
    with psycopg.connect(_libpq_dsn(postgres_url()), autocommit=True) as conn:
        yield conn


@pytest.fixture
def pool() -> Iterator[SchemaPool]:
    pool = SchemaPool(_libpq_dsn(postgres_url()), _postgres_template)
    yield pool
    pool.close()


def _exists(admin: psycopg.Connection, schema: str) -> bool:
    found = admin.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return found is not None


def _versions(admin: psycopg.Connection, schema: str) -> list[str]:
    rows = admin.execute(f"SELECT version_num FROM {schema}.alembic_version ORDER BY 1")
    return [version for (version,) in rows]


def _oid(admin: psycopg.Connection, schema: str) -> int | None:
    """The schema's namespace oid: a rename keeps it, a new schema gets another."""
    row = admin.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return int(row[0]) if row else None


def _fill(admin: psycopg.Connection, schema: str) -> None:
    """Rows in a parent and a child table, with their ids from the sequences."""
    admin.execute(
        f"INSERT INTO {schema}.customer (name, notes, created_at) VALUES ('Jane', '', now());"
        f"INSERT INTO {schema}.customer_identity"
        " (customer_id, channel, address, created_at, promotions_opt_in)"
        f" SELECT id, 'sms', '+15550100', now(), false FROM {schema}.customer"
    )


def test_a_schema_given_back_comes_back_empty_with_fresh_ids_under_a_new_name(admin, pool):
    first = pool.take()
    migrated = _versions(admin, first)
    _fill(admin, first)
    reused = _oid(admin, first)
    pool.give_back(first)
    second = pool.take()
    assert second != first and not _exists(admin, first)
    assert _oid(admin, second) == reused  # the same schema, emptied and renamed: not a new one
    counts = admin.execute(
        f"SELECT (SELECT count(*) FROM {second}.customer),"
        f" (SELECT count(*) FROM {second}.customer_identity)"
    ).fetchone()
    assert counts == (0, 0)
    _fill(admin, second)
    (customer_id,) = admin.execute(f"SELECT id FROM {second}.customer").fetchone() or (None,)
    assert customer_id == 1
    assert _versions(admin, second) == migrated


def test_a_schema_whose_structure_a_test_changed_is_dropped_not_reused(admin, pool):
    first = pool.take()
    admin.execute(f"ALTER TABLE {first}.customer ADD COLUMN nickname text")
    changed = _oid(admin, first)
    pool.give_back(first)
    assert not _exists(admin, first)
    second = pool.take()
    assert _oid(admin, second) != changed
    columns = admin.execute(
        "SELECT count(*) FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'customer' AND column_name = 'nickname'",
        (second,),
    ).fetchone()
    assert columns == (0,)


def test_a_schema_a_leftover_transaction_still_uses_is_not_reused(admin, pool, monkeypatch):
    monkeypatch.setattr(pg_schemas, "_LOCK_TIMEOUT", "100ms")
    monkeypatch.setattr(pg_schemas, "_DROP_LOCK_TIMEOUT", "100ms")
    first = pool.take()
    held = _oid(admin, first)
    with psycopg.connect(_libpq_dsn(postgres_url())) as leftover:
        leftover.execute(f"SELECT count(*) FROM {first}.customer")  # a transaction left open
        pool.give_back(first)
        second = pool.take()
        assert second != first
        assert _oid(admin, second) != held  # the held one is not handed out again
    pool.close()
    assert not _exists(admin, first) and not _exists(admin, second)


def test_the_schemas_of_a_test_process_that_is_gone_are_dropped_by_the_next(admin, pool):
    gone = SchemaPool(_libpq_dsn(postgres_url()), _postgres_template)
    left_behind = gone.take()
    assert gone._admin is not None
    gone._admin.close()  # as if killed: its lock goes with its connection, its schemas stay
    assert _exists(admin, left_behind)
    pool.take()
    assert not _exists(admin, left_behind)

"""Column types shared by the models: UTC timestamps that come back aware on every backend,
`epoch_seconds` for reading them as integers on hot paths, and `StoredEnum`, the base of
every status, purpose and channel vocabulary stored in a text column."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class StoredEnum(StrEnum):
    """A StrEnum whose members are the very strings stored in a text column.

    A member is equal to its string (`BOOKED == "booked"`), binds as it, and reads as it in
    messages (`str`, f-strings and, unlike a plain StrEnum, `repr`), so the database and
    every text that quotes one are unchanged; a row read back holds the plain string.
    """

    def __repr__(self) -> str:
        return repr(self.value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no timezone type, so values are stored as naive UTC there; PostgreSQL
    keeps `timestamptz`. Naive datetimes are refused: a naive time is a bug waiting for DST.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given for a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class epoch_seconds(ColumnElement[int]):  # noqa: N801 (reads like a SQL function)
    """A UTC timestamp column as whole epoch seconds, computed by the database.

    Hot read paths (availability over thousands of appointments) skip building datetime
    objects row by row; integers compare just as well.
    """

    inherit_cache = True
    type = BigInteger()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.column, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.column, **kw)}) AS BIGINT)"

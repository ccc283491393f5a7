"""A transaction's memory of exact-start checks (`availability.slot_fits`), on SQLite.

A booking turn asks "is 11:00 with Sam open?" twice: once to read the customer's request,
then again when it holds the slot. On SQLite every write transaction starts with
`BEGIN IMMEDIATE`, so no other writer can change the calendars in between; only this
transaction can. So an answer is kept in the session and reused while nothing that could
change it has been written on that connection: any INSERT, UPDATE or DELETE (and any
savepoint) other than on the tables listed in `_HARMLESS` invalidates every answer, and so
does the end of the transaction.

PostgreSQL is never memoised: there a check before `lock_calendars` may be stale after it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

MISSING = object()  # what `recall` says when nothing valid is kept
_MEMO = "slotbot_fit_memo"  # Session.info: key → (stamp, answer)
_WRITES = "slotbot_calendar_writes"  # Connection.info: how many calendar-changing statements
# Tables the availability engine never reads: writing them cannot change an answer.
_HARMLESS = frozenset(
    {
        "conversation",
        "outbox_message",
        "inbound_message",
        "customer_identity",
        "awaiting_reply",
        "appointment_event",
    }
)
_WRITE_TABLE = re.compile(r'\s*(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


@event.listens_for(Engine, "before_cursor_execute")
def _count_writes(
    conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    # The cheap test first: this runs for every statement of every engine.
    if statement[:6].upper() == "SELECT" or conn.dialect.name != "sqlite":
        return
    match = _WRITE_TABLE.match(statement)
    if match is not None and match.group(1).lower() in _HARMLESS:
        return
    conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction: a flush ends a subtransaction of its own, and a
    # savepoint's SAVEPOINT and RELEASE statements already count as writes.
    if transaction.parent is None:
        session.info.pop(_MEMO, None)


def _stamp(session: Session) -> tuple[int, int] | None:
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    return id(connection.connection.dbapi_connection), connection.info.get(_WRITES, 0)


def recall(session: Session, key: Hashable) -> Any:
    """The answer kept for `key` while still valid, else `MISSING`."""
    kept = session.info.get(_MEMO, {}).get(key)
    if kept is None or kept[0] != _stamp(session):
        return MISSING
    return kept[1]


def keep(session: Session, key: Hashable, answer: Any) -> None:
    """Keep `answer` for `key` until a calendar-changing write or the transaction's end."""
    stamp = _stamp(session)
    if stamp is not None:
        session.info.setdefault(_MEMO, {})[key] = (stamp, answer)

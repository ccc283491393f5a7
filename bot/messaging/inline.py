"""Delivery for channels whose client fetches its own messages: the web chat and the terminal.

Their replies are written to the outbox like any other; the client then takes everything
for its address since the last id it saw, which marks what it took as sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update

from bot.core.clock import utcnow
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from storage.db import Database
from storage.messaging import CANCELLED, PENDING, SENT, OutboxMessage


def take_since(
    db: Database,
    channel: str,
    address: str,
    after: int,
    limit: int = 100,
    now: datetime | None = None,
) -> list[tuple[int, Reply]]:
    """Messages for `channel:address` with id > `after` that are due, oldest first; marks
    them sent. A message scheduled for later (a reminder) waits for its time."""
    now = now or utcnow()
    with db.write() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.address == address,
                OutboxMessage.id > after,
                OutboxMessage.status != CANCELLED,
                or_(OutboxMessage.status == SENT, OutboxMessage.send_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        pending = [r.id for r in rows if r.status == PENDING]
        if pending:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(pending)).values(status=SENT)
            )
        return [(row.id, Reply.from_json(row.body)) for row in rows]


def last_exchange(db: Database, channel: str, address: str) -> int:
    """The id of the last reply in this chat: later messages are news to its reader."""
    with db.read() as session:
        return (
            session.scalar(
                select(func.max(OutboxMessage.id)).where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.address == address,
                    OutboxMessage.purpose == Purpose.REPLY,
                )
            )
            or 0
        )

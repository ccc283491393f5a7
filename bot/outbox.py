"""The durable outbox: queue a message in the caller's transaction; a dispatcher sends it.

`enqueue` is the only way anything in slotbot sends a message. It never talks to a provider:
it writes a row that commits (or rolls back) with the change that caused it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.messages import Reply
from storage.messaging import PENDING, OutboxMessage


def enqueue(
    session: Session,
    *,
    channel: str,
    address: str,
    reply: Reply,
    purpose: str = "reply",
    customer_id: int | None = None,
    ref_id: int | None = None,
    send_at: datetime | None = None,
    dedupe_key: str | None = None,
    status: str = PENDING,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue `reply` for `channel:address`; None if `dedupe_key` was queued before."""
    now = now or utcnow()
    if dedupe_key is not None and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    message = OutboxMessage(
        channel=channel,
        address=address,
        customer_id=customer_id,
        body=reply.to_json(),
        kind=reply.kind,
        purpose=purpose,
        ref_id=ref_id,
        dedupe_key=dedupe_key,
        status=status,
        send_at=send_at or now,
        created_at=now,
        sent_at=now if status != PENDING else None,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        # A concurrent transaction queued the same dedupe_key first (PostgreSQL).
        return None
    return message

"""Who billing messages go to, and queueing them in the outbox.

A customer is written to where every other notice goes (`bot.messaging.notify.customer_address`: the
identity they last wrote from that is not opted out, the web chat last, else SMS to their
phone); owners at the identities listed in business.toml. Every message goes
through `bot.messaging.outbox.enqueue`, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config.context import BusinessContext
from bot.messaging import notify
from bot.messaging.messages import Reply
from bot.messaging.outbox import OWNER_NOTICE, enqueue


def customer_address(session: Session, customer_id: int) -> tuple[str, str] | None:
    """(channel, address) to reach a customer, or None; the same choice every notice makes."""
    return notify.customer_address(session, customer_id)


def notify_customer(
    session: Session,
    customer_id: int,
    reply: Reply,
    *,
    purpose: str,
    now: datetime,
    ref_id: int | None = None,
    dedupe_key: str | None = None,
) -> tuple[str, str] | None:
    """Queue a message to a customer; the (channel, address) used, or None if unreachable."""
    target = customer_address(session, customer_id)
    if target is None:
        return None
    enqueue(
        session,
        channel=target[0],
        address=target[1],
        reply=reply,
        purpose=purpose,
        customer_id=customer_id,
        ref_id=ref_id,
        dedupe_key=dedupe_key,
        now=now,
    )
    return target


def notify_owners(
    session: Session,
    ctx: BusinessContext,
    text: str,
    *,
    now: datetime,
    ref_id: int | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Queue a note to every owner identity; how many were queued."""
    queued = 0
    for identity in ctx.owners:
        channel, _, address = identity.partition(":")
        key = f"{dedupe_key}:{identity}" if dedupe_key else None
        message = enqueue(
            session,
            channel=channel,
            address=address,
            reply=Reply(text),
            purpose=OWNER_NOTICE,
            ref_id=ref_id,
            dedupe_key=key,
            now=now,
        )
        queued += message is not None
    return queued

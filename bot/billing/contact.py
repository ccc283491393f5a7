"""Billing notes to the owners, queued in the outbox.

A customer is written to with `bot.messaging.asking.tell_customer`, like every other notice; owners
at the identities listed in business.toml. Every message goes through
`bot.messaging.outbox.enqueue`, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config.context import BusinessContext
from bot.messaging.messages import Reply
from bot.messaging.outbox import OWNER_NOTICE, enqueue


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

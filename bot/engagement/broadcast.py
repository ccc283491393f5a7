"""Promotions to customers who opted in: who would get one, and sending it.

Only identities with `promotions_opt_in` and no opt-out receive a promotion; each customer
gets it once, on their most recently active such identity. Sending is queueing: one outbox
row each, deferred out of quiet hours, and the dispatcher re-checks consent at send time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.core.text import N_, _
from bot.messaging.messages import PROMOTIONAL, Reply
from bot.messaging.notify import defer_for_quiet_hours
from bot.messaging.outbox import Purpose, enqueue
from storage.models import CustomerIdentity

PROMOTION = Purpose.PROMOTION
STOP_LINE = N_("Reply STOP to opt out.")


@dataclass(frozen=True)
class Audience:
    """Who a promotion would reach, and who it leaves out and why."""

    recipients: list[tuple[int, str, str]]  # (customer_id, channel, address)
    opted_out: int  # customers who said STOP
    not_opted_in: int  # customers who never asked for offers


def audience(session: Session) -> Audience:
    """Each opted-in, not opted-out customer once, on their latest active identity."""
    rows = session.scalars(select(CustomerIdentity)).all()
    floor = datetime.min.replace(tzinfo=UTC)
    best: dict[int, CustomerIdentity] = {}
    stopped: set[int] = set()
    everyone: set[int] = set()
    for row in rows:
        everyone.add(row.customer_id)
        if row.opted_out_at is not None:
            stopped.add(row.customer_id)
            continue
        if not row.promotions_opt_in:
            continue
        current = best.get(row.customer_id)
        if current is None or (row.last_inbound_at or floor) > (current.last_inbound_at or floor):
            best[row.customer_id] = row
    # A customer who said STOP anywhere is left out everywhere: the safe reading of consent.
    recipients = sorted(
        (cid, i.channel, i.address) for cid, i in best.items() if cid not in stopped
    )
    reached = {r[0] for r in recipients}
    return Audience(
        recipients=recipients,
        opted_out=len(stopped),
        not_opted_in=len(everyone - reached - stopped),
    )


def send_promotion(
    session: Session,
    text: str,
    *,
    now: datetime,
    recipients: list[tuple[int, str, str]] | None = None,
) -> int:
    """Queue `text` (plus the STOP line) to the audience (or to `recipients`, a segment's
    (customer_id, channel, address)); returns how many were queued."""
    body = text.strip()
    if _(STOP_LINE) not in body:
        body = f"{body}\n{_(STOP_LINE)}"
    info = business_context(session, required=False)
    send_at = defer_for_quiet_hours(now, info)
    batch = uuid.uuid4().hex[:12]
    queued = 0
    chosen = audience(session).recipients if recipients is None else recipients
    for customer_id, channel, address in chosen:
        message = enqueue(
            session,
            channel=channel,
            address=address,
            reply=Reply(body, kind=PROMOTIONAL),
            purpose=PROMOTION,
            customer_id=customer_id,
            send_at=send_at,
            dedupe_key=f"promotion:{batch}:{customer_id}",
            now=now,
        )
        queued += message is not None
    return queued

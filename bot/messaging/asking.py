"""Reaching a customer: on which address, queueing a message there, and asking a question.

The one place that decides where a customer is written to (`customer_address`: their most
recently active identity that is not opted out, the web chat last because its page is seen
only while open, else SMS to their phone, else nowhere), queues a message there
(`tell_customer`), and asks a question whose answer the conversation engine waits for
(`ask`: the message plus the `AwaitingReply` row that makes the customer's next message
from that chat an answer; `conversations.flows.threads` routes it by `kind`).

Everything is queued in the caller's transaction through `bot.messaging.outbox.enqueue`, so it
commits or rolls back with the change that caused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messaging.messages import SMS, TERMINAL, WEB, Reply
from bot.messaging.outbox import enqueue
from storage.messaging import OutboxMessage
from storage.models import AwaitingReply, Customer, CustomerIdentity

# Channels whose messages are seen only while a page or terminal is open.
_SESSION_CHANNELS = (WEB, TERMINAL)


def customer_address(session: Session, customer_id: int) -> tuple[str, str] | None:
    """(channel, address) to reach a customer on, or None if there is no way."""
    identities = session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.customer_id == customer_id, CustomerIdentity.opted_out_at.is_(None)
        )
    ).all()
    floor = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        identities,
        key=lambda i: (
            i.channel not in _SESSION_CHANNELS,
            i.last_inbound_at or floor,
            i.created_at,
        ),
        reverse=True,
    )
    if ranked:
        return ranked[0].channel, ranked[0].address
    customer = session.get(Customer, customer_id)
    if customer is None or not customer.phone:
        return None
    opted_out = session.scalar(
        select(CustomerIdentity.id).where(
            CustomerIdentity.channel == SMS,
            CustomerIdentity.address == customer.phone,
            CustomerIdentity.opted_out_at.is_not(None),
        )
    )
    return None if opted_out else (SMS, customer.phone)


def tell_customer(
    session: Session,
    customer_id: int,
    reply: Reply,
    *,
    purpose: str,
    now: datetime,
    ref_id: int | None = None,
    send_at: datetime | None = None,
    dedupe_key: str | None = None,
    ref_starts_at: datetime | None = None,
    to: tuple[str, str] | None = None,
) -> OutboxMessage | None:
    """Queue `reply` to the customer on their best channel; None if unreachable or deduped.

    `to` is the (channel, address) when the caller has already looked it up (it had to know
    the customer is reachable before doing something else), so it is not looked up twice.
    """
    address = to or customer_address(session, customer_id)
    if address is None:
        return None
    return enqueue(
        session,
        channel=address[0],
        address=address[1],
        reply=reply,
        purpose=purpose,
        customer_id=customer_id,
        ref_id=ref_id,
        send_at=send_at,
        dedupe_key=dedupe_key,
        now=now,
        ref_starts_at=ref_starts_at,
    )


@dataclass(frozen=True)
class Awaiting:
    """The answer a question waits for: the `AwaitingReply` row `ask` leaves behind.

    `expires` is an instant, or how long after the message goes out (its `send_at`, which
    quiet hours may have pushed later) the question stays open.
    """

    kind: str
    ref_id: int | None
    expires: datetime | timedelta
    data: Mapping[str, Any] = field(default_factory=dict)


def ask(
    session: Session,
    customer_id: int,
    question: Reply,
    *,
    awaiting: Awaiting,
    purpose: str,
    now: datetime,
    ref_id: int | None = None,
    send_at: datetime | None = None,
    dedupe_key: str | None = None,
    ref_starts_at: datetime | None = None,
    to: tuple[str, str] | None = None,
) -> OutboxMessage | None:
    """Send the customer `question` and wait for their answer; None if unreachable or deduped.

    The `AwaitingReply` is left on the chat the message goes to, so the answer is read
    where it arrives; its data also names the message that asked (`outbox_id`).
    """
    message = tell_customer(
        session,
        customer_id,
        question,
        purpose=purpose,
        now=now,
        ref_id=ref_id,
        send_at=send_at,
        dedupe_key=dedupe_key,
        ref_starts_at=ref_starts_at,
        to=to,
    )
    if message is None:
        return None
    expires = awaiting.expires
    if isinstance(expires, timedelta):
        expires = message.send_at + expires
    session.add(
        AwaitingReply(
            channel=message.channel,
            address=message.address,
            customer_id=customer_id,
            kind=awaiting.kind,
            ref_id=awaiting.ref_id,
            data={**awaiting.data, "outbox_id": message.id},
            created_at=now,
            expires_at=expires,
        )
    )
    return message

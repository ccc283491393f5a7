"""Hand-over threads: a customer talks to a person instead of the bot, and back again.

Opening one tells the owners (and staff working right now) what the customer said; while it
is open, every message from that customer is forwarded to them as it arrives, and their
answers go to the customer on the channel the customer last wrote from, through the outbox.
The owner closes it, or it closes after `quiet_minutes` without a message either way
(business.toml `[handover] quiet_minutes`, 30 by default), and the customer is told the bot
is back. Every message of the thread is kept (`HandoverMessage`) for the dashboard.

The notices to the team are outbox rows with purpose `HANDOVER_NOTICE` and `ref_id` the
thread's id: a Telegram reply to one of them (its `provider_id` is Telegram's message id)
is an answer to that thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext, business_context
from bot.core.clock import utcnow
from bot.core.text import N_, _, t
from bot.messaging.messages import Reply
from bot.messaging.notify import staff_addresses
from bot.messaging.outbox import Purpose, enqueue
from storage.db import Database
from storage.engagement import FROM_BOT, FROM_CUSTOMER, FROM_TEAM, Handover, HandoverMessage
from storage.messaging import OutboxMessage
from storage.models import Customer, Staff, WorkingHours

HANDOVER_NOTICE = Purpose.HANDOVER_NOTICE  # to the team: a customer's words
HANDOVER_REPLY = Purpose.HANDOVER_REPLY  # to the customer: a person's answer, or the bot's note
QUIET_CLOSER = "quiet"
MAX_QUOTE = 1000


class Said(StrEnum):
    """What the bot tells the customer at the thread's edges."""

    OPENED = (
        N_("Thanks, I've passed this on: a person from the team will answer you here. "
        "Until they're done, your messages go straight to them.")
    )
    STILL_OPEN = N_("You're already talking with the team: they'll answer you here.")
    CLOSED = (
        N_("The team has finished this chat, so I'm back: I can book, move or cancel "
        "appointments. What can I do for you?")
    )


def label(customer: Customer) -> str:
    """How the team sees the customer: their name, else their phone."""
    return customer.name or customer.phone or t("customer {customer}", customer=customer.id)


def open_for(session: Session, customer_id: int) -> Handover | None:
    """The customer's open thread, if there is one."""
    return session.scalar(
        select(Handover)
        .where(Handover.customer_id == customer_id, Handover.closed_at.is_(None))
        .order_by(Handover.id.desc())
        .limit(1)
    )


def open_threads(session: Session) -> list[Handover]:
    """Every open thread, oldest first."""
    return list(
        session.scalars(select(Handover).where(Handover.closed_at.is_(None)).order_by(Handover.id))
    )


def recent_threads(session: Session, limit: int = 20) -> list[Handover]:
    """Open threads first, then the latest closed ones."""
    rows = session.scalars(select(Handover).order_by(Handover.id.desc()).limit(limit)).all()
    return sorted(rows, key=lambda h: (h.closed_at is not None, -h.id))


def thread_of_notice(session: Session, channel: str, address: str, message_id: str) -> int | None:
    """The thread a team notice was about, by the provider's id of that notice."""
    return session.scalar(
        select(OutboxMessage.ref_id).where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.provider_id == message_id,
            OutboxMessage.purpose == HANDOVER_NOTICE,
        )
    )


def staff_on_duty(session: Session, now: datetime, info: BusinessContext) -> list[int]:
    """Ids of active staff whose working hours cover this moment (not on a break)."""
    local = now.astimezone(info.zone)
    wall = local.time().replace(tzinfo=None)
    rows = session.execute(
        select(WorkingHours.staff_id, WorkingHours.is_break)
        .join(Staff, Staff.id == WorkingHours.staff_id)
        .where(
            Staff.active.is_(True),
            WorkingHours.weekday == local.weekday(),
            WorkingHours.start <= wall,
            WorkingHours.end > wall,
        )
    ).all()
    on_break = {staff_id for staff_id, is_break in rows if is_break}
    return sorted({staff_id for staff_id, is_break in rows if not is_break} - on_break)


def team_addresses(session: Session, now: datetime) -> list[tuple[str, str]]:
    """Owners, then staff on duty: everyone a customer's words go to (each once)."""
    info = business_context(session, required=False)
    found = list(info.owner_addresses)
    for staff_id in staff_on_duty(session, now, info):
        found += staff_addresses(session, staff_id, info)
    return list(dict.fromkeys(found))


def tell_team(
    session: Session,
    thread: Handover,
    text: str,
    *,
    now: datetime,
    skip: Sequence[str] = (),
) -> None:
    """Queue `text` about `thread` to the owners and staff on duty (but those in `skip`)."""
    for channel, address in team_addresses(session, now):
        if f"{channel}:{address}" in skip:
            continue
        enqueue(
            session,
            channel=channel,
            address=address,
            reply=Reply(text),
            purpose=HANDOVER_NOTICE,
            ref_id=thread.id,
            now=now,
        )


def _keep(session: Session, thread: Handover, author: str, text: str, now: datetime, actor: str):
    session.add(
        HandoverMessage(handover_id=thread.id, author=author, actor=actor, text=text, at=now)
    )


def open_thread(
    session: Session, customer: Customer, channel: str, address: str, text: str, *, now: datetime
) -> Handover:
    """Open a thread for the customer (or return the one open) and tell the team."""
    thread = open_for(session, customer.id)
    if thread is not None:
        forward(session, thread, channel, address, text, now=now)
        return thread
    thread = Handover(
        customer_id=customer.id,
        channel=channel,
        address=address,
        opened_at=now,
        last_activity_at=now,
    )
    session.add(thread)
    session.flush()
    quoted = text.strip()[:MAX_QUOTE]
    if quoted:
        _keep(session, thread, FROM_CUSTOMER, quoted, now, f"{channel}:{address}")
    who = label(customer)
    said = t(' They said: "{quoted}"', quoted=quoted) if quoted else ""
    first = who.split()[0]
    tell_team(
        session,
        thread,
        t("[#{thread}] {who} ({channel}:{address}) wants to talk to a person.{said}\n"
        'Reply to this message to answer, or say "r {thread}: ..." '
        'or "reply {first}: ..."; "done with {first}" or "close {thread}" hands '
        "them back to the bot.", thread=thread.id, who=who, channel=channel, address=address, said=said, first=first),
        now=now,
    )
    return thread


def forward(
    session: Session, thread: Handover, channel: str, address: str, text: str, *, now: datetime
) -> None:
    """A customer's message in an open thread: kept and passed to the team as it is."""
    thread.channel, thread.address = channel, address  # answers follow the customer
    thread.last_activity_at = now
    body = text.strip()[:MAX_QUOTE] or _("(sent something without text)")
    _keep(session, thread, FROM_CUSTOMER, body, now, f"{channel}:{address}")
    tell_team(session, thread, f"[#{thread.id}] {label(thread.customer)}: {body}", now=now)


def answer(
    session: Session, thread: Handover, text: str, *, actor: str, now: datetime
) -> OutboxMessage | None:
    """A person's answer: to the customer on their channel, and to the rest of the team."""
    body = text.strip()[:MAX_QUOTE]
    thread.last_activity_at = now
    _keep(session, thread, FROM_TEAM, body, now, actor)
    queued = enqueue(
        session,
        channel=thread.channel,
        address=thread.address,
        reply=Reply(body),
        purpose=HANDOVER_REPLY,
        customer_id=thread.customer_id,
        ref_id=thread.id,
        now=now,
    )
    # The other owners see the answer, so two people do not answer the same question.
    identity = actor.partition(":")[2]
    tell_team(
        session,
        thread,
        t("[#{thread}] answered to {label}: {body}", thread=thread.id, label=label(thread.customer), body=body),
        now=now,
        skip=(identity,),
    )
    return queued


def close(session: Session, thread: Handover, *, by: str, now: datetime, tell: bool = True) -> None:
    """Close the thread; the customer is told the bot is back (by the caller if not `tell`:
    the customer's own turn answers in its replies)."""
    if thread.closed_at is not None:
        return
    thread.closed_at = now
    thread.closed_by = by
    _keep(session, thread, FROM_BOT, _(Said.CLOSED), now, by)
    if not tell:
        return
    enqueue(
        session,
        channel=thread.channel,
        address=thread.address,
        reply=Reply(_(Said.CLOSED)),
        purpose=HANDOVER_REPLY,
        customer_id=thread.customer_id,
        ref_id=thread.id,
        now=now,
    )


def close_quiet(db: Database, now: datetime | None = None) -> int:
    """Close threads quiet for longer than the configured time; returns how many closed."""
    now = now or utcnow()
    with db.write() as session:
        info = business_context(session, required=False)
        cutoff = now - timedelta(minutes=info.handover_quiet_minutes)
        quiet = session.scalars(
            select(Handover).where(
                Handover.closed_at.is_(None), Handover.last_activity_at <= cutoff
            )
        ).all()
        for thread in quiet:
            close(session, thread, by=QUIET_CLOSER, now=now)
            tell_team(
                session,
                thread,
                t(
                    "[#{thread}] closed after {quiet_minutes} quiet minutes: "
                    "the bot answers {label} again.",
                    thread=thread.id,
                    quiet_minutes=info.handover_quiet_minutes,
                    label=label(thread.customer),
                ),
                now=now,
            )
        return len(quiet)

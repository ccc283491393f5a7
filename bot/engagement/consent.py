"""Consent to promotions: recording each yes and no, asking once, and who a promotion reaches.

Every consent given or withdrawn is a `ConsentEvent` (when, on which channel, the words
used, where: chat, the portal, the question after a first booking); the identity's
`promotions_opt_in` flag is the current answer the broadcast and the dispatcher read. STOP
and START (consent to any message at all) are kept the same way, topic
`storage.engagement.MESSAGES`.

`reach` answers a broadcast preview: who a promotion to a segment (customers who had a
service in the last N days, not seen for N days, a staff member's clients) on a channel
would reach, and for everyone else why not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext, business_context
from bot.core.text import N_
from storage.engagement import PROMOTIONS, ConsentEvent
from storage.models import (
    CANCELLED,
    NO_SHOW,
    Appointment,
    AwaitingReply,
    CustomerIdentity,
)

CONSENT_KIND = "consent"  # the AwaitingReply kind of the question after a first booking
QUESTION_DAYS = 3  # how long a yes or no still answers it
YES, NO = "consent:yes", "consent:no"


def record(
    session: Session,
    identity: CustomerIdentity,
    *,
    topic: str,
    granted: bool,
    words: str,
    source: str,
    now: datetime,
) -> ConsentEvent:
    """Keep one consent event; for promotions, the identity's flag follows it."""
    if topic == PROMOTIONS:
        identity.promotions_opt_in = granted
    event = ConsentEvent(
        customer_id=identity.customer_id,
        topic=topic,
        granted=granted,
        channel=identity.channel,
        address=identity.address,
        words=words.strip()[:500],
        source=source,
        at=now,
    )
    session.add(event)
    return event


def record_for_customer(
    session: Session, customer_id: int, *, granted: bool, words: str, source: str, now: datetime
) -> int:
    """Promotions consent for every identity of a customer (the portal's tick); how many."""
    identities = session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
    ).all()
    for identity in identities:
        record(
            session,
            identity,
            topic=PROMOTIONS,
            granted=granted,
            words=words,
            source=source,
            now=now,
        )
    return len(identities)


def opted_in(session: Session, customer_id: int) -> bool:
    """Whether any of the customer's identities takes promotions."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(CustomerIdentity)
            .where(
                CustomerIdentity.customer_id == customer_id,
                CustomerIdentity.promotions_opt_in.is_(True),
                CustomerIdentity.opted_out_at.is_(None),
            )
        )
    )


def history(session: Session, customer_id: int) -> list[ConsentEvent]:
    """The customer's consent events, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )


# ----------------------------------------------------------------- asking once


def should_ask(session: Session, customer_id: int, business: BusinessContext) -> bool:
    """Ask only when configured, never twice, and not someone who answered already."""
    if not business.ask_consent_after_first_booking or opted_in(session, customer_id):
        return False
    asked = session.scalar(
        select(AwaitingReply.id)
        .where(AwaitingReply.customer_id == customer_id, AwaitingReply.kind == CONSENT_KIND)
        .limit(1)
    )
    answered = session.scalar(
        select(ConsentEvent.id)
        .where(ConsentEvent.customer_id == customer_id, ConsentEvent.topic == PROMOTIONS)
        .limit(1)
    )
    return asked is None and answered is None


def leave_question(
    session: Session, customer_id: int, channel: str, address: str, *, now: datetime
) -> AwaitingReply:
    """The row that makes the next "yes" or "no" from this chat an answer to the question."""
    row = AwaitingReply(
        channel=channel,
        address=address,
        customer_id=customer_id,
        kind=CONSENT_KIND,
        data={"replies": {"yes": YES, "no": NO, "y": YES, "n": NO}},
        created_at=now,
        expires_at=now + timedelta(days=QUESTION_DAYS),
    )
    session.add(row)
    return row


# ------------------------------------------------------------------- who is reached


@dataclass(frozen=True)
class Segment:
    """Which customers a promotion is for; every field narrows it, None means any."""

    service_id: int | None = None
    staff_id: int | None = None
    within_days: int | None = None  # had a visit in the last N days
    unseen_days: int | None = None  # no visit in the last N days (and at least one before)
    channel: str | None = None  # only this channel
    label: str = N_("everyone who opted in")


@dataclass
class Reach:
    """A preview: who gets it, and how many are left out for each reason."""

    recipients: list[tuple[int, str, str]] = field(default_factory=list)
    opted_out: int = 0  # said STOP
    declined: int = 0  # said no to offers
    never_asked: int = 0  # never said yes (nor no)
    outside: int = 0  # opted in, but not in the segment
    off_channel: int = 0  # in the segment and opted in, but not on the chosen channel


def _visits(session: Session, segment: Segment, now: datetime) -> dict[int, datetime]:
    """Each customer's latest kept visit (not cancelled, not a no-show) matching the segment;
    with no span of days, upcoming ones count too (a staff member's clients)."""
    query = select(Appointment.customer_id, func.max(Appointment.starts_at)).where(
        Appointment.status.not_in((CANCELLED, NO_SHOW))
    )
    if segment.within_days is not None or segment.unseen_days is not None:
        query = query.where(Appointment.starts_at <= now)  # visits had, not booked ahead
    if segment.service_id is not None:
        query = query.where(Appointment.service_id == segment.service_id)
    if segment.staff_id is not None:
        query = query.where(Appointment.staff_id == segment.staff_id)
    rows = session.execute(query.group_by(Appointment.customer_id)).all()
    return {cid: last for cid, last in rows}


def in_segment(session: Session, segment: Segment, now: datetime) -> set[int] | None:
    """Customer ids in the segment; None when it is everyone."""
    narrowing = (segment.service_id, segment.staff_id, segment.within_days, segment.unseen_days)
    if all(value is None for value in narrowing):
        return None
    visits = _visits(session, segment, now)
    chosen = set(visits)
    if segment.within_days is not None:
        since = now - timedelta(days=segment.within_days)
        chosen = {cid for cid in chosen if visits[cid] >= since}
    if segment.unseen_days is not None:
        since = now - timedelta(days=segment.unseen_days)
        upcoming = set(
            session.scalars(
                select(Appointment.customer_id).where(
                    Appointment.starts_at > now, Appointment.status.not_in((CANCELLED, NO_SHOW))
                )
            )
        )
        chosen = {cid for cid in chosen if visits[cid] < since and cid not in upcoming}
    return chosen


def _team_identities(session: Session) -> set[str]:
    return set(business_context(session, required=False).team)


def _is_team(rows: list[CustomerIdentity], team: set[str]) -> bool:
    return any(f"{r.channel}:{r.address}" in team for r in rows)


def reach(session: Session, segment: Segment, *, now: datetime) -> Reach:
    """Each opted-in customer in the segment once, on their latest active identity (on the
    segment's channel, if one is chosen); the others counted by why they are left out."""
    members = in_segment(session, segment, now)
    declined_ids = set(
        session.scalars(
            select(ConsentEvent.customer_id).where(
                ConsentEvent.topic == PROMOTIONS, ConsentEvent.granted.is_(False)
            )
        )
    )
    floor = datetime.min.replace(tzinfo=UTC)
    by_customer: dict[int, list[CustomerIdentity]] = {}
    team = _team_identities(session)
    for row in session.scalars(select(CustomerIdentity)):
        by_customer.setdefault(row.customer_id, []).append(row)
    for customer_id in [c for c, rows in by_customer.items() if _is_team(rows, team)]:
        del by_customer[customer_id]  # the owners' and staff's own chats are not customers
    result = Reach()
    for customer_id, identities in sorted(by_customer.items()):
        if any(i.opted_out_at is not None for i in identities):
            result.opted_out += 1  # STOP anywhere: left out everywhere
            continue
        willing = [i for i in identities if i.promotions_opt_in]
        if not willing:
            if customer_id in declined_ids:
                result.declined += 1
            else:
                result.never_asked += 1
            continue
        if members is not None and customer_id not in members:
            result.outside += 1
            continue
        if segment.channel is not None:
            willing = [i for i in willing if i.channel == segment.channel]
            if not willing:
                result.off_channel += 1
                continue
        best = max(willing, key=lambda i: (i.last_inbound_at or floor, i.id))
        result.recipients.append((customer_id, best.channel, best.address))
    return result

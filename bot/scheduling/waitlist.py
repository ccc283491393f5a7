"""The waitlist: customers who want a time that is taken, offered it when it frees up.

When an appointment is cancelled or moved (`on_cancelled` and `on_moved`, subscribed to the
booking service's events in bot.bootstrap, call `on_slot_freed`), the
first waiting entries in the order they joined whose window contains the freed start, and
for whose service that start is open, are considered one by one; the first that can be
reached gets an offer: the slot is held for them (a `SlotHold`) for `offer_minutes`, a
message asks "Yes, book it / No thanks", and an `AwaitingReply` (kind "waitlist_offer",
ref_id the hold) tells the conversation engine what a reply means.

One offer per freed slot at a time: a "no" (`decline_offer`) or silence (`advance_offers`,
a scheduled job) passes the slot to the next entry. `accept_offer` books the hold if it is
still theirs; once it has moved on, the answer is a polite no — first to accept wins. An
entry stays on the list after declining one time, and never gets the same slot twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.core import events
from bot.core.clock import utcnow
from bot.core.errors import InvalidRequest, NotFound, SlotbotError
from bot.core.text import N_, _, t
from bot.messaging.asking import Awaiting, ask, customer_address
from bot.messaging.messages import Option, Reply
from bot.messaging.notify import defer_for_quiet_hours, first_name
from bot.messaging.outbox import WAITLIST_OFFER, withdraw_pending
from bot.messaging.senders.render import reply_map
from bot.scheduling import booking
from bot.scheduling.availability import SlotQuery, slot_fits
from storage.db import Database
from storage.messaging import (
    ENTRY_BOOKED,
    ENTRY_EXPIRED,
    ENTRY_WAITING,
    ENTRY_WITHDRAWN,
    OFFER_ACCEPTED,
    OFFER_DECLINED,
    OFFER_LAPSED,
    OFFER_OPEN,
    WaitlistEntry,
    WaitlistOffer,
)
from storage.models import Appointment, AwaitingReply, Service, SlotHold, Staff

log = logging.getLogger(__name__)

KIND = "waitlist_offer"
OFFER_OPTIONS = (Option("yes", N_("Yes, book it")), Option("no", N_("No thanks")))


def join_waitlist(
    session: Session,
    customer_id: int,
    service_id: int,
    window_start: datetime,
    window_end: datetime,
    staff_id: int | None = None,
    *,
    now: datetime,
) -> WaitlistEntry:
    """Put the customer on the waitlist for a service in a window (joining twice is once)."""
    if window_end <= window_start:
        raise InvalidRequest("a waitlist window must end after it starts")
    if window_end <= now:
        raise InvalidRequest("a waitlist window must end in the future")
    if session.get(Service, service_id) is None:
        raise NotFound(f"no service with id {service_id}")
    same = session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.customer_id == customer_id,
            WaitlistEntry.service_id == service_id,
            WaitlistEntry.status == ENTRY_WAITING,
            WaitlistEntry.window_start == window_start,
            WaitlistEntry.window_end == window_end,
            WaitlistEntry.staff_id.is_(None)
            if staff_id is None
            else WaitlistEntry.staff_id == staff_id,
        )
    )
    if same is not None:
        return same
    entry = WaitlistEntry(
        customer_id=customer_id,
        service_id=service_id,
        staff_id=staff_id,
        window_start=window_start,
        window_end=window_end,
        status=ENTRY_WAITING,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def leave_waitlist(session: Session, entry_id: int, *, now: datetime) -> None:
    """Take an entry off the waitlist (an open offer for it lapses)."""
    entry = session.get(WaitlistEntry, entry_id)
    if entry is None or entry.status != ENTRY_WAITING:
        return
    entry.status, entry.updated_at = ENTRY_WITHDRAWN, now
    for offer in session.scalars(
        select(WaitlistOffer).where(
            WaitlistOffer.entry_id == entry_id, WaitlistOffer.status == OFFER_OPEN
        )
    ):
        _close(session, offer, OFFER_LAPSED, now)


def _candidates(
    session: Session, start: datetime, staff_id: int, now: datetime
) -> list[WaitlistEntry]:
    """Waiting entries whose window holds `start`, oldest first.

    Leaves out entries already offered this slot, and customers holding (or being offered)
    another slot right now.
    """
    offered_before = exists().where(
        WaitlistOffer.entry_id == WaitlistEntry.id,
        WaitlistOffer.staff_id == staff_id,
        WaitlistOffer.starts_at == start,
    )
    # A new hold replaces a customer's old one: never take a slot from under someone.
    holding = exists().where(
        SlotHold.customer_id == WaitlistEntry.customer_id, SlotHold.expires_at > now
    )
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.status == ENTRY_WAITING,
                WaitlistEntry.window_start <= start,
                WaitlistEntry.window_end > start,
                or_(WaitlistEntry.staff_id.is_(None), WaitlistEntry.staff_id == staff_id),
                WaitlistEntry.service_id.in_(select(Service.id).where(Service.active.is_(True))),
                ~offered_before,
                ~holding,
            )
            .order_by(WaitlistEntry.id)
        )
    )


def offer_slot(
    session: Session, *, start: datetime, staff_id: int, now: datetime
) -> WaitlistOffer | None:
    """Offer the slot at `start` with `staff_id` to the first waiting entry it suits."""
    info = business_context(session, required=False)
    minutes = info.messaging.waitlist_offer_minutes
    for entry in _candidates(session, start, staff_id, now):
        query = SlotQuery(
            service_id=entry.service_id,
            start=start,
            end=start + timedelta(minutes=1),
            customer_id=entry.customer_id,
        )
        if slot_fits(session, query, staff_id, now=now) is None:
            continue
        address = customer_address(session, entry.customer_id)
        if address is None:
            continue
        held = booking.hold_slot(
            session,
            customer_id=entry.customer_id,
            service_id=entry.service_id,
            start=start,
            staff_id=staff_id,
            now=now,
        )
        if isinstance(held, booking.Refused):
            continue
        # The offer's clock starts when the message can go out, not during quiet hours.
        send_at = defer_for_quiet_hours(now, info)
        expires = send_at + timedelta(minutes=minutes)
        hold = session.get(SlotHold, held.hold_id)
        assert hold is not None
        hold.expires_at = expires
        offer = WaitlistOffer(
            entry_id=entry.id,
            hold_id=hold.id,
            service_id=entry.service_id,
            staff_id=staff_id,
            starts_at=start,
            status=OFFER_OPEN,
            offered_at=now,
            expires_at=expires,
        )
        session.add(offer)
        session.flush()
        service = session.get(Service, entry.service_id)
        staff = session.get(Staff, staff_id)
        assert service is not None and staff is not None
        text = (
            t("Good news: {service} with {first_name}, {when} "
            "just opened up at {business}. We're holding it for you for {minutes} minutes.", service=service.name, first_name=first_name(staff.name), when=info.when(start), business=info.name, minutes=minutes)
        )
        ask(
            session,
            entry.customer_id,
            Reply(text, options=tuple(Option(o.id, _(o.label)) for o in OFFER_OPTIONS)),
            awaiting=Awaiting(
                KIND,
                hold.id,
                expires=expires,
                data={
                    "offer_id": offer.id,
                    "entry_id": entry.id,
                    "starts_at": start.isoformat(),
                    "replies": reply_map([Option(o.id, _(o.label)) for o in OFFER_OPTIONS]),
                },
            ),
            purpose=WAITLIST_OFFER,
            ref_id=hold.id,
            send_at=send_at,
            now=now,
            to=address,
        )
        return offer
    return None


def on_slot_freed(
    session: Session,
    appointment: Appointment,
    now: datetime,
    *,
    start: datetime | None = None,
    staff_id: int | None = None,
) -> WaitlistOffer | None:
    """A cancelled or moved appointment freed its slot: offer it to the waitlist."""
    start = start or appointment.starts_at
    if start <= now:
        return None
    return offer_slot(session, start=start, staff_id=staff_id or appointment.staff_id, now=now)


def on_moved(session: Session, event: events.AppointmentMoved) -> None:
    """Subscriber: a moved appointment frees its old time, offered to the waitlist."""
    _offer_freed(session, event, start=event.old_start, staff_id=event.old_staff_id)


def on_cancelled(session: Session, event: events.AppointmentCancelled) -> None:
    """Subscriber: a cancelled appointment frees its time, offered to the waitlist."""
    _offer_freed(session, event, start=None, staff_id=None)


def _offer_freed(
    session: Session,
    event: events.AppointmentMoved | events.AppointmentCancelled,
    *,
    start: datetime | None,
    staff_id: int | None,
) -> None:
    """Offer a freed slot; trouble here never undoes the change itself (its own savepoint)."""
    appointment = events.appointment_of(session, event)
    try:
        with session.begin_nested():
            on_slot_freed(session, appointment, event.at, start=start, staff_id=staff_id)
    except SlotbotError:
        log.exception("waitlist offer for appointment %s failed", appointment.id)


def _offer_for(session: Session, awaiting_id: int) -> tuple[AwaitingReply, WaitlistOffer]:
    awaiting = session.get(AwaitingReply, awaiting_id)
    if awaiting is None or awaiting.kind != KIND:
        raise NotFound(f"no waitlist offer question {awaiting_id}")
    offer = session.get(WaitlistOffer, int(awaiting.data.get("offer_id", 0)))
    if offer is None:
        raise NotFound(f"no waitlist offer for question {awaiting_id}")
    return awaiting, offer


def _close(session: Session, offer: WaitlistOffer, status: str, now: datetime) -> None:
    """End an offer and give back its hold (if it still has one)."""
    offer.status, offer.answered_at = status, now
    if offer.hold_id is not None and status != OFFER_ACCEPTED:
        booking.release_hold(session, offer.hold_id)
        # Not yet sent (quiet hours): an offer that has ended must not arrive later.
        withdraw_pending(
            session, ref_id=offer.hold_id, purposes=(WAITLIST_OFFER,), reason=f"offer {status}"
        )
    for awaiting in session.scalars(
        select(AwaitingReply).where(
            AwaitingReply.kind == KIND,
            AwaitingReply.ref_id == offer.hold_id,
            AwaitingReply.answered_at.is_(None),
        )
    ):
        # SQLite may give a later hold the id of a deleted one: the offer id decides.
        if awaiting.data.get("offer_id") == offer.id:
            awaiting.answered_at = now


def accept_offer(
    session: Session, awaiting_id: int, now: datetime
) -> booking.Booked | booking.Refused:
    """Book the offered slot, if the hold is still this customer's."""
    awaiting, offer = _offer_for(session, awaiting_id)
    awaiting.answered_at = now
    entry = session.get(WaitlistEntry, offer.entry_id)
    hold = session.get(SlotHold, offer.hold_id) if offer.hold_id is not None else None
    gone = booking.Refused(booking.TAKEN, _("Sorry, that time has gone to someone else."))
    if offer.status != OFFER_OPEN or entry is None or hold is None:
        return gone
    # The hold must still be this offer's: same customer, same slot (ids can be reused).
    if (hold.customer_id, hold.staff_id, hold.starts_at) != (
        entry.customer_id,
        offer.staff_id,
        offer.starts_at,
    ):
        return gone
    outcome = booking.book_hold(session, hold.id, now=now, actor="customer")
    if isinstance(outcome, booking.Refused):
        _close(session, offer, OFFER_LAPSED, now)
        return outcome
    offer.status, offer.answered_at = OFFER_ACCEPTED, now
    entry.status, entry.updated_at = ENTRY_BOOKED, now
    entry.appointment_id = outcome.appointment.id
    return outcome


def decline_offer(session: Session, awaiting_id: int, now: datetime) -> WaitlistOffer | None:
    """Say no to an offer: the hold goes and the slot is offered to the next in line.

    Returns the next offer made, if any.
    """
    awaiting, offer = _offer_for(session, awaiting_id)
    awaiting.answered_at = now
    if offer.status != OFFER_OPEN:
        return None
    _close(session, offer, OFFER_DECLINED, now)
    session.flush()
    return offer_slot(session, start=offer.starts_at, staff_id=offer.staff_id, now=now)


def advance_offers(db: Database, now: datetime | None = None) -> int:
    """Lapse unanswered offers and pass each slot on; expire entries whose window passed.

    Returns how many offers lapsed.
    """
    now = now or utcnow()
    with db.write() as session:
        for entry in session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.status == ENTRY_WAITING, WaitlistEntry.window_end <= now
            )
        ):
            entry.status, entry.updated_at = ENTRY_EXPIRED, now
        lapsed = list(
            session.scalars(
                select(WaitlistOffer)
                .where(WaitlistOffer.status == OFFER_OPEN, WaitlistOffer.expires_at <= now)
                .order_by(WaitlistOffer.id)
            )
        )
        for offer in lapsed:
            _close(session, offer, OFFER_LAPSED, now)
            session.flush()
            if offer.starts_at > now:
                offer_slot(session, start=offer.starts_at, staff_id=offer.staff_id, now=now)
        return len(lapsed)

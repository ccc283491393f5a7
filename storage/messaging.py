"""Models for outbound messaging: the durable outbox, the waitlist and feedback.

Every message slotbot sends is a row here first, written in the same transaction as the
change that caused it; a dispatcher sends due rows later. The waitlist (who wants a time if
one frees up, and the offers made to them) and customers' feedback scores live beside it.
Reminders need no table of their own: the outbox's dedupe keys are their bookkeeping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import StoredEnum


class OutboxStatus(StoredEnum):
    """Where an outbox message is on its way out."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after retries, or a final provider error
    CANCELLED = "cancelled"  # withdrawn before sending (appointment cancelled, opted out)


PENDING = OutboxStatus.PENDING
SENDING = OutboxStatus.SENDING
SENT = OutboxStatus.SENT
FAILED = OutboxStatus.FAILED
CANCELLED = OutboxStatus.CANCELLED
OUTBOX_STATUSES = (PENDING, SENDING, SENT, FAILED, CANCELLED)


class OutboxMessage(Base):
    """One message to send (or sent) to one address on one channel."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "send_at"),
        Index("ix_outbox_address", "channel", "address", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None)
    body: Mapped[dict[str, Any]] = mapped_column()  # bot.messaging.messages.Reply.to_json()
    kind: Mapped[str] = mapped_column(String(16), default="transactional")
    purpose: Mapped[str] = mapped_column(String(32), default="reply")
    ref_id: Mapped[int | None] = mapped_column(default=None)
    # Makes enqueueing idempotent: a job that runs twice cannot queue the same reminder twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    send_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    provider_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # The provider id of the inbound delivery this answers (a MessageSid, an update_id), so
    # the dispatcher's log lines can be joined to the webhook's and the turn's.
    in_reply_to: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set by each claim: a dispatcher records a result only while the row is still its own,
    # so a dispatcher that outlived its lease cannot overwrite a newer claim's outcome.
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    # For messages about an appointment (reminders): its start when queued. A move makes
    # the message stale, and the dispatcher withdraws it instead of sending the old time.
    ref_starts_at: Mapped[datetime | None] = mapped_column(default=None)


class EntryStatus(StoredEnum):
    """A waitlist entry's status."""

    WAITING = "waiting"
    BOOKED = "booked"  # an offer was accepted
    EXPIRED = "expired"  # its window passed
    WITHDRAWN = "withdrawn"  # the customer left the waitlist


ENTRY_WAITING = EntryStatus.WAITING
ENTRY_BOOKED = EntryStatus.BOOKED
ENTRY_EXPIRED = EntryStatus.EXPIRED
ENTRY_WITHDRAWN = EntryStatus.WITHDRAWN
ENTRY_STATUSES = (ENTRY_WAITING, ENTRY_BOOKED, ENTRY_EXPIRED, ENTRY_WITHDRAWN)


class OfferStatus(StoredEnum):
    """A waitlist offer's status."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"  # not answered in time, or the held slot went


OFFER_OPEN = OfferStatus.OPEN
OFFER_ACCEPTED = OfferStatus.ACCEPTED
OFFER_DECLINED = OfferStatus.DECLINED
OFFER_LAPSED = OfferStatus.LAPSED
OFFER_STATUSES = (OFFER_OPEN, OFFER_ACCEPTED, OFFER_DECLINED, OFFER_LAPSED)


class WaitlistEntry(Base):
    """A customer who wants a service in a window of time if a slot frees up.

    Entries are served in the order they joined (`id`); an entry stays waiting after a
    declined offer, so a "no" to one time does not lose the customer their place.
    """

    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_waiting", "status", "window_start", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=ENTRY_WAITING)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WaitlistOffer(Base):
    """One freed slot offered to one waitlist entry, held for them until `expires_at`.

    The slot itself is kept by a `SlotHold` (`hold_id`); the offer remembers the slot after
    the hold is gone, so the same slot is never offered twice to the same entry.
    """

    __tablename__ = "waitlist_offer"
    __table_args__ = (
        Index("ix_waitlist_offer_open", "status", "expires_at"),
        Index("ix_waitlist_offer_slot", "staff_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entry.id"), index=True)
    hold_id: Mapped[int | None] = mapped_column(default=None, index=True)  # no FK: holds go
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=OFFER_OPEN)
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class Feedback(Base):
    """A customer's 1-5 score (and comment) for one completed appointment."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

"""Models for outbound messaging: the durable outbox.

Every message slotbot sends is a row here first, written in the same transaction as the
change that caused it; a dispatcher sends due rows later. Other messaging tables (reminder
bookkeeping, waitlist, feedback) live beside it in this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"  # gave up after retries, or a final provider error
CANCELLED = "cancelled"  # withdrawn before sending (appointment cancelled, opted out)
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
    body: Mapped[dict[str, Any]] = mapped_column()  # bot.messages.Reply.to_json()
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
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)

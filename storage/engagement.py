"""Models for talking with customers beyond the booking dialogue: hand-overs and consent.

A `Handover` is a thread in which a person (an owner, staff on duty) answers a customer
instead of the bot: opened when the customer asks for a person, closed by the owner or after
a quiet time. Its `HandoverMessage` rows are the thread as the dashboard shows it. A
`ConsentEvent` is one recorded yes or no to promotions (or to messages at all: STOP and
START), with the time, channel and the customer's own words.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Customer

# Who wrote a hand-over message.
FROM_CUSTOMER = "customer"
FROM_TEAM = "team"
FROM_BOT = "bot"

# What a consent event is about.
PROMOTIONS = "promotions"
MESSAGES = "messages"  # STOP / START: every message, not only offers


class Handover(Base):
    """A customer talking to a person instead of the bot, from opening to close."""

    __tablename__ = "handover"
    __table_args__ = (Index("ix_handover_open", "customer_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    # Where the customer last wrote from: the team's answers go there.
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    opened_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # "owner:telegram:1000", "staff:sms:+1…", "quiet" (timed out), "dashboard"
    closed_by: Mapped[str | None] = mapped_column(String(400), default=None)

    customer: Mapped[Customer] = relationship()
    messages: Mapped[list[HandoverMessage]] = relationship(
        back_populates="handover", order_by="HandoverMessage.id"
    )


class HandoverMessage(Base):
    """One message in a hand-over thread, either way."""

    __tablename__ = "handover_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), index=True)
    author: Mapped[str] = mapped_column(String(16))  # FROM_CUSTOMER, FROM_TEAM, FROM_BOT
    actor: Mapped[str] = mapped_column(String(400), default="")  # who on the team
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]

    handover: Mapped[Handover] = relationship(back_populates="messages")


class ConsentEvent(Base):
    """One consent given or withdrawn: when, on which channel, in which words."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_customer", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    topic: Mapped[str] = mapped_column(String(16))  # PROMOTIONS or MESSAGES
    granted: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320), default="")
    words: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32), default="chat")  # chat, portal, booking
    at: Mapped[datetime]

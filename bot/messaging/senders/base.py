"""What every sender speaks: the message it is handed and the result it gives back.

A sender never touches the database. The dispatcher hands it an `Outgoing` snapshot of a
claimed outbox row (plus the recipient facts a channel needs, such as when they last wrote
to us) and records the `SendResult` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.clock import utcnow
from bot.messaging.messages import Reply

SENT = "sent"
RETRY = "retry"
FINAL = "final"

# WhatsApp accepts free-form messages only this long after the customer last wrote.
WHATSAPP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Outgoing:
    """A claimed outbox row as a sender sees it: plain values, no session."""

    id: int
    channel: str
    address: str
    reply: Reply
    purpose: str = "reply"
    customer_id: int | None = None
    attempt: int = 1
    # When the recipient last wrote to us on this channel (WhatsApp's 24-hour window).
    last_inbound_at: datetime | None = None
    # Whether falling back to SMS on the same number is allowed (not opted out there).
    sms_fallback_allowed: bool = True
    whatsapp_outside_window: str = "sms"  # "sms" or "template", from business.toml
    whatsapp_template: str | None = None
    now: datetime = field(default_factory=utcnow)

    def in_whatsapp_window(self) -> bool:
        """Whether a free-form WhatsApp message may be sent now."""
        return self.last_inbound_at is not None and self.now - self.last_inbound_at < (
            WHATSAPP_WINDOW
        )


@dataclass(frozen=True)
class SendResult:
    """What became of one send: sent, worth retrying, or final (never retry)."""

    outcome: str
    provider_id: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait
    opted_out: bool = False  # the recipient unsubscribed: mark their identity opted out
    # The recipient's address changed (a Telegram group became a supergroup): the outbox
    # moves the identity, the owner list and the messages still waiting to this address.
    moved_to: str | None = None

    @classmethod
    def sent(cls, provider_id: str, *, moved_to: str | None = None) -> SendResult:
        """Accepted by the provider under `provider_id` (at `moved_to`, if it moved)."""
        return cls(SENT, provider_id=provider_id, moved_to=moved_to)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> SendResult:
        """Not sent, but may succeed later (timeouts, 5xx, rate limits)."""
        return cls(RETRY, error=error, retry_after=retry_after)

    @classmethod
    def final(cls, error: str, *, opted_out: bool = False) -> SendResult:
        """Not sent and never will be (invalid number, unsubscribed recipient)."""
        return cls(FINAL, error=error, opted_out=opted_out)


class Sender(Protocol):
    """Delivers messages on one channel."""

    def send(self, message: Outgoing) -> SendResult:
        """Try to deliver `message` once; never raises for provider trouble."""
        ...

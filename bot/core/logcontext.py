"""The delivery a log line is about: the provider id carried from webhook to turn to send.

A webhook sets it when a delivery arrives (Twilio MessageSid, Telegram update_id, Stripe
event id), the worker when it picks the recorded delivery up, and the dispatcher while it
sends a reply that answers it (the outbox row keeps the id in `in_reply_to`). A logging
filter copies it onto every record, so the lines of one message can be found across the web
process and the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_DELIVERY: ContextVar[str | None] = ContextVar("slotbot_delivery", default=None)


def current_delivery() -> str | None:
    """The provider id of the delivery being handled here, if any."""
    return _DELIVERY.get()


@contextmanager
def delivery(provider_id: str | None) -> Iterator[None]:
    """Log the block's lines as being about delivery `provider_id` (None: about none)."""
    token = _DELIVERY.set(provider_id)
    try:
        yield
    finally:
        _DELIVERY.reset(token)


class DeliveryFilter(logging.Filter):
    """Puts the current delivery's provider id on each record as `provider_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate, never drop."""
        if getattr(record, "provider_id", None) is None:
            found = _DELIVERY.get()
            if found is not None:
                record.provider_id = found
        return True

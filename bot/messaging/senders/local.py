"""Senders that need no provider: the web chat page, and the log for unconfigured channels."""

from __future__ import annotations

import logging

from bot.messaging.senders.base import Outgoing, SendResult

log = logging.getLogger(__name__)


class WebSender:
    """The web chat page polls the outbox itself: "sending" is only marking the row sent."""

    def __init__(self, provider_id: str = "web") -> None:
        self.provider_id = provider_id

    def send(self, message: Outgoing) -> SendResult:
        """Mark as sent; the page shows it on its next poll."""
        return SendResult.sent(self.provider_id)


class LogSender:
    """For a channel without credentials: log the message instead of sending it.

    So `make run` with no environment works as a demo. Every line says NOT SENT, so nobody
    mistakes a log for a delivery.
    """

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: Outgoing) -> SendResult:
        """Log the message and report it sent under provider id "log"."""
        options = " | ".join(f"[{o.label}]" for o in message.reply.options)
        log.info(
            "NOT SENT (no %s credentials; log sender) #%s to %s:%s [%s]: %s %s",
            self.channel,
            message.id,
            message.channel,
            message.address,
            message.purpose,
            message.reply.text,
            options,
        )
        return SendResult.sent("log")

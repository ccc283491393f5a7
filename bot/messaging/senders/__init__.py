"""Senders: one per channel, built from the environment.

`build_senders(env)` asks each factory in `FACTORIES` for the channels it can serve with
the credentials in `env`; the first factory to claim a channel wins. Channels nobody claims
get a `LogSender`, so a demo without credentials still "delivers" (to the log). A new
channel (Telegram, email) plugs in by adding its factory to `FACTORIES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.config import process
from bot.messaging.messages import CHANNELS, TERMINAL, WEB
from bot.messaging.senders.base import FINAL, RETRY, SENT, Outgoing, Sender, SendResult
from bot.messaging.senders.email_sender import email_senders
from bot.messaging.senders.local import LogSender, WebSender
from bot.messaging.senders.telegram_sender import telegram_senders
from bot.messaging.senders.twilio_sender import TwilioSender, twilio_senders

log = logging.getLogger(__name__)

SenderFactory = Callable[[Mapping[str, str]], dict[str, Sender]]


def web_senders(env: Mapping[str, str]) -> dict[str, Sender]:
    """The web chat and the terminal chat read their replies from the outbox themselves."""
    return {WEB: WebSender("web"), TERMINAL: WebSender("terminal")}


FACTORIES: tuple[SenderFactory, ...] = (
    web_senders,
    twilio_senders,
    telegram_senders,
    email_senders,
)


def build_senders(
    env: Mapping[str, str] | None = None, factories: tuple[SenderFactory, ...] = FACTORIES
) -> dict[str, Sender]:
    """A sender for every channel: configured providers first, the log for the rest."""
    env = process.current().as_env() if env is None else env
    senders: dict[str, Sender] = {}
    for factory in factories:
        for channel, sender in factory(env).items():
            senders.setdefault(channel, sender)
    missing = [channel for channel in CHANNELS if channel not in senders]
    if missing:
        log.warning("no credentials for %s: those messages are logged, not sent", missing)
    for channel in missing:
        senders[channel] = LogSender(channel)
    return senders


__all__ = [
    "FACTORIES",
    "FINAL",
    "RETRY",
    "SENT",
    "LogSender",
    "Outgoing",
    "SendResult",
    "Sender",
    "SenderFactory",
    "TwilioSender",
    "WebSender",
    "build_senders",
    "web_senders",
]

"""Log output of the slotbot processes: plain lines for a terminal, or one JSON object per
line (`SLOTBOT_LOG_FORMAT=json`) for a log shipper.

Either way every line about a delivery carries its provider id (Twilio MessageSid, Telegram
update_id, Stripe event id; see `bot.core.logcontext`): the webhook's line, the worker's turn and
the dispatcher's send can be joined on it. The CLI configures this for `slotbot serve` and
`slotbot worker`; an app built by `create_app` under another server does so when
SLOTBOT_LOG_FORMAT is set.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import IO

from pythonjsonlogger.json import JsonFormatter

from bot.config import process
from bot.core.errors import ConfigError
from bot.core.logcontext import DeliveryFilter


class LogFormat(StrEnum):
    """What a log line looks like."""

    PLAIN = "plain"
    JSON = "json"


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message [provider id]`, for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The plain line, with the delivery it is about at the end."""
        line = super().format(record)
        provider_id = getattr(record, "provider_id", None)
        return f"{line} [{provider_id}]" if provider_id else line


def json_formatter() -> logging.Formatter:
    """One JSON object per record: time, level, logger, process, message, provider_id…"""
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def log_format(value: str | None) -> LogFormat:
    """SLOTBOT_LOG_FORMAT read: plain by default; anything unknown is a one-line error."""
    try:
        return LogFormat((value or LogFormat.PLAIN).strip().lower())
    except ValueError:
        raise ConfigError("SLOTBOT_LOG_FORMAT", f"{value!r} is not plain or json") from None


def log_level(value: str | None) -> int:
    """SLOTBOT_LOG_LEVEL read: INFO by default; an unknown name is a one-line error."""
    name = (value or "INFO").strip().upper()
    found = logging.getLevelNamesMapping().get(name)
    if found is None:
        raise ConfigError("SLOTBOT_LOG_LEVEL", f"{value!r} is not DEBUG, INFO, WARNING or ERROR")
    return found


_OURS = "_slotbot_handler"
# At INFO, APScheduler logs every tick (every 2 s) and the Twilio SDK dumps every request and
# response with its headers: the send's own line says what happened.
_CHATTY = ("apscheduler", "bot.messaging.senders.twilio_sender.http")


def configure_logging(
    fmt: str | None = None, level: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every record to `stream` (stderr) in `fmt`, at `level` and above; the handler.

    `fmt` and `level` default to $SLOTBOT_LOG_FORMAT (plain) and $SLOTBOT_LOG_LEVEL (INFO).
    Calling it again replaces the handler it installed before, and nothing else.
    """
    settings = process.current()
    chosen = log_format(fmt if fmt is not None else settings.log_format)
    handler = logging.StreamHandler(stream)
    handler.addFilter(DeliveryFilter())
    handler.setFormatter(json_formatter() if chosen is LogFormat.JSON else PlainFormatter())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log_level(level or settings.log_level))
    for noisy in _CHATTY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler

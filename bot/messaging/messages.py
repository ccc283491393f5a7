"""Channel-neutral messages: what arrives from a customer and what slotbot says back.

Channels (SMS, WhatsApp, Telegram, web chat, terminal, email) translate to and from these at
the edge; everything in between speaks only `Inbound` and `Reply`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.clock import utcnow
from bot.core.names import clean_display_name, clean_text
from storage.types import StoredEnum


class Channel(StoredEnum):
    """Where a message comes from or goes to (`channel` columns, "sms:+1555…" identities)."""

    SMS = "sms"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    WEB = "web"
    TERMINAL = "terminal"
    EMAIL = "email"


class ReplyKind(StoredEnum):
    """A reply's kind: a promotional one goes only to identities that opted in to offers."""

    TRANSACTIONAL = "transactional"
    PROMOTIONAL = "promotional"


SMS = Channel.SMS
WHATSAPP = Channel.WHATSAPP
TELEGRAM = Channel.TELEGRAM
WEB = Channel.WEB
TERMINAL = Channel.TERMINAL
EMAIL = Channel.EMAIL
CHANNELS = tuple(Channel)

TRANSACTIONAL = ReplyKind.TRANSACTIONAL
PROMOTIONAL = ReplyKind.PROMOTIONAL


@dataclass(frozen=True)
class Attachment:
    """A file sent or received: a photo by URL, or an .ics/PDF carried inline."""

    content_type: str
    filename: str | None = None
    url: str | None = None
    data: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (inline data as base64) for the outbox and message logs."""
        return {
            "content_type": self.content_type,
            "filename": self.filename,
            "url": self.url,
            "data": base64.b64encode(self.data).decode() if self.data is not None else None,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Attachment:
        """The inverse of `to_json`."""
        data = raw.get("data")
        return cls(
            content_type=raw["content_type"],
            filename=raw.get("filename"),
            url=raw.get("url"),
            data=base64.b64decode(data) if data is not None else None,
        )


@dataclass(frozen=True)
class Location:
    """A map pin shared by a customer."""

    latitude: float
    longitude: float
    label: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One message from someone, as any channel delivers it."""

    channel: str
    sender: str  # the address on that channel: E.164 phone, Telegram chat id, web session
    text: str = ""
    option_id: str | None = None  # the id of a button the person pressed
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    provider_id: str | None = None  # MessageSid, update_id …: for de-duplication
    received_at: datetime = field(default_factory=utcnow)
    contact_phone: str | None = None  # a phone number the person shared (Telegram contact)
    display_name: str | None = None  # the name the channel knows them by
    reply_to: str | None = None  # the provider's id of our message this one replies to

    def __post_init__(self) -> None:
        # Every channel builds one of these: cleaning here covers every entry at once.
        object.__setattr__(self, "text", clean_text(self.text))
        if self.option_id is not None:
            object.__setattr__(self, "option_id", clean_text(self.option_id))
        if self.display_name is not None:
            object.__setattr__(self, "display_name", clean_display_name(self.display_name))

    @property
    def identity(self) -> str:
        """`channel:address`, the key a customer identity and a conversation hang on."""
        return f"{self.channel}:{self.sender}"


@dataclass(frozen=True)
class Option:
    """A choice offered with a reply: a button on Telegram and the web, a number on SMS."""

    id: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One message slotbot sends."""

    text: str
    options: tuple[Option, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    kind: str = TRANSACTIONAL

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict, for the outbox and the web chat."""
        return {
            "text": self.text,
            "options": [{"id": o.id, "label": o.label} for o in self.options],
            "attachments": [a.to_json() for a in self.attachments],
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Reply:
        """The inverse of `to_json`."""
        return cls(
            text=raw["text"],
            options=tuple(Option(o["id"], o["label"]) for o in raw.get("options", [])),
            attachments=tuple(Attachment.from_json(a) for a in raw.get("attachments", [])),
            kind=raw.get("kind", TRANSACTIONAL),
        )

"""The inbox: deliveries the webhooks recorded, waiting for the worker to handle them.

Recording is one short insert under the delivery's unique provider id, so a webhook answers
its provider at once (Twilio allows 15 s; Telegram retries a slow webhook) and a redelivery
is a no-op. The row is the whole message: `inbound_of` rebuilds the `Inbound` from it, and
`conversations.inbox` handles what waits, oldest first. When the insert fails, `keep` puts
the delivery in the spool (`bot.messaging.spool`) instead; `drain_inbound` records it once the database
takes writes again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.core.metrics import INBOUND, REDELIVERIES
from bot.messaging.messages import Attachment, Inbound, Location
from bot.messaging.spool import Spool, SpoolKind
from storage.db import Database, PreparedInsert
from storage.models import InboundMessage

log = logging.getLogger(__name__)
MAX_TEXT = 4000


def payload_of(inbound: Inbound) -> dict[str, Any]:
    """Everything about a message besides its text and addresses, JSON-safe."""
    location = inbound.location
    return {
        "option_id": inbound.option_id,
        "attachments": [a.to_json() for a in inbound.attachments if a.url],
        "location": ([location.latitude, location.longitude, location.label] if location else None),
        "contact_phone": inbound.contact_phone,
        "display_name": inbound.display_name,
        "reply_to": inbound.reply_to,
    }


def row_values(inbound: Inbound, handled_at: datetime | None) -> dict[str, Any]:
    """The `inbound_message` columns for a delivery (its provider id must be set)."""
    return {
        "channel": inbound.channel,
        "address": inbound.sender,
        "provider_id": inbound.provider_id,
        "text": inbound.text[:MAX_TEXT],
        "payload": payload_of(inbound),
        "received_at": inbound.received_at,
        "handled_at": handled_at,
    }


def inbound_of(row: InboundMessage) -> Inbound:
    """The `Inbound` a recorded delivery was."""
    payload = row.payload or {}
    pin = payload.get("location")
    return Inbound(
        channel=row.channel,
        sender=row.address,
        text=row.text,
        option_id=payload.get("option_id"),
        attachments=tuple(Attachment.from_json(a) for a in payload.get("attachments") or []),
        location=Location(pin[0], pin[1], pin[2] if len(pin) > 2 else None) if pin else None,
        provider_id=row.provider_id,
        received_at=row.received_at,
        contact_phone=payload.get("contact_phone"),
        display_name=payload.get("display_name"),
        reply_to=payload.get("reply_to"),
    )


_COLUMNS = ("channel", "address", "provider_id", "text", "payload", "received_at", "handled_at")


def _recorder(db: Database) -> PreparedInsert:
    # Prepared once per database: a webhook's whole job is this insert.
    found = db.prepared.get("inbox.record")
    if found is None:
        insert = pg_insert if db.is_postgres else sqlite_insert
        statement = (
            insert(InboundMessage.__table__)
            .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
            .returning(InboundMessage.__table__.c.id)
        )
        found = db.prepared["inbox.record"] = PreparedInsert(db, statement, _COLUMNS)
    return found


def record(db: Database, inbound: Inbound) -> bool:
    """Keep a delivery for the worker; False when this provider id was recorded before."""
    if inbound.provider_id is None:
        raise ValueError("a recorded delivery needs its provider id")
    new = _recorder(db).returning(row_values(inbound, handled_at=None)) is not None
    (INBOUND if new else REDELIVERIES).labels(inbound.channel).inc()
    return new


class Keeping(StrEnum):
    """Where a delivery a webhook took ended up."""

    RECORDED = "recorded"  # in the inbox
    DUPLICATE = "duplicate"  # the inbox had it already
    SPOOLED = "spooled"  # the database refused it: kept on disk until it takes it
    LOST = "lost"  # the database and the disk both refused it


def keep(db: Database, spool: Spool, inbound: Inbound) -> Keeping:
    """Make a delivery durable: the inbox, else the spool; LOST only if both fail."""
    if spool.holds_elders() and behind_elders(
        spool, SpoolKind.INBOUND, spool_key(inbound), inbound_to_json(inbound)
    ):
        return Keeping.SPOOLED
    try:
        return Keeping.RECORDED if record(db, inbound) else Keeping.DUPLICATE
    except Exception as exc:  # whatever the database did, the message must not be lost
        failure = exc
    return spool_or_lose(
        spool, SpoolKind.INBOUND, spool_key(inbound), inbound_to_json(inbound), failure
    )


def behind_elders(spool: Spool, kind: SpoolKind, key: str, data: dict[str, Any]) -> bool:
    """Spool a delivery behind the ones this process spooled and the worker has not drained.

    Recorded now, it would reach the inbox ahead of the sender's older messages waiting in
    the spool; kept after them, it is drained in order. False if the disk refuses it (the
    caller then records it after all).
    """
    try:
        spool.keep(kind, key, data)
    except OSError as exc:
        log.warning("could not spool %s delivery %s behind its elders: %s", kind, key, exc)
        return False
    return True


def spool_or_lose(
    spool: Spool, kind: SpoolKind, key: str, data: dict[str, Any], failure: BaseException
) -> Keeping:
    """Keep a delivery the database refused on disk; LOST (logged critical) if that fails."""
    try:
        spool.keep(kind, key, data)
    except OSError as exc:
        log.critical(
            "LOST %s delivery %s: the database refused it (%s: %s) and the spool at %s too (%s)",
            kind,
            key,
            type(failure).__name__,
            failure,
            spool.folder,
            exc,
        )
        return Keeping.LOST
    log.warning(
        "database refused %s delivery %s (%s: %s); kept in the spool",
        kind,
        key,
        type(failure).__name__,
        failure,
    )
    return Keeping.SPOOLED


def spool_key(inbound: Inbound) -> str:
    """The spool's key for a delivery: its channel and provider id."""
    return f"{inbound.channel}-{inbound.provider_id}"


def inbound_to_json(inbound: Inbound) -> dict[str, Any]:
    """A delivery as JSON-safe data, for the spool."""
    return {
        "channel": inbound.channel,
        "sender": inbound.sender,
        "text": inbound.text,
        "provider_id": inbound.provider_id,
        "received_at": inbound.received_at.isoformat(),
        "payload": payload_of(inbound),
    }


def inbound_from_json(data: dict[str, Any]) -> Inbound:
    """The delivery `inbound_to_json` wrote."""
    row = InboundMessage(
        channel=data["channel"],
        address=data["sender"],
        text=data["text"],
        provider_id=data["provider_id"],
        received_at=datetime.fromisoformat(data["received_at"]),
        payload=data.get("payload") or {},
    )
    return inbound_of(row)


def drain_inbound(db: Database) -> Callable[[dict[str, Any]], bool]:
    """The spool's handler for kept deliveries: record each in the inbox (deduplicated)."""

    def handler(data: dict[str, Any]) -> bool:
        return record(db, inbound_from_json(data))

    return handler


def waiting(db: Database, limit: int = 100, after: int = 0) -> list[tuple[int, Inbound]]:
    """Recorded deliveries not yet handled (id and message), oldest first."""
    with db.read() as session:
        rows = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.handled_at.is_(None), InboundMessage.id > after)
            .order_by(InboundMessage.id)
            .limit(limit)
        ).all()
        return [(row.id, _readable(row)) for row in rows]


def _readable(row: InboundMessage) -> Inbound:
    # A payload we cannot read must not hold up the queue: the words alone still get answered.
    try:
        return inbound_of(row)
    except (KeyError, TypeError, ValueError, IndexError):
        log.exception("unreadable payload on inbound message %s", row.id)
        return Inbound(
            channel=row.channel,
            sender=row.address,
            text=row.text,
            provider_id=row.provider_id,
            received_at=row.received_at,
        )


@dataclass(frozen=True)
class Backlog:
    """How much waits in the inbox, and since when."""

    count: int
    oldest: datetime | None


def backlog(db: Database) -> Backlog:
    """The inbox's size and its oldest waiting delivery (for /healthz)."""
    with db.read() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(InboundMessage.received_at)).where(
                InboundMessage.handled_at.is_(None)
            )
        ).one()
    return Backlog(int(count), oldest)

"""What slotbot counts: per-process counters and the turn-latency histogram, and the gauges
the database answers at scrape time (the inbox and the outbox).

The counters and the histogram live in the process that does the work — the web process for
webhooks and the web chat, the worker for recorded deliveries and sends — in
prometheus_client's default registry (summed across processes when PROMETHEUS_MULTIPROC_DIR
is set; see docs/OUTBOX.md). Depths and ages are not counted anywhere: they are read from
the database when /metrics is scraped, so every process reports the same truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Histogram
from sqlalchemy import func, select

from storage.db import Database
from storage.messaging import FAILED, PENDING, SENDING, OutboxMessage

INBOUND = Counter(
    "slotbot_inbound_deliveries",
    "Deliveries received (recorded in the inbox, or handled inline), by channel.",
    ["channel"],
)
REDELIVERIES = Counter(
    "slotbot_inbound_redeliveries",
    "Deliveries a provider sent again (already recorded: nothing done), by channel.",
    ["channel"],
)
TURNS = Counter(
    "slotbot_turns",
    "Conversation turns by outcome (handled, apology, duplicate, later).",
    ["channel", "outcome"],
)
TURN_SECONDS = Histogram(
    "slotbot_turn_seconds",
    "How long one conversation turn took (its write transaction, replies queued).",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SENDS = Counter(
    "slotbot_outbox_sends",
    "Send attempts by provider, channel and outcome (sent, retry, final).",
    ["provider", "channel", "outcome"],
)

# The outbox states worth a gauge: what waits, what is on the wire, what failed for good.
# Sent and cancelled rows only grow; their counts say nothing about health.
WATCHED_STATUSES = (PENDING, SENDING, FAILED)


def provider_of(sender: object) -> str:
    """The provider a sender speaks to, for labels: TwilioSender → "twilio"."""
    named = getattr(sender, "provider", None)
    if isinstance(named, str) and named:
        return named
    return type(sender).__name__.removesuffix("Sender").lower() or "unknown"


@dataclass(frozen=True)
class OutboxState:
    """The outbox's watched rows by (channel, status), and its oldest due pending row."""

    counts: Mapping[tuple[str, str], int]
    oldest_due: datetime | None


def outbox_state(db: Database, now: datetime) -> OutboxState:
    """Pending, sending and failed rows per channel, and the oldest pending one now due."""
    with db.read() as session:
        rows = session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(WATCHED_STATUSES))
            .group_by(OutboxMessage.channel, OutboxMessage.status)
        ).all()
        oldest = session.scalar(
            select(func.min(OutboxMessage.send_at)).where(
                OutboxMessage.status == PENDING, OutboxMessage.send_at <= now
            )
        )
    return OutboxState({(channel, status): int(n) for channel, status, n in rows}, oldest)

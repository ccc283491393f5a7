"""Billing's subscribers to the booking service's events (registered in bot.bootstrap).

A completed appointment is invoiced, sent and, when configured, charged to a saved card.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.billing.completion import on_appointment_completed
from bot.core import events
from storage.models import COMPLETED


def on_status_changed(session: Session, event: events.StatusChanged) -> None:
    """Bill what the new status calls for: a completed appointment is invoiced and sent."""
    if event.status == COMPLETED:
        on_appointment_completed(session, events.appointment_of(session, event), event.at)

"""The one place the booking service calls into billing: after a status change.

bot.scheduling.booking imports this module, and billing imports bot.scheduling.booking, so the billing modules
are imported inside the function rather than at the top.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import COMPLETED, Appointment


def on_status_changed(session: Session, appointment: Appointment, now: datetime) -> None:
    """Bill what the new status calls for: a completed appointment is invoiced and sent."""
    if appointment.status == COMPLETED:
        from bot.billing.completion import on_appointment_completed

        on_appointment_completed(session, appointment, now)

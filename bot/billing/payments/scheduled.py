"""Saved-card charges the owner sets for a date: scheduled, listed, cancelled.

The charge itself is `bot.billing.payments.online.run_scheduled_charges`, run by the worker's
billing jobs every minute: a charge set for a day is due from `CHARGE_HOUR` that morning in
the business's zone (or at once, if that hour has passed), and it charges the balance the
invoice has then. A cancelled charge keeps its row (status `cancelled`) for the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.ledger.invoices import get_invoice, totals
from bot.billing.payments.online import card_label, saved_card, schedule_charge
from bot.config.context import BusinessContext, business_context
from bot.core.text import _, t
from bot.scheduling.availability import local_instant
from bot.scheduling.booking import NOT_ALLOWED, Refused
from storage.billing import PENDING, Invoice, ScheduledCharge

CHARGE_HOUR = time(9, 0)
CANCELLED = "cancelled"
OWNER_REASON = "owner"


@dataclass(frozen=True)
class Planned:
    """A pending scheduled charge as the owner reads it."""

    id: int
    invoice_number: str
    customer: str
    charge_at: datetime
    card: str
    balance_minor: int


def charge_time(ctx: BusinessContext, day: date, now: datetime) -> datetime:
    """When a charge set for `day` falls due: CHARGE_HOUR local, or now if that has passed."""
    moments = local_instant(day, CHARGE_HOUR, ctx.zone)
    moment = moments[0] if moments else datetime.combine(day, CHARGE_HOUR, tzinfo=ctx.zone)
    return max(moment, now)


def schedule_on(
    session: Session, invoice_id: int, day: date, *, now: datetime
) -> ScheduledCharge | Refused:
    """Charge the saved card for the invoice's balance on `day` (the worker's job does it)."""
    ctx = business_context(session)
    if day < ctx.local_date(now):
        return Refused(NOT_ALLOWED, _("That day has passed."))
    invoice = get_invoice(session, invoice_id)
    if totals(session, invoice).balance <= 0:
        return Refused(NOT_ALLOWED, t("{number} is paid.", number=invoice.number))
    return schedule_charge(
        session, invoice_id, charge_at=charge_time(ctx, day, now), now=now, reason=OWNER_REASON
    )


def pending_charges(session: Session) -> list[Planned]:
    """Every scheduled charge still to run, soonest first."""
    rows = session.execute(
        select(ScheduledCharge, Invoice)
        .join(Invoice, Invoice.id == ScheduledCharge.invoice_id)
        .where(ScheduledCharge.status == PENDING)
        .order_by(ScheduledCharge.charge_at, ScheduledCharge.id)
    ).all()
    planned = []
    for charge, invoice in rows:
        card = saved_card(session, invoice.customer_id)
        planned.append(
            Planned(
                id=charge.id,
                invoice_number=invoice.number or t("invoice {id}", id=invoice.id),
                customer=invoice.customer.name or _("a customer"),
                charge_at=charge.charge_at,
                card=card_label(card) if card else _("no saved card"),
                balance_minor=totals(session, invoice).balance,
            )
        )
    return planned


def cancel_charge(session: Session, charge_id: int, *, now: datetime) -> ScheduledCharge | Refused:
    """Stop a scheduled charge that has not run yet."""
    charge = session.get(ScheduledCharge, charge_id, with_for_update=True)
    if charge is None:
        return Refused(NOT_ALLOWED, t("There is no scheduled charge #{charge_id}.", charge_id=charge_id))
    if charge.status != PENDING or charge.provider_payment_id is not None:
        return Refused(NOT_ALLOWED, t("Scheduled charge #{charge_id} is {status} already.", charge_id=charge_id, status=charge.status))
    if charge.leased_until is not None and charge.leased_until > now:
        return Refused(NOT_ALLOWED, t("Scheduled charge #{charge_id} is running right now.", charge_id=charge_id))
    charge.status = CANCELLED
    charge.processed_at = now
    charge.last_error = "cancelled by the owner"
    return charge

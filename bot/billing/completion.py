"""Invoices from appointments: extras added while the work is under way, the invoice when
it is completed, and what completing sets off (sending it, charging a saved card).

One appointment has at most one work invoice (a unique key on appointment + purpose):
extras go onto its draft before completion, and `invoice_for_appointment` is idempotent.
A paid deposit shows on the final invoice as a negative `deposit` line, so the customer
pays the rest; an unpaid deposit invoice is voided, since the full price is now invoiced.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.billing.documents.delivery import send_invoice
from bot.billing.documents.estimates import copy_lines
from bot.billing.ledger.invoices import (
    LineSpec,
    add_line,
    get_invoice,
    insert_line,
    issue_invoice,
    refresh_status,
    totals,
    void_invoice,
)
from bot.billing.payments.online import saved_card, schedule_charge
from bot.config.context import business_context
from bot.core.errors import NotFound
from bot.core.money import Number
from bot.core.text import _, t
from bot.scheduling.booking import NOT_ALLOWED, Refused
from storage.billing import (
    APPROVED,
    CREDIT,
    DEPOSIT,
    EXTRA,
    FOR_APPOINTMENT,
    FOR_DEPOSIT,
    INVOICED,
    Estimate,
    Invoice,
    InvoiceLine,
)
from storage.models import CANCELLED, NO_SHOW, Appointment


def appointment_invoice(
    session: Session, appointment_id: int, purpose: str = FOR_APPOINTMENT
) -> Invoice | None:
    """The appointment's invoice of a purpose (its work, its deposit, its no-show fee)."""
    return session.scalars(
        select(Invoice).where(Invoice.appointment_id == appointment_id, Invoice.purpose == purpose)
    ).first()


def _draft_for(session: Session, appointment: Appointment, now: datetime) -> Invoice:
    existing = appointment_invoice(session, appointment.id)
    if existing is not None:
        return existing
    ctx = business_context(session)
    invoice = Invoice(
        customer_id=appointment.customer_id,
        appointment_id=appointment.id,
        purpose=FOR_APPOINTMENT,
        currency=ctx.currency,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(invoice)
            session.flush()
    except IntegrityError:  # made concurrently (PostgreSQL): use that one
        found = appointment_invoice(session, appointment.id)
        assert found is not None
        return found
    return invoice


def add_extra_to_appointment(
    session: Session,
    appointment_id: int,
    *,
    description: str,
    unit_price_minor: int,
    now: datetime,
    quantity: Number = 1,
    kind: str = EXTRA,
    tax_rate: Number | None = None,
) -> InvoiceLine | Refused:
    """Staff or the owner add an extra charge (or a part, or a discount) to an appointment."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    if appointment.status in (CANCELLED, NO_SHOW):
        return Refused(NOT_ALLOWED, t("This appointment is {status}.", status=appointment.status.replace('_', ' ')))
    invoice = _draft_for(session, appointment, now)
    return add_line(
        session,
        invoice.id,
        kind=kind,
        description=description,
        unit_price_minor=unit_price_minor,
        quantity=quantity,
        tax_rate=tax_rate,
        now=now,
    )


def _work_lines(session: Session, appointment: Appointment, invoice: Invoice) -> list[LineSpec]:
    """The estimate's lines if one was approved for this appointment, else the service."""
    estimate = session.scalars(
        select(Estimate)
        .where(Estimate.appointment_id == appointment.id, Estimate.status == APPROVED)
        .order_by(Estimate.id.desc())
    ).first()
    if estimate is not None:
        estimate.status = INVOICED
        invoice.estimate_id = estimate.id
        return copy_lines(session, estimate)
    ctx = business_context(session)
    words = t("{service} with {staff}, {day}", service=appointment.service.name, staff=appointment.staff.name, day=ctx.day(appointment.starts_at))
    return [LineSpec("service", words, appointment.price_minor)]


def _credit_deposit(
    session: Session, appointment: Appointment, invoice: Invoice, now: datetime
) -> None:
    deposit = appointment_invoice(session, appointment.id, FOR_DEPOSIT)
    if deposit is None or deposit.voided_at is not None:
        return
    ctx = business_context(session)
    paid = totals(session, deposit).paid
    if paid <= 0:
        void_invoice(session, deposit.id, now=now, reason="work invoiced in full")
        return
    spec = LineSpec(DEPOSIT, t("Deposit paid ({number})", number=deposit.number), -paid, 1, "0")
    insert_line(
        session, invoice, spec, now=now, ctx=ctx, dedupe_key=f"deposit-credit:{appointment.id}"
    )
    left = refresh_status(session, deposit).balance
    if left > 0:  # part-paid deposit: the rest is on the work invoice now
        rest = LineSpec(CREDIT, _("Balance moved to the invoice for the work"), left, 1, "0")
        insert_line(session, deposit, rest, now=now, ctx=ctx)
        refresh_status(session, deposit, now)


def invoice_for_appointment(session: Session, appointment_id: int, now: datetime) -> Invoice:
    """The issued invoice for an appointment's work: service (or estimate) + extras + tax,
    less any deposit paid. Idempotent: one invoice per appointment."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    invoice = _draft_for(session, appointment, now)
    if invoice.issued_at is not None or invoice.voided_at is not None:
        return invoice
    ctx = business_context(session)
    for spec in _work_lines(session, appointment, invoice):
        insert_line(session, invoice, spec, now=now, ctx=ctx)
    _credit_deposit(session, appointment, invoice, now)
    return issue_invoice(session, invoice.id, now=now)


def on_appointment_completed(session: Session, appointment: Appointment, now: datetime) -> Invoice:
    """Invoice the completed appointment, send it, and charge a saved card if configured."""
    invoice = invoice_for_appointment(session, appointment.id, now)
    send_invoice(session, invoice.id, now=now, dedupe_key=f"invoice:{invoice.id}")
    ctx = business_context(session)
    if (
        ctx.billing.auto_charge == "on_completion"
        and refresh_status(session, invoice).balance > 0
        and saved_card(session, invoice.customer_id) is not None
    ):
        schedule_charge(session, invoice.id, charge_at=now, now=now, reason="auto_charge")
    return get_invoice(session, invoice.id)

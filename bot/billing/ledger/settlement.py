"""Recording payments and refunds, with their receipts and what paying something causes.

Every way money arrives — a Stripe webhook, the sandbox checkout, a saved-card charge, the
owner marking cash or a cheque in chat — ends in `record_payment`, so receipts, owner notes,
credit on account and deposit confirmations happen the same way whatever the source. A new
payment is published as `bot.core.events.PaymentRecorded`; `on_payment_recorded` (subscribed in
bot.bootstrap) acts on what it settles.

Refunds are negative payments. A refund that merely returns an overpayment leaves the
invoice paid. One that would reopen a settled invoice is, by default, treated as money the
business chose to give back: a `credit` line (a credit note, untaxed) forgives the part that
would otherwise be owed again, so nobody is chased for it. Pass `write_off=False` to reopen
the balance instead (say, a refund made in error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.billing.contact import notify_owners
from bot.billing.ledger.invoices import (
    LineSpec,
    PaymentEntry,
    add_payment,
    apply_credit,
    credit_available,
    insert_line,
    issue_invoice,
    locked_invoice,
    refresh_status,
)
from bot.billing.ledger.totals import Totals
from bot.config.context import business_context
from bot.core import events
from bot.core.errors import InvalidRequest, NotFound
from bot.core.text import N_, _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from bot.scheduling import timeline
from bot.scheduling.booking import NOT_ALLOWED, Refused, set_status
from bot.scheduling.timeline import Kind
from storage.billing import (
    CREDIT,
    FOR_DEPOSIT,
    PAYMENT,
    PAYMENT_METHODS,
    PENDING,
    REFUND,
    SKIPPED,
    Invoice,
    Payment,
    ScheduledCharge,
)
from storage.models import AWAITING_DEPOSIT, BOOKED, CANCELLED, Appointment, Customer

SANDBOX = "sandbox"
TEST_MODE = N_("[TEST MODE - no real money] ")
_METHOD_WORDS = {"card": N_("card"), "cash": N_("cash"), "cheque": N_("cheque")}
_METHOD_WORDS |= {"bank_transfer": N_("bank transfer"), "other": N_("other means")}


@dataclass(frozen=True)
class PaymentRecorded:
    """A payment now on the books (or found there already: `duplicate`)."""

    payment: Payment
    invoice: Invoice
    totals: Totals
    duplicate: bool = False


@dataclass(frozen=True)
class RefundRecorded:
    """A refund on the books, and the credit line that forgave it, if one was needed."""

    refund: Payment
    invoice: Invoice
    totals: Totals
    written_off_minor: int = 0
    duplicate: bool = False


def _customer_name(session: Session, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    return (customer.name if customer else None) or t("Customer {id}", id=customer_id)


def record_payment(
    session: Session,
    invoice_id: int,
    *,
    amount_minor: int,
    method: str,
    now: datetime,
    reference: str = "",
    provider: str | None = None,
    provider_payment_id: str | None = None,
    actor: str = "owner",
    received_at: datetime | None = None,
    notify: bool = True,
) -> PaymentRecorded | Refused:
    """Record money received for an invoice, send the receipt and act on what it settles.

    Idempotent on `provider_payment_id`. A provider payment is recorded even on a void
    invoice (the money did arrive: it becomes credit); a hand-entered one is refused there.
    """
    if method not in PAYMENT_METHODS:
        raise InvalidRequest(f"unknown payment method {method!r}; use one of {PAYMENT_METHODS}")
    invoice = locked_invoice(session, invoice_id)
    if amount_minor <= 0:
        return Refused(NOT_ALLOWED, _("A payment must be more than zero."))
    if invoice.voided_at is not None and provider is None:
        return Refused(NOT_ALLOWED, t("{number} is void.", number=invoice.number))
    issue_invoice(session, invoice.id, now=now)
    payment = add_payment(
        session,
        invoice,
        PaymentEntry(
            amount_minor=amount_minor,
            method=method,
            reference=reference,
            provider=provider,
            provider_payment_id=provider_payment_id,
            actor=actor,
            received_at=received_at,
        ),
        now=now,
    )
    if payment is None:
        existing = session.scalars(
            select(Payment).where(Payment.provider_payment_id == provider_payment_id)
        ).one()
        return PaymentRecorded(existing, invoice, refresh_status(session, invoice), duplicate=True)
    invoice.updated_at = now
    if invoice.appointment_id is not None:
        timeline.record(
            session,
            invoice.appointment_id,
            Kind.PAID,
            at=now,
            actor=actor,
            amount_minor=amount_minor,
            currency=invoice.currency,
            invoice=invoice.number,
            method=method,
        )
    refresh_status(session, invoice, now)
    apply_credit(session, invoice.customer_id, now)
    result = refresh_status(session, invoice, now)
    if notify:
        _receipt(session, payment, invoice, result, now)
    events.publish(
        session,
        events.PaymentRecorded(
            at=now,
            payment_id=payment.id,
            invoice_id=invoice.id,
            appointment_id=invoice.appointment_id,
            amount_minor=amount_minor,
            balance_minor=result.balance,
            actor=actor,
        ),
    )
    return PaymentRecorded(payment, invoice, result)


def _receipt(
    session: Session, payment: Payment, invoice: Invoice, result: Totals, now: datetime
) -> None:
    ctx = business_context(session)
    test = _(TEST_MODE) if payment.provider == SANDBOX else ""
    how = _(_METHOD_WORDS[payment.method]) if payment.method in _METHOD_WORDS else payment.method
    text = (
        t("{test}Thank you! We received {amount} "
        "for {number} by {how}.", test=test, amount=ctx.money(payment.amount_minor), number=invoice.number, how=how)
    )
    if result.balance > 0:
        text += t(" Still to pay: {balance}.", balance=ctx.money(result.balance))
    else:
        text += _(" It's paid in full.")
    credit = credit_available(session, invoice.customer_id)
    if credit > 0:
        text += t(" You have {credit} credit for next time.", credit=ctx.money(credit))
    tell_customer(
        session,
        invoice.customer_id,
        Reply(text),
        purpose=Purpose.RECEIPT,
        now=now,
        ref_id=payment.id,
        dedupe_key=f"receipt:{payment.id}",
    )
    who = _customer_name(session, invoice.customer_id)
    note = (
        t("{test}Payment: {who} paid {amount} on {number} "
        "by {how}. Balance {balance}.", test=test, who=who, amount=ctx.money(payment.amount_minor), number=invoice.number, how=how, balance=ctx.money(max(result.balance, 0)))
    )
    if result.balance < 0:
        note += t(" Overpaid by {credit}: kept as credit.", credit=ctx.money(-result.balance))
    # Like bot.messaging.notify: owners hear about what customers and providers did, not their own acts.
    if not payment.actor.startswith("owner"):
        notify_owners(
            session, ctx, note, now=now, ref_id=payment.id, dedupe_key=f"paid:{payment.id}"
        )


def on_payment_recorded(session: Session, event: events.PaymentRecorded) -> None:
    """Subscriber: what settling an invoice sets off: a deposit confirms its booking; charges stop."""
    if event.balance_minor > 0:
        return
    invoice = session.get(Invoice, event.invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice with id {event.invoice_id}")
    now = event.at
    for charge in session.scalars(
        select(ScheduledCharge).where(
            ScheduledCharge.invoice_id == invoice.id, ScheduledCharge.status == PENDING
        )
    ):
        charge.status = SKIPPED
        charge.last_error = "already paid"
        charge.processed_at = now
    if invoice.purpose == FOR_DEPOSIT and invoice.appointment_id is not None:
        _deposit_paid(session, invoice, now)


def _deposit_paid(session: Session, invoice: Invoice, now: datetime) -> None:
    appointment = session.get(Appointment, invoice.appointment_id)
    if appointment is None:
        return
    ctx = business_context(session)
    what = t("{service} with {staff}, {when}", service=appointment.service.name, staff=appointment.staff.name, when=ctx.when(appointment.starts_at))
    if appointment.status == AWAITING_DEPOSIT:
        # bot.messaging.notify turns this change into the booking's confirmation (with its .ics).
        set_status(session, appointment.id, BOOKED, now=now, actor="system", reason="deposit paid")
    elif appointment.status == CANCELLED:
        who = _customer_name(session, appointment.customer_id)
        notify_owners(
            session,
            ctx,
            t("{who} paid the deposit ({number}) for {what} after the booking was "
            "released. It is held as credit: rebook them or refund it.", who=who, number=invoice.number, what=what),
            now=now,
            dedupe_key=f"late-deposit:{invoice.id}",
        )


def refundable(session: Session, payment: Payment) -> int:
    """How much of a payment has not been refunded yet."""
    refunded = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.refund_of_id == payment.id
        )
    )
    return payment.amount_minor + int(refunded or 0)


def record_refund(
    session: Session,
    payment_id: int,
    *,
    amount_minor: int,
    now: datetime,
    reason: str = "",
    provider_refund_id: str | None = None,
    write_off: bool = True,
    actor: str = "owner",
    notify: bool = True,
) -> RefundRecorded | Refused:
    """Record money given back on a payment (idempotent on `provider_refund_id`)."""
    payment = session.get(Payment, payment_id)
    if payment is None or payment.kind != PAYMENT:
        raise NotFound(f"no payment with id {payment_id}")
    invoice = locked_invoice(session, payment.invoice_id)
    if provider_refund_id is not None:
        existing = session.scalars(
            select(Payment).where(Payment.provider_payment_id == provider_refund_id)
        ).first()
        if existing is not None:
            return RefundRecorded(existing, invoice, refresh_status(session, invoice), 0, True)
    if not 0 < amount_minor <= refundable(session, payment):
        return Refused(NOT_ALLOWED, _("That is more than is left to refund on this payment."))
    before = refresh_status(session, invoice).balance
    refund = add_payment(
        session,
        invoice,
        PaymentEntry(
            amount_minor=-amount_minor,
            method=payment.method,
            kind=REFUND,
            reference=reason,
            provider=payment.provider,
            provider_payment_id=provider_refund_id,
            refund_of_id=payment.id,
            actor=actor,
        ),
        now=now,
    )
    if refund is None:  # recorded concurrently
        existing = session.scalars(
            select(Payment).where(Payment.provider_payment_id == provider_refund_id)
        ).one()
        return RefundRecorded(existing, invoice, refresh_status(session, invoice), 0, True)
    # Forgive only what the refund would newly make owing (not what it takes from credit).
    forgive = max(0, before + amount_minor) - max(0, before) if write_off else 0
    if forgive:
        ctx = business_context(session)
        spec = LineSpec(CREDIT, t("Refund credit ({reason})", reason=reason or _('refunded')), forgive, 1, "0")
        insert_line(session, invoice, spec, now=now, ctx=ctx)
    invoice.updated_at = now
    result = refresh_status(session, invoice, now)
    if notify:
        ctx = business_context(session)
        tell_customer(
            session,
            invoice.customer_id,
            Reply(t("We've refunded {amount} on {number}.", amount=ctx.money(amount_minor), number=invoice.number)),
            purpose=Purpose.RECEIPT,
            now=now,
            ref_id=refund.id,
            dedupe_key=f"refund:{refund.id}",
        )
        who = _customer_name(session, invoice.customer_id)
        notify_owners(
            session,
            ctx,
            t("Refund: {amount} to {who} on {number}.", amount=ctx.money(amount_minor), who=who, number=invoice.number),
            now=now,
            dedupe_key=f"refunded:{refund.id}",
        )
    return RefundRecorded(refund, invoice, result, forgive)

"""Deposits: a booking for a service that asks for one waits, as "awaiting_deposit", until
its deposit invoice is paid, and is released if it is not paid in time.

The conversation engine books with `status=AWAITING_DEPOSIT` when `deposit_for` says a
deposit is due, then calls `require_deposit`, which issues the deposit invoice (untaxed:
tax is charged on the final invoice, where the deposit is credited) and sends its pay link.
Paying it — by webhook, sandbox or the owner marking cash — books the appointment (see
`settlement`). `release_unpaid_deposits` cancels those still unpaid after
`billing.deposit_hold_hours`: the customer hears of it through bot.messaging.notify's cancellation
notice, which gives the reason "deposit not paid", and the owners from billing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.completion import appointment_invoice
from bot.billing.contact import notify_owners
from bot.billing.ledger.invoices import (
    LineSpec,
    create_invoice,
    issue_invoice,
    refresh_status,
    void_invoice,
)
from bot.billing.ledger.minimums import below_minimum_words, online_minimum, payable_online
from bot.billing.payments.links import pay_url
from bot.config.context import business_context
from bot.core.money import percent_of
from bot.core.text import N_, _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from bot.scheduling.booking import Changed, cancel
from storage.billing import DEPOSIT, FOR_DEPOSIT, Invoice
from storage.db import Database
from storage.models import AWAITING_DEPOSIT, Appointment, Customer, Service

RELEASE_REASON = N_("deposit not paid")


@dataclass(frozen=True)
class DepositRequest:
    """A deposit asked for: its invoice, amount, pay link and deadline."""

    invoice: Invoice
    amount_minor: int
    url: str
    due_at: datetime


def deposit_amount(service: Service, price_minor: int) -> int:
    """The deposit a service asks for at a price: a fixed amount, or a percent rounded half up."""
    if service.deposit_minor:
        return min(service.deposit_minor, price_minor)
    if service.deposit_percent:
        return percent_of(price_minor, service.deposit_percent)
    return 0


def deposit_for(session: Session, service_id: int) -> int:
    """The deposit booking this service needs at its list price (0: book straight away)."""
    service = session.get(Service, service_id)
    return deposit_amount(service, service.price_minor) if service else 0


def require_deposit(
    session: Session, appointment: Appointment, now: datetime
) -> DepositRequest | None:
    """Issue the appointment's deposit invoice and send its pay link (idempotent).

    None when the service asks for no deposit.
    """
    amount = deposit_amount(appointment.service, appointment.price_minor)
    if amount <= 0:
        return None
    ctx = business_context(session)
    invoice = appointment_invoice(session, appointment.id, FOR_DEPOSIT)
    if invoice is None:
        words = t("Deposit for {service}, {when}", service=appointment.service.name, when=ctx.when(appointment.starts_at))
        invoice = create_invoice(
            session,
            customer_id=appointment.customer_id,
            now=now,
            purpose=FOR_DEPOSIT,
            appointment_id=appointment.id,
            lines=[LineSpec(DEPOSIT, words, amount, 1, "0")],
        )
    hours = ctx.billing.deposit_hold_hours
    issue_invoice(session, invoice.id, now=now, due_at=now + timedelta(hours=hours))
    url = pay_url(session, invoice.id, now=now)
    what = t("{service} with {staff}, {when}", service=appointment.service.name, staff=appointment.staff.name, when=ctx.when(appointment.starts_at))
    online = payable_online(amount, invoice.currency)
    ask = (
        t("To confirm your {what}, please pay a {amount} deposit within "
        "{hours} hours: {url}", what=what, amount=ctx.money(amount), hours=hours, url=url)
        if online
        else t("To confirm your {what}, a {amount} deposit is due within {hours} "
        "hours. {below_minimum_words}", what=what, amount=ctx.money(amount), hours=hours, below_minimum_words=below_minimum_words(ctx, amount, invoice.currency))
    )
    tell_customer(
        session,
        appointment.customer_id,
        Reply(ask),
        purpose=Purpose.DEPOSIT,
        now=now,
        ref_id=appointment.id,
        dedupe_key=f"deposit-request:{appointment.id}",
    )
    if not online:
        # No pay link can take it: the owner collects it and marks it paid, or it lapses.
        customer = session.get(Customer, appointment.customer_id)
        who = (customer.name if customer else None) or _("A customer")
        notify_owners(
            session,
            ctx,
            t("{who}'s {what} needs a {amount} deposit ({number}), below the "
            "{online_minimum} minimum for paying online: they "
            'were asked to pay another way. When they do, reply "mark {number} paid '
            'cash"; unpaid, the booking is released in {hours} hours.', who=who, what=what, amount=ctx.money(amount), number=invoice.number, online_minimum=ctx.money(online_minimum(invoice.currency)), hours=hours),
            now=now,
            ref_id=appointment.id,
            dedupe_key=f"deposit-below-minimum:{appointment.id}",
        )
    assert invoice.due_at is not None
    return DepositRequest(invoice, amount, url, invoice.due_at)


def _release(session: Session, appointment_id: int, now: datetime) -> bool:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != AWAITING_DEPOSIT:
        return False
    ctx = business_context(session)
    invoice = appointment_invoice(session, appointment.id, FOR_DEPOSIT)
    hold = timedelta(hours=ctx.billing.deposit_hold_hours)
    deadline = invoice.due_at if invoice and invoice.due_at else appointment.created_at + hold
    if now < deadline:
        return False
    if invoice is not None and refresh_status(session, invoice).balance <= 0:
        return False  # paid: the payment will have booked it (or will, in this transaction)
    # Actor "billing": bot.messaging.notify's cancellation notice then gives the customer the reason
    # (one message, with the reason), and the owners hear it from us below.
    outcome = cancel(
        session,
        appointment.id,
        now=now,
        reason=_(RELEASE_REASON),
        actor="billing",
        enforce_cutoff=False,
    )
    if not isinstance(outcome, Changed):
        return False
    if invoice is not None:
        void_invoice(session, invoice.id, now=now, reason=RELEASE_REASON)
    customer = session.get(Customer, appointment.customer_id)
    who = (customer.name if customer else None) or _("A customer")
    notify_owners(
        session,
        ctx,
        t("Released: {who}'s {service}, {when} "
        "- the deposit was not paid within {deposit_hold_hours} hours.", who=who, service=appointment.service.name, when=ctx.when(appointment.starts_at), deposit_hold_hours=ctx.billing.deposit_hold_hours),
        now=now,
        ref_id=appointment.id,
        dedupe_key=f"deposit-released:{appointment.id}",
    )
    return True


def release_unpaid_deposits(db: Database, now: datetime) -> int:
    """Cancel bookings whose deposit was not paid in time (notifying the customer); how many."""
    with db.read() as session:
        waiting = list(
            session.scalars(select(Appointment.id).where(Appointment.status == AWAITING_DEPOSIT))
        )
    released = 0
    for appointment_id in waiting:
        # One transaction each: one odd booking cannot hold up the rest.
        with db.write() as session:
            released += _release(session, appointment_id, now)
    return released

"""Accounts receivable: aging, finance charges on overdue balances, no-show fees.

Aging buckets are by whole local days past the due date: current (not yet due), 1-30,
31-60, 61-90 and 90+. Drafts are not receivable; a void invoice counts only for money that
arrived on it anyway (credit). The report's total is the sum of every issued invoice's
balance — buckets plus (negative) unapplied credit.

Finance charges: after `finance_charge_grace_days` past the due date, once per calendar month
(the business's local month) per invoice, a `finance_charge` line of the configured percent
of the overdue base (or the flat amount) is added. The base excludes earlier finance
charges — they are never compounded — and balances under the configured minimum are left
alone. The line's dedupe key ("finance:<invoice>:<YYYY-MM>") makes a second run in the same
month a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.billing.completion import appointment_invoice
from bot.billing.ledger.invoices import (
    LineSpec,
    add_line,
    create_invoice,
    issue_invoice,
    issued_invoices,
    lines_of,
    totals_for,
)
from bot.billing.ledger.minimums import below_minimum_words, pay_here, payable_online
from bot.billing.ledger.totals import BUCKETS, bucket_for
from bot.billing.payments.links import pay_url
from bot.billing.payments.online import card_label, saved_card, schedule_charge
from bot.config.context import business_context
from bot.core.formatting import format_month
from bot.core.money import percent_of
from bot.core.text import t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from bot.scheduling.booking import Refused
from storage.billing import FINANCE_CHARGE, FOR_DEPOSIT, FOR_NO_SHOW, NO_SHOW_FEE, Invoice
from storage.db import Database
from storage.models import NO_SHOW, Appointment, Customer

NO_SHOW_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class AgingLine:
    """One invoice with money owing, and how late it is."""

    invoice_id: int
    number: str
    customer_id: int
    customer_name: str
    balance: int
    due_at: datetime
    days_past_due: int
    bucket: str


@dataclass
class CustomerAging:
    """One customer's owing, by bucket, and their unapplied credit (negative)."""

    customer_id: int
    name: str
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    credit: int = 0

    @property
    def total(self) -> int:
        """What the customer owes net of credit."""
        return sum(self.buckets.values()) + self.credit


@dataclass(frozen=True)
class AgingReport:
    """Receivables as of an instant: per bucket, per customer, the largest balances."""

    as_of: datetime
    currency: str
    buckets: dict[str, int]
    credit: int
    customers: tuple[CustomerAging, ...]
    invoices: tuple[AgingLine, ...]

    @property
    def total(self) -> int:
        """Everything owed to the business, net of credit it holds for customers."""
        return sum(self.buckets.values()) + self.credit

    def largest(self, count: int = 5) -> tuple[AgingLine, ...]:
        """The biggest balances first."""
        return tuple(sorted(self.invoices, key=lambda line: (-line.balance, line.number))[:count])


def aging(session: Session, now: datetime) -> AgingReport:
    """The accounts receivable aging report as of `now`."""
    ctx = business_context(session)
    invoices = issued_invoices(session)
    sums = totals_for(session, invoices)
    today = ctx.local_date(now)
    names = {cid: name for cid, name in session.execute(select(Customer.id, Customer.name))}
    buckets = dict.fromkeys(BUCKETS, 0)
    credit = 0
    customers: dict[int, CustomerAging] = {}
    lines = []
    for invoice in invoices:
        balance = sums[invoice.id].balance
        if balance == 0:
            continue
        name = names.get(invoice.customer_id) or t("Customer {id}", id=invoice.customer_id)
        row = customers.setdefault(invoice.customer_id, CustomerAging(invoice.customer_id, name))
        if balance < 0:
            credit += balance
            row.credit += balance
            continue
        if invoice.voided_at is not None:
            continue  # cannot happen (a void invoice's total is 0); kept for safety
        due = invoice.due_at or invoice.issued_at
        assert due is not None
        days = (today - ctx.local_date(due)).days
        bucket = bucket_for(days)
        buckets[bucket] += balance
        row.buckets[bucket] += balance
        lines.append(
            AgingLine(
                invoice.id,
                invoice.number or "",
                invoice.customer_id,
                name,
                balance,
                due,
                days,
                bucket,
            )
        )
    ordered = tuple(sorted(customers.values(), key=lambda c: (-c.total, c.name)))
    return AgingReport(now, ctx.currency, buckets, credit, ordered, tuple(lines))


# ---------------------------------------------------------------------- finance charges


def _finance_base(session: Session, invoice: Invoice, balance: int) -> int:
    """The overdue amount a finance charge is figured on: never earlier finance charges."""
    charged = sum(
        line.net_minor + line.tax_minor
        for line in lines_of(session, invoice.id)
        if line.kind == FINANCE_CHARGE
    )
    return max(0, balance - charged)


def _assess(session: Session, invoice_id: int, now: datetime) -> bool:
    ctx = business_context(session)
    billing = ctx.billing
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.voided_at is not None or invoice.due_at is None:
        return False
    if now < invoice.due_at + timedelta(days=billing.finance_charge_grace_days):
        return False
    balance = totals_for(session, [invoice])[invoice.id].balance
    base = _finance_base(session, invoice, balance)
    if base <= 0 or base < billing.finance_charge_minimum_minor:
        return False
    local = now.astimezone(ctx.zone)
    month = format_month(local.date(), ctx.locale)
    if billing.finance_charge_percent is not None:
        amount = percent_of(base, billing.finance_charge_percent)
        words = t("Finance charge {finance_charge_percent}% on {base} overdue ({month})", finance_charge_percent=billing.finance_charge_percent, base=ctx.money(base), month=month)
    else:
        amount = billing.finance_charge_flat_minor
        words = t("Late fee ({month})", month=month)
    if amount <= 0:
        return False
    key = f"finance:{invoice.id}:{local:%Y-%m}"
    line = add_line(
        session,
        invoice.id,
        kind=FINANCE_CHARGE,
        description=words,
        unit_price_minor=amount,
        tax_rate="0",
        now=now,
        dedupe_key=key,
    )
    if isinstance(line, Refused):
        return False  # already charged this month
    url = pay_url(session, invoice.id, now=now)
    tell_customer(
        session,
        invoice.customer_id,
        Reply(
            t("{number} is overdue, so a {amount} finance charge was added. ", number=invoice.number, amount=ctx.money(amount))
            + (
                t("Pay {amount} here: {url}", amount=ctx.money(balance + amount), url=url)
                if payable_online(balance + amount, invoice.currency)
                else below_minimum_words(ctx, balance + amount, invoice.currency)
            )
        ),
        purpose=Purpose.FINANCE_CHARGE,
        now=now,
        ref_id=invoice.id,
        dedupe_key=key,
    )
    return True


def assess_finance_charges(db: Database, now: datetime) -> int:
    """Add this month's finance charge to each overdue invoice (idempotent); how many."""
    with db.read() as session:
        billing = business_context(session).billing
        if not billing.finance_charges_on:
            return 0
        candidates = list(
            session.scalars(
                select(Invoice.id).where(
                    Invoice.issued_at.is_not(None),
                    Invoice.voided_at.is_(None),
                    Invoice.status.in_(("sent", "partially_paid")),
                    Invoice.purpose != FOR_DEPOSIT,
                    Invoice.due_at < now - timedelta(days=billing.finance_charge_grace_days),
                )
            )
        )
    added = 0
    for invoice_id in candidates:
        with db.write() as session:
            added += _assess(session, invoice_id, now)
    return added


# ------------------------------------------------------------------------ no-show fees


def _no_show_fee(session: Session, appointment_id: int, fee: int, now: datetime) -> bool:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != NO_SHOW:
        return False
    if appointment_invoice(session, appointment.id, FOR_NO_SHOW) is not None:
        return False
    ctx = business_context(session)
    what = f"{appointment.service.name}, {ctx.when(appointment.starts_at)}"
    try:
        with session.begin_nested():
            invoice = create_invoice(
                session,
                customer_id=appointment.customer_id,
                now=now,
                purpose=FOR_NO_SHOW,
                appointment_id=appointment.id,
                lines=[LineSpec(NO_SHOW_FEE, t("Missed appointment: {what}", what=what), fee, 1, "0")],
            )
    except IntegrityError:  # another worker charged it first
        return False
    issue_invoice(session, invoice.id, now=now)
    card = saved_card(session, appointment.customer_id)
    text = t("You missed your {what}. A missed-appointment fee of {fee} applies ({number}).", what=what, fee=ctx.money(fee), number=invoice.number)
    if card is not None and payable_online(fee, invoice.currency):
        schedule_charge(session, invoice.id, charge_at=now, now=now, reason="no_show")
        text += t(" It will be charged to your {card_label}.", card_label=card_label(card))
    else:
        url = pay_url(session, invoice.id, now=now)
        text += f" {pay_here(ctx, fee, invoice.currency, url)}"
    tell_customer(
        session,
        appointment.customer_id,
        Reply(text),
        purpose=Purpose.NO_SHOW_FEE,
        now=now,
        ref_id=invoice.id,
        dedupe_key=f"no-show-fee:{appointment.id}",
    )
    return True


def charge_no_show_fees(db: Database, now: datetime) -> int:
    """Bill the configured fee for recent no-shows not yet billed (idempotent); how many."""
    with db.read() as session:
        fee = business_context(session).billing.no_show_fee_minor
        if not fee:
            return 0
        billed = select(Invoice.appointment_id).where(
            Invoice.purpose == FOR_NO_SHOW, Invoice.appointment_id.is_not(None)
        )
        pending = list(
            session.scalars(
                select(Appointment.id).where(
                    Appointment.status == NO_SHOW,
                    Appointment.starts_at >= now - NO_SHOW_LOOKBACK,
                    Appointment.id.not_in(billed),
                )
            )
        )
    charged = 0
    for appointment_id in pending:
        with db.write() as session:
            charged += _no_show_fee(session, appointment_id, fee, now)
    return charged

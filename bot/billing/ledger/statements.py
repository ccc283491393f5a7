"""Customer statements: beginning balance, charges, payments and ending balance for a period.

Everything that moved a customer's balance is a posting at an instant:
  * an invoice's lines post when it is issued (lines added later, such as finance charges,
    post when added);
  * voiding posts the reverse of the invoice's lines, when voided;
  * payments and refunds post when received.
Credit moved between a customer's own invoices is a pair of rows at the same instant that
cancel out, so it is left off. Then, for any period, ending = beginning + charges - payments,
the next period begins where this one ended, and a period running to now ends at the sum of
the customer's invoice balances (the property tests hold this to the cent).

Periods are local calendar dates in the business's zone, both ends included. Statements go
out in chat with a PDF on `billing.statement_day` for the month before (`send_monthly_statements`,
idempotent per customer and month), or on demand (`statement_reply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.documents.delivery import business_party, customer_party
from bot.billing.documents.pdf import Brand, Document, page_format_for, render, rows_of
from bot.billing.ledger.invoices import issued_invoices, lines_of, open_invoices, payments_of
from bot.billing.ledger.minimums import pay_here
from bot.billing.ledger.totals import Posting, StatementEntry, summarise
from bot.billing.payments.links import pay_url
from bot.config.context import BusinessContext, business_context
from bot.core.errors import NotFound
from bot.core.formatting import format_long_date, format_month
from bot.core.text import N_, _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Attachment, Reply
from bot.messaging.outbox import Purpose
from storage.billing import CREDIT_TRANSFER, REFUND, Invoice
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import Customer

_METHODS = {"bank_transfer": N_("bank transfer"), "account_credit": N_("credit")}


@dataclass(frozen=True)
class Statement:
    """One customer's account for a period of local dates (inclusive)."""

    customer_id: int
    customer_name: str
    start: date
    end: date
    beginning: int
    entries: tuple[StatementEntry, ...]
    charges: int
    payments: int
    ending: int


def postings(session: Session, customer_id: int) -> list[Posting]:
    """Every charge and payment on a customer's account, in time order."""
    result: list[Posting] = []
    for invoice in issued_invoices(session, customer_id):
        result += _invoice_postings(session, invoice)
    return sorted(result, key=lambda p: p.at)


def _invoice_postings(session: Session, invoice: Invoice) -> list[Posting]:
    assert invoice.issued_at is not None
    number = invoice.number
    found: list[Posting] = []
    at_issue = 0
    all_lines = 0
    for line in lines_of(session, invoice.id):
        amount = line.net_minor + line.tax_minor
        all_lines += amount
        if line.created_at <= invoice.issued_at:
            at_issue += amount
        else:
            found.append(
                Posting(line.created_at, f"{number}: {line.description}", amount, 0, number)
            )
    found.append(Posting(invoice.issued_at, t("Invoice {number}", number=number), at_issue, 0, number))
    if invoice.voided_at is not None:
        found.append(Posting(invoice.voided_at, t("{number} voided", number=number), -all_lines, 0, number))
    for payment in payments_of(session, invoice.id):
        if payment.kind == CREDIT_TRANSFER:
            continue
        how = _(_METHODS[payment.method]) if payment.method in _METHODS else payment.method
        words = t("Refund ({number})", number=number) if payment.kind == REFUND else t("Payment by {how} ({number})", how=how, number=number)
        found.append(Posting(payment.received_at, words, 0, payment.amount_minor, number))
    return found


def _midnight(ctx: BusinessContext, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.zone)


def statement(session: Session, customer_id: int, start: date, end: date) -> Statement:
    """The customer's statement for local dates start..end inclusive."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    ctx = business_context(session)
    summary = summarise(
        postings(session, customer_id),
        _midnight(ctx, start),
        _midnight(ctx, end + timedelta(days=1)),
    )
    return Statement(
        customer_id,
        customer.name or t("Customer {id}", id=customer_id),
        start,
        end,
        summary.beginning,
        summary.entries,
        summary.charges,
        summary.payments,
        summary.ending,
    )


def period_words(ctx: BusinessContext, start: date, end: date) -> str:
    """ "Nov 1, 2026 to Nov 30, 2026"."""
    return t(
        "{start} to {end}",
        start=format_long_date(start, ctx.locale),
        end=format_long_date(end, ctx.locale),
    )


def statement_pdf(session: Session, st: Statement, *, now: datetime) -> bytes:
    """The statement as a PDF: entries with a running balance, and the four totals."""
    ctx = business_context(session)
    customer = session.get(Customer, st.customer_id)
    assert customer is not None
    rows = [
        (
            format_long_date(ctx.local_date(entry.at), ctx.locale),
            entry.description,
            ctx.money(entry.charge) if entry.charge else "",
            ctx.money(entry.payment) if entry.payment else "",
            ctx.money(entry.balance),
        )
        for entry in st.entries
    ]
    ending = _("Ending balance") if st.ending >= 0 else _("Ending balance (credit)")
    start_row = (
        format_long_date(st.start, ctx.locale),
        _("Balance forward"),
        "",
        "",
        ctx.money(st.beginning),
    )
    return render(
        Document(
            title=_("Statement"),
            number=format_month(st.start, ctx.locale)
            if st.start.day == 1
            else f"{st.start.isoformat()}",
            business=business_party(ctx),
            brand=Brand.from_hex(ctx.branding.colour, ctx.branding.logo),
            customer=customer_party(customer),
            facts=(
                (_("Period"), period_words(ctx, st.start, st.end)),
                (_("Date"), format_long_date(ctx.local_date(now), ctx.locale)),
            ),
            columns=(
                (_("Date"), 0.16, "L"),
                (_("Description"), 0.39, "L"),
                (_("Charges"), 0.15, "R"),
                (_("Payments"), 0.15, "R"),
                (_("Balance"), 0.15, "R"),
            ),
            rows=rows_of([start_row, *(rows or [("", _("No activity in this period"), "", "", "")])]),
            totals=(
                (_("Beginning balance"), ctx.money(st.beginning), False),
                (_("Charges"), ctx.money(st.charges), False),
                (_("Payments"), ctx.money(st.payments), False),
                (ending, ctx.money(st.ending), True),
            ),
            note=_("Thank you for your business."),
            page_format=page_format_for(ctx.locale),
            created=now,
        )
    )


def statement_reply(
    session: Session, customer_id: int, start: date, end: date, *, now: datetime
) -> Reply:
    """A statement as a chat message with its PDF, and pay links for what is open."""
    ctx = business_context(session)
    st = statement(session, customer_id, start, end)
    text = (
        t("Your statement from {business}, {period}: "
        "beginning balance {beginning}, charges {charges}, "
        "payments {payments}, ending balance {ending}.", business=ctx.name, period=period_words(ctx, start, end), beginning=ctx.money(st.beginning), charges=ctx.money(st.charges), payments=ctx.money(st.payments), ending=ctx.money(st.ending))
    )
    owing = open_invoices(session, customer_id)
    if len(owing) == 1:
        invoice, result = owing[0]
        url = pay_url(session, invoice.id, now=now)
        text += f" {pay_here(ctx, result.balance, invoice.currency, url)}"
    elif owing:
        text += _(" Reply PAY for pay links.")
    pdf = Attachment(
        "application/pdf",
        f"statement-{start:%Y-%m}.pdf",
        data=statement_pdf(session, st, now=now),
    )
    return Reply(text, attachments=(pdf,))


def send_statement(
    session: Session,
    customer_id: int,
    start: date,
    end: date,
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> bool:
    """Send a statement to the customer; False if unreachable or sent before (`dedupe_key`)."""
    reply = statement_reply(session, customer_id, start, end, now=now)
    sent = tell_customer(
        session,
        customer_id,
        reply,
        purpose=Purpose.STATEMENT,
        now=now,
        dedupe_key=dedupe_key,
    )
    return sent is not None


def previous_month(day: date) -> tuple[date, date]:
    """The first and last dates of the month before `day`'s."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def send_monthly_statements(db: Database, now: datetime) -> int:
    """On or after the statement day, send last month's statement to each customer with
    activity or a balance (once per customer and month); how many were sent."""
    with db.read() as session:
        ctx = business_context(session)
        today = ctx.local_date(now)
        if today.day < ctx.billing.statement_day:
            return 0
        customers = list(
            session.scalars(
                select(Invoice.customer_id).where(Invoice.issued_at.is_not(None)).distinct()
            )
        )
    start, end = previous_month(today)
    sent = 0
    for customer_id in sorted(customers):
        key = f"statement:{customer_id}:{start:%Y-%m}"
        with db.write() as session:
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
                continue  # sent on an earlier run
            st = statement(session, customer_id, start, end)
            if not st.entries and st.ending == 0:
                continue
            sent += send_statement(session, customer_id, start, end, now=now, dedupe_key=key)
    return sent

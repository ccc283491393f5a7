"""Billing in chat: the replies the conversation engine sends for billing questions.

Customer side: "what do I owe" (`balance_reply`), "send me my invoice" (`invoice_reply`),
"I want to pay" (`pay_reply`). Owner side: the receivables summary (`receivables_reply`)
and marking a cash or cheque payment (`owner_payment_reply`). Each returns a
`bot.messaging.messages.Reply`; call them inside a write transaction (they may make pay links).
Messages stay short and plain for SMS.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.documents.delivery import invoice_reply_for
from bot.billing.ledger.invoices import credit_available, find_invoice, open_invoices
from bot.billing.ledger.minimums import below_minimum_words, pay_here, payable_online
from bot.billing.ledger.receivables import aging
from bot.billing.ledger.settlement import PaymentRecorded, record_payment
from bot.billing.ledger.totals import BUCKETS, Totals
from bot.billing.payments.links import pay_url
from bot.config.context import BusinessContext, business_context
from bot.core.errors import InvalidRequest
from bot.core.money import parse_amount
from bot.core.text import _, t
from bot.messaging.messages import Reply
from storage.billing import PAYMENT_METHODS, Invoice

_MAX_LISTED = 3


def _due_words(ctx: BusinessContext, invoice: Invoice, now: datetime) -> str:
    if invoice.due_at is None:
        return ""
    if ctx.local_date(invoice.due_at) < ctx.local_date(now):
        return t("overdue since {day}", day=ctx.day(invoice.due_at))
    return t("due {day}", day=ctx.day(invoice.due_at))


def _owing(
    session: Session, customer_id: int
) -> tuple[BusinessContext, list[tuple[Invoice, Totals]], int]:
    ctx = business_context(session)
    return ctx, open_invoices(session, customer_id), credit_available(session, customer_id)


def balance_reply(session: Session, customer_id: int, now: datetime) -> Reply:
    """What the customer owes, invoice by invoice, with where to pay; or that they're clear."""
    ctx, owing, credit = _owing(session, customer_id)
    if not owing:
        if credit > 0:
            return Reply(
                t("You're all paid up, with {credit} credit on your account for next time.", credit=ctx.money(credit))
            )
        return Reply(t("You're all paid up. Thank you!"))
    if len(owing) == 1:
        invoice, result = owing[0]
        url = pay_url(session, invoice.id, now=now)
        return Reply(
            t("You owe {balance} on {number} "
            "({due_words}). {pay_here}", balance=ctx.money(result.balance), number=invoice.number, due_words=_due_words(ctx, invoice, now), pay_here=pay_here(ctx, result.balance, invoice.currency, url))
        )
    total = sum(result.balance for _, result in owing)
    lines = [t("You owe {total} in total:", total=ctx.money(total))]
    for invoice, result in owing[:_MAX_LISTED]:
        where = (
            pay_url(session, invoice.id, now=now)
            if payable_online(result.balance, invoice.currency)
            else t("(too little to pay online: pay in person or reply)")
        )
        lines.append(
            f"{invoice.number}: {ctx.money(result.balance)} ({_due_words(ctx, invoice, now)}) "
            f"{where}"
        )
    if len(owing) > _MAX_LISTED:
        lines.append(t("and {count} more. Reply STATEMENT for the full list.", count=len(owing) - _MAX_LISTED))
    return Reply("\n".join(lines))


def pay_reply(session: Session, customer_id: int, now: datetime) -> Reply:
    """A pay link for each outstanding invoice, or "nothing to pay"."""
    ctx, owing, _credit = _owing(session, customer_id)
    if not owing:
        return Reply(_("There's nothing to pay right now. Thank you!"))
    lines = [
        t("Pay {balance} for {number} here: "
        "{pay_url}", balance=ctx.money(result.balance), number=invoice.number, pay_url=pay_url(session, invoice.id, now=now))
        if payable_online(result.balance, invoice.currency)
        else f"{invoice.number}: {below_minimum_words(ctx, result.balance, invoice.currency)}"
        for invoice, result in owing[:_MAX_LISTED]
    ]
    return Reply("\n".join(lines))


def invoice_reply(session: Session, customer_id: int, now: datetime) -> Reply:
    """The customer's latest invoice: summary, pay link if anything is owed, and the PDF."""
    invoice = session.scalars(
        select(Invoice)
        .where(
            Invoice.customer_id == customer_id,
            Invoice.issued_at.is_not(None),
            Invoice.voided_at.is_(None),
        )
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
        .limit(1)
    ).first()
    if invoice is None:
        return Reply(_("You don't have any invoices yet."))
    return invoice_reply_for(session, invoice, now=now)


def receivables_reply(session: Session, now: datetime) -> Reply:
    """For the owner: who owes what, by age, and the biggest balances."""
    ctx = business_context(session)
    report = aging(session, now)
    if not report.invoices and report.credit == 0:
        return Reply(_("Nobody owes you anything right now."))
    parts = [t("Owed to you: {total}.", total=ctx.money(report.total))]
    parts.append(
        ", ".join(
            f"{name}: {ctx.money(report.buckets[name])}" for name in BUCKETS if report.buckets[name]
        )
    )
    if report.credit:
        parts.append(t("Customer credit held: {credit}.", credit=ctx.money(-report.credit)))
    largest = report.largest(3)
    if largest:
        parts.append(
            _("Largest: ")
            + "; ".join(
                t("{customer_name} {balance} ({number}, "
                "{days_past_due} days late)", customer_name=line.customer_name, balance=ctx.money(line.balance), number=line.number, days_past_due=line.days_past_due)
                if line.days_past_due > 0
                else f"{line.customer_name} {ctx.money(line.balance)} ({line.number})"
                for line in largest
            )
        )
    return Reply("\n".join(part for part in parts if part))


def owner_payment_reply(
    session: Session,
    invoice_number: str,
    amount_text: str,
    method: str,
    now: datetime,
    *,
    actor: str = "owner",
) -> Reply:
    """The owner marks a payment ("INV-0003 45.00 cash"): record it, and say what it did."""
    invoice = find_invoice(session, invoice_number)
    if invoice is None:
        return Reply(t("I can't find invoice {invoice_number}.", invoice_number=invoice_number))
    ctx = business_context(session)
    method = method.strip().lower().replace(" ", "_").replace("check", "cheque")
    if method not in PAYMENT_METHODS:
        return Reply(t("How was it paid? One of: {payment_methods}.", payment_methods=', '.join(PAYMENT_METHODS)))
    try:
        amount = parse_amount(amount_text, ctx.currency)
    except InvalidRequest:
        return Reply(t("I couldn't read {amount_text!r} as an amount.", amount_text=amount_text))
    result = record_payment(
        session, invoice.id, amount_minor=amount, method=method, now=now, actor=actor
    )
    if not isinstance(result, PaymentRecorded):
        return Reply(result.message)
    balance = result.totals.balance
    left = t("Balance {balance}.", balance=ctx.money(balance)) if balance > 0 else _("Paid in full.")
    if balance < 0:
        left = t("Overpaid by {credit}, kept as credit.", credit=ctx.money(-balance))
    who = invoice.customer.name or _("the customer")
    return Reply(
        t("Recorded {amount} {method} on {number} for {who}. {left}", amount=ctx.money(amount), method=method.replace('_', ' '), number=invoice.number, who=who, left=left)
    )

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
from bot.messaging.messages import Reply
from storage.billing import PAYMENT_METHODS, Invoice

_MAX_LISTED = 3


def _due_words(ctx: BusinessContext, invoice: Invoice, now: datetime) -> str:
    if invoice.due_at is None:
        return ""
    if ctx.local_date(invoice.due_at) < ctx.local_date(now):
        return f"overdue since {ctx.day(invoice.due_at)}"
    return f"due {ctx.day(invoice.due_at)}"


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
                f"You're all paid up, with {ctx.money(credit)} credit on your account for next time."
            )
        return Reply("You're all paid up. Thank you!")
    if len(owing) == 1:
        invoice, result = owing[0]
        url = pay_url(session, invoice.id, now=now)
        return Reply(
            f"You owe {ctx.money(result.balance)} on {invoice.number} "
            f"({_due_words(ctx, invoice, now)}). {pay_here(ctx, result.balance, invoice.currency, url)}"
        )
    total = sum(result.balance for _, result in owing)
    lines = [f"You owe {ctx.money(total)} in total:"]
    for invoice, result in owing[:_MAX_LISTED]:
        where = (
            pay_url(session, invoice.id, now=now)
            if payable_online(result.balance, invoice.currency)
            else "(too little to pay online: pay in person or reply)"
        )
        lines.append(
            f"{invoice.number}: {ctx.money(result.balance)} ({_due_words(ctx, invoice, now)}) "
            f"{where}"
        )
    if len(owing) > _MAX_LISTED:
        lines.append(f"and {len(owing) - _MAX_LISTED} more. Reply STATEMENT for the full list.")
    return Reply("\n".join(lines))


def pay_reply(session: Session, customer_id: int, now: datetime) -> Reply:
    """A pay link for each outstanding invoice, or "nothing to pay"."""
    ctx, owing, _credit = _owing(session, customer_id)
    if not owing:
        return Reply("There's nothing to pay right now. Thank you!")
    lines = [
        f"Pay {ctx.money(result.balance)} for {invoice.number} here: "
        f"{pay_url(session, invoice.id, now=now)}"
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
        return Reply("You don't have any invoices yet.")
    return invoice_reply_for(session, invoice, now=now)


def receivables_reply(session: Session, now: datetime) -> Reply:
    """For the owner: who owes what, by age, and the biggest balances."""
    ctx = business_context(session)
    report = aging(session, now)
    if not report.invoices and report.credit == 0:
        return Reply("Nobody owes you anything right now.")
    parts = [f"Owed to you: {ctx.money(report.total)}."]
    parts.append(
        ", ".join(
            f"{name}: {ctx.money(report.buckets[name])}" for name in BUCKETS if report.buckets[name]
        )
    )
    if report.credit:
        parts.append(f"Customer credit held: {ctx.money(-report.credit)}.")
    largest = report.largest(3)
    if largest:
        parts.append(
            "Largest: "
            + "; ".join(
                f"{line.customer_name} {ctx.money(line.balance)} ({line.number}, "
                f"{line.days_past_due} days late)"
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
        return Reply(f"I can't find invoice {invoice_number}.")
    ctx = business_context(session)
    method = method.strip().lower().replace(" ", "_").replace("check", "cheque")
    if method not in PAYMENT_METHODS:
        return Reply(f"How was it paid? One of: {', '.join(PAYMENT_METHODS)}.")
    try:
        amount = parse_amount(amount_text, ctx.currency)
    except InvalidRequest:
        return Reply(f"I couldn't read {amount_text!r} as an amount.")
    result = record_payment(
        session, invoice.id, amount_minor=amount, method=method, now=now, actor=actor
    )
    if not isinstance(result, PaymentRecorded):
        return Reply(result.message)
    balance = result.totals.balance
    left = f"Balance {ctx.money(balance)}." if balance > 0 else "Paid in full."
    if balance < 0:
        left = f"Overpaid by {ctx.money(-balance)}, kept as credit."
    who = invoice.customer.name or "the customer"
    return Reply(
        f"Recorded {ctx.money(amount)} {method.replace('_', ' ')} on {invoice.number} for {who}. {left}"
    )

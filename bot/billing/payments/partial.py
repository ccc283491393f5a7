"""Paying part of a balance online: "pay 50" in chat, and the amount box on the pay page.

A pay link still pays the current balance by default; `?amount=50.00` on it (what the chat
sends for "pay 50") only fills the amount box. Any amount from the currency's online minimum
(Stripe refuses less: `amount_too_small`) up to the balance may be paid.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.billing.ledger.invoices import open_invoices
from bot.billing.ledger.minimums import below_minimum_words, online_minimum
from bot.billing.payments.links import pay_url
from bot.config.context import BusinessContext, business_context
from bot.core.errors import InvalidRequest
from bot.core.money import parse_amount, to_major
from bot.core.text import _, t
from bot.messaging.messages import Reply


def chosen_amount(
    ctx: BusinessContext, raw: str | None, balance_minor: int, currency: str
) -> int | str:
    """The amount (minor units) a customer typed, or the sentence saying why it can't be paid.

    Empty means the whole balance.
    """
    minimum = online_minimum(currency)
    text = (raw or "").strip()[:32]
    if not text:
        return balance_minor
    try:
        amount = parse_amount(text, currency)
    except InvalidRequest:
        return _("Please enter an amount, like 25.00.")
    if amount < minimum or amount <= 0:
        return t("The smallest amount you can pay online is {minimum}.", minimum=ctx.money(max(minimum, 1)))
    if amount > balance_minor:
        return t("That is more than is due ({balance}).", balance=ctx.money(balance_minor))
    return amount


def amount_field(amount_minor: int, currency: str) -> str:
    """An amount as the pay page's box shows it ("45.00")."""
    return str(to_major(amount_minor, currency))


def partial_pay_reply(session: Session, customer_id: int, amount_text: str, now: datetime) -> Reply:
    """A pay link for part of what the customer owes (the oldest open invoice first)."""
    ctx = business_context(session)
    owing = open_invoices(session, customer_id)
    if not owing:
        return Reply(_("There's nothing to pay right now. Thank you!"))
    invoice, result = owing[0]
    try:
        amount = parse_amount(amount_text, invoice.currency)
    except InvalidRequest:
        return Reply(t("I couldn't read {amount_text!r} as an amount.", amount_text=amount_text))
    if amount > result.balance:
        amount = result.balance
    if amount < online_minimum(invoice.currency):
        return Reply(below_minimum_words(ctx, amount, invoice.currency))
    url = f"{pay_url(session, invoice.id, now=now)}?amount={amount_field(amount, invoice.currency)}"
    left = result.balance - amount
    rest = t("\n{left} will be left to pay after that.", left=ctx.money(left)) if left > 0 else ""
    return Reply(
        t("Pay {amount} of {balance} for {number} here: {url}{rest}", amount=ctx.money(amount), balance=ctx.money(result.balance), number=invoice.number, url=url, rest=rest)
    )

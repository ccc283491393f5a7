"""The money side of the owner and staff chat: receivables, payments, pay links, extras,
statements, and the balance and card lines on a customer's card and in stats.

Registers its commands with `conversations.admin`; the ledger itself is bot.billing's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.billing.chat import owner_payment_reply, receivables_reply
from bot.billing.completion import add_extra_to_appointment
from bot.billing.ledger.invoices import account_balance, add_line, find_invoice, totals
from bot.billing.ledger.minimums import online_minimum, payable_online
from bot.billing.ledger.receivables import aging
from bot.billing.ledger.statements import send_statement
from bot.billing.payments.links import pay_url
from bot.billing.payments.online import card_label, saved_card
from bot.core.errors import InvalidRequest
from bot.core.money import parse_amount, to_major
from bot.core.text import _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from bot.scheduling.agenda import find_customers
from bot.scheduling.booking import Refused
from conversations.admin import commands as admin
from conversations.admin.commands import CARD_EXTRAS, STATS_EXTRAS, Actor, answer, audit
from conversations.nlu.words import INVOICE_NUMBER, amounts_in
from conversations.turn import Turn
from storage.billing import Invoice, Payment
from storage.models import Customer

_METHODS = ("cash", "cheque", "check", "card", "bank transfer", "transfer", "bank", "other")


def _invoice_in(turn: Turn, text: str) -> Invoice | None:
    match = INVOICE_NUMBER.search(text)
    return find_invoice(turn.session, match.group(1)) if match else None


def who_owes(turn: Turn, actor: Actor, text: str) -> None:
    """Accounts receivable: aging buckets and the largest balances."""
    reply = receivables_reply(turn.session, turn.now)
    answer(turn, reply.text.splitlines())


def mark_paid(turn: Turn, actor: Actor, text: str) -> None:
    """ "mark INV-0012 paid 50 cash": confirm, then record (the full balance if no amount)."""
    invoice = _invoice_in(turn, text)
    if invoice is None:
        turn.say(_('Which invoice? e.g. "mark INV-0012 paid 50 cash".'))
        return
    ctx = turn.business
    rest = text[text.lower().find(invoice.number.lower()) + len(invoice.number) :]
    amounts = amounts_in(rest)
    if amounts:
        amount_text = amounts[0]
    else:
        balance = totals(turn.session, invoice).balance
        amount_text = str(to_major(max(balance, 0), ctx.currency))
    method = next((m for m in _METHODS if m in rest.lower()), "cash")
    method = {"check": "cheque", "transfer": "bank_transfer", "bank": "bank_transfer"}.get(
        method, method.replace(" ", "_")
    )
    try:
        amount = parse_amount(amount_text, ctx.currency)
    except InvalidRequest:
        turn.say(t("I couldn't read {amount_text!r} as an amount.", amount_text=amount_text))
        return
    who = invoice.customer.name or _("the customer")
    admin.confirm(
        turn,
        t("Record {amount} {method} on {number} ({who})?", amount=ctx.money(amount), method=method.replace('_', ' '), number=invoice.number, who=who),
        "mark_paid",
        invoice=invoice.number,
        amount=amount_text,
        method=method,
    )


def _do_mark_paid(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    reply = owner_payment_reply(
        turn.session,
        pending["invoice"],
        pending["amount"],
        pending["method"],
        turn.now,
        actor=actor.tag[:64],
    )
    audit(turn, actor, "mark_paid", **{k: pending[k] for k in ("invoice", "amount", "method")})
    answer(turn, [reply.text])


def resend_link(turn: Turn, actor: Actor, text: str) -> None:
    """Send the customer the pay link for an invoice again."""
    invoice = _invoice_in(turn, text)
    if invoice is None:
        turn.say(_('Which invoice? e.g. "link INV-0012".'))
        return
    ctx = turn.business
    balance = totals(turn.session, invoice).balance
    if balance <= 0:
        answer(turn, [t("{number} is paid; nothing to send.", number=invoice.number)])
        return
    if not payable_online(balance, invoice.currency):
        # Stripe refuses checkouts under its minimum: a link would only fail for them.
        minimum = ctx.money(online_minimum(invoice.currency))
        answer(
            turn,
            [
                t("{number}'s balance of {balance} is below the {minimum} "
                "minimum for paying online, so no pay link was sent. Collect it another way, "
                'then reply "mark {number} paid cash".', number=invoice.number, balance=ctx.money(balance), minimum=minimum)
            ],
        )
        return
    url = pay_url(turn.session, invoice.id, now=turn.now)
    sent = tell_customer(
        turn.session,
        invoice.customer_id,
        Reply(
            t("Your invoice {number} from {business}: {balance} due. Pay here: {url}", number=invoice.number, business=ctx.name, balance=ctx.money(balance), url=url)
        ),
        purpose=Purpose.PAY_LINK,
        now=turn.now,
        ref_id=invoice.id,
    )
    audit(turn, actor, "resend_link", invoice=invoice.number)
    where = _("sent to the customer") if sent else _("the customer can't be reached; here it is")
    answer(turn, [t("Pay link for {number} ({balance}) {where}:", number=invoice.number, balance=ctx.money(balance), where=where), url])


def add_to_invoice(turn: Turn, actor: Actor, text: str) -> None:
    """ "add 15 parts to INV-0012": an extra line on an invoice."""
    invoice = _invoice_in(turn, text)
    amounts = amounts_in(text.replace(invoice.number if invoice else "", ""))
    if invoice is None or not amounts:
        turn.say(_('e.g. "add 15 parts to INV-0012".'))
        return
    ctx = turn.business
    amount = parse_amount(amounts[0], ctx.currency)
    words = re.sub(
        r"(?i)^/?(add|addline)\b|\bto\b|" + re.escape(invoice.number) + r"|\$?\d+(?:[.,]\d{1,2})?",
        " ",
        text,
    )
    description = " ".join(words.split())[:120] or _("Extra")
    kind = "part" if "part" in description.lower() else "extra"
    line = add_line(
        turn.session,
        invoice.id,
        kind=kind,
        description=description.capitalize(),
        unit_price_minor=amount,
        now=turn.now,
    )
    if isinstance(line, Refused):
        answer(turn, [line.message])
        return
    audit(turn, actor, "add_line", invoice=invoice.number, amount=amount, description=description)
    balance = totals(turn.session, invoice).balance
    answer(
        turn,
        [
            t("Added {description} {amount} to {number}. Balance {balance}.", description=description, amount=ctx.money(amount), number=invoice.number, balance=ctx.money(balance))
        ],
    )


def staff_charge(turn: Turn, actor: Actor, text: str) -> None:
    """ "charge 15 parts": an extra on the staff member's current job."""
    job = admin.current_job(turn, actor, ("in_progress", "booked", "confirmed"))
    amounts = amounts_in(text)
    if job is None or not amounts:
        answer(turn, [_('e.g. "charge 15 parts" while a job is under way.')])
        return
    ctx = turn.business
    amount = parse_amount(amounts[0], ctx.currency)
    words = re.sub(r"(?i)^/?(add charge|charge|add)\b|\$?\d+(?:[.,]\d{1,2})?", " ", text)
    description = " ".join(words.split())[:120] or _("Extra")
    line = add_extra_to_appointment(
        turn.session,
        job.id,
        description=description.capitalize(),
        unit_price_minor=amount,
        now=turn.now,
        kind="part" if "part" in description.lower() else "extra",
    )
    if isinstance(line, Refused):
        answer(turn, [line.message])
        return
    audit(turn, actor, "charge", appointment=job.id, amount=amount, description=description)
    answer(turn, [t("Added {description} {amount} to #{job}.", description=description, amount=ctx.money(amount), job=job.id)])


def statement(turn: Turn, actor: Actor, text: str) -> None:
    """Send a customer their statement for last month (or this month so far)."""
    name = admin.strip_command(text, "statement", "send statement", "send a statement to", "send")
    name = re.sub(r"(?i)\b(a )?statement\b|\bto\b", " ", name).strip()
    matches = find_customers(turn.session, name)
    if len(matches) != 1:
        answer(turn, [t("Whose statement? {count} customers match {name!r}.", count=len(matches), name=name)])
        return
    customer = matches[0]
    local = turn.now.astimezone(turn.business.zone).date()
    start, end = local.replace(day=1), local + timedelta(days=1)
    if "last month" in text.lower():
        end = start
        start = (start - timedelta(days=1)).replace(day=1)
    sent = send_statement(turn.session, customer.id, start, end - timedelta(days=1), now=turn.now)
    audit(turn, actor, "statement", customer=customer.id)
    answer(
        turn,
        [t("Statement sent to {customer}.", customer=customer.name) if sent else t("{customer} can't be reached.", customer=customer.name)],
    )


def _card_lines(turn: Turn, customer: Customer) -> list[str]:
    ctx = turn.business
    lines = []
    balance = account_balance(turn.session, customer.id)
    if balance:
        lines.append(
            t("Balance: {balance}", balance=ctx.money(balance)) if balance > 0 else t("Credit: {credit}", credit=ctx.money(-balance))
        )
    card = saved_card(turn.session, customer.id)
    if card is not None:
        lines.append(t("Saved card: {card_label}", card_label=card_label(card)))
    return lines


def _stats_lines(turn: Turn, start: datetime, end: datetime) -> list[str]:
    ctx = turn.business
    collected = turn.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.received_at >= start, Payment.received_at < end
        )
    )
    report = aging(turn.session, turn.now)
    return [
        t("Collected: {collected}", collected=ctx.money(int(collected or 0))),
        t("Outstanding now: {total}", total=ctx.money(report.total)),
    ]


_registered: list[bool] = []


def register() -> None:
    """Add the money actions, card lines and stats lines to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS["mark_paid"] = _do_mark_paid
    CARD_EXTRAS.append(_card_lines)
    STATS_EXTRAS.append(_stats_lines)

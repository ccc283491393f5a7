"""Money by chat, beyond receivables: charge a saved card now or on a date, the scheduled
charges (listed, cancelled), and staff recording cash or card taken on site.

"charge Bob's card for INV-12" (confirmed first, showing the card's brand and last four),
"charge the card on the 30th" (the invoice last talked about), "scheduled charges",
"cancel scheduled charge 3"; staff: "took 80 cash for #7", "got $45 card". Charging goes
through the payment gateway (Stripe, or the sandbox); scheduled charges are run by the
worker's billing jobs. Registers with conversations.admin.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from bot.billing.completion import invoice_for_appointment
from bot.billing.ledger.invoices import find_invoice, format_number, open_invoices, totals
from bot.billing.ledger.minimums import online_minimum, payable_online
from bot.billing.ledger.settlement import PaymentRecorded, record_payment
from bot.billing.payments.online import card_label, charge_saved_card, saved_card
from bot.billing.payments.scheduled import cancel_charge, charge_time, pending_charges, schedule_on
from bot.core.errors import InvalidRequest
from bot.core.money import parse_amount
from bot.core.text import _, t
from bot.scheduling.agenda import find_customers
from bot.scheduling.booking import Refused
from conversations.admin import commands as admin
from conversations.admin.commands import STAFF, Actor, answer, audit
from conversations.nlu.words import INVOICE_NUMBER, amounts_in
from conversations.turn import Turn
from conversations.when import parse_when
from storage.billing import CARD, CASH, CHEQUE, Invoice
from storage.models import CANCELLED, NO_SHOW, Appointment

_REF = re.compile(r"#\s*(\d+)")
_DAY_WORDS = re.compile(
    r"\b(on|next|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\d(st|nd|rd|th)\b",
    re.I,
)
LAST_INVOICE = "money_invoice"  # conversation data: the invoice a "charge the card" follows


class Action(StrEnum):
    """The confirmed actions this module adds."""

    CHARGE = "charge_card"
    SCHEDULE = "schedule_charge"
    CANCEL = "cancel_charge"
    TOOK = "took_payment"


def _numbered(turn: Turn, raw: str) -> Invoice | None:
    """An invoice by number, as typed: "INV-0012", "inv-12", "INV12"."""
    found = find_invoice(turn.session, raw)
    if found is not None:
        return found
    letters, digits = re.match(r"([a-z]+)-?(\d+)", raw, re.I).groups()  # type: ignore[union-attr]
    prefix = turn.business.billing.invoice_prefix
    if letters.upper() != prefix.strip("-# ").upper():
        return None
    return find_invoice(turn.session, format_number(prefix, int(digits)))


def _invoice_for(turn: Turn, text: str) -> Invoice | str:
    """The invoice a message means: its number, a customer's only open one, or the last one."""
    match = INVOICE_NUMBER.search(text)
    if match is not None:
        found = _numbered(turn, match.group(1))
        if found is not None:
            return found
        if re.match(r"[a-z]+-?\d", match.group(1), re.I):  # a number was typed: never another
            return t("There's no invoice {number}; say its number as on the invoice.", number=match.group(1).upper())
    name = re.search(r"^\s*/?(?:charge|bill|run)\s+(?:the\s+)?(.+?)'s\b", text, re.I)
    if name is not None:
        customers = find_customers(turn.session, name.group(1))
        if len(customers) != 1:
            return t("{count} customers match {name!r}; say the invoice number.", count=len(customers), name=name.group(1))
        owing = open_invoices(turn.session, customers[0].id)
        if not owing:
            return t("{name} owes nothing.", name=customers[0].name)
        if len(owing) > 1:
            numbers = ", ".join(i.number or "?" for i, _ in owing[:5])
            return t("{name} has {count} open invoices ({numbers}): which one?", name=customers[0].name, count=len(owing), numbers=numbers)
        return owing[0][0]
    last = turn.data.get(LAST_INVOICE)
    # The invoice just talked about only for "charge the card (on the 30th)": a message naming
    # anyone or anything else ("charge jane 50") must not charge that one.
    if last and re.match(
        r"^\s*/?(charge|bill|run)\s+(the\s+|their\s+|her\s+|his\s+)?card\b", text, re.I
    ):
        found = turn.session.get(Invoice, int(last))
        if found is not None:
            return found
    return t('Which invoice? e.g. "charge Bob\'s card for INV-0012".')


def _day_in(turn: Turn, text: str) -> date | None:
    """The day a message names ("on the 30th", "next friday"), if it names one."""
    words = INVOICE_NUMBER.sub(" ", text)
    if not _DAY_WORDS.search(words):
        return None
    when = parse_when(words, turn.now.astimezone(turn.business.zone))
    return None if when is None else when.start.astimezone(turn.business.zone).date()


def charge_card(turn: Turn, actor: Actor, text: str) -> None:
    """Charge a customer's saved card for an invoice, now or on a day — after a yes."""
    invoice = _invoice_for(turn, text)
    if isinstance(invoice, str):
        answer(turn, [invoice])
        return
    _ask_to_charge(turn, invoice, text)
    turn.set(**{LAST_INVOICE: invoice.id})  # "charge the card on the 30th" follows it


def _ask_to_charge(turn: Turn, invoice: Invoice, text: str) -> None:
    ctx = turn.business
    who = invoice.customer.name or _("The customer")
    card = saved_card(turn.session, invoice.customer_id)
    if card is None:
        answer(
            turn,
            [t('{who} has no saved card. Send a pay link instead: "link {number}".', who=who, number=invoice.number)],
        )
        return
    balance = totals(turn.session, invoice).balance
    if balance <= 0:
        answer(turn, [t("{number} is paid; nothing to charge.", number=invoice.number)])
        return
    day = _day_in(turn, text)
    if day is not None:
        at = charge_time(ctx, day, turn.now)
        admin.confirm(
            turn,
            t("Charge {who}'s {card_label} for {number} on {when}? "
            "It takes the balance then (now {balance}).", who=who, card_label=card_label(card), number=invoice.number, when=turn.when(at), balance=ctx.money(balance)),
            Action.SCHEDULE,
            invoice=invoice.id,
            day=day.isoformat(),
        )
        return
    if not payable_online(balance, invoice.currency):
        minimum = ctx.money(online_minimum(invoice.currency))
        answer(
            turn,
            [
                t("{number}'s balance of {balance} is below the {minimum} "
                "minimum for a card charge; collect it another way and mark it paid.", number=invoice.number, balance=ctx.money(balance), minimum=minimum)
            ],
        )
        return
    admin.confirm(
        turn,
        t("Charge {balance} to {who}'s {card_label} for {number} now?", balance=ctx.money(balance), who=who, card_label=card_label(card), number=invoice.number),
        Action.CHARGE,
        invoice=invoice.id,
        balance=balance,
    )


def _do_charge(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    invoice = turn.session.get(Invoice, pending["invoice"])
    assert invoice is not None
    ctx = turn.business
    if totals(turn.session, invoice).balance != pending["balance"]:
        answer(turn, [t("{number}'s balance changed; ask again to charge what is due now.", number=invoice.number)])
        return
    result = charge_saved_card(turn.session, invoice.id, turn.now)
    audit(turn, actor, Action.CHARGE, invoice=invoice.number, status=result.status)
    if result.status == "succeeded":
        left = totals(turn.session, invoice).balance
        after = t("Balance {left}.", left=ctx.money(left)) if left > 0 else _("Paid in full.")
        answer(turn, [t("Charged {balance} for {number}. {after}", balance=ctx.money(pending['balance']), number=invoice.number, after=after)])
    elif result.status == "processing":
        answer(
            turn, [t("The charge for {number} is processing; I'll record it when it clears.", number=invoice.number)]
        )
    elif result.url:
        answer(
            turn,
            [
                t("The card wasn't charged ({message}); "
                "the customer was sent a pay link for {number}.", message=result.message or result.status, number=invoice.number)
            ],
        )
    else:
        answer(turn, [t("The card wasn't charged: {message}", message=result.message or result.status)])


def _do_schedule(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    day = date.fromisoformat(pending["day"])
    outcome = schedule_on(turn.session, pending["invoice"], day, now=turn.now)
    if isinstance(outcome, Refused):
        answer(turn, [t("Couldn't schedule it: {message}", message=outcome.message)])
        return
    invoice = turn.session.get(Invoice, pending["invoice"])
    number = invoice.number if invoice else "?"
    audit(turn, actor, Action.SCHEDULE, invoice=number, charge=outcome.id, day=pending["day"])
    answer(
        turn,
        [
            t("Scheduled charge #{id}: {number} on {when}.", id=outcome.id, number=number, when=turn.when(outcome.charge_at)),
            t('"scheduled charges" lists them; "cancel scheduled charge {id}" stops it.', id=outcome.id),
        ],
    )


def list_charges(turn: Turn, actor: Actor, text: str) -> None:
    """The saved-card charges waiting for their day."""
    ctx = turn.business
    planned = pending_charges(turn.session)
    if not planned:
        answer(turn, [_("No scheduled charges.")])
        return
    lines = [t("Scheduled charges: {count}", count=len(planned))]
    lines += [
        t("#{id} {when}: {invoice_number} {customer}, "
        "{card} (balance {balance_minor})", id=p.id, when=turn.when(p.charge_at), invoice_number=p.invoice_number, customer=p.customer, card=p.card, balance_minor=ctx.money(p.balance_minor))
        for p in planned
    ]
    answer(turn, lines)


def cancel_scheduled(turn: Turn, actor: Actor, text: str) -> None:
    """Stop a scheduled charge ("cancel scheduled charge 3", "don't charge INV-0012")."""
    planned = pending_charges(turn.session)
    number = re.search(r"(?:charge|#)\s*#?\s*(\d+)\b", text, re.I)
    invoice = INVOICE_NUMBER.search(text)
    chosen = [p for p in planned if number and p.id == int(number.group(1))] or [
        p for p in planned if invoice and p.invoice_number.lower() == invoice.group(1).lower()
    ]
    if len(chosen) != 1:
        if not planned:
            answer(turn, [_("No scheduled charges to cancel.")])
        else:
            answer(
                turn,
                [_("Which one? Say its number:")]
                + [f"#{p.id} {p.invoice_number} {turn.when(p.charge_at)}" for p in planned[:8]],
            )
        return
    pick = chosen[0]
    admin.confirm(
        turn,
        t("Cancel scheduled charge #{id} ({invoice_number}, {customer}, "
        "{when})?", id=pick.id, invoice_number=pick.invoice_number, customer=pick.customer, when=turn.when(pick.charge_at)),
        Action.CANCEL,
        charge=pick.id,
    )


def _do_cancel(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    outcome = cancel_charge(turn.session, pending["charge"], now=turn.now)
    if isinstance(outcome, Refused):
        answer(turn, [outcome.message])
        return
    audit(turn, actor, Action.CANCEL, charge=pending["charge"])
    answer(turn, [t("Scheduled charge #{id} cancelled; the card won't be charged.", id=pending['charge'])])


# --- staff: money taken on site --------------------------------------------------------

_METHODS = {
    "cash": CASH,
    "card": CARD,
    "credit card": CARD,
    "debit": CARD,
    "cheque": CHEQUE,
    "check": CHEQUE,
}


def _job_now(turn: Turn, actor: Actor) -> Appointment | None:
    """The staff member's job whose time is now, else the last one finished today."""
    start, end = admin._local_day_bounds(turn, 0)
    query = select(Appointment).where(
        Appointment.status.in_(("booked", "confirmed", "in_progress", "completed")),
        Appointment.starts_at >= start,
        Appointment.starts_at <= turn.now,
    )
    staff_id = admin._staff_id(turn, actor.staff_key)
    if staff_id is not None:
        query = query.where(Appointment.staff_id == staff_id)
    found = list(turn.session.scalars(query.order_by(Appointment.starts_at.desc())))
    due = [a for a in found if a.status != "completed" and a.ends_at >= turn.now]
    done = [a for a in found if a.status == "completed"]
    return (due or done or [None])[0]


def took_payment(turn: Turn, actor: Actor, text: str) -> None:
    """ "took 80 cash for #7": record money taken on site against the job's invoice."""
    ref = _REF.search(text)
    if ref is not None:
        job = turn.session.get(Appointment, int(ref.group(1)))
        staff_id = admin._staff_id(turn, actor.staff_key)
        if job is not None and actor.role == STAFF and job.staff_id != staff_id:
            job = None  # staff record money on their own jobs only
    else:  # the job under way (or due now), else the one just finished: never a later one
        job = admin.current_job(turn, actor, ("in_progress",)) or _job_now(turn, actor)
    amounts = amounts_in(_REF.sub(" ", text))
    if job is None or not amounts:
        answer(turn, [_('e.g. "took 80 cash for #7" (one of your jobs today).')])
        return
    if job.status in (CANCELLED, NO_SHOW):
        answer(turn, [t("#{job} is {status}.", job=job.id, status=job.status.replace('_', ' '))])
        return
    lowered = text.lower()
    method = next((m for word, m in _METHODS.items() if word in lowered), CASH)
    ctx = turn.business
    try:
        amount = parse_amount(amounts[0], ctx.currency)
    except InvalidRequest:
        answer(turn, [t("I couldn't read {amounts!r} as an amount.", amounts=amounts[0])])
        return
    who = job.customer.name or _("the customer")
    admin.confirm(
        turn,
        t("Record {amount} {method} from {who} for #{job} ({service})?", amount=ctx.money(amount), method=method, who=who, job=job.id, service=job.service.name),
        Action.TOOK,
        appointment=job.id,
        amount=amount,
        method=method,
    )


def _do_took(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    ctx = turn.business
    invoice = invoice_for_appointment(turn.session, pending["appointment"], turn.now)
    if invoice.voided_at is not None:
        answer(turn, [t("{number} is void; tell the owner.", number=invoice.number)])
        return
    result = record_payment(
        turn.session,
        invoice.id,
        amount_minor=pending["amount"],
        method=pending["method"],
        now=turn.now,
        reference=t("taken on site (#{appointment})", appointment=pending['appointment']),
        actor=actor.tag[:64],
    )
    if not isinstance(result, PaymentRecorded):
        answer(turn, [result.message])
        return
    audit(
        turn,
        actor,
        Action.TOOK,
        appointment=pending["appointment"],
        invoice=invoice.number,
        amount=pending["amount"],
        method=pending["method"],
    )
    left = result.totals.balance
    after = t("Balance {left}.", left=ctx.money(left)) if left > 0 else _("Paid in full.")
    if left < 0:
        after = t("Overpaid by {credit}, kept as credit.", credit=ctx.money(-left))
    answer(
        turn,
        [
            t("Recorded {amount} {method} on {number} "
            "for #{appointment}. {after}", amount=ctx.money(pending['amount']), method=pending['method'], number=invoice.number, appointment=pending['appointment'], after=after)
        ],
    )


_registered: list[bool] = []


def register() -> None:
    """Add the card, scheduled-charge and on-site payment actions (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS[Action.CHARGE] = _do_charge
    admin.ACTIONS[Action.SCHEDULE] = _do_schedule
    admin.ACTIONS[Action.CANCEL] = _do_cancel
    admin.ACTIONS[Action.TOOK] = _do_took

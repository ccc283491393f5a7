"""Estimates from the owner chat: write and send one, list the open ones, book an approved
one as an appointment, invoice it.

"estimate for Bob Stone: colour 120, toner 25, valid 30 days" → a summary → yes → created
and sent (bot.billing.documents.estimate_jobs); "send EST-3" sends a draft again; "book EST-3 friday at
2" books the work at a time the availability engine says is free for that staff member
(or says why not and offers free times); "invoice EST-3" invoices work done without an
appointment. Registers its commands with `conversations.admin`.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from bot.billing.documents.delivery import send_invoice
from bot.billing.documents.estimate_jobs import (
    book_estimate,
    chain_of_estimate,
    create_and_send,
    find_estimate,
    parse_items,
)
from bot.billing.documents.estimates import estimate_totals, invoice_from_estimate, send_estimate
from bot.billing.ledger.invoices import price_line
from bot.core.errors import InvalidRequest
from bot.core.text import _, t
from bot.messaging.messages import Option
from bot.scheduling.agenda import find_customers
from bot.scheduling.booking import Booked, Refused
from conversations.admin import booking as admin_booking
from conversations.admin import commands as admin
from conversations.admin import slots as owner_slots
from conversations.admin.commands import Actor, answer, audit, confirm
from conversations.nlu.understand import find_services, find_staff, to_named
from conversations.turn import Turn
from conversations.when import parse_when
from storage.billing import APPROVED, ESTIMATE_DRAFT, ESTIMATE_SENT, Estimate
from storage.models import Service, Staff

_EST = r"\b[a-z]{2,5}-?\d{1,8}\b"


class Action(StrEnum):
    """The confirmed and chosen actions this module adds to the admin chat."""

    CREATE = "estimate_create"
    BOOK = "estimate_book"
    INVOICE = "estimate_invoice"


def _status(estimate: Estimate) -> str:
    return estimate.status.replace("_", " ")


# --- creating -------------------------------------------------------------------------------


def create(turn: Turn, actor: Actor, text: str) -> None:
    """ "estimate for Bob Stone: colour 120, toner 25, valid 30 days": summary, then send."""
    rest = admin.strip_command(text, "new estimate", "estimate", "quote")
    head, sep, items_text = rest.partition(":")
    if not sep:
        turn.say(_('Who for, and what? e.g. "estimate for Bob Stone: colour 120, toner 25".'))
        return
    name = re.sub(r"^(?:for|to)\s+", "", head.strip(), flags=re.I).strip()
    ctx = turn.business
    try:
        items = parse_items(items_text, ctx.currency)
    except InvalidRequest as exc:
        turn.say(t("Sorry: {exc}.", exc=exc))
        return
    matches = find_customers(turn.session, name) if name else []
    if not matches:
        turn.say(t("No customer matches {name!r}. Add them first (book or customer).", name=name))
        return
    exact = [c for c in matches if (c.name or "").lower() == name.lower()]
    if len(matches) > 1 and len(exact) != 1:
        # Two people of one name (or several close ones): never guess whose estimate it is.
        names = ", ".join(f"{c.name} (#{c.id})" for c in matches[:6])
        turn.say(t("Which one: {names}? Say the full name or their phone number.", names=names))
        return
    matches = exact or matches
    customer = matches[0]
    net = tax = 0
    shown = []
    for line in items.lines:
        _q, _rate, _unit, line_net, line_tax = price_line(line, ctx)
        net, tax = net + line_net, tax + line_tax
        shown.append(f"{line.description} {ctx.money(line_net)}")
    confirm(
        turn,
        t("Estimate for {customer}: {shown}; total {total}"
        "{tax_note}, valid {valid_days} days. "
        "Create it and send it to them?", customer=customer.name, shown=', '.join(shown), total=ctx.money(net + tax), tax_note=_(' with tax') if tax else '', valid_days=items.valid_days),
        Action.CREATE,
        customer=customer.id,
        items=items_text,
    )


def _do_create(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    ctx = turn.business
    items = parse_items(pending["items"], ctx.currency)
    estimate, sent = create_and_send(
        turn.session, customer_id=pending["customer"], items=items, now=turn.now
    )
    audit(turn, actor, "estimate_create", estimate=estimate.number, sent=sent)
    total = ctx.money(estimate_totals(turn.session, estimate).total)
    if sent:
        answer(turn, [t("{number} ({total}) sent to {customer}.", number=estimate.number, total=total, customer=estimate.customer.name)])
    else:
        answer(
            turn,
            [
                t("{number} ({total}) created, but I have no way to reach "
                "{customer}: send it when they have a phone or chat.", number=estimate.number, total=total, customer=estimate.customer.name)
            ],
        )


def send(turn: Turn, actor: Actor, text: str) -> None:
    """ "send EST-3": send (or send again) an estimate that is not answered yet."""
    estimate = find_estimate(turn.session, text)
    if estimate is None:
        turn.say(_('Which estimate? e.g. "send EST-0003".'))
        return
    if estimate.status not in (ESTIMATE_DRAFT, ESTIMATE_SENT):
        answer(turn, [t("{number} is {status}: nothing to send.", number=estimate.number, status=_status(estimate))])
        return
    if not send_estimate(turn.session, estimate.id, now=turn.now):
        answer(turn, [t("I have no way to reach {customer}.", customer=estimate.customer.name)])
        return
    audit(turn, actor, "estimate_send", estimate=estimate.number)
    answer(turn, [t("{number} sent to {customer}.", number=estimate.number, customer=estimate.customer.name)])


def list_open(turn: Turn, actor: Actor, text: str) -> None:
    """The estimates not yet booked or invoiced, newest first."""
    ctx = turn.business
    rows = list(
        turn.session.scalars(
            select(Estimate)
            .where(Estimate.status.in_((ESTIMATE_DRAFT, ESTIMATE_SENT, APPROVED)))
            .order_by(Estimate.id.desc())
            .limit(30)
        )
    )
    if not rows:
        answer(turn, [_("No open estimates.")])
        return
    lines = [_("Open estimates:")]
    for e in rows:
        booked = t(", booked #{appointment_id}", appointment_id=e.appointment_id) if e.appointment_id else ""
        total = ctx.money(estimate_totals(turn.session, e).total)
        lines.append(f"{e.number} {e.customer.name}: {total} ({_status(e)}{booked})")
    answer(turn, lines)


# --- booking --------------------------------------------------------------------------------


def _service_and_staff(
    turn: Turn, estimate: Estimate, text: str
) -> tuple[Service | None, Staff | None]:
    services = turn.services()
    named = find_services(text, [to_named(s) for s in services])
    service = next((s for s in services if named.item and s.key == named.item.key), None)
    if service is None and estimate.service_id is not None:
        service = next((s for s in services if s.id == estimate.service_id), None)
    if service is None:
        return None, None
    pool = turn.staff_for(service)
    who = find_staff(text, [to_named(s) for s in pool])
    staff = next((s for s in pool if who.item and s.key == who.item.key), None)
    return service, staff


def book(turn: Turn, actor: Actor, text: str) -> None:
    """ "book EST-3 friday at 2 (with Sam)": only at a time that is free, on a yes."""
    estimate = find_estimate(turn.session, text)
    if estimate is None:
        admin_booking.book_for(turn, actor, text)
        return
    if estimate.status != APPROVED:
        answer(turn, [t("{number} is {status}, not approved yet.", number=estimate.number, status=_status(estimate))])
        return
    if estimate.appointment_id is not None:
        answer(turn, [t("{number} is already booked as #{appointment_id}.", number=estimate.number, appointment_id=estimate.appointment_id)])
        return
    rest = re.sub(_EST, " ", text, count=1, flags=re.I)
    service, staff = _service_and_staff(turn, estimate, rest)
    if service is None:
        turn.say(t('Which service is the work? e.g. "book {number} colour friday at 2".', number=estimate.number))
        return
    when = parse_when(rest, turn.now.astimezone(turn.business.zone))
    if when is None or not when.exact:
        turn.say(t('When? e.g. "book {number} friday at 2".', number=estimate.number))
        return
    pending = {
        "estimate": estimate.id,
        "service": service.key,
        "staff": staff.key if staff else None,
    }
    verdict = owner_slots.check(turn, service, staff, when.start, customer_id=estimate.customer_id)
    if not verdict.free:
        if not verdict.instead:
            answer(turn, [verdict.why, _("Nothing is free near then; try another day.")])
            return
        admin._choose(
            turn,
            t("{why} Free instead:", why=verdict.why),
            Action.BOOK,
            [
                Option(f"slot:{int(s.start.timestamp())}", turn.when(s.start))
                for s in verdict.instead
            ],
            starts={
                str(int(s.start.timestamp())): [s.start.isoformat(), s.staff_id]
                for s in verdict.instead
            },
            **pending,
        )
        return
    assert verdict.slot is not None
    _ask_book(turn, estimate, service, verdict.slot.start, verdict.slot.staff_id, pending)


def _ask_book(
    turn: Turn,
    estimate: Estimate,
    service: Service,
    start: datetime,
    staff_id: int,
    pending: dict[str, Any],
) -> None:
    staff = turn.session.get(Staff, staff_id)
    ctx = turn.business
    total = ctx.money(estimate_totals(turn.session, estimate).total)
    confirm(
        turn,
        t("Book {number} ({customer}, {total}) as {service} with "
        "{staff}, {when}? "
        "The customer will be told.", number=estimate.number, customer=estimate.customer.name, total=total, service=service.name, staff=staff.name.split()[0] if staff else _('anyone'), when=turn.when(start)),
        Action.BOOK,
        **{**pending, "start": start.isoformat(), "staff_id": staff_id},
    )


def _picked(
    turn: Turn, actor: Actor, _appointment: object, _customer: object, pending: dict[str, Any]
) -> None:
    raw = str(pending.get("picked", "")).partition(":")[2]
    start_iso, staff_id = (pending.get("starts") or {}).get(raw, (None, None))
    estimate = turn.session.get(Estimate, pending["estimate"])
    service = next((s for s in turn.services() if s.key == pending["service"]), None)
    if start_iso is None or estimate is None or service is None:
        turn.say(_("Sorry, that choice has lapsed. Say it again?"))
        return
    pending = {k: v for k, v in pending.items() if k not in ("starts", "picked", "action")}
    _ask_book(turn, estimate, service, datetime.fromisoformat(start_iso), staff_id, pending)


def _do_book(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    service = next(s for s in turn.services() if s.key == pending["service"])
    outcome = book_estimate(
        turn.session,
        pending["estimate"],
        service_id=service.id,
        start=datetime.fromisoformat(pending["start"]),
        staff_id=pending.get("staff_id"),
        now=turn.now,
        actor=actor.tag,
    )
    if isinstance(outcome, Refused):
        answer(turn, [t("Couldn't book it: {message}", message=outcome.message)])
        return
    assert isinstance(outcome, Booked)
    estimate = turn.session.get(Estimate, pending["estimate"])
    audit(
        turn,
        actor,
        "estimate_book",
        estimate=estimate.number if estimate else None,
        appointment=outcome.appointment.id,
    )
    answer(
        turn,
        [
            t("Booked: {line}. "
            "Its invoice will carry {number}'s lines.", line=admin._line(turn, outcome.appointment, with_day=True), number=estimate.number if estimate else _('the estimate'))
        ],
    )


# --- invoicing ------------------------------------------------------------------------------


def invoice(turn: Turn, actor: Actor, text: str) -> None:
    """ "invoice EST-3": invoice approved work done without an appointment, on a yes."""
    estimate = find_estimate(turn.session, text)
    if estimate is None:
        turn.say(_('Which estimate? e.g. "invoice EST-0003".'))
        return
    chain = chain_of_estimate(turn.session, estimate)
    if chain.invoice is not None:
        answer(turn, [t("{number} is already invoiced as {invoice}.", number=estimate.number, invoice=chain.invoice.number)])
        return
    if estimate.status != APPROVED:
        answer(turn, [t("{number} is {status}, not approved yet.", number=estimate.number, status=_status(estimate))])
        return
    if chain.appointment is not None:
        answer(
            turn,
            [
                t("{number} is booked as #{appointment}: its invoice goes out "
                "when the job is marked done (done #{appointment}).", number=estimate.number, appointment=chain.appointment.id)
            ],
        )
        return
    ctx = turn.business
    total = ctx.money(estimate_totals(turn.session, estimate).total)
    confirm(
        turn,
        t("Invoice {number} ({total}) to {customer} now, with a pay link?", number=estimate.number, total=total, customer=estimate.customer.name),
        Action.INVOICE,
        estimate=estimate.id,
    )


def _do_invoice(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    made = invoice_from_estimate(turn.session, pending["estimate"], now=turn.now)
    if isinstance(made, Refused):
        answer(turn, [made.message])
        return
    sent = send_invoice(turn.session, made.id, now=turn.now)
    audit(turn, actor, "estimate_invoice", invoice=made.number)
    answer(
        turn,
        [t("Invoiced as {number}", number=made.number) + (_(", sent with a pay link.") if sent else _(" (not sent)."))],
    )


# --- registering ----------------------------------------------------------------------------

_registered: list[bool] = []


def register() -> None:
    """Add the estimate actions to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS[Action.CREATE] = _do_create
    admin.ACTIONS[Action.BOOK] = _do_book
    admin.ACTIONS[Action.INVOICE] = _do_invoice
    admin.CHOSEN[Action.BOOK] = _picked

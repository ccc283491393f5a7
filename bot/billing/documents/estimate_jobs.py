"""Estimates as the owner makes and uses them: written from a line of text, sent, booked as
an appointment, invoiced, and the chain estimate → appointment → invoice read back.

The chat ("estimate for Bob Stone: colour 120, toner 25, valid 30 days"), the dashboard's
form and `slotbot estimate create` all go through `parse_items` and `create_and_send`; the
chat's "book EST-3 friday at 2" goes through `book_estimate`. The estimate itself (numbers,
PDF, approval) is bot.billing.documents.estimates'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.billing.documents.estimates import create_estimate, schedule_estimate, send_estimate
from bot.billing.ledger.invoices import LineSpec, format_number
from bot.config.context import business_context
from bot.core.errors import InvalidRequest
from bot.core.money import parse_amount
from bot.core.text import t
from bot.scheduling.booking import NOT_ALLOWED, Booked, Refused, book
from storage.billing import APPROVED, Estimate, Invoice
from storage.models import Appointment, AwaitingReply, Service

DEFAULT_VALID_DAYS = 30
_VALID = re.compile(r"\bvalid(?: for)?\s+(\d{1,3})\s*(day|week)s?\b", re.I)
_ITEM = re.compile(r"^(?P<desc>.*?)\s*[:=-]?\s*\$?(?P<amount>\d[\d,]*(?:\.\d{1,2})?)\s*$")
_NUMBER = re.compile(r"\b([a-z]{2,5})-?(\d{1,8})\b", re.I)


@dataclass(frozen=True)
class Items:
    """What a line of text asks an estimate to hold: priced lines and how long it is valid."""

    lines: list[LineSpec]
    valid_days: int


def parse_items(text: str, currency: str) -> Items:
    """ "colour 120, toner 25, valid 30 days" → two lines valid 30 days; InvalidRequest when
    an item has no price."""
    valid_days = DEFAULT_VALID_DAYS
    found = _VALID.search(text)
    if found is not None:
        valid_days = int(found.group(1)) * (7 if found.group(2).lower() == "week" else 1)
        text = text[: found.start()] + text[found.end() :]
    lines = []
    for raw in re.split(r"[,;\n]|\band\b|\+", text):
        part = raw.strip(" .")
        if not part:
            continue
        item = _ITEM.match(part)
        if item is None or not item.group("desc").strip():
            raise InvalidRequest(t("{part!r} needs a description and a price, like 'toner 25'", part=part))
        minor = parse_amount(item.group("amount").replace(",", ""), currency)
        description = item.group("desc").strip(" :=-")
        lines.append(LineSpec("service", description[:1].upper() + description[1:], minor))
    if not lines:
        raise InvalidRequest("an estimate needs at least one line, like 'colour 120'")
    if not 1 <= valid_days <= 365:
        raise InvalidRequest("an estimate is valid for 1 to 365 days")
    return Items(lines, valid_days)


def service_named(session: Session, lines: list[LineSpec]) -> Service | None:
    """The first service whose name or key a line's description gives ("Colour")."""
    services = list(session.scalars(select(Service).where(Service.active.is_(True))))
    for line in lines:
        words = line.description.lower()
        for service in services:
            if service.name.lower() == words or service.key == words:
                return service
    return None


def create_and_send(
    session: Session,
    *,
    customer_id: int,
    items: Items,
    now: datetime,
    send: bool = True,
    notes: str = "",
) -> tuple[Estimate, bool]:
    """A numbered estimate for the customer, sent when asked; (estimate, whether it went)."""
    service = service_named(session, items.lines)
    estimate = create_estimate(
        session,
        customer_id=customer_id,
        lines=items.lines,
        now=now,
        service_id=service.id if service else None,
        notes=notes,
        valid_days=items.valid_days,
    )
    sent = send_estimate(session, estimate.id, now=now) if send else False
    return estimate, sent


def find_estimate(session: Session, text: str) -> Estimate | None:
    """The estimate a text names: "EST-0003", "est-3", "EST3" (any case)."""
    prefix = business_context(session).billing.estimate_prefix.rstrip("-").upper()
    for letters, digits in _NUMBER.findall(text):
        if letters.upper() != prefix:
            continue
        number = format_number(business_context(session).billing.estimate_prefix, int(digits))
        found = session.scalars(
            select(Estimate).where(func.upper(Estimate.number) == number.upper())
        ).first()
        if found is not None:
            return found
    return None


def book_estimate(
    session: Session,
    estimate_id: int,
    *,
    service_id: int,
    start: datetime,
    now: datetime,
    staff_id: int | None = None,
    actor: str = "owner",
) -> Booked | Refused:
    """Book the approved estimate's work as an appointment and link the two."""
    estimate = session.get(Estimate, estimate_id)
    if estimate is None or estimate.status != APPROVED:
        status = estimate.status if estimate else "missing"
        return Refused(NOT_ALLOWED, t("That estimate is {status}, not approved.", status=status))
    if estimate.appointment_id is not None:
        return Refused(NOT_ALLOWED, t("{number} is already booked.", number=estimate.number))
    outcome = book(
        session,
        customer_id=estimate.customer_id,
        service_id=service_id,
        start=start,
        staff_id=staff_id,
        now=now,
        actor=actor,
        enforce_rules=False,
        notes=t("Work of estimate {number}", number=estimate.number),
    )
    if isinstance(outcome, Booked):
        linked = schedule_estimate(session, estimate.id, outcome.appointment.id, now=now)
        if isinstance(linked, Refused):
            return linked
    return outcome


@dataclass(frozen=True)
class Chain:
    """The documents one piece of work went through."""

    estimate: Estimate | None
    appointment: Appointment | None
    invoice: Invoice | None


def chain_of_estimate(session: Session, estimate: Estimate) -> Chain:
    """The estimate, the appointment it was booked as, and its invoice (if any yet)."""
    appointment = session.get(Appointment, estimate.appointment_id or 0)
    invoice = session.scalars(
        select(Invoice).where(Invoice.estimate_id == estimate.id).order_by(Invoice.id)
    ).first()
    if invoice is None and appointment is not None:
        invoice = session.scalars(
            select(Invoice).where(Invoice.appointment_id == appointment.id).order_by(Invoice.id)
        ).first()
    return Chain(estimate, appointment, invoice)


def chain_of_invoice(session: Session, invoice: Invoice) -> Chain:
    """The estimate and appointment an invoice came from."""
    estimate = session.get(Estimate, invoice.estimate_id or 0)
    if estimate is None and invoice.appointment_id is not None:
        estimate = session.scalars(
            select(Estimate).where(Estimate.appointment_id == invoice.appointment_id)
        ).first()
    appointment = session.get(Appointment, invoice.appointment_id or 0)
    if appointment is None and estimate is not None:
        appointment = session.get(Appointment, estimate.appointment_id or 0)
    return Chain(estimate, appointment, invoice)


def open_estimates(session: Session, channel: str, address: str, now: datetime) -> list[Estimate]:
    """Sent estimates still waiting for this person's answer, newest first."""
    ids = session.scalars(
        select(AwaitingReply.ref_id)
        .where(
            AwaitingReply.kind == "estimate",
            AwaitingReply.channel == channel,
            AwaitingReply.address == address,
            AwaitingReply.answered_at.is_(None),
            AwaitingReply.expires_at > now,
        )
        .order_by(AwaitingReply.created_at.desc(), AwaitingReply.id.desc())
    ).all()
    found = {e.id: e for e in session.scalars(select(Estimate).where(Estimate.id.in_(ids)))}
    return [found[i] for i in dict.fromkeys(ids) if i in found]

"""Estimates: priced in advance, sent in chat, approved (or declined) by the customer's reply.

Sending an estimate leaves an `AwaitingReply` row (kind "estimate", ref_id the estimate id)
for the identity it was sent to; the conversation engine reads it and, when the customer
replies APPROVE or DECLINE, calls `approve_estimate` / `decline_estimate`. The approval is
recorded as given: when, on which channel, from which address, and published as
`bot.core.events.EstimateDecided` (the owners' notice, `on_estimate_decided`, subscribes to it).

An approved estimate can be scheduled (linked to an appointment: the appointment's invoice
then copies the estimate's lines instead of the service price) or invoiced directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.contact import notify_owners
from bot.billing.documents.delivery import business_party, customer_party, long_date, totals_block
from bot.billing.documents.evidence import photos_for, signatures_for
from bot.billing.documents.pdf import Brand, Document, page_format_for, render, rows_of
from bot.billing.ledger.invoices import (
    LineSpec,
    create_invoice,
    format_number,
    issue_invoice,
    next_number,
    price_line,
)
from bot.billing.ledger.totals import LineAmount, Totals, compute_totals
from bot.config.context import business_context
from bot.core import events
from bot.core.errors import NotFound
from bot.core.formatting import format_rate
from bot.core.text import _, t
from bot.messaging.asking import Awaiting, ask, customer_address
from bot.messaging.messages import Attachment, Option, Reply
from bot.messaging.outbox import Purpose
from bot.scheduling.booking import NOT_ALLOWED, Refused
from storage.billing import (
    APPROVED,
    DECLINED,
    ESTIMATE_DRAFT,
    ESTIMATE_SENT,
    FOR_ESTIMATE,
    INVOICED,
    Estimate,
    EstimateLine,
    Invoice,
)
from storage.models import Appointment, AwaitingReply

APPROVE = "APPROVE"
DECLINE = "DECLINE"
AWAITING_KIND = "estimate"


@dataclass(frozen=True)
class EstimateAnswer:
    """What a customer's APPROVE / DECLINE did, and what to say back to them."""

    ok: bool
    estimate: Estimate
    reply: Reply


def get_estimate(session: Session, estimate_id: int) -> Estimate:
    """The estimate with this id."""
    estimate = session.get(Estimate, estimate_id)
    if estimate is None:
        raise NotFound(f"no estimate with id {estimate_id}")
    return estimate


def estimate_lines(session: Session, estimate_id: int) -> list[EstimateLine]:
    """An estimate's lines in order."""
    return list(
        session.scalars(
            select(EstimateLine)
            .where(EstimateLine.estimate_id == estimate_id)
            .order_by(EstimateLine.id)
        )
    )


def estimate_totals(session: Session, estimate: Estimate) -> Totals:
    """An estimate's subtotal, tax and total (nothing is paid on an estimate)."""
    lines = estimate_lines(session, estimate.id)
    return compute_totals([LineAmount(ln.net_minor, ln.tax_minor, ln.tax_rate) for ln in lines], [])


def create_estimate(
    session: Session,
    *,
    customer_id: int,
    lines: Iterable[LineSpec],
    now: datetime,
    service_id: int | None = None,
    notes: str = "",
    valid_days: int = 30,
) -> Estimate:
    """A numbered draft estimate (EST-0001) with priced lines, valid for `valid_days`."""
    ctx = business_context(session)
    number = format_number(ctx.billing.estimate_prefix, next_number(session, "estimate"))
    estimate = Estimate(
        number=number,
        customer_id=customer_id,
        service_id=service_id,
        status=ESTIMATE_DRAFT,
        currency=ctx.currency,
        notes=notes,
        valid_until=now + timedelta(days=valid_days),
        created_at=now,
        updated_at=now,
    )
    session.add(estimate)
    session.flush()
    for spec in lines:
        add_estimate_line(session, estimate.id, spec, now=now)
    return estimate


def add_estimate_line(
    session: Session, estimate_id: int, spec: LineSpec, *, now: datetime
) -> EstimateLine | Refused:
    """Add a line to an estimate that has not been answered yet."""
    estimate = get_estimate(session, estimate_id)
    if estimate.status not in (ESTIMATE_DRAFT, ESTIMATE_SENT):
        return Refused(NOT_ALLOWED, t("{number} is {status}.", number=estimate.number, status=estimate.status))
    quantity, rate, unit, net, tax = price_line(spec, business_context(session))
    line = EstimateLine(
        estimate_id=estimate.id,
        kind=spec.kind,
        description=spec.description.strip(),
        quantity=quantity,
        unit_price_minor=unit,
        tax_rate=rate,
        net_minor=net,
        tax_minor=tax,
    )
    session.add(line)
    estimate.updated_at = now
    session.flush()
    return line


def estimate_pdf(session: Session, estimate: Estimate) -> bytes:
    """The estimate as a PDF."""
    ctx = business_context(session)
    rows = [
        (
            line.description,
            line.quantity,
            ctx.money(line.unit_price_minor),
            format_rate(line.tax_rate) if line.tax_minor else "-",
            ctx.money(line.net_minor),
        )
        for line in estimate_lines(session, estimate.id)
    ]
    facts: tuple[tuple[str, str], ...] = (
        (_("Date"), long_date(ctx, estimate.created_at)),
        (_("Valid until"), long_date(ctx, estimate.valid_until)),
    )
    # The chain: the appointment that does the work and the invoice that bills it.
    booked = session.get(Appointment, estimate.appointment_id or 0)
    if booked is not None:
        facts += ((_("Appointment"), f"#{booked.id}, {long_date(ctx, booked.starts_at)}"),)
    billed = session.scalars(
        select(Invoice.number).where(
            Invoice.estimate_id == estimate.id, Invoice.number.is_not(None)
        )
    ).first()
    if billed:
        facts += ((_("Invoice"), billed),)
    block = tuple(row for row in totals_block(ctx, estimate_totals(session, estimate)))
    return render(
        Document(
            title=_("Estimate"),
            number=estimate.number,
            business=business_party(ctx),
            brand=Brand.from_hex(ctx.branding.colour, ctx.branding.logo),
            customer=customer_party(estimate.customer),
            facts=facts,
            columns=(
                (_("Description"), 0.46, "L"),
                (_("Qty"), 0.08, "R"),
                (_("Unit price"), 0.16, "R"),
                (_("Tax"), 0.12, "R"),
                (_("Amount"), 0.18, "R"),
            ),
            rows=rows_of(rows),
            totals=block[:-1],  # no "balance due" on an estimate
            note=estimate.notes or _("Reply APPROVE to go ahead, or DECLINE."),
            page_format=page_format_for(ctx.locale),
            created=estimate.created_at,
            photos=photos_for(session, estimate.appointment_id),
            signatures=signatures_for(
                session, appointment_id=estimate.appointment_id, estimate_id=estimate.id
            ),
        )
    )


def send_estimate(session: Session, estimate_id: int, *, now: datetime) -> bool:
    """Send an estimate to the customer and wait for their APPROVE; False if unreachable."""
    estimate = get_estimate(session, estimate_id)
    if estimate.status not in (ESTIMATE_DRAFT, ESTIMATE_SENT):
        return False
    target = customer_address(session, estimate.customer_id)
    if target is None:
        return False
    ctx = business_context(session)
    result = estimate_totals(session, estimate)
    text = (
        t("Estimate {number} from {business}: {total}"
        " (valid until {day}). Reply APPROVE to go ahead, "
        "or DECLINE.", number=estimate.number, business=ctx.name, total=ctx.money(result.total), day=ctx.day(estimate.valid_until))
    )
    pdf = Attachment(
        "application/pdf", f"{estimate.number}.pdf", data=estimate_pdf(session, estimate)
    )
    reply = Reply(
        text,
        # The number rides on the buttons: with two estimates open, each button knows its own.
        options=(
            Option(f"{APPROVE}:{estimate.number}", _("Approve")),
            Option(f"{DECLINE}:{estimate.number}", _("Decline")),
        ),
        attachments=(pdf,),
    )
    ask(
        session,
        estimate.customer_id,
        reply,
        awaiting=Awaiting(
            AWAITING_KIND,
            estimate.id,
            expires=estimate.valid_until,
            data={"number": estimate.number, "options": [APPROVE, DECLINE]},
        ),
        purpose=Purpose.ESTIMATE,
        ref_id=estimate.id,
        now=now,
        to=target,
    )
    estimate.status = ESTIMATE_SENT
    estimate.sent_at = now
    estimate.updated_at = now
    session.flush()
    return True


def _close_awaiting(session: Session, estimate: Estimate, now: datetime) -> None:
    for row in session.scalars(
        select(AwaitingReply).where(
            AwaitingReply.kind == AWAITING_KIND,
            AwaitingReply.ref_id == estimate.id,
            AwaitingReply.answered_at.is_(None),
        )
    ):
        row.answered_at = now


def _answer(
    session: Session,
    estimate_id: int,
    *,
    approve: bool,
    channel: str,
    address: str,
    now: datetime,
) -> EstimateAnswer:
    estimate = get_estimate(session, estimate_id)
    ctx = business_context(session)
    wanted = APPROVED if approve else DECLINED
    if estimate.status == wanted:
        word = _("approved") if approve else _("declined")
        return EstimateAnswer(True, estimate, Reply(t("{number} is already {word}.", number=estimate.number, word=word)))
    if estimate.status == INVOICED or (estimate.status == APPROVED and not approve):
        return EstimateAnswer(
            False,
            estimate,
            Reply(t("{number} was already approved. Please call us to change it.", number=estimate.number)),
        )
    if estimate.status == ESTIMATE_DRAFT:
        return EstimateAnswer(False, estimate, Reply(t("{number} hasn't been sent yet.", number=estimate.number)))
    if approve and now > estimate.valid_until:
        notify_owners(
            session,
            ctx,
            t("{customer} tried to approve {number}, "
            "which has expired: send a fresh estimate.", customer=estimate.customer.name or _('A customer'), number=estimate.number),
            now=now,
            dedupe_key=f"estimate-expired:{estimate.id}",
        )
        return EstimateAnswer(
            False,
            estimate,
            Reply(
                t("{number} expired on {day}. "
                "We'll send you an up-to-date estimate.", number=estimate.number, day=ctx.day(estimate.valid_until))
            ),
        )
    estimate.status = wanted
    estimate.approved_at = now if approve else None
    estimate.declined_at = None if approve else now
    estimate.answer_channel, estimate.answer_address = channel, address
    estimate.updated_at = now
    _close_awaiting(session, estimate, now)
    total_minor = estimate_totals(session, estimate).total
    total = ctx.money(total_minor)
    decided = events.EstimateDecided(
        at=now, estimate_id=estimate.id, approved=approve, channel=channel, total_minor=total_minor
    )
    events.publish(session, decided)
    if approve:
        text = t("Thanks - estimate {number} ({total}) is approved. We'll be in touch to schedule it.", number=estimate.number, total=total)
    else:
        text = t("No problem - estimate {number} is declined. Just message us if you change your mind.", number=estimate.number)
    return EstimateAnswer(True, estimate, Reply(text))


def on_estimate_decided(session: Session, event: events.EstimateDecided) -> None:
    """Subscriber: the owners hear that the customer approved or declined an estimate."""
    estimate = get_estimate(session, event.estimate_id)
    ctx = business_context(session)
    total, channel = ctx.money(event.total_minor), event.channel
    who = estimate.customer.name or _("The customer")
    verb = "approved" if event.approved else "declined"  # also the dedupe key's word
    notify_owners(
        session,
        ctx,
        t(
            "{who} {verb} estimate {number} ({total}) by {channel}.",
            who=who,
            verb=_("approved") if event.approved else _("declined"),
            number=estimate.number,
            total=total,
            channel=channel,
        ),
        now=event.at,
        ref_id=estimate.id,
        dedupe_key=f"estimate-{verb}:{estimate.id}",
    )


def approve_estimate(
    session: Session, estimate_id: int, *, channel: str, address: str, now: datetime
) -> EstimateAnswer:
    """Record the customer's approval (time, channel, address); the reply to send back."""
    return _answer(session, estimate_id, approve=True, channel=channel, address=address, now=now)


def decline_estimate(
    session: Session, estimate_id: int, *, channel: str, address: str, now: datetime
) -> EstimateAnswer:
    """Record the customer's refusal (time, channel, address); the reply to send back."""
    return _answer(session, estimate_id, approve=False, channel=channel, address=address, now=now)


def schedule_estimate(
    session: Session, estimate_id: int, appointment_id: int, *, now: datetime
) -> Estimate | Refused:
    """Link an approved estimate to the appointment that does the work."""
    estimate = get_estimate(session, estimate_id)
    if estimate.status != APPROVED:
        return Refused(NOT_ALLOWED, t("{number} is {status}, not approved.", number=estimate.number, status=estimate.status))
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.customer_id != estimate.customer_id:
        return Refused(NOT_ALLOWED, _("That appointment is not this customer's."))
    estimate.appointment_id = appointment_id
    estimate.updated_at = now
    return estimate


def copy_lines(session: Session, estimate: Estimate) -> list[LineSpec]:
    """The estimate's lines as line specs, at the prices and rates quoted."""
    return [
        LineSpec(line.kind, line.description, line.unit_price_minor, line.quantity, line.tax_rate)
        for line in estimate_lines(session, estimate.id)
    ]


def invoice_from_estimate(
    session: Session, estimate_id: int, *, now: datetime
) -> Invoice | Refused:
    """Invoice an approved estimate (work done without an appointment), once."""
    estimate = get_estimate(session, estimate_id)
    if estimate.status == INVOICED:
        existing = session.scalars(
            select(Invoice).where(Invoice.estimate_id == estimate.id)
        ).first()
        if existing is not None:
            return existing
    if estimate.status != APPROVED:
        return Refused(NOT_ALLOWED, t("{number} is {status}, not approved.", number=estimate.number, status=estimate.status))
    invoice = create_invoice(
        session,
        customer_id=estimate.customer_id,
        now=now,
        purpose=FOR_ESTIMATE,
        estimate_id=estimate.id,
        lines=copy_lines(session, estimate),
    )
    estimate.status = INVOICED
    estimate.updated_at = now
    return issue_invoice(session, invoice.id, now=now)

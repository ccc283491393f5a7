"""Invoices as customers see them: the PDF, the chat message with its pay link, sending.

A PDF that cannot be rendered must not stop an invoice from going out: the message is
sent without the attachment (and the pay link still works) and the failure is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime

import phonenumbers
from sqlalchemy.orm import Session

from bot.billing.documents.evidence import photos_for, signatures_for
from bot.billing.documents.pdf import Brand, Document, Party, page_format_for, render, rows_of
from bot.billing.ledger.invoices import issue_invoice, lines_of, refresh_status
from bot.billing.ledger.minimums import pay_here
from bot.billing.ledger.totals import Totals
from bot.billing.payments.links import pay_url
from bot.config.context import BusinessContext, business_context
from bot.core.formatting import format_long_date, format_rate
from bot.core.text import N_, _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Attachment, Reply
from bot.messaging.outbox import Purpose
from storage.billing import PAID, VOID, Estimate, Invoice
from storage.models import Customer

log = logging.getLogger(__name__)

LINE_COLUMNS = (
    (N_("Description"), 0.46, "L"),
    (N_("Qty"), 0.08, "R"),
    (N_("Unit price"), 0.16, "R"),
    (N_("Tax"), 0.12, "R"),
    (N_("Amount"), 0.18, "R"),
)


def printable_phone(number: str | None) -> str | None:
    """A phone number as people write it: "+1 212-555-0100"."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def business_party(ctx: BusinessContext) -> Party:
    """The business as printed at the top of its documents."""
    details = (ctx.address, printable_phone(ctx.phone), ctx.email)
    return Party(ctx.name, tuple(value for value in details if value))


def customer_party(customer: Customer) -> Party:
    """A customer as printed under "Bill to"."""
    details = (customer.address, printable_phone(customer.phone), customer.email)
    return Party(customer.name or t("Customer {id}", id=customer.id), tuple(v for v in details if v))


def long_date(ctx: BusinessContext, moment: datetime) -> str:
    """A date for documents, in the business's zone and locale: "Dec 1, 2026"."""
    return format_long_date(ctx.local_date(moment), ctx.locale)


def invoice_document(
    session: Session, invoice: Invoice, *, url: str | None, now: datetime
) -> Document:
    """The printable invoice: lines, taxes per rate, total, paid and balance."""
    ctx = business_context(session)
    result = refresh_status(session, invoice)
    rows = [
        (
            line.description,
            line.quantity,
            ctx.money(line.unit_price_minor),
            format_rate(line.tax_rate) if line.tax_minor else "-",
            ctx.money(line.net_minor),
        )
        for line in lines_of(session, invoice.id)
    ]
    facts: list[tuple[str, str]] = []
    if invoice.issued_at:
        facts.append((_("Issued"), long_date(ctx, invoice.issued_at)))
    if invoice.due_at and invoice.status != PAID:
        facts.append((_("Due"), long_date(ctx, invoice.due_at)))
    facts.append((_("Status"), invoice.status.replace("_", " ").capitalize()))
    quoted = session.get(Estimate, invoice.estimate_id or 0)
    if quoted is not None:
        facts.append((_("Estimate"), quoted.number))  # the chain: estimate → appointment → invoice
    if invoice.appointment_id is not None:
        facts.append((_("Appointment"), f"#{invoice.appointment_id}"))
    note = _("Thank you for your business.")
    if url and result.balance > 0:
        note = t("Pay online: {url}\n{note}", url=url, note=note)
    return Document(
        title=_("Invoice"),
        number=invoice.number or "DRAFT",
        business=business_party(ctx),
        brand=Brand.from_hex(ctx.branding.colour, ctx.branding.logo),
        customer=customer_party(invoice.customer),
        facts=tuple(facts),
        columns=tuple((_(title), width, align) for title, width, align in LINE_COLUMNS),
        rows=rows_of(rows),
        totals=totals_block(ctx, result),
        note=note,
        stamp={PAID: "PAID", VOID: "VOID"}.get(invoice.status),
        page_format=page_format_for(ctx.locale),
        created=invoice.issued_at or now,
        photos=photos_for(session, invoice.appointment_id),
        signatures=signatures_for(
            session, appointment_id=invoice.appointment_id, estimate_id=invoice.estimate_id
        ),
    )


def totals_block(ctx: BusinessContext, result: Totals) -> tuple[tuple[str, str, bool], ...]:
    """Subtotal, tax per rate, total, paid and balance due, as printed."""
    block = [(_("Subtotal"), ctx.money(result.subtotal), False)]
    block += [
        (t("Tax {rate}", rate=format_rate(band.rate)), ctx.money(band.tax), False) for band in result.taxes
    ]
    block.append((_("Total"), ctx.money(result.total), True))
    if result.paid:
        block.append((_("Paid"), ctx.money(result.paid), False))
    label = _("Balance due") if result.balance >= 0 else _("Credit")
    block.append((label, ctx.money(abs(result.balance)), True))
    return tuple(block)


def invoice_pdf(
    session: Session, invoice: Invoice, *, now: datetime, url: str | None = None
) -> bytes:
    """The invoice as PDF bytes."""
    return render(invoice_document(session, invoice, url=url, now=now))


def invoice_attachment(
    session: Session, invoice: Invoice, *, now: datetime, url: str | None = None
) -> Attachment | None:
    """The invoice PDF as a message attachment, or None if it could not be rendered."""
    try:
        data = invoice_pdf(session, invoice, now=now, url=url)
    except Exception:  # never let a rendering problem stop the invoice itself
        log.exception("could not render the PDF of invoice %s", invoice.id)
        return None
    return Attachment(
        content_type="application/pdf",
        filename=f"{invoice.number or 'invoice'}.pdf",
        url=f"{url}/invoice.pdf" if url else None,
        data=data,
    )


def invoice_text(ctx: BusinessContext, invoice: Invoice, result: Totals, url: str | None) -> str:
    """The chat message for an invoice: what it is for, what is due, and where to pay."""
    text = t("Invoice {number} from {business}: {total}.", number=invoice.number, business=ctx.name, total=ctx.money(result.total))
    if result.paid > 0:
        text += t(" Paid so far: {paid}.", paid=ctx.money(result.paid))
    if result.balance > 0:
        due = t(" due {day}", day=ctx.day(invoice.due_at)) if invoice.due_at else ""
        text += f" {ctx.money(result.balance)}{due}."
        if url:
            text += f" {pay_here(ctx, result.balance, invoice.currency, url)}"
    else:
        text += _(" Nothing left to pay - thank you!")
    return text


def invoice_reply_for(session: Session, invoice: Invoice, *, now: datetime) -> Reply:
    """The invoice as one chat message: text, pay link and PDF."""
    ctx = business_context(session)
    result = refresh_status(session, invoice)
    url = pay_url(session, invoice.id, now=now) if result.balance > 0 else None
    attachment = invoice_attachment(session, invoice, now=now, url=url)
    return Reply(
        invoice_text(ctx, invoice, result, url),
        attachments=(attachment,) if attachment else (),
    )


def send_invoice(
    session: Session, invoice_id: int, *, now: datetime, dedupe_key: str | None = None
) -> bool:
    """Issue (if needed) and send an invoice to its customer; False if unreachable or sent before."""
    invoice = issue_invoice(session, invoice_id, now=now)
    reply = invoice_reply_for(session, invoice, now=now)
    sent = tell_customer(
        session,
        invoice.customer_id,
        reply,
        purpose=Purpose.INVOICE,
        now=now,
        ref_id=invoice.id,
        dedupe_key=dedupe_key,
    )
    if sent is not None:
        invoice.sent_at = invoice.sent_at or now
    return sent is not None

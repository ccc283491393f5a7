"""Invoices in the database: numbering, lines, issuing, voiding, payments, credit on account.

These are the ledger's raw operations, without messages; `settlement` records payments with
their receipts and consequences, `completion` builds invoices from appointments.

Numbers (INV-0001, …) are given when an invoice is issued, from a counter row bumped with
`UPDATE … RETURNING` in the same transaction: concurrent issuers queue on the row lock, and a
rolled-back transaction returns its number, so numbers are gap-free. Invoices are never
deleted; a mistake is voided and keeps its number.

Credit on account: an overpaid invoice has a negative balance. Whenever an invoice is issued
or paid, the customer's credit is moved onto their open invoices, oldest due first, as a
pair of `credit` payment rows (minus on the overpaid invoice, plus on the open one) that sum
to zero, so every invoice's balance stays a plain derivation and the customer's total does
not change. Deposit invoices are paid explicitly and never receive credit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.billing.ledger.totals import LineAmount, Totals, compute_totals, derive_status
from bot.config.context import BusinessContext, business_context
from bot.core.errors import InvalidRequest, NotFound
from bot.core.money import Number, line_net, normalise_quantity, normalise_rate, tax_on
from bot.core.text import _, t
from bot.scheduling.booking import NOT_ALLOWED, Refused
from storage.billing import (
    ACCOUNT_CREDIT,
    CREDIT,
    CREDIT_TRANSFER,
    DEPOSIT,
    DISCOUNT,
    DRAFT,
    EXTRA,
    FOR_DEPOSIT,
    LABOUR,
    LINE_KINDS,
    MANUAL,
    PART,
    PAYMENT,
    PENDING,
    SERVICE,
    SKIPPED,
    VOID,
    BillingCounter,
    Invoice,
    InvoiceLine,
    PayLink,
    Payment,
    ScheduledCharge,
)

DUPLICATE = "duplicate"
# Kinds taxed at the business rate unless a line says otherwise; fees, deposits and
# credits are untaxed by default.
TAXED_BY_DEFAULT = (SERVICE, EXTRA, PART, LABOUR, DISCOUNT)
# Kinds that only ever reduce what is owed: their unit price is stored negative.
REDUCING = (DISCOUNT, CREDIT)


@dataclass(frozen=True)
class LineSpec:
    """A line to add: kind, words, unit price; quantity 1 and the default rate unless given."""

    kind: str
    description: str
    unit_price_minor: int
    quantity: Number = 1
    tax_rate: Number | None = None


# ----------------------------------------------------------------------------- numbers


def next_number(session: Session, name: str) -> int:
    """The next number of a sequence, taken inside the caller's transaction (gap-free)."""
    bump = (
        update(BillingCounter)
        .where(BillingCounter.name == name)
        .values(value=BillingCounter.value + 1)
        .returning(BillingCounter.value)
    )
    value = session.execute(bump).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        with session.begin_nested():
            session.add(BillingCounter(name=name, value=1))
            session.flush()
        return 1
    except IntegrityError:
        # Another transaction created the counter first; it is committed now, so bump it.
        return int(session.execute(bump).scalar_one())


def format_number(prefix: str, value: int) -> str:
    """INV-0001: the prefix and at least four digits."""
    return f"{prefix}{value:04d}"


# ---------------------------------------------------------------------------- reading


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    """The invoice with this id."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice with id {invoice_id}")
    return invoice


# PostgreSQL advisory lock space for customer accounts (storage uses 1 and 2 for
# calendars, bot.config 4_201_726 for config loads).
_ACCOUNT_LOCK_SPACE = 4_201_727


def lock_account(session: Session, customer_id: int) -> None:
    """Serialise changes to one customer's invoices until the transaction ends.

    Status caches and credit moves read several rows and then write: on PostgreSQL two
    payments for the same customer at once could each act on a stale view (credit spent
    twice, a status one payment behind). SQLite's BEGIN IMMEDIATE serialises writers already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": _ACCOUNT_LOCK_SPACE, "key": customer_id},
        )


def locked_invoice(session: Session, invoice_id: int) -> Invoice:
    """The invoice, with its customer's account locked for this transaction."""
    invoice = get_invoice(session, invoice_id)
    lock_account(session, invoice.customer_id)
    session.flush()
    session.refresh(invoice)  # what others committed before we got the lock
    return invoice


def find_invoice(session: Session, number: str) -> Invoice | None:
    """The invoice with this number ("INV-0003", any case), if there is one."""
    return session.scalars(
        select(Invoice).where(func.upper(Invoice.number) == number.strip().upper())
    ).first()


def line_amounts(session: Session, invoice_id: int) -> list[LineAmount]:
    """The ledger view of an invoice's lines."""
    rows = session.execute(
        select(InvoiceLine.net_minor, InvoiceLine.tax_minor, InvoiceLine.tax_rate)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.id)
    )
    return [LineAmount(net, tax, rate) for net, tax, rate in rows]


def totals(session: Session, invoice: Invoice) -> Totals:
    """An invoice's totals, derived now from its lines and payments."""
    payments = session.scalars(
        select(Payment.amount_minor).where(Payment.invoice_id == invoice.id)
    ).all()
    return compute_totals(
        line_amounts(session, invoice.id), payments, void=invoice.voided_at is not None
    )


def totals_for(session: Session, invoices: Sequence[Invoice]) -> dict[int, Totals]:
    """Totals of many invoices in two grouped queries (no per-rate breakdown)."""
    ids = [invoice.id for invoice in invoices]
    if not ids:
        return {}
    lines = {
        invoice_id: (int(net or 0), int(tax or 0))
        for invoice_id, net, tax in session.execute(
            select(
                InvoiceLine.invoice_id,
                func.sum(InvoiceLine.net_minor),
                func.sum(InvoiceLine.tax_minor),
            )
            .where(InvoiceLine.invoice_id.in_(ids))
            .group_by(InvoiceLine.invoice_id)
        )
    }
    paid = {
        invoice_id: int(amount or 0)
        for invoice_id, amount in session.execute(
            select(Payment.invoice_id, func.sum(Payment.amount_minor))
            .where(Payment.invoice_id.in_(ids))
            .group_by(Payment.invoice_id)
        )
    }
    result = {}
    for invoice in invoices:
        net, tax = lines.get(invoice.id, (0, 0))
        result[invoice.id] = compute_totals(
            [LineAmount(net, tax)], [paid.get(invoice.id, 0)], void=invoice.voided_at is not None
        )
    return result


def issued_invoices(session: Session, customer_id: int | None = None) -> list[Invoice]:
    """Every issued invoice (void ones too), oldest first; one customer's, or everyone's."""
    query = select(Invoice).where(Invoice.issued_at.is_not(None))
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    return list(session.scalars(query.order_by(Invoice.issued_at, Invoice.id)))


def open_invoices(session: Session, customer_id: int) -> list[tuple[Invoice, Totals]]:
    """A customer's issued, unvoided invoices with something left to pay, oldest due first."""
    invoices = [i for i in issued_invoices(session, customer_id) if i.voided_at is None]
    sums = totals_for(session, invoices)
    owing = [(invoice, sums[invoice.id]) for invoice in invoices if sums[invoice.id].balance > 0]
    return sorted(owing, key=lambda pair: (pair[0].due_at or pair[0].issued_at, pair[0].id))


def account_balance(session: Session, customer_id: int) -> int:
    """What a customer owes over all issued invoices (negative: credit in their favour)."""
    invoices = issued_invoices(session, customer_id)
    return sum(t.balance for t in totals_for(session, invoices).values())


def credit_available(session: Session, customer_id: int) -> int:
    """Unapplied credit on a customer's account (overpayments), as a positive amount."""
    invoices = issued_invoices(session, customer_id)
    return -sum(min(t.balance, 0) for t in totals_for(session, invoices).values())


def refresh_status(session: Session, invoice: Invoice, now: datetime | None = None) -> Totals:
    """Recompute an invoice's cached status from its lines and payments; its totals."""
    session.flush()
    result = totals(session, invoice)
    status = derive_status(
        result, issued=invoice.issued_at is not None, void=invoice.voided_at is not None
    )
    if status != invoice.status:
        invoice.status = status
        if now is not None:
            invoice.updated_at = now
    return result


# ---------------------------------------------------------------------------- writing


def create_invoice(
    session: Session,
    *,
    customer_id: int,
    now: datetime,
    purpose: str = MANUAL,
    appointment_id: int | None = None,
    estimate_id: int | None = None,
    lines: Iterable[LineSpec] = (),
    notes: str = "",
) -> Invoice:
    """A new draft invoice (no number until issued) with the given lines."""
    ctx = business_context(session)
    invoice = Invoice(
        customer_id=customer_id,
        appointment_id=appointment_id,
        estimate_id=estimate_id,
        purpose=purpose,
        status=DRAFT,
        currency=ctx.currency,
        notes=notes,
        created_at=now,
        updated_at=now,
    )
    session.add(invoice)
    session.flush()
    for spec in lines:
        insert_line(session, invoice, spec, now=now, ctx=ctx)
    return invoice


def price_line(spec: LineSpec, ctx: BusinessContext) -> tuple[str, str, int, int, int]:
    """(quantity, rate, unit price, net, tax) for a line spec, by the documented rounding."""
    if spec.kind not in LINE_KINDS:
        raise InvalidRequest(f"unknown line kind {spec.kind!r}")
    if not spec.description.strip():
        raise InvalidRequest("a line needs a description")
    unit = int(spec.unit_price_minor)
    if spec.kind in REDUCING:
        unit = -abs(unit)
    elif unit < 0 and spec.kind != DEPOSIT:
        raise InvalidRequest(f"a {spec.kind} line cannot have a negative price")
    default = ctx.tax_rate if spec.kind in TAXED_BY_DEFAULT else "0"
    rate = normalise_rate(spec.tax_rate if spec.tax_rate is not None else default)
    quantity = normalise_quantity(spec.quantity)
    net = line_net(quantity, unit)
    return quantity, rate, unit, net, tax_on(net, rate)


def insert_line(
    session: Session,
    invoice: Invoice,
    spec: LineSpec,
    *,
    now: datetime,
    ctx: BusinessContext,
    dedupe_key: str | None = None,
) -> InvoiceLine | None:
    """Write one priced line (no status refresh); None if `dedupe_key` was used before."""
    quantity, rate, unit, net, tax = price_line(spec, ctx)
    line = InvoiceLine(
        invoice_id=invoice.id,
        kind=spec.kind,
        description=spec.description.strip(),
        quantity=quantity,
        unit_price_minor=unit,
        tax_rate=rate,
        net_minor=net,
        tax_minor=tax,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    if dedupe_key is None:
        session.add(line)
        session.flush()
        return line
    if session.scalar(select(InvoiceLine.id).where(InvoiceLine.dedupe_key == dedupe_key)):
        return None
    try:
        with session.begin_nested():
            session.add(line)
            session.flush()
    except IntegrityError:  # a concurrent job added it first (PostgreSQL)
        return None
    return line


def add_line(
    session: Session,
    invoice_id: int,
    *,
    kind: str,
    description: str,
    unit_price_minor: int,
    now: datetime,
    quantity: Number = 1,
    tax_rate: Number | None = None,
    dedupe_key: str | None = None,
) -> InvoiceLine | Refused:
    """Add a line (an extra, a part, a discount, a fee) to an invoice that is not void.

    `tax_rate` None means the business's rate for taxable kinds, 0 for fees and credits.
    A `dedupe_key` makes the addition idempotent: the second time it is refused as duplicate.
    """
    invoice = locked_invoice(session, invoice_id)
    if invoice.voided_at is not None:
        return Refused(NOT_ALLOWED, t("{number} is void.", number=invoice.number or _('That invoice')))
    ctx = business_context(session)
    spec = LineSpec(kind, description, unit_price_minor, quantity, tax_rate)
    line = insert_line(session, invoice, spec, now=now, ctx=ctx, dedupe_key=dedupe_key)
    if line is None:
        return Refused(DUPLICATE, _("That line was already added."))
    invoice.updated_at = now
    refresh_status(session, invoice, now)
    if invoice.issued_at is not None:
        apply_credit(session, invoice.customer_id, now)
    return line


def issue_invoice(
    session: Session, invoice_id: int, *, now: datetime, due_at: datetime | None = None
) -> Invoice:
    """Give a draft its number, issue date and due date (idempotent); credit is applied."""
    invoice = locked_invoice(session, invoice_id)
    if invoice.issued_at is not None or invoice.voided_at is not None:
        return invoice
    ctx = business_context(session)
    invoice.number = format_number(ctx.billing.invoice_prefix, next_number(session, "invoice"))
    invoice.issued_at = now
    invoice.due_at = due_at or now + timedelta(days=ctx.billing.payment_terms_days)
    invoice.updated_at = now
    refresh_status(session, invoice, now)
    apply_credit(session, invoice.customer_id, now)
    return invoice


def void_invoice(
    session: Session, invoice_id: int, *, now: datetime, reason: str = ""
) -> Invoice | Refused:
    """Void an invoice nobody has paid: it keeps its number and leaves receivables.

    Credit that was applied to it goes back where it came from first; real payments must
    be refunded before an invoice can be voided.
    """
    invoice = locked_invoice(session, invoice_id)
    if invoice.voided_at is not None:
        return invoice
    name = invoice.number or _("That invoice")
    rows = payments_of(session, invoice.id)
    if sum(p.amount_minor for p in rows if p.kind != CREDIT_TRANSFER) != 0:
        return Refused(NOT_ALLOWED, t("{name} has payments; refund them before voiding it.", name=name))
    if any(p.kind == CREDIT_TRANSFER and p.amount_minor < 0 for p in rows):
        return Refused(NOT_ALLOWED, t("{name} has paid other invoices with its credit.", name=name))
    _return_credit(session, invoice, now)
    invoice.voided_at = now
    invoice.void_reason = reason or None
    invoice.updated_at = now
    for link in session.scalars(select(PayLink).where(PayLink.invoice_id == invoice.id)):
        link.revoked_at = link.revoked_at or now
    for charge in session.scalars(
        select(ScheduledCharge).where(
            ScheduledCharge.invoice_id == invoice.id, ScheduledCharge.status == PENDING
        )
    ):
        charge.status = SKIPPED
        charge.last_error = "invoice voided"
    refresh_status(session, invoice, now)
    return invoice


# ---------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentEntry:
    """One payment row to write: money in, a refund (negative) or half of a credit transfer."""

    amount_minor: int
    method: str
    kind: str = PAYMENT
    reference: str = ""
    provider: str | None = None
    provider_payment_id: str | None = None
    actor: str = "system"
    received_at: datetime | None = None  # when the money arrived; `now` if not given
    refund_of_id: int | None = None
    counterpart_invoice_id: int | None = None


def add_payment(
    session: Session, invoice: Invoice, entry: PaymentEntry, *, now: datetime
) -> Payment | None:
    """Write one payment row; None if its provider id was recorded before (a redelivery)."""
    if entry.provider_payment_id is not None and session.scalar(
        select(Payment.id).where(Payment.provider_payment_id == entry.provider_payment_id)
    ):
        return None
    payment = Payment(
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        kind=entry.kind,
        method=entry.method,
        amount_minor=entry.amount_minor,
        currency=invoice.currency,
        reference=entry.reference,
        provider=entry.provider,
        provider_payment_id=entry.provider_payment_id,
        refund_of_id=entry.refund_of_id,
        counterpart_invoice_id=entry.counterpart_invoice_id,
        actor=entry.actor,
        received_at=entry.received_at or now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:  # the same provider payment, recorded concurrently (PostgreSQL)
        return None
    return payment


def _transfer(
    session: Session, source: Invoice, target: Invoice, amount: int, now: datetime
) -> None:
    """Move `amount` of credit from an overpaid invoice to another, as a zero-sum pair."""
    for invoice, other, signed, words in (
        (source, target, -amount, t("Credit applied to {number}", number=target.number)),
        (target, source, amount, t("Credit from {number}", number=source.number)),
    ):
        add_payment(
            session,
            invoice,
            PaymentEntry(
                amount_minor=signed,
                method=ACCOUNT_CREDIT,
                kind=CREDIT_TRANSFER,
                reference=words,
                counterpart_invoice_id=other.id,
            ),
            now=now,
        )


def apply_credit(session: Session, customer_id: int, now: datetime) -> int:
    """Use a customer's credit on their open invoices, oldest due first; the amount used."""
    lock_account(session, customer_id)
    invoices = issued_invoices(session, customer_id)
    sums = totals_for(session, invoices)
    sources = [i for i in invoices if sums[i.id].balance < 0]
    targets = [
        i
        for i in invoices
        if sums[i.id].balance > 0 and i.voided_at is None and i.purpose != FOR_DEPOSIT
    ]
    if not sources or not targets:
        return 0
    left = {i.id: -sums[i.id].balance for i in sources}
    used = 0
    for target in sorted(targets, key=lambda i: (i.due_at or i.issued_at, i.id)):
        need = sums[target.id].balance
        for source in sources:
            take = min(need, left[source.id])
            if take <= 0:
                continue
            _transfer(session, source, target, take, now)
            left[source.id] -= take
            need -= take
            used += take
    for invoice in sources + targets:
        refresh_status(session, invoice, now)
    return used


def _return_credit(session: Session, invoice: Invoice, now: datetime) -> None:
    """Send credit that was applied to `invoice` back to the invoices it came from."""
    moved: dict[int, int] = {}
    for payment in session.scalars(
        select(Payment).where(Payment.invoice_id == invoice.id, Payment.kind == CREDIT_TRANSFER)
    ):
        if payment.counterpart_invoice_id is not None:
            source = payment.counterpart_invoice_id
            moved[source] = moved.get(source, 0) + payment.amount_minor
    for source_id, amount in moved.items():
        if amount > 0:
            _transfer(session, invoice, get_invoice(session, source_id), amount, now)
    for source_id in moved:
        refresh_status(session, get_invoice(session, source_id), now)


def payments_of(session: Session, invoice_id: int) -> list[Payment]:
    """An invoice's payment rows, oldest first."""
    return list(
        session.scalars(
            select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)
        )
    )


def lines_of(session: Session, invoice_id: int) -> list[InvoiceLine]:
    """An invoice's lines, in the order they were added."""
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            # The work first (extras added during a visit predate the service line).
            .order_by(case((InvoiceLine.kind == SERVICE, 0), else_=1), InvoiceLine.id)
        )
    )


def is_void(invoice: Invoice) -> bool:
    """Whether the invoice is void."""
    return invoice.status == VOID or invoice.voided_at is not None

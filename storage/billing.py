"""Models for billing: estimates, invoices and their lines, payments, pay links, Stripe state.

Money is integer minor units (cents) plus an ISO currency; rates are exact decimal strings.
An invoice stores no balance: its balance is always its lines minus its payments (see
bot/billing/ledger/totals.py). A line's `net_minor` and `tax_minor` are fixed when the line is
written, from its quantity, unit price and rate by the documented rounding, and never change.
Payments are signed: a refund is a negative payment, and a credit moved from an overpaid
invoice to another is a pair of `credit` rows that sum to zero.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Appointment, Base, Customer
from storage.types import StoredEnum


class InvoiceStatus(StoredEnum):
    """Only `void` is ever set by hand; the others follow from lines and payments."""

    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


DRAFT = InvoiceStatus.DRAFT
SENT = InvoiceStatus.SENT
PARTIALLY_PAID = InvoiceStatus.PARTIALLY_PAID
PAID = InvoiceStatus.PAID
VOID = InvoiceStatus.VOID
INVOICE_STATUSES = (DRAFT, SENT, PARTIALLY_PAID, PAID, VOID)

# What an invoice is for; an appointment has at most one invoice of each purpose.
FOR_APPOINTMENT = "appointment"
FOR_DEPOSIT = "deposit"
FOR_NO_SHOW = "no_show"
FOR_ESTIMATE = "estimate"
MANUAL = "manual"

# Line kinds.
SERVICE = "service"
EXTRA = "extra"
PART = "part"
LABOUR = "labour"
DISCOUNT = "discount"
DEPOSIT = "deposit"
FINANCE_CHARGE = "finance_charge"
NO_SHOW_FEE = "no_show_fee"
CREDIT = "credit"  # a credit note: forgives part of an invoice (e.g. what a refund gave back)
LINE_KINDS = (SERVICE, EXTRA, PART, LABOUR, DISCOUNT, DEPOSIT, FINANCE_CHARGE, NO_SHOW_FEE, CREDIT)


class PaymentKind(StoredEnum):
    """A payment row: money in, money back, or credit moved between invoices."""

    PAYMENT = "payment"
    REFUND = "refund"
    CREDIT_TRANSFER = "credit"


class PaymentMethod(StoredEnum):
    """How a payment was made."""

    CARD = "card"
    CASH = "cash"
    CHEQUE = "cheque"
    BANK_TRANSFER = "bank_transfer"
    OTHER = "other"
    ACCOUNT_CREDIT = "account_credit"  # the method of a credit transfer


PAYMENT = PaymentKind.PAYMENT
REFUND = PaymentKind.REFUND
CREDIT_TRANSFER = PaymentKind.CREDIT_TRANSFER
CARD = PaymentMethod.CARD
CASH = PaymentMethod.CASH
CHEQUE = PaymentMethod.CHEQUE
BANK_TRANSFER = PaymentMethod.BANK_TRANSFER
OTHER = PaymentMethod.OTHER
ACCOUNT_CREDIT = PaymentMethod.ACCOUNT_CREDIT
PAYMENT_METHODS = (CARD, CASH, CHEQUE, BANK_TRANSFER, OTHER)


class EstimateStatus(StoredEnum):
    """Where an estimate is: drafted, sent, answered, or turned into an invoice."""

    DRAFT = "draft"
    SENT = "sent"
    APPROVED = "approved"
    DECLINED = "declined"
    INVOICED = "invoiced"


ESTIMATE_DRAFT = EstimateStatus.DRAFT
ESTIMATE_SENT = EstimateStatus.SENT
APPROVED = EstimateStatus.APPROVED
DECLINED = EstimateStatus.DECLINED
INVOICED = EstimateStatus.INVOICED
ESTIMATE_STATUSES = (ESTIMATE_DRAFT, ESTIMATE_SENT, APPROVED, DECLINED, INVOICED)


class ChargeStatus(StoredEnum):
    """A checkout attempt's or a scheduled card charge's status."""

    OPEN = "open"
    COMPLETED = "completed"
    PROCESSING = "processing"
    EXPIRED = "expired"
    FAILED = "failed"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    NEEDS_ACTION = "needs_action"
    SKIPPED = "skipped"


OPEN = ChargeStatus.OPEN
COMPLETED = ChargeStatus.COMPLETED
PROCESSING = ChargeStatus.PROCESSING
EXPIRED = ChargeStatus.EXPIRED
FAILED = ChargeStatus.FAILED
PENDING = ChargeStatus.PENDING
SUCCEEDED = ChargeStatus.SUCCEEDED
NEEDS_ACTION = ChargeStatus.NEEDS_ACTION
SKIPPED = ChargeStatus.SKIPPED


class BillingCounter(Base):
    """The last number handed out in one numbering sequence ("invoice", "estimate").

    Numbers are taken with `UPDATE … SET value = value + 1 RETURNING value` inside the
    transaction that uses them: the row lock serialises concurrent writers, and a rolled
    back transaction gives its number back, so the sequence has no gaps.
    """

    __tablename__ = "billing_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Estimate(Base):
    """A quote sent to a customer, approved (or declined) by a reply in chat."""

    __tablename__ = "estimate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), default=None)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment.id"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=ESTIMATE_DRAFT)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str] = mapped_column(Text, default="")
    valid_until: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The approval (or refusal) as given: when, and from which channel and address.
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    declined_at: Mapped[datetime | None] = mapped_column(default=None)
    answer_channel: Mapped[str | None] = mapped_column(String(16), default=None)
    answer_address: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[EstimateLine]] = relationship(
        back_populates="estimate", order_by="EstimateLine.id"
    )


class EstimateLine(Base):
    """One priced line of an estimate; copied to the invoice when the estimate is invoiced."""

    __tablename__ = "estimate_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("estimate.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[str] = mapped_column(String(16), default="1")
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[str] = mapped_column(String(16))
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)

    estimate: Mapped[Estimate] = relationship(back_populates="lines")


class Invoice(Base):
    """A bill to one customer. Its number is given when it is issued, so drafts use none."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("appointment_id", "purpose", name="uq_invoice_appointment_purpose"),
        Index("ix_invoice_customer", "customer_id", "issued_at"),
        Index("ix_invoice_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), default=None)
    estimate_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id"), default=None)
    purpose: Mapped[str] = mapped_column(String(16), default=MANUAL)
    # A cache of the status derived from lines and payments, refreshed on every change so
    # jobs can query by it; tests prove it equals the derivation.
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime | None] = mapped_column(default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    voided_at: Mapped[datetime | None] = mapped_column(default=None)
    void_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.id", foreign_keys="Payment.invoice_id"
    )


class InvoiceLine(Base):
    """One line of an invoice. Lines are never edited: a correction is another line."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[str] = mapped_column(String(16), default="1")
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[str] = mapped_column(String(16))
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    # Makes periodic lines idempotent: "finance:12:2026-12" can be added once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    created_at: Mapped[datetime]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    """Money in (positive) or back out (negative, a refund) against one invoice.

    `provider_payment_id` (a PaymentIntent id, or a refund key) is unique: webhooks are
    redelivered and the same payment can be reported by two events; it is recorded once.
    """

    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_customer", "customer_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(16), default=PAYMENT)
    method: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str | None] = mapped_column(String(16), default=None)
    provider_payment_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), default=None)
    # A credit transfer names the other invoice of its pair.
    counterpart_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id"), default=None
    )
    actor: Mapped[str] = mapped_column(String(64), default="system")
    received_at: Mapped[datetime]
    created_at: Mapped[datetime]

    invoice: Mapped[Invoice] = relationship(back_populates="payments", foreign_keys=[invoice_id])


class PayLink(Base):
    """An opaque, revocable /pay/<token> link to one invoice; it pays the current balance."""

    __tablename__ = "pay_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    invoice: Mapped[Invoice] = relationship()


class CheckoutAttempt(Base):
    """One click on a pay link: the Checkout Session made for it.

    `nonce` comes from the pay page's form, so a resubmitted click finds this row (and
    reuses its session) instead of making another; the Stripe idempotency key is built
    from it too, so even a click whose row was never written gets the same session back.
    """

    __tablename__ = "checkout_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    pay_link_id: Mapped[int] = mapped_column(ForeignKey("pay_link.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    save_card: Mapped[bool] = mapped_column(Boolean, default=False)
    provider: Mapped[str] = mapped_column(String(16))
    provider_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class ProcessedEvent(Base):
    """A payment provider event handled once: redeliveries hit the unique key and stop."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_processed_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32), default="processed")
    received_at: Mapped[datetime]


class PaymentCustomer(Base):
    """The payment provider's customer object for one of our customers."""

    __tablename__ = "payment_customer"
    __table_args__ = (UniqueConstraint("customer_id", "provider", name="uq_payment_customer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    provider: Mapped[str] = mapped_column(String(16))
    provider_customer_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class SavedCard(Base):
    """A card kept at the provider for later charges. Only what is needed to show and use
    it is stored: ids, brand, last four digits and expiry. Never the number."""

    __tablename__ = "saved_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_customer_id: Mapped[str] = mapped_column(String(255))
    payment_method_id: Mapped[str] = mapped_column(String(255), unique=True)
    brand: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int]
    exp_year: Mapped[int]
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None] = mapped_column(default=None)


class ScheduledCharge(Base):
    """A charge of a saved card due at a time: auto-charge on completion, a date, a fee.

    The job claims due rows with a lease; the provider call carries an idempotency key
    built from this row's id, so a retry after a crash cannot charge twice.
    """

    __tablename__ = "scheduled_charge"
    __table_args__ = (Index("ix_scheduled_charge_due", "status", "charge_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    charge_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(32), default="scheduled")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    leased_until: Mapped[datetime | None] = mapped_column(default=None)
    provider_payment_id: Mapped[str | None] = mapped_column(String(255), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(default=None)

"""Paying online: pay-link clicks, provider events, saved cards and off-session charges.

Network calls to the provider are kept OUT of database write transactions where we control
the flow (a click, a webhook, the scheduled-charge job): read what is needed, call the
provider with an idempotency key, then record the result in a short write. A crash between
the call and the write is repaired by the retry, which sends the same key and gets the same
answer back.

Events (real webhooks after signature verification, or the sandbox's own) all go through
`handle_event`: the event id is stored under a unique constraint in the same transaction as
its effects, so a redelivered event changes nothing, and an event whose handling fails is
rolled back whole and redelivered.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.billing.contact import notify_owners
from bot.billing.ledger.invoices import get_invoice, refresh_status
from bot.billing.ledger.minimums import online_minimum, payable_online
from bot.billing.ledger.settlement import PaymentRecorded, record_payment, record_refund, refundable
from bot.billing.payments.gateway import (
    AUTHENTICATION_REQUIRED,
    DECLINED,
    PROCESSING,
    SUCCEEDED,
    CardDetails,
    ChargeOutcome,
    CheckoutRequest,
    GatewayError,
    OffSessionCharge,
    PaymentGateway,
)
from bot.billing.payments.links import find_link, pay_url, public_url
from bot.billing.payments.providers import gateway_from_env
from bot.config.context import business_context
from bot.core.errors import InvalidRequest
from bot.core.text import _, t
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from bot.scheduling.booking import NOT_ALLOWED, Refused
from storage.billing import (
    CARD,
    COMPLETED,
    EXPIRED,
    FAILED,
    NEEDS_ACTION,
    OPEN,
    PAYMENT,
    PENDING,
    SKIPPED,
    CheckoutAttempt,
    Invoice,
    Payment,
    PaymentCustomer,
    ProcessedEvent,
    SavedCard,
    ScheduledCharge,
)
from storage.billing import PROCESSING as ATTEMPT_PROCESSING
from storage.billing import SUCCEEDED as CHARGE_SUCCEEDED
from storage.db import Database
from storage.models import Customer

log = logging.getLogger(__name__)

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_CHARGE_ATTEMPTS = 5
CHARGE_LEASE = timedelta(minutes=10)


# ------------------------------------------------------------------------ saved cards


def saved_card(session: Session, customer_id: int) -> SavedCard | None:
    """The customer's most recently saved card still in use, if any."""
    return session.scalars(
        select(SavedCard)
        .where(SavedCard.customer_id == customer_id, SavedCard.removed_at.is_(None))
        .order_by(SavedCard.id.desc())
        .limit(1)
    ).first()


def card_label(card: SavedCard) -> str:
    """How a card is shown anywhere: brand and last four only ("Visa ending 4242")."""
    brand = {"amex": _("American Express"), "mastercard": _("Mastercard")}.get(card.brand)
    return t("{brand} ending {last4}", brand=brand or card.brand.title(), last4=card.last4)


def keep_card(
    session: Session,
    customer_id: int,
    details: CardDetails,
    *,
    provider: str,
    provider_customer_id: str,
    now: datetime,
) -> SavedCard:
    """Store a card the customer chose to save (idempotent on the payment method id)."""
    existing = session.scalars(
        select(SavedCard).where(SavedCard.payment_method_id == details.payment_method_id)
    ).first()
    if existing is not None:
        existing.removed_at = None
        return existing
    card = SavedCard(
        customer_id=customer_id,
        provider=provider,
        provider_customer_id=provider_customer_id,
        payment_method_id=details.payment_method_id,
        brand=details.brand,
        last4=details.last4,
        exp_month=details.exp_month,
        exp_year=details.exp_year,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(card)
            session.flush()
    except IntegrityError:
        return session.scalars(
            select(SavedCard).where(SavedCard.payment_method_id == details.payment_method_id)
        ).one()
    return card


def forget_card(session: Session, customer_id: int, *, now: datetime) -> int:
    """Stop using the customer's saved cards; how many were removed."""
    count = 0
    for card in session.scalars(
        select(SavedCard).where(
            SavedCard.customer_id == customer_id, SavedCard.removed_at.is_(None)
        )
    ):
        card.removed_at = now
        count += 1
    return count


# -------------------------------------------------------------------------- pay links


@dataclass(frozen=True)
class PayPage:
    """What a pay link shows: `pay` (with the amount), `below_minimum` (owed, but too little
    to pay online: pay another way), `paid`, `void` or `invalid`."""

    kind: str
    token: str = ""
    business: str = ""
    invoice_number: str = ""
    customer_name: str = ""
    amount: str = ""
    balance_minor: int = 0
    currency: str = ""
    total: str = ""
    paid: str = ""
    paid_minor: int = 0
    card: str | None = None
    minimum: str = ""  # the smallest amount payable online, formatted


@dataclass(frozen=True)
class Redirect:
    """Send the browser here (303): a checkout page."""

    url: str


def pay_page(session: Session, token: str) -> PayPage:
    """The state of a pay link for its page, derived from the invoice right now."""
    link = find_link(session, token)
    if link is None:
        return PayPage("invalid", token)
    invoice = get_invoice(session, link.invoice_id)
    ctx = business_context(session)
    if invoice.voided_at is not None:
        return PayPage("void", token, ctx.name, invoice.number or "")
    result = refresh_status(session, invoice)
    customer = session.get(Customer, invoice.customer_id)
    card = saved_card(session, invoice.customer_id)
    kind = "paid"
    if result.balance > 0:
        kind = "pay" if payable_online(result.balance, invoice.currency) else "below_minimum"
    return PayPage(
        kind,
        token=token,
        business=ctx.name,
        invoice_number=invoice.number or "",
        customer_name=(customer.name if customer else None) or "",
        amount=ctx.money(max(result.balance, 0)),
        balance_minor=result.balance,
        currency=invoice.currency,
        total=ctx.money(result.total),
        paid=ctx.money(result.paid),
        paid_minor=result.paid,
        card=card_label(card) if card else None,
        minimum=ctx.money(online_minimum(invoice.currency)),
    )


def new_nonce() -> str:
    """A fresh per-click nonce for the pay page's form."""
    return secrets.token_urlsafe(16)


def _provider_customer(
    db: Database, gateway: PaymentGateway, customer_id: int, now: datetime
) -> str:
    """Our customer's id at the provider, created there (once) if needed."""
    with db.read() as session:
        mapping = session.scalars(
            select(PaymentCustomer).where(
                PaymentCustomer.customer_id == customer_id,
                PaymentCustomer.provider == gateway.name,
            )
        ).first()
        if mapping is not None:
            return mapping.provider_customer_id
        customer = session.get(Customer, customer_id)
        name, email, phone = (
            (customer.name, customer.email, customer.phone) if customer else (None, None, None)
        )
    provider_id = gateway.create_customer(
        customer_id=customer_id,
        name=name,
        email=email,
        phone=phone,
        idempotency_key=f"slotbot-customer-{customer_id}",
    )
    with db.write() as session:
        try:
            with session.begin_nested():
                session.add(
                    PaymentCustomer(
                        customer_id=customer_id,
                        provider=gateway.name,
                        provider_customer_id=provider_id,
                        created_at=now,
                    )
                )
                session.flush()
        except IntegrityError:  # a concurrent click stored it first: use theirs
            return session.scalars(
                select(PaymentCustomer.provider_customer_id).where(
                    PaymentCustomer.customer_id == customer_id,
                    PaymentCustomer.provider == gateway.name,
                )
            ).one()
    return provider_id


def start_checkout(
    db: Database,
    token: str,
    *,
    nonce: str | None,
    save_card: bool,
    now: datetime,
    gateway: PaymentGateway | None = None,
    amount_minor: int | None = None,
) -> Redirect | PayPage:
    """A click on "Pay": a checkout session for the balance now, or the page to show instead.

    A balance under the provider's minimum charge gets the `below_minimum` page and no
    session: the provider would refuse it (`amount_too_small`).

    The same click (same nonce) resubmitted gets the same session; the idempotency key
    (invoice, balance, card choice, nonce) makes the provider return it even if our record
    of it was lost. `amount_minor` pays part of the balance (from the online minimum up to
    the balance; anything else is an InvalidRequest).
    """
    gateway = gateway or gateway_from_env()
    nonce = nonce if nonce and _NONCE.match(nonce) else new_nonce()
    with db.read() as session:
        page = pay_page(session, token)
        if page.kind != "pay":
            return page
        amount = page.balance_minor if amount_minor is None else amount_minor
        if not online_minimum(page.currency) <= amount <= page.balance_minor or amount <= 0:
            raise InvalidRequest(f"{amount} is not a payable amount of {page.balance_minor}")
        link = find_link(session, token)
        assert link is not None  # pay_page just found it
        invoice = get_invoice(session, link.invoice_id)
        attempt = session.scalars(
            select(CheckoutAttempt).where(CheckoutAttempt.nonce == nonce)
        ).first()
        if (
            attempt is not None
            and attempt.invoice_id == invoice.id
            and attempt.amount_minor == amount
            and attempt.save_card == save_card
            and attempt.status == OPEN
        ):
            return Redirect(attempt.url)
        invoice_id, number, customer_id = invoice.id, invoice.number or "", invoice.customer_id
        link_id = link.id
    provider_customer = _provider_customer(db, gateway, customer_id, now)
    base = f"{public_url()}/pay/{token}"
    created = gateway.create_checkout(
        CheckoutRequest(
            invoice_id=invoice_id,
            invoice_number=number,
            pay_link_id=link_id,
            amount_minor=amount,
            currency=page.currency,
            provider_customer_id=provider_customer,
            business_name=page.business,
            save_card=save_card,
            success_url=f"{base}/done",
            cancel_url=base,
            idempotency_key=(
                f"slotbot-checkout-{invoice_id}-{page.balance_minor}-{int(save_card)}-{nonce}"
                + (f"-part-{amount}" if amount != page.balance_minor else "")
            ),
        )
    )
    with db.write() as session:
        attempt = session.scalars(
            select(CheckoutAttempt).where(CheckoutAttempt.nonce == nonce)
        ).first()
        if attempt is None:
            attempt = CheckoutAttempt(nonce=nonce, created_at=now)
            session.add(attempt)
        attempt.pay_link_id, attempt.invoice_id = link_id, invoice_id
        attempt.amount_minor, attempt.currency = amount, page.currency
        attempt.save_card, attempt.provider = save_card, gateway.name
        attempt.provider_session_id, attempt.url = created.session_id, created.url
        attempt.status = OPEN
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same click, recorded concurrently: theirs is as good
            return Redirect(created.url)
    return Redirect(created.url)


def checkout_attempt(session: Session, provider_session_id: str) -> CheckoutAttempt | None:
    """The click that made this checkout session."""
    return session.scalars(
        select(CheckoutAttempt).where(CheckoutAttempt.provider_session_id == provider_session_id)
    ).first()


def provider_customer_id(session: Session, customer_id: int, provider: str) -> str | None:
    """Our customer's id at a provider, if they have one."""
    return session.scalars(
        select(PaymentCustomer.provider_customer_id).where(
            PaymentCustomer.customer_id == customer_id, PaymentCustomer.provider == provider
        )
    ).first()


# ----------------------------------------------------------------------------- events


def _first_time(session: Session, provider: str, event: dict[str, Any], now: datetime) -> bool:
    """Claim an event id; False if it was handled before."""
    event_id = str(event.get("id") or "")
    if not event_id:
        return False
    if session.scalar(
        select(ProcessedEvent.id).where(
            ProcessedEvent.provider == provider, ProcessedEvent.event_id == event_id
        )
    ):
        return False
    try:
        with session.begin_nested():
            session.add(
                ProcessedEvent(
                    provider=provider,
                    event_id=event_id,
                    type=str(event.get("type") or "")[:64],
                    received_at=now,
                )
            )
            session.flush()
    except IntegrityError:  # the same event, being handled concurrently
        return False
    return True


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


def _invoice_from(session: Session, metadata: dict[str, Any]) -> Invoice | None:
    raw = str(metadata.get("invoice_id") or "")
    return session.get(Invoice, int(raw)) if raw.isdigit() else None


def _needs_card(event: dict[str, Any]) -> str | None:
    """The PaymentIntent whose card should be saved, for a paid checkout that asked to."""
    if event.get("type") not in (
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ):
        return None
    obj = event.get("data", {}).get("object", {})
    if obj.get("payment_status") != "paid" or (obj.get("metadata") or {}).get("save_card") != "1":
        return None
    return _id_of(obj.get("payment_intent"))


def handle_event(
    db: Database,
    event: dict[str, Any],
    *,
    now: datetime,
    provider: str,
    gateway: PaymentGateway | None = None,
) -> str:
    """Handle one verified provider event exactly once; what happened, in a word."""
    card = None
    intent = _needs_card(event)
    if intent is not None:
        with db.read() as session:
            seen = session.scalar(
                select(ProcessedEvent.id).where(
                    ProcessedEvent.provider == provider,
                    ProcessedEvent.event_id == str(event.get("id")),
                )
            )
        if not seen:
            try:
                card = (gateway or gateway_from_env()).card_for_payment(intent)
            except GatewayError:
                # The payment matters more than remembering the card: record it anyway.
                log.exception("could not read the card for %s", intent)
    with db.write() as session:
        return apply_event(session, event, now=now, provider=provider, card=card)


def apply_event(
    session: Session,
    event: dict[str, Any],
    *,
    now: datetime,
    provider: str,
    card: CardDetails | None = None,
) -> str:
    """Apply a verified event inside the caller's transaction (deduplicated by its id)."""
    if not _first_time(session, provider, event, now):
        return "duplicate"
    obj = event.get("data", {}).get("object", {}) or {}
    kind = str(event.get("type") or "")
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        return _checkout_paid(session, obj, now=now, provider=provider, card=card)
    if kind == "checkout.session.async_payment_failed":
        return _checkout_failed(session, obj, now=now)
    if kind == "checkout.session.expired":
        attempt = checkout_attempt(session, str(obj.get("id")))
        if attempt is not None and attempt.status == OPEN:
            attempt.status = EXPIRED
        return "expired"
    if kind == "payment_intent.succeeded":
        return _intent_succeeded(session, obj, now=now, provider=provider)
    if kind == "payment_intent.payment_failed":
        return _intent_failed(session, obj, now=now)
    if kind == "charge.refunded":
        return _charge_refunded(session, obj, now=now)
    return "ignored"


def _checkout_paid(
    session: Session,
    obj: dict[str, Any],
    *,
    now: datetime,
    provider: str,
    card: CardDetails | None,
) -> str:
    metadata = obj.get("metadata") or {}
    invoice = _invoice_from(session, metadata)
    attempt = checkout_attempt(session, str(obj.get("id")))
    if invoice is None:
        log.warning("checkout %s names no invoice of ours", obj.get("id"))
        return "unknown_invoice"
    if obj.get("payment_status") != "paid":
        # Paid by a delayed method (a bank debit): wait for async_payment_succeeded.
        if attempt is not None:
            attempt.status = ATTEMPT_PROCESSING
        return "awaiting_payment"
    if str(obj.get("currency") or "").upper() != invoice.currency:
        ctx = business_context(session)
        notify_owners(
            session,
            ctx,
            t("A payment for {number} arrived in {currency}, not "
            "{expected}; it was not recorded. Check the Stripe dashboard.", number=invoice.number, currency=obj.get('currency'), expected=invoice.currency),
            now=now,
        )
        return "currency_mismatch"
    intent = _id_of(obj.get("payment_intent")) or str(obj.get("id"))
    result = record_payment(
        session,
        invoice.id,
        amount_minor=int(obj.get("amount_total") or 0),
        method=CARD,
        now=now,
        reference=str(obj.get("id")),
        provider=provider,
        provider_payment_id=intent,
        actor=provider,
    )
    if attempt is not None:
        attempt.status = COMPLETED
        attempt.completed_at = attempt.completed_at or now
    customer_ref = _id_of(obj.get("customer"))
    if card is not None and customer_ref and metadata.get("save_card") == "1":
        keep_card(
            session,
            invoice.customer_id,
            card,
            provider=provider,
            provider_customer_id=customer_ref,
            now=now,
        )
    if isinstance(result, Refused):
        return "refused"
    return "duplicate_payment" if result.duplicate else "paid"


def _checkout_failed(session: Session, obj: dict[str, Any], *, now: datetime) -> str:
    attempt = checkout_attempt(session, str(obj.get("id")))
    if attempt is not None:
        attempt.status = FAILED
    invoice = _invoice_from(session, obj.get("metadata") or {})
    if invoice is None or invoice.voided_at is not None:
        return "failed"
    ctx = business_context(session)
    result = refresh_status(session, invoice)
    if result.balance > 0:
        url = pay_url(session, invoice.id, now=now)
        tell_customer(
            session,
            invoice.customer_id,
            Reply(
                t("Your payment of {balance} for {number} didn't go "
                "through. You can try again here: {url}", balance=ctx.money(result.balance), number=invoice.number, url=url)
            ),
            purpose=Purpose.PAYMENT_FAILED,
            now=now,
            ref_id=invoice.id,
            dedupe_key=f"checkout-failed:{obj.get('id')}",
        )
    return "failed"


def _intent_succeeded(
    session: Session, obj: dict[str, Any], *, now: datetime, provider: str
) -> str:
    metadata = obj.get("metadata") or {}
    invoice = _invoice_from(session, metadata)
    if invoice is None:
        return "ignored"
    result = record_payment(
        session,
        invoice.id,
        amount_minor=int(obj.get("amount_received") or obj.get("amount") or 0),
        method=CARD,
        now=now,
        reference=str(obj.get("id")),
        provider=provider,
        provider_payment_id=str(obj.get("id")),
        actor=provider,
    )
    charge_id = str(metadata.get("scheduled_charge_id") or "")
    if charge_id.isdigit():
        charge = session.get(ScheduledCharge, int(charge_id))
        if charge is not None:
            charge.status = CHARGE_SUCCEEDED
            charge.provider_payment_id = str(obj.get("id"))
            charge.processed_at = charge.processed_at or now
    if isinstance(result, Refused):
        return "refused"
    return "duplicate_payment" if result.duplicate else "paid"


def _intent_failed(session: Session, obj: dict[str, Any], *, now: datetime) -> str:
    metadata = obj.get("metadata") or {}
    charge_id = str(metadata.get("scheduled_charge_id") or "")
    invoice = _invoice_from(session, metadata)
    if invoice is None or not charge_id.isdigit():
        return "ignored"  # a checkout's failures are shown to the customer on the page
    error = obj.get("last_payment_error") or {}
    status = AUTHENTICATION_REQUIRED if error.get("code") == AUTHENTICATION_REQUIRED else DECLINED
    charge = session.get(ScheduledCharge, int(charge_id))
    if charge is not None and charge.status in (PENDING, NEEDS_ACTION, FAILED):
        charge.status = NEEDS_ACTION if status == AUTHENTICATION_REQUIRED else FAILED
        charge.last_error = str(error.get("message") or status)
        charge.processed_at = charge.processed_at or now
    _ask_to_pay(
        session,
        invoice,
        status,
        now=now,
        dedupe_key=f"charge-failed:{metadata.get('charge_key') or obj.get('id')}",
    )
    return status


def _charge_refunded(session: Session, obj: dict[str, Any], *, now: datetime) -> str:
    intent = _id_of(obj.get("payment_intent"))
    if intent is None:
        return "ignored"
    payment = session.scalars(
        select(Payment)
        .where(Payment.provider_payment_id == intent, Payment.kind == PAYMENT)
        .with_for_update()
    ).first()
    if payment is None:
        return "unknown_payment"
    # amount_refunded is cumulative: record only what our books do not show yet. The key
    # names the cumulative amount, so the same total reported twice is recorded once.
    already = payment.amount_minor - refundable(session, payment)
    delta = int(obj.get("amount_refunded") or 0) - already
    if delta <= 0:
        return "already_refunded"
    result = record_refund(
        session,
        payment.id,
        amount_minor=min(delta, refundable(session, payment)),
        now=now,
        reason=_("refunded in Stripe"),
        provider_refund_id=f"{obj.get('id')}:refunded:{obj.get('amount_refunded')}",
        actor="stripe",
    )
    return "refused" if isinstance(result, Refused) else "refunded"


def _ask_to_pay(
    session: Session, invoice: Invoice, status: str, *, now: datetime, dedupe_key: str
) -> str | None:
    """After a saved card could not be charged: send the customer a pay link instead."""
    result = refresh_status(session, invoice)
    if result.balance <= 0 or invoice.voided_at is not None:
        return None
    ctx = business_context(session)
    url = pay_url(session, invoice.id, now=now)
    amount = ctx.money(result.balance)
    if status == AUTHENTICATION_REQUIRED:
        text = (
            t("Your bank needs you to confirm the {amount} payment for {number}. "
            "Please pay here: {url}", amount=amount, number=invoice.number, url=url)
        )
    else:
        card = saved_card(session, invoice.customer_id)
        which = t("your {card}", card=card_label(card)) if card else _("your saved card")
        text = t("We couldn't charge {which} {amount} for {number}. Please pay here: {url}", which=which, amount=amount, number=invoice.number, url=url)
    tell_customer(
        session,
        invoice.customer_id,
        Reply(text),
        purpose=Purpose.PAYMENT_FAILED,
        now=now,
        ref_id=invoice.id,
        dedupe_key=dedupe_key,
    )
    customer = session.get(Customer, invoice.customer_id)
    who = (customer.name if customer else None) or t("Customer {id}", id=invoice.customer_id)
    reason = _("needs the customer to authenticate") if status == AUTHENTICATION_REQUIRED else status
    notify_owners(
        session,
        ctx,
        t("Card charge for {number} ({who}, {amount}) {reason}; a pay link was sent.", number=invoice.number, who=who, amount=amount, reason=reason),
        now=now,
        dedupe_key=f"owner-{dedupe_key}",
    )
    return url


# --------------------------------------------------------------- off-session charges


BELOW_MINIMUM = "below_minimum"


@dataclass(frozen=True)
class ChargeResult:
    """How charging a saved card went: `succeeded`, `processing`, `authentication_required`,
    `declined` (both with a pay link sent), `no_card`, `nothing_due`, `below_minimum` (too
    little to charge online) or `error`."""

    status: str
    message: str = ""
    payment_id: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class _Plan:
    invoice_id: int
    charge: OffSessionCharge


def _plan(
    session: Session, invoice_id: int, *, key: str | None, scheduled_id: int | None = None
) -> _Plan | ChargeResult:
    invoice = get_invoice(session, invoice_id)
    if invoice.voided_at is not None:
        return ChargeResult("nothing_due", t("{number} is void.", number=invoice.number))
    result = refresh_status(session, invoice)
    if result.balance <= 0:
        return ChargeResult("nothing_due", t("{number} is paid.", number=invoice.number))
    if not payable_online(result.balance, invoice.currency):
        ctx = business_context(session)
        return ChargeResult(
            BELOW_MINIMUM,
            t("{number}'s balance of {balance} is below the "
            "{online_minimum} minimum for a card charge; "
            "collect it another way and mark it paid.", number=invoice.number, balance=ctx.money(result.balance), online_minimum=ctx.money(online_minimum(invoice.currency))),
        )
    card = saved_card(session, invoice.customer_id)
    if card is None:
        return ChargeResult("no_card", _("No saved card."))
    paid_rows = session.scalar(
        select(Payment.id).where(Payment.invoice_id == invoice.id).order_by(Payment.id.desc())
    )
    # One key per (invoice, amount, what was paid before): a retry of the same charge reuses
    # it, a later charge of a new balance gets a new one.
    key = key or f"slotbot-charge-{invoice.id}-{result.balance}-{paid_rows or 0}"
    metadata = {"invoice_id": str(invoice.id), "charge_key": key}
    if scheduled_id is not None:
        metadata["scheduled_charge_id"] = str(scheduled_id)
    return _Plan(
        invoice.id,
        OffSessionCharge(
            amount_minor=result.balance,
            currency=invoice.currency,
            provider_customer_id=card.provider_customer_id,
            payment_method_id=card.payment_method_id,
            idempotency_key=key,
            description=invoice.number or t("Invoice {id}", id=invoice.id),
            metadata=metadata,
        ),
    )


def _settle(
    session: Session,
    plan: _Plan,
    outcome: ChargeOutcome,
    *,
    now: datetime,
    provider: str,
    scheduled: ScheduledCharge | None = None,
) -> ChargeResult:
    invoice = get_invoice(session, plan.invoice_id)
    if outcome.status in (SUCCEEDED, PROCESSING):
        if scheduled is not None:
            scheduled.status = CHARGE_SUCCEEDED if outcome.status == SUCCEEDED else PENDING
            scheduled.provider_payment_id = outcome.payment_intent_id
            scheduled.processed_at = now
            if outcome.status == PROCESSING:
                scheduled.leased_until = now + timedelta(days=3)  # the webhook settles it
        if outcome.status == PROCESSING:
            return ChargeResult(PROCESSING, _("The payment is processing."))
        recorded = record_payment(
            session,
            invoice.id,
            amount_minor=outcome.amount_minor or plan.charge.amount_minor,
            method=CARD,
            now=now,
            reference=t("Saved card ({description})", description=plan.charge.description),
            provider=provider,
            provider_payment_id=outcome.payment_intent_id,
            actor=provider,
        )
        payment_id = recorded.payment.id if isinstance(recorded, PaymentRecorded) else None
        return ChargeResult(SUCCEEDED, _("Charged."), payment_id)
    if scheduled is not None:
        scheduled.status = NEEDS_ACTION if outcome.status == AUTHENTICATION_REQUIRED else FAILED
        scheduled.provider_payment_id = outcome.payment_intent_id
        scheduled.last_error = outcome.message or outcome.status
        scheduled.processed_at = now
    url = _ask_to_pay(
        session,
        invoice,
        outcome.status,
        now=now,
        dedupe_key=f"charge-failed:{plan.charge.idempotency_key}",
    )
    return ChargeResult(outcome.status, outcome.message, url=url)


def charge_saved_card(
    session: Session,
    invoice_id: int,
    now: datetime,
    *,
    gateway: PaymentGateway | None = None,
    idempotency_key: str | None = None,
) -> ChargeResult:
    """Charge the customer's saved card for an invoice's balance, off-session, right now.

    The provider is called inside the caller's transaction: fine for one charge from the
    admin chat; the scheduled-charge job calls the provider between transactions instead.
    If the bank wants the customer to authenticate, or the card is declined, the customer
    gets a pay link and the result says so.
    """
    gateway = gateway or gateway_from_env()
    plan = _plan(session, invoice_id, key=idempotency_key)
    if isinstance(plan, ChargeResult):
        return plan
    try:
        outcome = gateway.charge_off_session(plan.charge)
    except GatewayError as exc:
        return ChargeResult("error", str(exc))
    return _settle(session, plan, outcome, now=now, provider=gateway.name)


def schedule_charge(
    session: Session,
    invoice_id: int,
    *,
    charge_at: datetime,
    now: datetime,
    reason: str = "scheduled",
) -> ScheduledCharge | Refused:
    """Charge the saved card for the invoice's balance at `charge_at` (the job does it)."""
    invoice = get_invoice(session, invoice_id)
    if invoice.voided_at is not None:
        return Refused(NOT_ALLOWED, t("{number} is void.", number=invoice.number))
    if saved_card(session, invoice.customer_id) is None:
        return Refused(NOT_ALLOWED, _("This customer has no saved card."))
    existing = session.scalars(
        select(ScheduledCharge).where(
            ScheduledCharge.invoice_id == invoice_id,
            ScheduledCharge.status == PENDING,
            ScheduledCharge.charge_at == charge_at,
        )
    ).first()
    if existing is not None:
        return existing
    charge = ScheduledCharge(
        invoice_id=invoice_id, charge_at=charge_at, reason=reason, created_at=now
    )
    session.add(charge)
    session.flush()
    return charge


def _claim(db: Database, now: datetime) -> list[int]:
    with db.write() as session:
        query = (
            select(ScheduledCharge)
            .where(ScheduledCharge.status == PENDING, ScheduledCharge.charge_at <= now)
            .order_by(ScheduledCharge.charge_at, ScheduledCharge.id)
            .limit(50)
        )
        if db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for charge in session.scalars(query):
            if charge.leased_until is not None and charge.leased_until > now:
                continue
            charge.leased_until = now + CHARGE_LEASE
            charge.attempts += 1
            claimed.append(charge.id)
        return claimed


def run_scheduled_charges(
    db: Database, now: datetime, *, gateway: PaymentGateway | None = None
) -> int:
    """Charge every saved card whose scheduled charge is due; how many were attempted."""
    gateway = gateway or gateway_from_env()
    claimed = _claim(db, now)
    for charge_id in claimed:
        with db.write() as session:
            charge = session.get(ScheduledCharge, charge_id)
            assert charge is not None
            key = f"slotbot-scheduled-{charge.id}"
            plan = _plan(session, charge.invoice_id, key=None, scheduled_id=charge.id)
            if isinstance(plan, ChargeResult):
                charge.status = SKIPPED
                charge.last_error = plan.message
                charge.processed_at = now
                if plan.status == BELOW_MINIMUM:
                    notify_owners(
                        session,
                        business_context(session),
                        t("Scheduled card charge skipped: {message}", message=plan.message),
                        now=now,
                        dedupe_key=f"charge-below-minimum:{charge.id}",
                    )
                continue
            # The amount is part of the key: a retry of this charge for the same balance is
            # the same request to the provider; a changed balance is a new one.
            key = f"{key}-{plan.charge.amount_minor}"
            metadata = {**plan.charge.metadata, "charge_key": key}
            plan = _Plan(
                plan.invoice_id, replace(plan.charge, idempotency_key=key, metadata=metadata)
            )
            charge.amount_minor = plan.charge.amount_minor
        try:
            outcome = gateway.charge_off_session(plan.charge)
        except GatewayError as exc:
            with db.write() as session:
                charge = session.get(ScheduledCharge, charge_id)
                assert charge is not None
                charge.last_error = str(exc)
                if charge.attempts >= MAX_CHARGE_ATTEMPTS:
                    charge.status = FAILED
                    charge.processed_at = now
                    invoice = get_invoice(session, charge.invoice_id)
                    _ask_to_pay(
                        session, invoice, DECLINED, now=now, dedupe_key=f"charge-error:{charge.id}"
                    )
                else:
                    charge.leased_until = now + timedelta(minutes=5 * charge.attempts)
            continue
        with db.write() as session:
            charge = session.get(ScheduledCharge, charge_id)
            assert charge is not None
            _settle(session, plan, outcome, now=now, provider=gateway.name, scheduled=charge)
    return len(claimed)


def refund_payment(
    db: Database,
    payment_id: int,
    *,
    amount_minor: int,
    now: datetime,
    reason: str = "",
    gateway: PaymentGateway | None = None,
) -> str:
    """Refund (part of) a card payment at the provider and on our books; the refund id.

    Cash and cheque refunds are only bookkeeping: use `settlement.record_refund`.
    """
    with db.read() as session:
        payment = session.get(Payment, payment_id)
        if payment is None or payment.provider is None or payment.provider_payment_id is None:
            raise GatewayError("only card payments taken online can be refunded online")
        intent = payment.provider_payment_id
        provider = payment.provider
        left = refundable(session, payment)
        if not 0 < amount_minor <= left:
            # Checked here, not left to the provider: it would refuse (charge_already_refunded,
            # amount_too_large) and our books must not be asked to disagree with it.
            ctx = business_context(session)
            if left <= 0:
                raise GatewayError(_("This payment has already been refunded in full."))
            raise GatewayError(
                t("At most {left} of this payment can still be refunded "
                "(asked for {amount}).", left=ctx.money(left), amount=ctx.money(amount_minor))
            )
        # Same payment, same amount already refunded, same amount: the same request.
        key = f"slotbot-refund-{payment_id}-{left}-{amount_minor}"
    gateway = gateway or gateway_from_env()
    if gateway.name != provider:
        raise GatewayError(f"this payment was taken with {provider}, not {gateway.name}")
    refund_id = gateway.refund(
        payment_intent_id=intent,
        amount_minor=amount_minor,
        idempotency_key=key,
    )
    with db.write() as session:
        result = record_refund(
            session,
            payment_id,
            amount_minor=amount_minor,
            now=now,
            reason=reason,
            provider_refund_id=refund_id,
        )
        if isinstance(result, Refused):
            raise GatewayError(result.message)
    return refund_id

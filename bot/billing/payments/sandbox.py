"""The sandbox payment provider: a local, clearly labelled TEST MODE checkout, no money.

Used whenever STRIPE_SECRET_KEY is not set, so the whole flow — pay link, checkout, receipt,
saved card, scheduled charge — works from `make run`. The sandbox checkout page (served by
webhooks/payments.py) builds the same Stripe-shaped event a real webhook would deliver and
hands it to the same handler (`payments.handle_event`); only signature checking differs.

Ids are derived from the caller's idempotency key, so repeating a request gives the same
session, charge or refund, as Stripe's idempotency keys do.

Never leave a public deployment in sandbox mode: anyone holding a pay link could mark an
invoice paid with a test payment. Every receipt and owner note says TEST MODE.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from bot.billing.payments.gateway import (
    SUCCEEDED,
    CardDetails,
    ChargeOutcome,
    CheckoutCreated,
    CheckoutRequest,
    OffSessionCharge,
)
from storage.billing import CheckoutAttempt

SESSION_PREFIX = "cs_sandbox_"
SANDBOX_CARD = ("visa", "4242", 12, 2030)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def intent_for_session(session_id: str) -> str:
    """The PaymentIntent id a sandbox checkout session pays with."""
    return "pi_sandbox_" + session_id.removeprefix(SESSION_PREFIX)


class SandboxGateway:
    """Payments that only pretend: every checkout can be paid, every saved card charged."""

    name = "sandbox"

    def create_customer(
        self,
        *,
        customer_id: int,
        name: str | None,
        email: str | None,
        phone: str | None,
        idempotency_key: str,
    ) -> str:
        """A made-up customer id."""
        return f"cus_sandbox_{customer_id}"

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        """A session id; the page that pays it is /sandbox/checkout/<id> on this app."""
        session_id = SESSION_PREFIX + _digest(request.idempotency_key)
        return CheckoutCreated(session_id=session_id, url=f"/sandbox/checkout/{session_id}")

    def card_for_payment(self, payment_intent_id: str) -> CardDetails | None:
        """The sandbox's one test card."""
        brand, last4, month, year = SANDBOX_CARD
        suffix = payment_intent_id.removeprefix("pi_sandbox_")
        return CardDetails(f"pm_sandbox_{suffix}", brand, last4, month, year)

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        """Always succeeds, with an id that repeats for a repeated idempotency key."""
        intent = "pi_sandbox_" + _digest(charge.idempotency_key)
        return ChargeOutcome(SUCCEEDED, intent, charge.amount_minor)

    def refund(self, *, payment_intent_id: str, amount_minor: int, idempotency_key: str) -> str:
        """A made-up refund id."""
        return "re_sandbox_" + _digest(idempotency_key)


def checkout_event(
    attempt: CheckoutAttempt, customer_ref: str | None, *, paid: bool, now: datetime
) -> dict[str, Any]:
    """The event Stripe would send when this checkout is paid (or its payment fails)."""
    kind = "checkout.session.completed" if paid else "checkout.session.async_payment_failed"
    session = {
        "id": attempt.provider_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete" if paid else "open",
        "payment_status": "paid" if paid else "unpaid",
        "amount_total": attempt.amount_minor,
        "currency": attempt.currency.lower(),
        "customer": customer_ref,
        "payment_intent": intent_for_session(attempt.provider_session_id),
        "client_reference_id": str(attempt.invoice_id),
        "metadata": {
            "invoice_id": str(attempt.invoice_id),
            "pay_link_id": str(attempt.pay_link_id),
            "save_card": "1" if attempt.save_card else "0",
        },
        "livemode": False,
    }
    return {
        "id": f"evt_sandbox_{attempt.provider_session_id}_{'paid' if paid else 'failed'}",
        "object": "event",
        "type": kind,
        "created": int(now.timestamp()),
        "livemode": False,
        "data": {"object": session},
    }

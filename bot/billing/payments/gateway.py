"""The payment provider seam: what billing asks of Stripe (or of the local sandbox).

Checkout, off-session charges, card details and refunds go through a `PaymentGateway`.
`bot.billing.payments.providers.gateway_from_env()` gives the real Stripe gateway when
STRIPE_SECRET_KEY is set and the sandbox otherwise, so `make run` works end to end with no
account and no real money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.config import process
from bot.core.errors import SlotbotError

SUCCEEDED = "succeeded"
PROCESSING = "processing"
AUTHENTICATION_REQUIRED = "authentication_required"
DECLINED = "declined"


class GatewayError(SlotbotError):
    """The provider could not be reached or refused the request for a reason not the card's.

    `retryable` says whether the same request may work later (network, rate limit, the
    provider's own outage) or needs someone to change something first (a refused request,
    a wrong API key).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class WebhookRejected(SlotbotError):
    """A webhook whose signature is missing, wrong or too old."""


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted checkout for the current balance of one invoice."""

    invoice_id: int
    invoice_number: str
    pay_link_id: int
    amount_minor: int
    currency: str
    provider_customer_id: str
    business_name: str
    save_card: bool
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True)
class CheckoutCreated:
    """The provider's checkout session: its id and where to send the customer."""

    session_id: str
    url: str


@dataclass(frozen=True)
class CardDetails:
    """What may be kept of a card: the provider's ids, brand, last four digits, expiry."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class OffSessionCharge:
    """A charge of a saved card without the customer present."""

    amount_minor: int
    currency: str
    provider_customer_id: str
    payment_method_id: str
    idempotency_key: str
    description: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeOutcome:
    """How an off-session charge went: succeeded, processing, authentication_required, declined."""

    status: str
    payment_intent_id: str | None
    amount_minor: int = 0
    message: str = ""


class PaymentGateway(Protocol):
    """The few things billing needs from a payment provider."""

    name: str

    def create_customer(
        self,
        *,
        customer_id: int,
        name: str | None,
        email: str | None,
        phone: str | None,
        idempotency_key: str,
    ) -> str:
        """The provider's customer id for a new customer."""
        ...

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        """A hosted checkout session for an invoice's balance."""
        ...

    def card_for_payment(self, payment_intent_id: str) -> CardDetails | None:
        """The card used for a payment (to save it), if it was a card."""
        ...

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        """Charge a saved card; a declined or unauthenticated card is an outcome."""
        ...

    def refund(self, *, payment_intent_id: str, amount_minor: int, idempotency_key: str) -> str:
        """Refund part or all of a payment; the refund's id."""
        ...


def stripe_configured() -> bool:
    """Whether real Stripe is configured (STRIPE_SECRET_KEY set)."""
    return bool(process.current().stripe_secret_key)

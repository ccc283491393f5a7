"""The Stripe gateway: the official `stripe` SDK's StripeClient, and webhook verification.

Network retries are on (`max_network_retries=2`; StripeClient defaults to none) and every
POST carries our own idempotency key, so a retried request never makes a second session or
a second charge. stripe 16.x returns StripeObjects, which are not dicts: fields are read as
attributes, and an event is turned into plain data with `to_dict()` before billing sees it.

Every Stripe error becomes a `GatewayError` with a sentence a person can act on
(`describe_stripe_error`): a wrong key, a refused request and its parameter, the network,
a rate limit or an outage at Stripe — never the SDK's bare `user_message`, which is None for
most errors that are not the card's.
"""

from __future__ import annotations

from typing import Any

import stripe

from bot.billing.payments.gateway import (
    AUTHENTICATION_REQUIRED,
    DECLINED,
    PROCESSING,
    SUCCEEDED,
    CardDetails,
    ChargeOutcome,
    CheckoutCreated,
    CheckoutRequest,
    GatewayError,
    OffSessionCharge,
    WebhookRejected,
)
from bot.core.text import _, t

TOLERANCE_SECONDS = 300

# InvalidRequestError codes that mean our request was malformed: a slotbot bug to report.
_MALFORMED = (
    "parameter_unknown",
    "parameter_missing",
    "parameter_invalid_empty",
    "parameter_invalid_integer",
    "parameter_invalid_string_blank",
    "parameter_invalid_string_empty",
    "parameter_invalid_string",
    "parameters_exclusive",
)


def _detail(exc: stripe.StripeError) -> str:
    """What Stripe said, if it said anything (the body's message), without a trailing dot."""
    error = getattr(exc, "error", None)
    said = getattr(error, "message", None) or exc.user_message or ""
    return str(said).strip().rstrip(".")


def describe_stripe_error(exc: stripe.StripeError) -> tuple[str, bool]:
    """A readable sentence for a Stripe error, and whether trying again later may help."""
    detail = _detail(exc)
    code = getattr(exc, "code", None)
    param = getattr(exc, "param", None)
    if isinstance(exc, stripe.CardError):
        reason = str(code).replace("_", " ") if code else "declined"
        return t("the card was refused ({reason}){detail}.", reason=reason, detail=': ' + detail if detail else ''), False
    if isinstance(exc, stripe.AuthenticationError):
        return _("Stripe did not accept the API key; check STRIPE_SECRET_KEY."), False
    if isinstance(exc, stripe.PermissionError):
        return (
            _("the Stripe API key is not allowed to do this (a restricted key?); "
            "check its permissions in the Stripe dashboard."),
            False,
        )
    if isinstance(exc, stripe.RateLimitError):
        return _("Stripe is rate limiting our requests; try again in a minute."), True
    if isinstance(exc, stripe.IdempotencyError):
        return (
            _("Stripe has seen this request before with different details, so it did nothing "
            "(nothing was charged twice)."),
            False,
        )
    if isinstance(exc, stripe.APIConnectionError):
        return _("Stripe could not be reached (a network problem); try again in a minute."), True
    if isinstance(exc, stripe.InvalidRequestError):
        if code == "amount_too_small":
            return (
                _("the amount is below Stripe's minimum for an online payment; "
                "it has to be paid another way."),
                False,
            )
        if code == "resource_missing":
            what = param or "it"
            return t("Stripe has no record of {what} (another account, or test mode?).", what=what), False
        if code in _MALFORMED:
            where = f" ({param})" if param else ""
            return (
                t("Stripe refused a request slotbot made{where}: {detail}. "
                "This is a slotbot problem; please report it.", where=where, detail=detail or code),
                False,
            )
        said = detail or (str(code).replace("_", " ") if code else _("invalid request"))
        return t("Stripe refused the request: {said}.", said=said), False
    if isinstance(exc, stripe.APIError):
        return _("Stripe had a problem on its side; try again in a few minutes."), True
    return t("Stripe error ({name}){detail}.", name=type(exc).__name__, detail=': ' + detail if detail else ''), False


def _gateway_error(doing: str, exc: stripe.StripeError) -> GatewayError:
    text, retryable = describe_stripe_error(exc)
    return GatewayError(t("Stripe could not {doing}: {text}", doing=doing, text=text), retryable=retryable)


def _id(value: Any) -> str | None:
    """An id from a field that is either an id or an expanded object."""
    if value is None or isinstance(value, str):
        return value
    return str(value.id)


class StripeGateway:
    """Payments through Stripe."""

    name = "stripe"

    def __init__(self, api_key: str, *, api_base: str | None = None) -> None:
        addresses: Any = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses=addresses, max_network_retries=2)

    def create_customer(
        self,
        *,
        customer_id: int,
        name: str | None,
        email: str | None,
        phone: str | None,
        idempotency_key: str,
    ) -> str:
        """A Stripe Customer for one of ours."""
        params: dict[str, Any] = {"metadata": {"slotbot_customer_id": str(customer_id)}}
        for key, value in (("name", name), ("email", email), ("phone", phone)):
            if value:
                params[key] = value
        try:
            customer = self.client.v1.customers.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _gateway_error("create a customer", exc) from exc
        return str(customer.id)

    def create_checkout(self, request: CheckoutRequest) -> CheckoutCreated:
        """A Checkout Session in payment mode for the invoice's balance."""
        metadata = {
            "invoice_id": str(request.invoice_id),
            "pay_link_id": str(request.pay_link_id),
            "save_card": "1" if request.save_card else "0",
        }
        intent: dict[str, Any] = {"metadata": metadata, "description": request.invoice_number}
        if request.save_card:
            intent["setup_future_usage"] = "off_session"
        params: dict[str, Any] = {
            "mode": "payment",
            "customer": request.provider_customer_id,
            "client_reference_id": str(request.invoice_id),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {
                            "name": t("Invoice {invoice_number}", invoice_number=request.invoice_number),
                            "description": request.business_name,
                        },
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": intent,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _gateway_error("start checkout", exc) from exc
        if not session.url:
            raise GatewayError("Stripe returned a checkout session without a URL")
        return CheckoutCreated(session_id=str(session.id), url=str(session.url))

    def card_for_payment(self, payment_intent_id: str) -> CardDetails | None:
        """The card behind a PaymentIntent, read from its PaymentMethod."""
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
            method_id = _id(intent.payment_method)
            if method_id is None:
                return None
            method = self.client.v1.payment_methods.retrieve(method_id)
        except stripe.StripeError as exc:
            raise _gateway_error("read the card", exc) from exc
        if method.type != "card" or method.card is None:
            return None
        card = method.card
        return CardDetails(
            payment_method_id=str(method.id),
            brand=str(card.brand),
            last4=str(card.last4),
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
        )

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        """Confirm a PaymentIntent off-session; card problems come back as outcomes."""
        params: dict[str, Any] = {
            "amount": charge.amount_minor,
            "currency": charge.currency.lower(),
            "customer": charge.provider_customer_id,
            "payment_method": charge.payment_method_id,
            "off_session": True,
            "confirm": True,
            "description": charge.description,
            "metadata": dict(charge.metadata),
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": charge.idempotency_key}
            )
        except stripe.CardError as exc:
            error = exc.error
            intent_id = _id(getattr(error, "payment_intent", None)) if error else None
            status = AUTHENTICATION_REQUIRED if exc.code == AUTHENTICATION_REQUIRED else DECLINED
            return ChargeOutcome(status, intent_id, charge.amount_minor, exc.user_message or "")
        except stripe.StripeError as exc:
            raise _gateway_error("charge the card", exc) from exc
        status = SUCCEEDED if intent.status == SUCCEEDED else PROCESSING
        if intent.status in ("requires_action", "requires_payment_method"):
            status = AUTHENTICATION_REQUIRED if intent.status == "requires_action" else DECLINED
        return ChargeOutcome(status, str(intent.id), int(intent.amount))

    def refund(self, *, payment_intent_id: str, amount_minor: int, idempotency_key: str) -> str:
        """Refund part or all of a PaymentIntent."""
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _gateway_error("refund", exc) from exc
        return str(refund.id)


def verify_webhook(payload: bytes, signature: str | None, secret: str | None) -> dict[str, Any]:
    """A verified event, as plain data, from the raw body and its Stripe-Signature header.

    Signed over the exact bytes received: the body must not be parsed and re-serialised
    first. Events older than five minutes are refused (replays).
    """
    if not secret:
        raise WebhookRejected("STRIPE_WEBHOOK_SECRET is not set")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(str(exc)) from None
    except (ValueError, AttributeError, TypeError, KeyError) as exc:
        # Signed, but not an event: the SDK trips over a JSON array or a string body.
        raise WebhookRejected(f"not a Stripe event: {exc!r}") from None
    return event.to_dict()

"""A fake Stripe API: an HTTP/1.1 server in a thread that the real `stripe` SDK talks to.

It speaks the few endpoints slotbot calls, form-encoded in and Stripe-shaped JSON out:

    POST /v1/customers                     POST /v1/checkout/sessions
    GET  /v1/checkout/sessions/{id}        POST /v1/payment_intents (off-session charges)
    GET  /v1/payment_intents/{id}          GET  /v1/payment_methods/{id}
    POST /v1/refunds

Every request is recorded with its parsed params and headers (the Idempotency-Key above
all). Like Stripe, a POST repeated with the same Idempotency-Key gets the first answer
replayed, and one with the same key but different params is a 400 idempotency_error.
Off-session charges can be told to fail: `fake.fail_charges("authentication_required")` or
`"card_declined"` (402 card_error, as Stripe answers), and any request to answer with one of
Stripe's error classes: `fake.fail_next(status, error_type, code, message)` (401 authentication,
429 rate limit, 500 api_error…).

It refuses what real Stripe refuses (see `stripe_rules`): parameters the endpoint does not
take (400 `parameter_unknown`), required ones left out (400 `parameter_missing`), values of
the wrong kind, amounts below the currency's minimum charge (400 `amount_too_small`: a
checkout whose total, or a PaymentIntent whose amount, is under USD 0.50 and the like), a
payment-mode checkout without line items, and refunds beyond what is left to refund
(`charge_already_refunded`, `amount_too_large`). Refused requests are recorded too, with the
error in `Recorded.error`; validation errors are not kept for idempotent replay, as Stripe.

The test plays the customer and Stripe's event system: `pay_checkout(session_id)` completes
a session (making a PaymentIntent and a card), `event(type, obj)` wraps an object in an
event, `signed(event, secret)` gives the body and Stripe-Signature header to POST.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from tests.fakes.stripe_rules import (
    StripeRefusal,
    check_params,
    format_amount,
    shape_for,
    too_small,
)

API_KEY = "sk_test_fake_slotbot"
WEBHOOK_SECRET = "whsec_fake_slotbot_secret"
_TOKEN = re.compile(r"([^\[\]]+)|\[([^\]]*)\]")


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (a[b][0][c]=1) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [a or b for a, b in _TOKEN.findall(key)]
        node: Any = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(value: Any) -> Any:
        if isinstance(value, dict):
            value = {k: listify(v) for k, v in value.items()}
            if value and all(k.isdigit() for k in value):
                return [value[k] for k in sorted(value, key=int)]
        return value

    return listify(root)


def _refusal(refusal: StripeRefusal) -> tuple[int, dict[str, Any]]:
    return refusal.status, refusal.body()


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(8)}"


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    authorization: str | None
    replayed: bool = False
    error: dict[str, Any] | None = None  # the error object, when the request was refused


@dataclass
class FakeStripe:
    """The fake's state; `url` is its base address once started."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    card: tuple[str, str, int, int] = ("visa", "4242", 12, 2030)
    _charge_failures: list[str] = field(default_factory=list)
    _next_failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _replies: dict[str, tuple[str, int, dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ test controls

    def fail_charges(self, code: str, times: int = 1) -> None:
        """Make the next `times` off-session charges fail with this card error code."""
        self._charge_failures.extend([code] * times)

    def fail_next(
        self, status: int, error_type: str, code: str | None = None, message: str = "Simulated"
    ) -> None:
        """Answer the next request (any endpoint) with this Stripe error."""
        error: dict[str, Any] = {"type": error_type, "message": message}
        if code is not None:
            error["code"] = code
        self._next_failures.append((status, {"error": error}))

    def refused(self) -> list[dict[str, Any]]:
        """The error objects of every request refused so far, in order."""
        return [r.error for r in self.requests if r.error is not None]

    def calls(self, method: str, path: str) -> list[Recorded]:
        """The requests received for one endpoint (path prefix), in order."""
        return [r for r in self.requests if r.method == method and r.path.startswith(path)]

    def pay_checkout(self, session_id: str) -> dict[str, Any]:
        """Play the customer paying a checkout session: it becomes complete and paid."""
        with self.lock:
            session = self.sessions[session_id]
            brand, last4, month, year = self.card
            method = self._method(session.get("customer"), brand, last4, month, year)
            intent = {
                "id": _new_id("pi"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"],
                "currency": session["currency"],
                "customer": session.get("customer"),
                "payment_method": method["id"],
                "status": "succeeded",
                "metadata": dict(session.get("payment_intent_data", {}).get("metadata", {})),
                "latest_charge": _new_id("ch"),
                "setup_future_usage": session.get("payment_intent_data", {}).get(
                    "setup_future_usage"
                ),
            }
            self.intents[intent["id"]] = intent
            session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
            return self._public_session(session)

    def event(self, kind: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """A Stripe event wrapping `obj`."""
        return {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": kind,
            "data": {"object": obj},
        }

    def charge_refunded(self, intent_id: str, amount_refunded: int) -> dict[str, Any]:
        """The charge object of a `charge.refunded` event for a PaymentIntent."""
        intent = self.intents[intent_id]
        return {
            "id": intent["latest_charge"],
            "object": "charge",
            "payment_intent": intent_id,
            "amount": intent["amount"],
            "amount_refunded": amount_refunded,
            "refunded": amount_refunded >= intent["amount"],
            "currency": intent["currency"],
        }

    # ------------------------------------------------------------------ the API

    def _method(self, customer: str | None, brand: str, last4: str, month: int, year: int) -> dict:
        method = {
            "id": _new_id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": {"brand": brand, "last4": last4, "exp_month": month, "exp_year": year},
            "customer": customer,
        }
        self.methods[method["id"]] = method
        return method

    def _public_session(self, session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if k not in ("line_items", "payment_intent_data")}

    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one API request: (status, JSON body)."""
        if method == "POST" and path == "/v1/customers":
            customer = {
                "id": _new_id("cus"),
                "object": "customer",
                "name": params.get("name"),
                "email": params.get("email"),
                "phone": params.get("phone"),
                "metadata": params.get("metadata", {}),
                "livemode": False,
            }
            self.customers[customer["id"]] = customer
            return 200, customer
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(params)
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            found = self.sessions.get(path.rsplit("/", 1)[1])
            return (200, self._public_session(found)) if found else self._missing("session")
        if method == "POST" and path == "/v1/payment_intents":
            return self._charge(params)
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            found = self.intents.get(path.rsplit("/", 1)[1])
            return (200, found) if found else self._missing("payment_intent")
        if method == "GET" and path.startswith("/v1/payment_methods/"):
            found = self.methods.get(path.rsplit("/", 1)[1])
            return (200, found) if found else self._missing("payment_method")
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        return 404, {"error": {"type": "invalid_request_error", "message": f"No route {path}"}}

    def _missing(self, what: str) -> tuple[int, dict[str, Any]]:
        error = {"type": "invalid_request_error", "code": "resource_missing"}
        return 404, {"error": {**error, "message": f"No such {what}"}}

    def _refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not params.get("payment_intent") and not params.get("charge"):
            return _refusal(
                StripeRefusal(
                    "parameter_missing",
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                    "payment_intent",
                )
            )
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent.get("status") != "succeeded":
            return self._missing("payment_intent")
        refunded = int(intent.get("amount_refunded", 0))
        left = int(intent["amount_received"]) - refunded
        currency = intent["currency"]
        if left <= 0:
            return _refusal(
                StripeRefusal(
                    "charge_already_refunded",
                    f"Charge {intent['latest_charge']} has already been refunded.",
                )
            )
        amount = int(params.get("amount") or left)
        if amount <= 0:
            return _refusal(
                StripeRefusal("parameter_invalid_integer", "Invalid positive integer", "amount")
            )
        if amount > left:
            return _refusal(
                StripeRefusal(
                    "amount_too_large",
                    f"Refund amount ({format_amount(amount, currency)}) is greater than "
                    f"unrefunded amount on charge ({format_amount(left, currency)})",
                    "amount",
                )
            )
        intent["amount_refunded"] = refunded + amount
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "currency": currency,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _create_session(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not params.get("mode"):
            return _refusal(
                StripeRefusal("parameter_missing", "Missing required param: mode.", "mode")
            )
        items = params.get("line_items") or []
        if params["mode"] == "payment" and not items:
            return _refusal(
                StripeRefusal(
                    "parameter_missing", "`line_items` is required in `payment` mode.", "line_items"
                )
            )
        for index, item in enumerate(items):
            if not item.get("price") and not item.get("price_data"):
                where = f"line_items[{index}][price]"
                return _refusal(StripeRefusal("parameter_missing", f"Missing {where}.", where))
            if item.get("price_data") and "unit_amount" not in item["price_data"]:
                where = f"line_items[{index}][price_data][unit_amount]"
                return _refusal(StripeRefusal("parameter_missing", f"Missing {where}.", where))
            if "quantity" not in item:
                where = f"line_items[{index}][quantity]"
                return _refusal(
                    StripeRefusal("parameter_missing", f"Missing required param: {where}.", where)
                )
        currencies = {item["price_data"]["currency"] for item in items if item.get("price_data")}
        if len(currencies) > 1:
            return _refusal(
                StripeRefusal(
                    "parameter_invalid_string",
                    "All line items must use the same currency.",
                    "line_items",
                )
            )
        amount = sum(
            int(item["price_data"]["unit_amount"]) * int(item["quantity"]) for item in items
        )
        currency = currencies.pop() if currencies else "usd"
        small = too_small(amount, currency, "line_items")
        if small is not None:
            return _refusal(small)
        session_id = _new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"{self.url}/c/pay/{session_id}",
            "mode": params.get("mode"),
            "amount_total": amount,
            "currency": currency,
            "customer": params.get("customer"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "payment_status": "unpaid",
            "status": "open",
            "payment_intent": None,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "livemode": False,
            "line_items": items,
            "payment_intent_data": params.get("payment_intent_data", {}),
        }
        self.sessions[session_id] = session
        return 200, self._public_session(session)

    def _charge(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        small = too_small(int(params["amount"]), params["currency"], "amount")
        if small is not None:
            return _refusal(small)
        intent = {
            "id": _new_id("pi"),
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "customer": params.get("customer"),
            "payment_method": params.get("payment_method"),
            "metadata": params.get("metadata", {}),
            "description": params.get("description"),
            "latest_charge": _new_id("ch"),
            "status": "succeeded",
        }
        if self._charge_failures:
            code = self._charge_failures.pop(0)
            intent["status"] = "requires_payment_method"
            message = (
                "This payment requires authentication."
                if code == "authentication_required"
                else "Your card was declined."
            )
            intent["last_payment_error"] = {"code": code, "message": message, "type": "card_error"}
            self.intents[intent["id"]] = intent
            error = {
                "type": "card_error",
                "code": code,
                "message": message,
                "payment_intent": intent,
            }
            if code == "card_declined":
                error["decline_code"] = "insufficient_funds"
            return 402, {"error": error}
        intent["amount_received"] = intent["amount"]
        self.intents[intent["id"]] = intent
        return 200, intent

    def answer(
        self, method: str, path: str, params: dict[str, Any], key: str | None, auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Record a request and answer it, replaying idempotent POSTs like Stripe."""
        with self.lock:
            record = Recorded(method, path, params, key, auth)
            self.requests.append(record)
            if auth != f"Bearer {API_KEY}":
                return 401, {
                    "error": {"type": "invalid_request_error", "message": "Invalid API Key"}
                }
            if self._next_failures:
                status, body = self._next_failures.pop(0)
                record.error = body["error"]
                return status, body
            shape = shape_for(method, path)
            refusal = check_params(params, shape) if shape is not None else None
            if refusal is not None:
                # Refused before the endpoint ran: Stripe keeps no idempotent result of it.
                record.error = refusal.body()["error"]
                return refusal.status, refusal.body()
            if method == "POST" and key is not None and key in self._replies:
                first_path, status, first_params, body = self._replies[key]
                record.replayed = True
                if (first_path, first_params) != (path, params):
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the same parameters.",
                        }
                    }
                return status, body
            status, body = self.handle(method, path, params)
            if status >= 400:
                record.error = body.get("error")
            if method == "POST" and key is not None:
                self._replies[key] = (path, status, params, body)
            return status, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API: HTTP/1.0 fakes hide bugs
    fake: FakeStripe

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        split = urlsplit(self.path)
        source = raw if method == "POST" else split.query
        params = _nest(parse_qsl(source, keep_blank_values=True))
        status, body = self.fake.answer(
            method,
            split.path,
            params,
            self.headers.get("Idempotency-Key"),
            self.headers.get("Authorization"),
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", _new_id("req"))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def fake_stripe_server() -> Iterator[FakeStripe]:
    """Run a fake Stripe API on 127.0.0.1:<free port> for the duration of the block."""
    fake = FakeStripe()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-stripe", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def stripe_env(fake: FakeStripe) -> dict[str, str]:
    """The environment that points slotbot's Stripe gateway at the fake."""
    return {
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_API_BASE": fake.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def signed(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe would send for an event."""
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return payload.encode(), header

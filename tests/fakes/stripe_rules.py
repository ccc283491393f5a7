"""What real Stripe refuses, for the fake Stripe server: parameters and minimum amounts.

The parameters each endpoint takes come from the `stripe` SDK's typed request params
(`stripe.params…CreateParams`, TypedDicts that Stripe generates from its OpenAPI spec): a
name the endpoint does not have is a 400 `parameter_unknown`, a required one left out a 400
`parameter_missing`, a value outside a listed enum or not an integer / boolean where one is
due a 400 `parameter_invalid_…` — as Stripe answers, with `param` naming the field in its
bracket form (`line_items[0][price_data][currency]`).

`MINIMUM_CHARGE` is Stripe's published table of minimum charge amounts
(https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts), in minor units.
It is kept here apart from slotbot's own copy (bot/billing/ledger/minimums.py) on purpose: the
fake must not agree with the code under test by construction.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import stripe.params as params
import stripe.params.checkout as checkout_params
from stripe._request_options import RequestOptions

MINIMUM_CHARGE = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx"}

_OPTIONS = frozenset(RequestOptions.__annotations__)  # api_key, idempotency_key, …: not params
_NESTED = re.compile(r"\b([A-Z][A-Za-z0-9]*Params[A-Za-z0-9]*)\b")
_LITERAL = re.compile(r"Literal\[([^\]]*)\]")
_INTEGER = re.compile(r"^-?[0-9]+$")


@dataclass(frozen=True)
class StripeRefusal:
    """One 4xx Stripe would answer: the error object's fields."""

    code: str
    message: str
    param: str | None = None
    status: int = 400
    type: str = "invalid_request_error"

    def body(self) -> dict[str, Any]:
        """The JSON Stripe sends: {"error": {type, code, message, param}}."""
        error: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


@dataclass
class Shape:
    """What one level of a request takes: its fields, which are required, and their kinds."""

    required: frozenset[str] = frozenset()
    fields: dict[str, Any] = field(default_factory=dict)  # name → Shape | Field


@dataclass(frozen=True)
class Field:
    """A leaf: its kind ("string", "integer", "boolean", "map", "list") and allowed values."""

    kind: str
    enum: frozenset[str] | None = None


def _annotation_text(annotation: Any) -> str:
    """The annotation as text, without "typing." and the NotRequired[...] around it."""
    text = str(annotation).replace("typing.", "")
    if text.startswith("NotRequired["):
        text = text[len("NotRequired[") : -1]
    return text.strip()


def _leaf(text: str) -> Field:
    if "Dict[str" in text:
        return Field("map")
    if text.startswith("List["):
        return Field("list")
    literal = _LITERAL.search(text)
    if literal is not None:
        others = _LITERAL.sub("", text).replace("ForwardRef(", "").strip("\"')] ")
        extras = {part.strip("\"' ") for part in others.split("|") if part.strip("\"' ")}
        if extras <= {"str", "bool"}:  # "|str" is the SDK's leniency, not the API's
            values = {v.strip().strip("'\"") for v in literal.group(1).split(",")}
            if "bool" in extras:
                values |= {"true", "false"}
            return Field("string", frozenset(values))
    if text in ("<class 'int'>", "int"):
        return Field("integer")
    if text in ("<class 'bool'>", "bool"):
        return Field("boolean")
    return Field("string")


@cache
def shape_of(typed: type) -> Shape:
    """The Shape of an SDK params TypedDict, nested TypedDicts resolved from its module."""
    module = sys.modules[typed.__module__]
    fields: dict[str, Any] = {}
    for name, annotation in typed.__annotations__.items():
        if name in _OPTIONS:
            continue
        text = _annotation_text(annotation)
        nested = [
            getattr(module, found)
            for found in _NESTED.findall(text)
            if hasattr(getattr(module, found, None), "__required_keys__")
        ]
        fields[name] = shape_of(nested[0]) if nested else _leaf(text)
    return Shape(frozenset(typed.__required_keys__) - _OPTIONS, fields)


def _check(value: Any, spec: Any, path: str) -> StripeRefusal | None:
    if isinstance(spec, Shape):
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(value, list) else path
            if item == "":
                continue  # an empty value unsets a field
            if not isinstance(item, dict):
                return StripeRefusal("parameter_invalid_string", f"Invalid object: {where}", where)
            refusal = check_params(item, spec, where)
            if refusal is not None:
                return refusal
        return None
    if spec.kind == "map":
        if value != "" and not isinstance(value, dict):
            return StripeRefusal("parameter_invalid_string", f"Invalid hash: {path}", path)
        return None
    if spec.kind == "list":
        return None
    if not isinstance(value, str):
        return StripeRefusal("parameter_invalid_string", f"Invalid string: {path}", path)
    if spec.kind == "integer" and not _INTEGER.match(value):
        return StripeRefusal("parameter_invalid_integer", f"Invalid integer: {value}", path)
    if spec.kind == "boolean" and value not in ("true", "false"):
        return StripeRefusal("parameter_invalid_boolean", f"Invalid boolean: {value}", path)
    if spec.enum is not None and value not in spec.enum:
        allowed = ", ".join(f"`{v}`" for v in sorted(spec.enum))
        return StripeRefusal(
            "parameter_invalid_string", f"Invalid {path}: must be one of {allowed}", path
        )
    return None


def check_params(given: dict[str, Any], shape: Shape, prefix: str = "") -> StripeRefusal | None:
    """The first thing Stripe would refuse in `given` (parsed form params), or None."""
    for name, value in given.items():
        path = f"{prefix}[{name}]" if prefix else name
        spec = shape.fields.get(name)
        if spec is None:
            return StripeRefusal("parameter_unknown", f"Received unknown parameter: {path}", path)
        refusal = _check(value, spec, path)
        if refusal is not None:
            return refusal
    for name in sorted(shape.required):
        if name not in given or given[name] == "":
            path = f"{prefix}[{name}]" if prefix else name
            return StripeRefusal("parameter_missing", f"Missing required param: {path}.", path)
    return None


# The endpoints the fake speaks, and the SDK params type of each.
ENDPOINTS: dict[tuple[str, str], type] = {
    ("POST", "/v1/customers"): params.CustomerCreateParams,
    ("POST", "/v1/checkout/sessions"): checkout_params.SessionCreateParams,
    ("GET", "/v1/checkout/sessions/"): checkout_params.SessionRetrieveParams,
    ("POST", "/v1/payment_intents"): params.PaymentIntentCreateParams,
    ("GET", "/v1/payment_intents/"): params.PaymentIntentRetrieveParams,
    ("GET", "/v1/payment_methods/"): params.PaymentMethodRetrieveParams,
    ("POST", "/v1/refunds"): params.RefundCreateParams,
}


def shape_for(method: str, path: str) -> Shape | None:
    """The Shape of the params an endpoint takes (GETs by path prefix); None if unknown."""
    typed = ENDPOINTS.get((method, path))
    if typed is None and method == "GET":
        typed = next(
            (t for (m, p), t in ENDPOINTS.items() if m == "GET" and path.startswith(p)), None
        )
    return shape_of(typed) if typed is not None else None


def format_amount(amount: int, currency: str) -> str:
    """An amount as Stripe's messages write it: "$0.50 usd", "50 jpy"."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    symbol = {"usd": "$", "gbp": "£", "eur": "€"}.get(currency, "")
    return f"{symbol}{amount / 100:.2f} {currency}"


def too_small(amount: int, currency: str, param: str) -> StripeRefusal | None:
    """Stripe's `amount_too_small` when `amount` is under the currency's minimum charge."""
    minimum = MINIMUM_CHARGE.get(currency.lower())
    if minimum is None or amount >= minimum:
        return None
    return StripeRefusal(
        "amount_too_small",
        f"Amount must be at least {format_amount(minimum, currency.lower())}",
        param,
    )

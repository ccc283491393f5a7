"""The shape of a Stripe event as slotbot reads it, checked at the edge.

A signed event is Stripe's, but the handlers in `bot.billing.payments` read a dozen fields
with `.get` and `int()`: an event whose `data` is a list or whose amount is a string would
raise deep inside a transaction (a 500, and Stripe redelivering it for days). Real Stripe
never sends such a thing, so `problem` names what is wrong and the webhook answers 400.
"""

from __future__ import annotations

from typing import Any

from webhooks.limits import MAX_ROW_ID

MAX_ID = 255
MAX_AMOUNT = 2**53  # far above any real charge; below every database's integer limit
_AMOUNTS = ("amount", "amount_total", "amount_received", "amount_refunded")
_TEXTS = ("id", "currency", "payment_status", "status")
_REFERENCES = ("payment_intent", "customer", "latest_charge")  # an id, or the expanded object
_ROW_IDS = ("invoice_id", "scheduled_charge_id")  # metadata values we read as our row ids


def _is_text(value: object, limit: int = MAX_ID) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _reference_ok(value: object) -> bool:
    if value is None or _is_text(value):
        return True
    return isinstance(value, dict) and (value.get("id") is None or _is_text(value.get("id")))


def _object_problem(obj: dict[str, Any]) -> str | None:
    for key in _AMOUNTS:
        value = obj.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT
        ):
            return f"data.object.{key} is not an amount"
    for key in _TEXTS:
        if obj.get(key) is not None and not _is_text(obj[key]):
            return f"data.object.{key} is not a string"
    for key in _REFERENCES:
        if not _reference_ok(obj.get(key)):
            return f"data.object.{key} is not an id"
    metadata = obj.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            return "data.object.metadata is not a map of strings"
        for key in _ROW_IDS:
            value = metadata.get(key, "")
            if value.isdigit() and int(value) > MAX_ROW_ID:
                return f"data.object.metadata.{key} is out of range"
    error = obj.get("last_payment_error")
    if error is not None and not isinstance(error, dict):
        return "data.object.last_payment_error is not an object"
    return None


def problem(event: object) -> str | None:
    """What makes `event` something other than a Stripe event slotbot can read; None if fine."""
    if not isinstance(event, dict):
        return "not an object"
    if not (_is_text(event.get("id")) and event["id"]):
        return "id is not a string"
    if not _is_text(event.get("type")):
        return "type is not a string"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "data.object is not an object"
    return _object_problem(data["object"])

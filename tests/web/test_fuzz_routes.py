"""Every route answers hostile input with a 4xx (or handles it), never a 5xx, never twice.

Hypothesis posts random and hostile bodies — wrong types, huge numbers, NaN and infinity,
nested objects, missing fields, wrong content types, invalid UTF-8 and lone surrogates —
to every rule in `app.url_map`, with every method it allows and its path parameters filled
with plausible values (real portal and dashboard tokens, real ids) and hostile ones. Signed
endpoints are fuzzed with valid signatures too (Twilio's RequestValidator, Telegram's secret
header, Stripe's signature header), so that their parsers are reached. A repeated delivery
(same message id, same MessageSid, same update_id) must change nothing. Afterwards the
worker handles every hostile message that was recorded, and each is answered or silent.

One app per backend for the module: SQLite with the full run (>= 2,000 examples), and a
shorter run on PostgreSQL, which refuses more (NUL in text, out-of-range integers).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import stripe
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.routing import IntegerConverter, PathConverter

from bot.customers.portal import csrf_token, verify
from storage.billing import Payment
from storage.models import InboundMessage
from tests.conftest import BACKENDS, DEMO_CONFIG, fresh_database_url, process_inbox
from tests.customers.test_portal import NOW, build_demo
from tests.fakes.telegram_api import make_fake_telegram, telegram_env
from webhooks.app import create_app

PUBLIC = "https://fuzz.example.com"
TWILIO_TOKEN = "fuzz-twilio-token"
TELEGRAM_SECRET = "fuzz-telegram-secret"
STRIPE_SECRET = "whsec_fuzz"
SEEN: Counter[tuple[str, str, int]] = Counter()  # (rule, method, status): what was reached
EXAMPLES = {"sqlite": 2100, "postgres": 400}
SCALE = float(os.environ.get("SLOTBOT_FUZZ_SCALE") or 1)  # e.g. 0.1 for a quick look
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
FORM_ROUTE = re.compile(r"^/(portal|dashboard|pay|sandbox)/")
MESSAGING = [
    ("/api/chat", "POST"),
    ("/api/chat", "POST"),
    ("/api/chat/messages", "GET"),
    ("/twilio/sms", "POST"),
    ("/twilio/whatsapp", "POST"),
    ("/twilio/status", "POST"),
    ("/telegram/webhook", "POST"),
    ("/stripe/webhook", "POST"),
]


@dataclass
class Target:
    """The app under fuzz, and the real tokens and ids its paths can be filled with."""

    app: Flask
    client: FlaskClient
    backend: str
    tokens: list[str]
    ids: list[int]
    csrf: dict[str, str]  # token -> the CSRF token its forms carry
    routes: list[tuple[str, str]]  # (rule, method)
    invoices: list[int]


@pytest.fixture(scope="module", params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Target]:
    database = fresh_database_url(request.param, tmp_path_factory.mktemp("fuzz"))
    url = next(database)
    with make_fake_telegram() as fake_telegram, pytest.MonkeyPatch.context() as env:
        env.setenv("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET)
        env.delenv("STRIPE_SECRET_KEY", raising=False)
        app = create_app(
            {
                "DATABASE_URL": url,
                "BUSINESS_CONFIG": str(DEMO_CONFIG),
                "TESTING": True,
                "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                "SLOTBOT_PUBLIC_URL": PUBLIC,
                "SLOTBOT_SECRET_KEY": "fuzz-secret-key",
                "SLOTBOT_KICK": "0",
                # The parsers are the point here, not the limits (tests/web/test_limits.py).
                "SLOTBOT_RATE_LIMIT_CHAT_IP": "off",
                "SLOTBOT_RATE_LIMIT_CHAT_SESSION": "off",
                "SLOTBOT_RATE_LIMIT_NEW_SESSIONS": "off",
                "SLOTBOT_RATE_LIMIT_FORMS_IP": "off",
                "SLOTBOT_RATE_LIMIT_FORMS_LINK": "off",
                **telegram_env(fake_telegram, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET),
            }
        )
        db = app.extensions["slotbot.db"]
        with time_machine.travel(NOW, tick=False):
            demo = build_demo(db)
        tokens = [demo.jane_token, demo.bob_token, demo.owner_token]
        with db.read() as session:
            csrf = {}
            for token, role in zip(tokens, ("customer", "customer", "owner"), strict=True):
                check = verify(session, token, role, NOW)
                assert check.link_id is not None, f"the demo's {role} link does not verify"
                csrf[token] = csrf_token(session, check.link_id)
        ids = [demo.jane, demo.bob, demo.jane_invoice, demo.jane_upcoming, demo.bob_upcoming]
        routes = sorted(
            (rule.rule, method)
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in sorted((rule.methods or set()) - SKIPPED_METHODS)
        )
        invoices = [demo.jane_invoice, demo.bob_invoice]
        yield Target(app, app.test_client(), request.param, tokens, ids, csrf, routes, invoices)
        db.dispose()
    with contextlib.suppress(StopIteration):
        next(database)  # drops the PostgreSQL schema


# ------------------------------------------------------------------------- strategies

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u202egnp.exe",
    "\u2066Bob\u2069\u200b",
    "99999999999999999999999999",
    "-1",
    "1e400",
    "NaN",
    "Infinity",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "x" * 5000,
    "whatsapp:+15551230001",
    "+15551230001",
    "SM" + "0" * 32,
    "2026-11-16",
    "today",
    "10:00",
    "pay",
    "cash",
    "completed",
    "slot:2026-11-20T15:00:00+00:00:sam",
    "hi",
    "yes",
    "STOP",
    "book",
]
BIG_NUMBERS = [10**30, -(10**30), 2**63, 2**64, -(2**63) - 1, 0, -1, 1]

text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(BIG_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
anything = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

TWILIO_FIELDS = [
    "From",
    "To",
    "Body",
    "MessageSid",
    "SmsMessageSid",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "Latitude",
    "Longitude",
    "Label",
    "Address",
    "ProfileName",
    "WaId",
    "MessageStatus",
    "SmsStatus",
    "SmsSid",
    "ErrorCode",
]
FORM_FIELDS = [
    "csrf",
    "slot",
    "reason",
    "method",
    "amount",
    "status",
    "start",
    "end",
    "staff",
    "day",
    "back",
    "nonce",
    "save_card",
    "action",
    "q",
    "notice",
    "clashes",
]


def mostly(plausible: st.SearchStrategy, hostile: st.SearchStrategy) -> st.SearchStrategy:
    """Plausible three times in four (so the code behind the checks is reached), else hostile."""
    return st.one_of(plausible, plausible, plausible, hostile)


@st.composite
def corrupted(draw, value: Any) -> Any:
    """`value` as it was, or with one to three fields swapped for hostile ones or deleted."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        value = _corrupt_once(draw, value)
    return value


def _corrupt_once(draw, value: Any) -> Any:
    if not isinstance(value, dict) or not value or draw(st.integers(0, 3)) == 0:
        return draw(anything)
    key = draw(st.sampled_from(sorted(value)))
    inner = value[key]
    copy = dict(value)
    if isinstance(inner, dict) and inner and draw(st.booleans()):
        copy[key] = _corrupt_once(draw, inner)
    elif draw(st.integers(0, 3)) == 0:
        del copy[key]  # a missing field
    else:
        copy[key] = draw(anything)
    return copy


WORDS = st.sampled_from(["hi", "book", "Haircut", "Sam", "tomorrow at 3", "yes", "I'm Jane", "2"])
SESSIONS = st.sampled_from(["fuzz-session-1", "fuzz-session-2"]) | st.text(
    "abcdefgh-_", min_size=8, max_size=12
)


@st.composite
def chat_bodies(draw) -> Any:
    body: dict[str, Any] = {"session": draw(SESSIONS), "text": draw(mostly(WORDS, text))}
    optional = {
        "option_id": st.sampled_from(["book", "menu", "service:haircut"]) | text,
        "message_id": st.text("abc123-", min_size=1, max_size=8),
        "after": st.sampled_from([0, 1, 10**30, 1e400, -5, "7", "x", None, 2.0, 2**63]),
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)))):
        body[key] = draw(optional[key])
    return draw(corrupted(body))


@st.composite
def telegram_updates(draw) -> Any:
    user_id = draw(st.sampled_from([5001, 5002, 5003]))
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": draw(text)}
    if draw(st.booleans()):
        user["last_name"] = draw(text)
    if draw(st.booleans()):
        user["username"] = draw(text)
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 10**6)),
        "date": 1_763_290_000,
        "chat": {"id": user_id, "type": "private"},
        "from": user,
        "text": draw(mostly(WORDS, text)),
    }
    extra = draw(st.sampled_from(["", "", "contact", "location", "photo", "document", "caption"]))
    if extra == "contact":
        message["contact"] = {"phone_number": draw(text), "user_id": user_id, "first_name": "J"}
    elif extra == "location":
        message["location"] = {"latitude": draw(st.floats()), "longitude": draw(st.floats())}
    elif extra == "photo":
        message["photo"] = [{"file_id": "f1", "file_unique_id": "u1", "width": 1, "height": 1}]
    elif extra == "document":
        message["document"] = {"file_id": "f2", "file_unique_id": "u2", "file_name": draw(text)}
    elif extra == "caption":
        message["caption"] = draw(text)
    update: dict[str, Any] = {"update_id": draw(st.integers(1, 10**9))}
    if draw(st.integers(0, 3)) == 0:
        update["callback_query"] = {
            "id": draw(text),
            "from": user,
            "chat_instance": "fuzz",
            "data": draw(st.sampled_from(["book", "#o:1:0", "#o:999999999999999999999:0"]) | text),
            "message": message,
        }
    else:
        update["message"] = message
    return draw(corrupted(update))


STRIPE_KINDS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "customer.created",
]


@st.composite
def stripe_events(draw, invoice_ids: list[int]) -> Any:
    amount = st.integers(0, 100_000)
    obj: dict[str, Any] = {
        "id": draw(st.sampled_from(["cs_test_1", "pi_test_1", "ch_test_1"])),
        "amount_total": draw(amount),
        "amount": draw(amount),
        "amount_received": draw(amount),
        "amount_refunded": draw(amount),
        "currency": draw(st.sampled_from(["usd", "eur"])),
        "payment_status": draw(st.sampled_from(["paid", "unpaid"])),
        "payment_intent": draw(st.sampled_from(["pi_test_1", None])),
        "customer": draw(st.sampled_from(["cus_1", None])),
        "metadata": {
            "invoice_id": str(draw(st.sampled_from(invoice_ids) | st.integers(0, 10**30))),
            "save_card": draw(st.sampled_from(["1", "0"])),
            "charge_key": draw(text),
        },
    }
    event = {
        "id": draw(st.text("abcdef0123", min_size=4, max_size=12).map("evt_".__add__)),
        "object": "event",
        "type": draw(st.sampled_from(STRIPE_KINDS)),
        "data": {"object": obj},
    }
    return draw(corrupted(event))


@st.composite
def twilio_forms(draw) -> Any:
    sid = draw(st.text("0123456789abcdef", min_size=32, max_size=32).map("SM".__add__))
    whatsapp = draw(st.booleans())
    prefix = "whatsapp:" if whatsapp else ""
    form: dict[str, Any] = {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": prefix + draw(st.sampled_from(["+15551239999", "+15551239998", "5551239997"])),
        "To": prefix + "+15550001111",
        "Body": draw(mostly(WORDS, text)),
        "NumMedia": draw(st.sampled_from(["0", "1", "11", "-1", "x"])),
        "MessageStatus": draw(st.sampled_from(["failed", "undelivered", "delivered"])),
        "ErrorCode": draw(st.sampled_from(["", "21610", "30003"])),
    }
    for key in draw(st.sets(st.sampled_from(TWILIO_FIELDS))):
        form.setdefault(key, draw(text))
    if whatsapp:
        form["ProfileName"] = draw(text)
    return draw(corrupted(form))


def _path_value(draw, name: str, converter: object, target: Target, rule: str) -> str:
    """A value for path parameter `name`: a real one (token, id, day) mostly, else hostile."""
    if isinstance(converter, IntegerConverter):
        value = draw(mostly(st.sampled_from(target.ids), st.integers(0, 10**30)))
        return str(value)
    if name == "token":
        customers, owner = target.tokens[:2], target.tokens[2:]
        real = owner if rule.startswith("/dashboard") else customers
        plausible = st.sampled_from(
            real if rule.startswith(("/dashboard", "/portal")) else target.tokens
        )
    elif name == "day":
        plausible = st.sampled_from(["2026-11-16", "2026-11-20", "today"])
    else:
        plausible = st.sampled_from(["invoice.pdf", "cs_test_1", "x"])
    raw = draw(mostly(plausible, text))
    safe = "/" if isinstance(converter, PathConverter) else ""
    return quote(_bytes(raw), safe=safe) or "x"


def _bytes(value: str) -> bytes:
    # What a hostile client can put on the wire for a lone surrogate: its invalid UTF-8 bytes.
    return value.encode("utf-8", "surrogatepass")


def _readable(value: str) -> str:
    return _bytes(value).decode("utf-8", "replace")


def _urlencoded(pairs: dict[str, str]) -> str:
    return "&".join(
        f"{quote(_bytes(k), safe='')}={quote(_bytes(v), safe='')}" for k, v in pairs.items()
    )


@st.composite
def requests(draw, target: Target) -> dict[str, Any]:
    # Half the time one of the routes that take messages and events: those parse the most.
    rule_text, method = draw(st.sampled_from(MESSAGING) | st.sampled_from(target.routes))
    rule = next(r for r in target.app.url_map.iter_rules() if r.rule == rule_text)
    path = rule_text
    for name, converter in rule._converters.items():
        value = _path_value(draw, name, converter, target, rule_text)
        path = path.replace(f"<{type(converter).__name__}:{name}>", value)
        for prefix in ("int", "path", "string", ""):
            path = path.replace(f"<{prefix}:{name}>" if prefix else f"<{name}>", value)
    headers: dict[str, str] = {}
    plain_query = st.fixed_dictionaries(
        {"session": SESSIONS}, optional={"after": st.sampled_from(["0", "5", "1e400", "9" * 30])}
    )
    query = _urlencoded(
        draw(
            mostly(
                plain_query if path == "/api/chat/messages" else st.just({}),
                st.dictionaries(st.sampled_from(["after", "session", "owner_key", "q"]), text),
            )
        )
    )
    if "/api/chat" in path:
        fields: Any = draw(chat_bodies())
    elif path.startswith("/telegram"):
        fields = draw(telegram_updates())
    elif path.startswith("/stripe"):
        fields = draw(stripe_events(target.invoices))
    elif path.startswith("/twilio"):
        fields = draw(twilio_forms())
    else:
        keys = draw(st.sets(st.sampled_from(FORM_FIELDS)))
        fields = {key: draw(text) for key in keys}
        token = next((t for t in target.tokens if t in path), None)
        if token is not None:
            fields["csrf"] = draw(mostly(st.just(target.csrf[token]), text))
    # The encoding the route expects most of the time; any other now and then.
    expected = "form" if path.startswith("/twilio") or FORM_ROUTE.search(path) else "json"
    encoding = draw(mostly(st.just(expected), st.sampled_from(["json", "form", "raw", "none"])))
    body: bytes | None = None
    form: dict[str, str] | None = None  # what a form carries, for Twilio's signature
    if encoding == "json":
        body = json.dumps(fields).encode()
        if draw(st.integers(0, 5)) == 0:  # literals json.dumps never writes
            body = draw(
                st.sampled_from(
                    [
                        b'{"session": "fuzz-session-1", "text": "hi", "after": 1e400}',
                        b'{"session": "fuzz-session-1", "text": "hi", "after": 99999999999999999999999999}',
                        b'{"session": "fuzz-session-1", "text": "\\ud800 hello"}',
                        b'{"update_id": 1e400}',
                        b"[1, 2, 3]",
                        b'"just a string"',
                        b'{"a": ' * 200 + b"1" + b"}" * 200,
                    ]
                )
            )
        headers["Content-Type"] = draw(
            mostly(
                st.just("application/json"),
                st.sampled_from(["text/plain", "application/json; charset=latin-1"]),
            )
        )
    elif encoding == "form":
        if isinstance(fields, dict):
            form = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        else:
            form = {"value": json.dumps(fields)}
        body = _urlencoded(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif encoding == "raw":
        body = draw(
            st.binary(max_size=200) | st.sampled_from([b"\xff\xfe\xfd", b"\xc3\x28", b"%%%"])
        )
        headers["Content-Type"] = draw(
            st.sampled_from(
                [
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "text/xml",
                ]
            )
        )
    # Signatures, valid most of the time, so that the parsers behind them are reached.
    signed = draw(st.integers(0, 4)) > 0
    if path.startswith("/twilio") and signed:
        url = PUBLIC + path + (f"?{query}" if query else "")
        # Signed over the values as the app will read them (invalid bytes replaced).
        readable = {_readable(k): _readable(v) for k, v in (form or {}).items()}
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(
            url, readable
        )
    if path.startswith("/telegram") and signed:
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    if path.startswith("/stripe") and signed:
        payload = body.decode("utf-8", "replace") if body is not None else ""
        if body is not None and payload.encode() != body:
            body = payload.encode()
        headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            payload, STRIPE_SECRET, timestamp=int(time.time())
        )
    return {
        "rule": rule_text,
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
        "data": body,
        "repeat": draw(st.integers(0, 3)) == 0,
    }


# ------------------------------------------------------------------------------- tests


def _count(target: Target, model: type) -> int:
    with target.app.extensions["slotbot.db"].read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _inbound_count(target: Target) -> int:
    return _count(target, InboundMessage)


def _send(target: Target, req: dict[str, Any]):
    return target.client.open(
        req["path"],
        method=req["method"],
        query_string=req["query_string"],
        headers=req["headers"],
        data=req["data"],
    )


def _message_id(req: dict[str, Any]) -> str | None:
    """The web chat message id a request carries (its retry must not be handled again)."""
    if req["path"] != "/api/chat" or "json" not in req["headers"].get("Content-Type", ""):
        return None
    try:
        body = json.loads(req["data"] or b"")
    except ValueError:
        return None
    found = body.get("message_id") if isinstance(body, dict) else None
    return found if isinstance(found, str) else None


def _fuzz(target: Target, data: st.DataObject) -> None:
    req = data.draw(requests(target))
    response = _send(target, req)
    SEEN[(req["rule"], req["method"], response.status_code)] += 1
    if req["rule"] == "/healthz" and response.status_code == 503:
        return  # "not healthy" is that page's designed answer (a stalled inbox), not a failure
    assert response.status_code < 500, (req, response.get_data(as_text=True)[:500])
    if req["repeat"] and response.status_code < 300:
        before = _inbound_count(target)
        payments = _count(target, Payment)
        again = _send(target, req)
        assert again.status_code < 500, (req, again.get_data(as_text=True)[:500])
        if _message_id(req) is not None and again.status_code == 200:
            # The same message id again: nothing new handled, nothing new recorded.
            assert _inbound_count(target) == before
        if req["path"].startswith(("/twilio/sms", "/twilio/whatsapp", "/telegram")):
            assert _inbound_count(target) == before  # a redelivery is a no-op
        if req["path"] == "/stripe/webhook":
            assert _count(target, Payment) == payments  # the same event again records nothing


@pytest.mark.slow
def test_every_route_answers_hostile_input_without_a_5xx_or_a_duplicate(target: Target):
    runs = settings(
        max_examples=max(1, int(EXAMPLES[target.backend] * SCALE)),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )

    @runs
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        _fuzz(target, data)

    # The demo's links were issued on its Monday: the pages behind them open at that time.
    with time_machine.travel(NOW, tick=True):
        fuzz()
    reached = {(rule, method) for rule, method, status in SEEN if status < 400}
    assert {
        ("/api/chat", "POST"),
        ("/twilio/sms", "POST"),
        ("/telegram/webhook", "POST"),
    } <= reached


def test_the_worker_answers_every_hostile_message_the_webhooks_recorded(target: Target):
    process_inbox(target.app)
    with target.app.extensions["slotbot.db"].read() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.handled_at.is_(None))
        )
        recorded = session.scalar(select(func.count()).select_from(InboundMessage))
    assert recorded and waiting == 0

"""A fake Twilio REST API: an HTTP/1.1 server in a thread that the real `twilio` SDK talks to.

It accepts `POST /2010-04-01/Accounts/{sid}/Messages.json` (form fields as Twilio takes
them), checks HTTP Basic auth, records every message (thread-safe) and answers with
Twilio-shaped JSON carrying a fresh `SM…` sid. It can be told to misbehave, one rule at a
time, first match wins:

    fake.fail(500)                                   # next create → 500
    fake.fail(429, retry_after=120)                  # rate limited, with Retry-After
    fake.fail(400, code=21610, to="+15550001111")    # unsubscribed recipient, for one number
    fake.fail(500, times=None)                       # every request, until fake.clear_rules()
    fake.slow(2.0)                                   # answer late (client timeouts) and drop it
    fake.slow(0.05, times=None, then="process")      # every request slowed, still processed

`make_fake_twilio()` is a context manager; `fake_twilio` a pytest fixture; `twilio_env(fake)`
the environment variables that point slotbot's Twilio sender at it. For inbound webhook
tests, `inbound_sms(...)` builds the form Twilio posts and `signature(...)` its
X-Twilio-Signature. `GET /_fake/messages` lists what was received, for other processes.

Every create is validated first, as Twilio would, against Twilio's own published OpenAPI
description of the Messages create operation (`twilio_messages_openapi.json`, a subset of
twilio/twilio-oai; see its PROVENANCE file): parameters it does not describe (refused on
purpose, to catch a misspelt field), a missing
`To`, no content (Body, MediaUrl or ContentSid), no sender (From or MessagingServiceSid),
wrong types, patterns, enums and address formats are refused with Twilio's error JSON. So are
the limits the description states in words and Twilio's error pages give codes for: more
than ten `MediaUrl` (21623), a Body over 1,600 characters (21617), From and To not both
`whatsapp:` or neither (21910). Refused requests are kept in `fake.refusals`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "+14155238886"

_ERRORS = {
    20003: "Authenticate",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    20429: "Too Many Requests",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}

# --- validation against Twilio's published description of Messages create -------------

SPEC_FILE = Path(__file__).with_name("twilio_messages_openapi.json")
_MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MAX_MEDIA = 10  # "You can include up to ten media_url parameters per message"
MAX_BODY = 1600  # "Can be up to 1,600 characters in length"

# Twilio's error codes for what the create operation refuses (www.twilio.com/docs/api/errors).
# Twilio's generic "Invalid Parameter": a value of the wrong type, pattern or enum, and (a
# deliberate strictness: the SDK never sends one, so it can only be a misspelt field) a
# parameter the description does not have.
INVALID_PARAMETER = 20422
BODY_REQUIRED = 21602
FROM_REQUIRED = 21603
TO_REQUIRED = 21604
INVALID_TO = 21211
INVALID_FROM = 21212
INVALID_STATUS_CALLBACK = 21609
BODY_TOO_LONG = 21617
INVALID_MEDIA_URL = 21620
TOO_MANY_MEDIA = 21623
CHANNEL_MISMATCH = 21910

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_CHANNEL = re.compile(r"^([a-z]+):(.+)$")  # whatsapp:+1555…, messenger:…


@dataclass(frozen=True)
class Refusal:
    """Why Twilio would refuse a create request: HTTP status, error code and message."""

    code: int
    message: str
    status: int = 400


@cache
def messages_create_schema() -> dict[str, Any]:
    """The request body schema of Messages create, with its enum references resolved."""
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    post = spec["paths"][_MESSAGES_PATH]["post"]
    schema = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    components = spec["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        return components[ref.rsplit("/", 1)[1]] if ref else node

    return {
        "properties": {name: resolve(prop) for name, prop in schema["properties"].items()},
        "required": list(schema.get("required", [])),
    }


def _address_ok(value: str, *, sender: bool) -> bool:
    channel = _CHANNEL.match(value)
    if channel is not None:
        return bool(channel.group(2))  # a channel address: whatsapp:+1555…, messenger:123
    if _E164.match(value):
        return True
    # Only a sender may be a short code or an alphanumeric sender id.
    return sender and bool(_SHORT_CODE.match(value) or _ALPHANUMERIC_SENDER.match(value))


def _url_ok(value: str) -> bool:
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "_" not in (parts.hostname or "")
    )


def _scalar_ok(name: str, prop: dict[str, Any], value: str) -> Refusal | None:
    kind = prop.get("type")
    wrong = Refusal(INVALID_PARAMETER, f"Invalid parameter {name}: {value!r}")
    if "enum" in prop and value not in prop["enum"]:
        return wrong
    if kind == "integer" and not re.fullmatch(r"-?[0-9]+", value):
        return wrong
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return wrong
    if kind == "boolean" and value.lower() not in ("true", "false"):
        return wrong
    if "pattern" in prop and not re.search(prop["pattern"], value):
        return wrong
    if not prop.get("minLength", 0) <= len(value) <= prop.get("maxLength", len(value)):
        return wrong
    fmt = prop.get("format")
    if fmt == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return wrong
    if fmt == "phone-number" and not _address_ok(value, sender=name != "To"):
        code = INVALID_TO if name == "To" else INVALID_FROM
        return Refusal(code, f"The '{name}' number {value} is not a valid phone number.")
    if fmt == "uri" and not _url_ok(value):
        if name == "MediaUrl":
            return Refusal(INVALID_MEDIA_URL, f"Media urls: {value} are invalid.")
        return Refusal(
            INVALID_STATUS_CALLBACK, f"The StatusCallback URL {value} is not a valid URL."
        )
    return None


def validate_message(form: dict[str, list[str]]) -> Refusal | None:
    """Why Twilio would refuse this Messages create form; None when it would accept it."""
    schema = messages_create_schema()
    properties: dict[str, Any] = schema["properties"]
    for name, values in form.items():
        prop = properties.get(name)
        if prop is None:
            return Refusal(INVALID_PARAMETER, f"Unknown parameter {name!r}")
        if prop.get("type") != "array" and len(values) > 1:
            return Refusal(INVALID_PARAMETER, f"Parameter {name} may be given only once")
        item = prop.get("items", {}) if prop.get("type") == "array" else prop
        for value in values:
            if value == "":
                continue  # an empty parameter is an absent one (the required checks see it)
            refusal = _scalar_ok(name, item, value)
            if refusal is not None:
                return refusal
    one = {name: values[-1] for name, values in form.items() if values}
    for name in schema["required"]:
        if not one.get(name):
            return Refusal(TO_REQUIRED, "A 'To' phone number is required.")
    if not (one.get("From") or one.get("MessagingServiceSid")):
        return Refusal(FROM_REQUIRED, "A 'From' phone number is required.")
    if not (one.get("Body") or one.get("ContentSid") or form.get("MediaUrl")):
        return Refusal(BODY_REQUIRED, "Message body is required.")
    if len(form.get("MediaUrl", [])) > MAX_MEDIA:
        return Refusal(
            TOO_MANY_MEDIA,
            f"Number of media files exceeds allowed limit: {len(form['MediaUrl'])} > {MAX_MEDIA}.",
        )
    if len(one.get("Body", "")) > MAX_BODY:
        return Refusal(
            BODY_TOO_LONG, "The concatenated message body exceeds the 1600 character limit."
        )
    sender = one.get("From")
    if sender and one["To"].startswith("whatsapp:") != sender.startswith("whatsapp:"):
        return Refusal(
            CHANNEL_MISMATCH,
            "Invalid From and To pair. From and To should be of the same channel.",
        )
    return None


@dataclass
class Rule:
    """One way to misbehave, for `times` matching requests (None: until cleared)."""

    status: int | None = None  # an error status to answer with; None answers normally
    code: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False  # after the delay, close the connection without answering
    to: str | None = None  # only for messages to this address
    times: int | None = 1

    def matches(self, to: str) -> bool:
        """Whether the rule applies to a message to `to` (and has uses left)."""
        return (self.times is None or self.times > 0) and self.to in (None, to)


@dataclass
class FakeTwilio:
    """The server's state: what was received, and the rules for misbehaving."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[tuple[Refusal, dict[str, list[str]]]] = field(default_factory=list)
    requests: int = 0
    rules: list[Rule] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- telling it what to do -----------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        code: int | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        to: str | None = None,
    ) -> None:
        """Answer the next `times` creates (to `to`, if given) with an error."""
        with self._lock:
            self.rules.append(
                Rule(status=status, code=code, retry_after=retry_after, times=times, to=to)
            )

    def slow(
        self, seconds: float, *, times: int | None = 1, then: str = "drop", to: str | None = None
    ) -> None:
        """Wait `seconds` before answering; then "drop" the request or "process" it."""
        with self._lock:
            self.rules.append(Rule(delay=seconds, drop=then == "drop", times=times, to=to))

    def clear_rules(self) -> None:
        """Behave again."""
        with self._lock:
            self.rules.clear()

    # --- what it received ----------------------------------------------------------------

    def received(self) -> list[dict[str, Any]]:
        """A copy of every message accepted so far, in arrival order."""
        with self._lock:
            return list(self.messages)

    def bodies(self) -> list[str]:
        """The Body of every accepted message."""
        return [m["body"] for m in self.received()]

    def to(self, address: str) -> list[dict[str, Any]]:
        """Accepted messages to one address (as posted: "+1…" or "whatsapp:+1…")."""
        return [m for m in self.received() if m["to"] == address]

    def refused(self) -> list[Refusal]:
        """Every create refused as invalid so far (what Twilio would have answered)."""
        with self._lock:
            return [refusal for refusal, _ in self.refusals]

    def reset(self) -> None:
        """Forget messages, refusals and rules."""
        with self._lock:
            self.messages.clear()
            self.refusals.clear()
            self.rules.clear()
            self.requests = 0

    # --- the server's side ---------------------------------------------------------------

    def _rule_for(self, to: str) -> Rule | None:
        with self._lock:
            self.requests += 1
            for rule in self.rules:
                if rule.matches(to):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _accept(self, sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        one = {key: values[-1] for key, values in form.items()}
        record = {
            "sid": "SM" + secrets.token_hex(16),
            "account_sid": sid,
            "to": one.get("To", ""),
            "from": one.get("From"),
            "body": one.get("Body", ""),
            "media_url": form.get("MediaUrl", []),
            "status_callback": one.get("StatusCallback"),
            "messaging_service_sid": one.get("MessagingServiceSid"),
            "content_sid": one.get("ContentSid"),
            "content_variables": one.get("ContentVariables"),
            "form": form,
            "received_at": time.time(),
        }
        with self._lock:
            self.messages.append(record)
        return record

    def resource(self, record: dict[str, Any]) -> dict[str, Any]:
        """The Message resource JSON Twilio returns for a created message."""
        now = formatdate(usegmt=True)
        sid = record["sid"]
        body = record["body"]
        return {
            "account_sid": record["account_sid"],
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": record["from"],
            "messaging_service_sid": record["messaging_service_sid"],
            "num_media": str(len(record["media_url"])),
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{record['account_sid']}/Messages/{sid}/Media.json"
            },
            "to": record["to"],
            "uri": f"/2010-04-01/Accounts/{record['account_sid']}/Messages/{sid}.json",
        }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one write, with Nagle off: split small writes on a
        # keep-alive connection meet the client's delayed ACK and cost 40 ms a request.
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return  # quiet: tests read the recorded messages instead

        def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(
            self,
            status: int,
            code: int | None,
            headers: dict[str, str] | None = None,
            message: str | None = None,
        ) -> None:
            code = code or (20429 if status == 429 else status)
            self._reply(
                status,
                {
                    "code": code,
                    "message": message or _ERRORS.get(code, "Simulated failure"),
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status,
                },
                headers,
            )

        def _authorised(self, sid: str) -> bool:
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            return (
                sid == fake.account_sid and self.headers.get("Authorization") == f"Basic {expected}"
            )

        def _parts(self) -> list[str]:
            return [p for p in self.path.split("?")[0].split("/") if p]

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = self._parts()
            if parts == ["_fake", "messages"]:
                records = [{k: v for k, v in m.items() if k != "form"} for m in fake.received()]
                self._reply(200, {"messages": records, "requests": fake.requests})
                return
            if (
                len(parts) == 5
                and parts[:2] == ["2010-04-01", "Accounts"]
                and parts[3] == "Messages"
            ):
                sid = parts[4].removesuffix(".json")
                for record in fake.received():
                    if record["sid"] == sid:
                        self._reply(200, fake.resource(record))
                        return
            self._error(404, 20404)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            parts = self._parts()
            if not (
                len(parts) == 4
                and parts[:2] == ["2010-04-01", "Accounts"]
                and parts[3] == "Messages.json"
            ):
                self._error(404, 20404)
                return
            if not self._authorised(parts[2]):
                self._error(401, 20003)
                return
            refusal = validate_message(form)
            if refusal is not None:
                with fake._lock:
                    fake.requests += 1
                    fake.refusals.append((refusal, form))
                self._error(refusal.status, refusal.code, message=refusal.message)
                return
            rule = fake._rule_for(form.get("To", [""])[-1])
            if rule is not None and rule.delay:
                time.sleep(rule.delay)
            if rule is not None and rule.drop:
                self.close_connection = True
                return
            if rule is not None and rule.status is not None:
                headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after else None
                self._error(rule.status, rule.code, headers)
                return
            record = fake._accept(parts[2], form)
            self._reply(201, fake.resource(record))

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting (a timeout test)

    return Handler


@contextmanager
def make_fake_twilio() -> Iterator[FakeTwilio]:
    """Run a fake Twilio API on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running fake Twilio API."""
    with make_fake_twilio() as fake:
        yield fake


def twilio_env(fake: FakeTwilio, **extra: str) -> dict[str, str]:
    """Environment variables that point slotbot's Twilio senders at `fake`."""
    return {
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_API_BASE": fake.url,
        **extra,
    }


def inbound_sms(
    from_: str, body: str, *, to: str = SMS_FROM, sid: str | None = None, whatsapp: bool = False
) -> dict[str, str]:
    """The form fields Twilio posts to a messaging webhook for one inbound message."""
    prefix = "whatsapp:" if whatsapp else ""
    return {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": ACCOUNT_SID,
        "From": f"{prefix}{from_}",
        "To": f"{prefix}{to}",
        "Body": body,
        "NumMedia": "0",
    }


def signature(url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    return RequestValidator(auth_token).compute_signature(url, params)

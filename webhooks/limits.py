"""Request limits: the body size, and rate limits per IP and per web-chat session.

Every request body is capped (`SLOTBOT_MAX_BODY_BYTES`, 1 MB): a bigger one is answered 413
before anything parses it; a NUL character in the path, query or form is a 400; ids in
routes stop at MAX_ROW_ID. Rate limits come from flask-limiter:

| what | key | setting | default |
|---|---|---|---|
| `POST /api/chat` | client IP | `SLOTBOT_RATE_LIMIT_CHAT_IP` | 600/minute |
| `POST /api/chat` | web-chat session | `SLOTBOT_RATE_LIMIT_CHAT_SESSION` | 60/minute |
| new web-chat sessions | client IP | `SLOTBOT_RATE_LIMIT_NEW_SESSIONS` | 1000/hour |
| portal and dashboard POSTs | client IP | `SLOTBOT_RATE_LIMIT_FORMS_IP` | 120/minute |
| portal and dashboard POSTs | the link's token | `SLOTBOT_RATE_LIMIT_FORMS_LINK` | 30/minute |

A limit is a flask-limiter string ("600/minute", "10/second;600/hour"); "off" disables it.
Over a limit is a 429 (JSON under /api/, plain text elsewhere) with Retry-After. Addresses
in `SLOTBOT_RATE_LIMIT_EXEMPT` (default loopback: `127.0.0.0/8,::1`; empty: none) are not
limited per IP — behind a reverse proxy on the same host every client is 127.0.0.1 and an
IP limit would throttle all customers together (per-session limits still apply).

The counters live in `SLOTBOT_RATE_LIMIT_STORAGE` (default `memory://`: per process, fine
for one small server; use e.g. `redis://host:6379` when several processes serve the web).
The per-sender reply throttle (`SLOTBOT_REPLIES_PER_MINUTE`, default 20) is not here: the
engine counts it in the database, per sender on every channel (`conversations/engine.py`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from itertools import chain
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from bot.config import process
from conversations.engine import REPLIES_PER_MINUTE

MAX_BODY_BYTES = 1024 * 1024
# The largest row id every backend can compare with: PostgreSQL's INTEGER (SQLite's is 64-bit).
# A bigger number from a URL or a form is no row of ours, and would overflow in the driver.
MAX_ROW_ID = 2**31 - 1
OFF = "off"
DEFAULTS: dict[str, str] = {
    "SLOTBOT_RATE_LIMIT_CHAT_IP": "600/minute",
    "SLOTBOT_RATE_LIMIT_CHAT_SESSION": "60/minute",
    "SLOTBOT_RATE_LIMIT_NEW_SESSIONS": "1000/hour",
    "SLOTBOT_RATE_LIMIT_FORMS_IP": "120/minute",
    "SLOTBOT_RATE_LIMIT_FORMS_LINK": "30/minute",
    "SLOTBOT_RATE_LIMIT_EXEMPT": "127.0.0.0/8,::1",
    "SLOTBOT_RATE_LIMIT_STORAGE": "memory://",
}
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_EXTENSION = "slotbot.limiter"


class RowId(IntegerConverter):
    """`<int:…>` in a route: a row id, so at most MAX_ROW_ID (beyond it: 404, not a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def install_converters(app: Flask) -> None:
    """Bound the URL converters (before any blueprint is registered)."""
    app.url_map.converters["int"] = RowId


def _setting(app: Flask | None, name: str) -> str:
    """app.config[name], else the process settings', else the default (an empty value
    counts as set)."""
    value = app.config.get(name) if app is not None else None
    if value is None:
        value = process.current().value(name)
    return DEFAULTS.get(name, "") if value is None else str(value)


def body_limit(app: Flask) -> int:
    """The largest request body accepted, in bytes ($SLOTBOT_MAX_BODY_BYTES, 1 MB)."""
    raw = _setting(app, "SLOTBOT_MAX_BODY_BYTES")
    try:
        return int(raw) if raw else MAX_BODY_BYTES
    except ValueError:
        raise ValueError(f"SLOTBOT_MAX_BODY_BYTES must be a number of bytes, not {raw!r}") from None


def replies_per_minute(app: Flask | None = None) -> int:
    """The per-sender reply throttle ($SLOTBOT_REPLIES_PER_MINUTE, 20; 0 or "off": none)."""
    raw = _setting(app, "SLOTBOT_REPLIES_PER_MINUTE").strip().lower()
    if not raw:
        return REPLIES_PER_MINUTE
    if raw == OFF:
        return 0
    try:
        return max(0, int(raw))
    except ValueError:
        raise ValueError(
            f"SLOTBOT_REPLIES_PER_MINUTE must be a whole number, not {raw!r}"
        ) from None


def _limit(app: Flask, name: str) -> str | None:
    """A rate limit setting, checked now (a typo fails at start, not at the first request)."""
    raw = _setting(app, name).strip()
    if not raw or raw.lower() == OFF:
        return None
    try:
        parse_many(raw)
    except ValueError:
        raise ValueError(f'{name} must be a rate limit such as "60/minute", not {raw!r}') from None
    return raw


def _exempt_networks(app: Flask) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw = _setting(app, "SLOTBOT_RATE_LIMIT_EXEMPT")
    return [ipaddress.ip_network(part.strip()) for part in raw.split(",") if part.strip()]


def row_id(raw: str) -> int | None:
    """`raw` as a row id (ASCII digits, at most MAX_ROW_ID), else None."""
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ROW_ID:
        return None
    return int(raw)


def client_ip() -> str:
    """The client's address as the limits key it."""
    return request.remote_addr or "unknown"


def _ip_exempt() -> bool:
    networks = current_app.extensions.get("slotbot.rate_limit_exempt") or []
    try:
        address = ipaddress.ip_address(client_ip())
    except ValueError:
        return False
    return any(address in network for network in networks)


def chat_session() -> str:
    """The web-chat session a request speaks for (the limits key; "owner" with a key)."""
    payload = request.get_json(silent=True)
    if isinstance(payload, dict):
        if payload.get("owner_key"):
            return "owner"
        session = payload.get("session")
        if isinstance(session, str) and _SESSION.match(session):
            return f"session:{session}"
    return f"ip:{client_ip()}"


def link_token() -> str:
    """The portal or dashboard link a request is made through (the limits key)."""
    token = (request.view_args or {}).get("token")
    return f"link:{token}" if isinstance(token, str) else f"ip:{client_ip()}"


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul() -> None:
    """400 for a NUL character in the path, the query or a form (PostgreSQL refuses it in
    text, so it would fail deep in a query; no browser or provider sends one)."""
    values = [request.path, *request.args.keys(), *chain(*request.args.listvalues())]
    if request.mimetype in _FORMS:
        values += [*request.form.keys(), *chain(*request.form.listvalues())]
    if any("\x00" in value for value in values):
        abort(400, description="NUL characters are not accepted")


def _too_many(error: HTTPException) -> ResponseReturnValue:
    return _error(error, "Too many requests: please wait a moment and try again.")


def _too_large(error: HTTPException) -> ResponseReturnValue:
    return _error(error, "Request body too large.")


def _too_deep(_error_raised: RecursionError) -> ResponseReturnValue:
    # JSON nested thousands deep: the parser gives up with RecursionError, which
    # get_json(silent=True) does not catch (it only catches ValueError).
    return _error(BadRequest(), "Request body nested too deeply.")


def _error(error: HTTPException, text: str) -> ResponseReturnValue:
    code = error.code or 400
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    if request.path.startswith("/api/"):
        return jsonify({"error": text}), code, headers
    return text + "\n", code, {**headers, "Content-Type": "text/plain; charset=utf-8"}


def install(
    app: Flask,
    blueprints: dict[str, Blueprint],
    chat_trusted: Callable[[], bool] | None = None,
) -> Limiter:
    """Cap request bodies and put the rate limits on the app's routes (after registration).

    `chat_trusted` tells a web-chat request from the owner or staff (exempt from the limits).
    """
    app.config["MAX_CONTENT_LENGTH"] = body_limit(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.extensions["slotbot.rate_limit_exempt"] = _exempt_networks(app)
    app.extensions["slotbot.replies_per_minute"] = replies_per_minute(app)
    limiter = Limiter(
        client_ip,
        app=app,
        storage_uri=_setting(app, "SLOTBOT_RATE_LIMIT_STORAGE") or "memory://",
        strategy="moving-window",
    )
    app.extensions[_EXTENSION] = limiter
    app.extensions["slotbot.new_session_limit"] = _limit(app, "SLOTBOT_RATE_LIMIT_NEW_SESSIONS")

    def limit(
        bp: Blueprint,
        name: str,
        key: Callable[[], str],
        per_ip: bool,
        trusted: Callable[[], bool] | None = None,
    ) -> None:
        value = _limit(app, name)
        if value is None:
            return
        options: dict[str, Any] = {"key_func": key, "methods": ["POST"]}
        exempt = [check for check in (_ip_exempt if per_ip else None, trusted) if check]
        if exempt:
            options["exempt_when"] = lambda: any(check() for check in exempt)
        # Shared by name: the portal's and the dashboard's POSTs count against one limit.
        limiter.shared_limit(value, name, **options)(bp)

    # The owner and staff run the business from the chat: once proven, never rate limited
    # (a wrong owner key is not proof, so guesses stay limited).
    trusted = chat_trusted or None
    limit(blueprints["webchat"], "SLOTBOT_RATE_LIMIT_CHAT_IP", client_ip, True, trusted)
    limit(blueprints["webchat"], "SLOTBOT_RATE_LIMIT_CHAT_SESSION", chat_session, False, trusted)
    more_forms = [blueprints[name] for name in ("dashboard_work",) if name in blueprints]
    for form_pages in (blueprints["portal"], blueprints["dashboard"], *more_forms):
        limit(form_pages, "SLOTBOT_RATE_LIMIT_FORMS_IP", client_ip, per_ip=True)
        limit(form_pages, "SLOTBOT_RATE_LIMIT_FORMS_LINK", link_token, per_ip=False)
    if "files" in blueprints:  # web-chat uploads count with the chat's messages per IP
        limit(blueprints["files"], "SLOTBOT_RATE_LIMIT_CHAT_IP", client_ip, True)
    if "signing" in blueprints:  # signing forms count with the portal's forms per IP
        limit(blueprints["signing"], "SLOTBOT_RATE_LIMIT_FORMS_IP", client_ip, per_ip=True)
    app.before_request(refuse_nul)
    app.register_error_handler(429, _too_many)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(RecursionError, _too_deep)
    return limiter


def new_session_allowed() -> bool:
    """Count a new web-chat session against its IP; False when the IP has made too many."""
    value = current_app.extensions.get("slotbot.new_session_limit")
    if value is None or _ip_exempt():
        return True
    limiter: Limiter = current_app.extensions[_EXTENSION]
    return all(
        limiter.limiter.hit(item, "new-web-chat-session", client_ip()) for item in parse_many(value)
    )


def engine_replies_per_minute() -> int:
    """The per-sender reply throttle the running app was configured with."""
    return int(current_app.extensions.get("slotbot.replies_per_minute", REPLIES_PER_MINUTE))

"""What the messaging webhooks share: settings, the public URL, the clock, the phone region,
and the courier and inbox processor built from the app's settings.

Settings are read from the app's config first (tests and embedders pass them to
`create_app`), then the process settings (bot.config.process). Webhooks only record deliveries; the worker's
`InboxProcessor` handles them and its `Courier` sends the replies. The web process keeps a
courier of its own for what the admin chat and the pages queue (kicked after their commit).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, current_app, request

from bot.config import process
from bot.core.clock import utcnow
from bot.customers.identity import default_region
from bot.messaging.courier import Courier
from bot.messaging.senders import build_senders
from conversations.engine import REPLIES_PER_MINUTE
from conversations.inbox import InboxProcessor

log = logging.getLogger(__name__)

# Settings a blueprint may read; the app's config wins over the environment.
_PREFIXES = ("TWILIO_", "TELEGRAM_", "SMTP_", "SLOTBOT_")


def setting(name: str) -> str | None:
    """A channel setting: app.config[name], else the process settings', else None."""
    value = current_app.config.get(name)
    if value is None:
        value = process.current().value(name)
    return str(value) if value not in (None, "") else None


def channel_env(app: Flask) -> dict[str, str]:
    """The process settings as variables, the app's channel settings laid over them (for
    the senders)."""
    env = process.current().as_env()
    for key, value in app.config.items():
        if key.startswith(_PREFIXES) and value is not None:
            env[key] = str(value)
    return env


def public_url() -> str:
    """The URL the provider called: $SLOTBOT_PUBLIC_URL + path (+ query), not request.url.

    Behind a proxy or a tunnel the app sees its own host and scheme, while the provider
    signed the public one. Without SLOTBOT_PUBLIC_URL, the request's own URL stands in.
    """
    base = setting("SLOTBOT_PUBLIC_URL")
    if not base:
        return request.url
    query = request.query_string.decode()
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def clock() -> Callable[[], datetime]:
    """The app's clock: app.config["CLOCK"] (tests fix it), else the real time."""
    fixed = current_app.config.get("CLOCK")
    return fixed if callable(fixed) else utcnow


def phone_region() -> str:
    """The region national phone numbers are read in, from business.toml (cached)."""
    region = current_app.extensions.get("slotbot.phone_region")
    if region is None:
        config = current_app.extensions["slotbot.config"]
        region = default_region(config.phone, config.locale)
        current_app.extensions["slotbot.phone_region"] = region
    return str(region)


_COURIER_LOCK = threading.Lock()


def courier(app: Flask | None = None) -> Courier:
    """The app's courier, built on first use (after gunicorn's fork, never before)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("slotbot.courier")
    if found is not None:
        return found
    with _COURIER_LOCK:
        found = app.extensions.get("slotbot.courier")
        if found is None:
            env = channel_env(app)
            fixed = app.config.get("CLOCK")
            found = Courier(
                app.extensions["slotbot.db"],
                app.extensions.get("slotbot.senders") or build_senders(env),
                fixed_clock=fixed if callable(fixed) else None,
                enabled=(env.get("SLOTBOT_KICK") or "1").lower() not in ("0", "false", "no"),
            )
            app.extensions["slotbot.courier"] = found
        return found


def inbox_processor(app: Flask) -> InboxProcessor:
    """An inbox processor on the app's database, clock, courier and spool (not started)."""
    from webhooks.spooling import app_spool, drainers

    fixed = app.config.get("CLOCK")
    config = app.extensions["slotbot.config"]
    db = app.extensions["slotbot.db"]
    return InboxProcessor(
        db,
        courier(app),
        clock=fixed if callable(fixed) else utcnow,
        spool=app_spool(app),
        drainers=drainers(db, default_region(config.phone, config.locale)),
        replies_per_minute=app.extensions.get("slotbot.replies_per_minute", REPLIES_PER_MINUTE),
    )

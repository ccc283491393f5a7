"""Access to the per-app service objects (database, business config) from request code.

The business config a running app holds follows the database: when `slotbot config reload`
has applied a changed business.toml, each web worker notices the new digest on its next
request after a short interval and reads the file again — no restart.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from bot.config import BusinessConfig, load_config
from bot.config.context import business_context
from bot.core.errors import ConfigError
from storage.db import Database

log = logging.getLogger(__name__)
RELOAD_CHECK_SECONDS = 3.0
_RELOAD_LOCK = threading.Lock()


def current_db() -> Database:
    """The Database of the running app."""
    return current_app.extensions["slotbot.db"]


def current_config() -> BusinessConfig:
    """The business configuration the running app serves (the newest applied one)."""
    app = current_app
    config: BusinessConfig = app.extensions["slotbot.config"]
    due = app.extensions.get("slotbot.config_checked", 0.0) + RELOAD_CHECK_SECONDS
    if time.monotonic() < due or "BUSINESS_CONFIG" not in app.config:
        return config
    with _RELOAD_LOCK:
        app.extensions["slotbot.config_checked"] = time.monotonic()
        try:
            with current_db().read() as session:
                applied = business_context(session, required=False).config_digest
        except Exception:  # a database hiccup: keep serving what we have
            log.warning("could not check for a reloaded business.toml", exc_info=True)
            return config
        if not applied or applied == config.digest:
            return config
        try:
            fresh = load_config(app.config["BUSINESS_CONFIG"])
        except ConfigError as exc:
            log.warning("business.toml changed but does not load: %s", exc)
            return config
        if fresh.digest == applied:
            app.extensions["slotbot.config"] = fresh
            app.extensions.pop("slotbot.phone_region", None)
            log.info("business.toml reloaded: %s", fresh.name)
            return fresh
        return config

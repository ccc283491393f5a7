"""Access to the per-app service objects (database, business config) from request code."""

from __future__ import annotations

from flask import current_app

from bot.config import BusinessConfig
from storage.db import Database


def current_db() -> Database:
    """The Database of the running app."""
    return current_app.extensions["slotbot.db"]


def current_config() -> BusinessConfig:
    """The business configuration the running app loaded."""
    return current_app.extensions["slotbot.config"]

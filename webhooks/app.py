"""The Flask app factory: one app per process, service objects in `app.extensions`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from bot.config import apply_config, load_config
from bot.portal import ensure_secret
from bot.spool import Spool
from storage.db import Database, database_url
from storage.migrate import upgrade
from webhooks.spooling import SETTING as SPOOL_SETTING
from webhooks.spooling import spool_folder


def config_path() -> Path:
    """Where business.toml is: $SLOTBOT_CONFIG, else ./business.toml."""
    return Path(os.environ.get("SLOTBOT_CONFIG", "business.toml"))


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: migrate, load business.toml into the database, register blueprints."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=database_url(),
        BUSINESS_CONFIG=str(config_path()),
        MIGRATE_ON_START=True,
    )
    app.config.update(overrides or {})

    if app.config["MIGRATE_ON_START"]:
        upgrade(app.config["DATABASE_URL"])
    db = Database(app.config["DATABASE_URL"])
    business = load_config(app.config["BUSINESS_CONFIG"])
    apply_config(db, business)
    app.extensions["slotbot.db"] = db
    app.extensions["slotbot.config"] = business
    # Where webhooks keep deliveries while the database refuses them (the worker drains it).
    spool_dir = app.config.get(SPOOL_SETTING) or os.environ.get(SPOOL_SETTING)
    app.extensions["slotbot.spool"] = Spool(spool_folder(app.config["DATABASE_URL"], spool_dir))
    # Signed portal/dashboard links need one secret shared by every worker and restart.
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or ensure_secret(db)

    from webhooks import dashboard, health, payments, portal, telegram, twilio, webchat

    app.register_blueprint(health.bp)
    app.register_blueprint(webchat.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(twilio.bp)
    app.register_blueprint(telegram.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(dashboard.bp)
    return app

"""The Flask app factory: one app per process, service objects in `app.extensions`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from bot.config import apply_config, load_config
from bot.portal import ensure_secret
from storage.db import Database, database_url
from storage.migrate import upgrade


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
    # Signed portal/dashboard links need one secret shared by every worker and restart.
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or ensure_secret(db)

    from webhooks import dashboard, health, limits, payments, portal, telegram, twilio, webchat

    limits.install_converters(app)  # before the routes are added
    app.register_blueprint(health.bp)
    app.register_blueprint(webchat.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(twilio.bp)
    app.register_blueprint(telegram.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(dashboard.bp)
    # Body size cap (413 before parsing) and rate limits, on the routes registered above.
    limits.install(app, {"webchat": webchat.bp, "portal": portal.bp, "dashboard": dashboard.bp})
    return app

"""The Flask app factory: one app per process, service objects in `app.extensions`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from bot.bootstrap import bootstrap
from bot.config import apply_config, load_config, process
from bot.config.process import ProcessSettings, ProcessSettingsError
from bot.core.catalogue import install_translations
from bot.core.errors import SlotbotError
from bot.customers.portal import ensure_secret
from bot.messaging.spool import Spool
from storage.db import Database, database_url
from storage.migrate import upgrade
from webhooks import exposure, headers
from webhooks.logs import configure_logging
from webhooks.spooling import spool_folder

log = logging.getLogger(__name__)


def config_path() -> Path:
    """Where business.toml is: $SLOTBOT_CONFIG, else ./business.toml."""
    return process.current().config_file


def process_settings(overrides: dict[str, Any] | None = None) -> ProcessSettings:
    """The environment's settings with an app's SLOTBOT_*, STRIPE_* … config laid over it;
    a bad value is a one-line SlotbotError naming the variable."""
    laid = {
        key: str(value)
        for key, value in (overrides or {}).items()
        if key.startswith(process.PREFIXES) and value is not None
    }
    try:
        return ProcessSettings.from_environ({**os.environ, **laid})
    except ProcessSettingsError as exc:
        raise SlotbotError(str(exc)) from None


def settings_env(app: Flask) -> dict[str, str]:
    """The app's process settings as variables (what exposure decisions read)."""
    return app.extensions["slotbot.process"].as_env()


def decide_exposure(app: Flask) -> exposure.Exposure:
    """What this app may do where it is served (sandbox, demo key); see webhooks/exposure.py."""
    env = settings_env(app)
    key_file = app.config.get("OWNER_KEY_FILE")
    try:
        return exposure.decide(
            env,
            app.extensions["slotbot.config"],
            public_url=env.get("SLOTBOT_PUBLIC_URL") or None,
            # `slotbot serve` says where it binds. Served some other way (gunicorn on the
            # factory) the bind is unknown: taken as every interface, so a demo key or the
            # sandbox is never on by accident. A test app is this machine's by definition.
            bind_host=app.config.get("BIND_HOST")
            or (exposure.DEFAULT_BIND if app.config.get("TESTING") else exposure.ANY_BIND),
            key_file=Path(key_file) if key_file else None,
        )
    except ValueError as exc:
        raise SlotbotError(str(exc)) from None


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: migrate, load business.toml into the database, register blueprints.

    Outside tests it refuses (SlotbotError, one line) to run with a demo owner key on a
    public URL; `slotbot serve` has said the same before gunicorn starts.
    """
    bootstrap()  # the domain event subscribers: notices, waitlist, billing
    # Read once, here: a bad variable stops the start with one line, not a request later.
    settings = process_settings(overrides)
    # Until a server or worker installs its settings at start (webhooks/serve.py, the CLI),
    # bot code reads the environment as it is: tests change variables between calls.
    process.read_from(os.environ)
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=database_url(settings.database_url),
        BUSINESS_CONFIG=str(settings.config_file),
        MIGRATE_ON_START=True,
    )
    app.config.update(overrides or {})
    app.extensions["slotbot.process"] = settings
    if "log_format" in settings.model_fields_set:  # not under `slotbot serve`: it has already
        configure_logging(settings.log_format)

    if app.config["MIGRATE_ON_START"]:
        upgrade(app.config["DATABASE_URL"])
    db = Database(app.config["DATABASE_URL"])
    business = load_config(app.config["BUSINESS_CONFIG"])
    apply_config(db, business)
    install_translations(business.locale, app.config["BUSINESS_CONFIG"])
    app.extensions["slotbot.db"] = db
    app.extensions["slotbot.config"] = business
    # Where webhooks keep deliveries while the database refuses them (the worker drains it).
    app.extensions["slotbot.spool"] = Spool(
        spool_folder(app.config["DATABASE_URL"], settings.spool_dir)
    )
    # Signed portal/dashboard links need one secret shared by every worker and restart.
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or ensure_secret(db)
    found = app.extensions["slotbot.exposure"] = decide_exposure(app)
    if not app.config.get("TESTING"):
        problem = found.refusal()
        if problem:
            raise SlotbotError(problem)
        if not app.config.get("START_CHECKED"):  # `slotbot serve` printed them already
            for line in found.warnings():
                log.warning("%s", line)
    headers.install(app)

    from webhooks import (
        appointment_page,
        dashboard,
        dashboard_chats,  # noqa: F401  (adds the hand-over pages to the dashboard's routes)
        dashboard_edits,  # noqa: F401 (adds the edit page to the dashboard's routes)
        dashboard_work,
        files,
        health,
        limits,
        metrics,
        payments,
        portal,
        portal_consent,  # noqa: F401  (adds the offers tick to the portal's routes)
        signing,
        telegram,
        twilio,
        webchat,
    )

    limits.install_converters(app)  # before the routes are added
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(webchat.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(twilio.bp)
    app.register_blueprint(telegram.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(appointment_page.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(signing.bp)
    app.register_blueprint(dashboard_work.bp)
    # Body size cap (413 before parsing) and rate limits, on the routes registered above.
    limits.install(
        app,
        {
            "webchat": webchat.bp,
            "portal": portal.bp,
            "dashboard": dashboard.bp,
            "files": files.bp,
            "signing": signing.bp,
            "dashboard_work": dashboard_work.bp,
        },
        chat_trusted=webchat.trusted_request,
    )
    return app

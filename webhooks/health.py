"""The health endpoint: is the app up, can it reach its database, is the schema current, is
the worker keeping up with the inbox (a message waiting for minutes means it is not), and is
the spool empty (deliveries kept on disk because the database refused them)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from bot.inbox import backlog
from storage.migrate import is_current
from webhooks.channels import clock
from webhooks.context import current_config, current_db
from webhooks.spooling import app_spool

bp = Blueprint("health", __name__)
STALLED_AFTER = 300  # seconds a message may wait in the inbox before the worker is "stalled"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers and is migrated and the spool is empty, else 503."""
    db = current_db()
    spool = app_spool()
    try:
        spooled: int | None = spool.count()
        set_aside: int | None = spool.unreadable()
    except OSError:  # the spool's folder cannot even be listed: nothing could be kept there
        spooled = set_aside = None
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        migrated = is_current(db)
        waiting = backlog(db) if migrated else None
    except Exception as exc:  # a health check reports, it does not raise
        return jsonify(ok=False, error=type(exc).__name__, spool=spooled), 503
    age = (clock()() - waiting.oldest).total_seconds() if waiting and waiting.oldest else 0.0
    stalled = age > STALLED_AFTER
    body = {
        "ok": migrated and not stalled and spooled == 0 and set_aside == 0,
        "business": current_config().name,
        "database": db.engine.dialect.name,
        "schema": "current" if migrated else "needs `slotbot db upgrade`",
        "inbox": {
            "waiting": waiting.count if waiting else None,
            "oldest_seconds": round(age, 1),
            "worker": "stalled: is `slotbot worker` running?" if stalled else "keeping up",
        },
        # Kept on disk while the database refused them; the worker drains them when it can.
        # Set-aside ones could not be handled at all: a person must look at them.
        "spool": spooled,
        "spool_set_aside": set_aside,
    }
    return jsonify(body), 200 if body["ok"] else 503

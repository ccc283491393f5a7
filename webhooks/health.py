"""The health endpoint: is the app up, can it reach its database, is the schema current, is
the worker keeping up with the inbox (a message waiting for minutes means it is not), and is
the spool empty (deliveries kept on disk because the database refused them).

Anyone gets `{"ok": true|false}` and the status (200, or 503 when not ok). The details
(business, database kind, schema, inbox backlog, spool, error) only go to a caller holding
$SLOTBOT_HEALTH_TOKEN, as `Authorization: Bearer <token>` or `X-Slotbot-Health-Token`.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from bot.messaging.inbox import backlog
from storage.migrate import is_current
from webhooks.channels import clock, setting
from webhooks.context import current_config, current_db
from webhooks.spooling import app_spool

bp = Blueprint("health", __name__)
STALLED_AFTER = 300  # seconds a message may wait in the inbox before the worker is "stalled"
TOKEN_SETTING = "SLOTBOT_HEALTH_TOKEN"
TOKEN_HEADER = "X-Slotbot-Health-Token"


def health_token_ok() -> bool:
    """Whether the request holds the health token (no token configured: nobody does)."""
    expected = setting(TOKEN_SETTING)
    if not expected:
        return False
    given = request.headers.get(TOKEN_HEADER, "")
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = bearer.strip()
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _answer(body: dict[str, Any], status: int) -> ResponseReturnValue:
    """The whole body for the token holder; only ok / not ok for anyone else."""
    return jsonify(body if health_token_ok() else {"ok": body["ok"]}), status


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
        return _answer({"ok": False, "error": type(exc).__name__, "spool": spooled}, 503)
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
    return _answer(body, 200 if body["ok"] else 503)

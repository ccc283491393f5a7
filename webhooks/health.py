"""The health endpoint: is the app up, can it reach its database, is the schema current."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from storage.migrate import is_current
from webhooks.context import current_config, current_db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers and is migrated, else 503."""
    db = current_db()
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        migrated = is_current(db)
    except Exception as exc:  # a health check reports, it does not raise
        return jsonify(ok=False, error=type(exc).__name__), 503
    body = {
        "ok": migrated,
        "business": current_config().name,
        "database": db.engine.dialect.name,
        "schema": "current" if migrated else "needs `slotbot db upgrade`",
    }
    return jsonify(body), 200 if migrated else 503

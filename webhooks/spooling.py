"""Where the spool lives and how the worker drains it: the webhooks' side of `bot.messaging.spool`.

The folder is `SLOTBOT_SPOOL_DIR` when set; else beside the SQLite file
(`slotbot.db-spool/`), or `instance/spool/` under the working directory for PostgreSQL. The
web processes and the worker must see the same folder: `slotbot serve` runs both on one
machine; a worker elsewhere needs the folder shared (or one beside each web server).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy.engine import make_url

from bot.billing.payments.online import handle_event
from bot.core.clock import utcnow
from bot.messaging.inbox import drain_inbound
from bot.messaging.spool import Spool, SpoolKind
from storage.db import Database

SETTING = "SLOTBOT_SPOOL_DIR"


def spool_folder(database_url: str, configured: str | None = None) -> Path:
    """The spool's folder for this database (absolute)."""
    if configured:
        return Path(configured).resolve()
    parsed = make_url(database_url)
    name = parsed.database
    if parsed.get_backend_name() == "sqlite" and name and name != ":memory:":
        return Path(name + "-spool").resolve()
    return (Path("instance") / "spool").resolve()


def app_spool(app: Flask | None = None) -> Spool:
    """The running app's spool."""
    return (app or current_app).extensions["slotbot.spool"]


def drainers(db: Database, region: str) -> dict[str, Callable[[dict[str, Any]], object]]:
    """How the worker puts each kind of kept delivery into the database."""
    from webhooks.telegram import drain_update  # telegram imports the app's helpers

    def stripe_event(event: dict[str, Any]) -> object:
        return handle_event(db, event, now=utcnow(), provider="stripe")

    return {
        SpoolKind.INBOUND: drain_inbound(db),
        SpoolKind.TELEGRAM: drain_update(db, region),
        SpoolKind.STRIPE: stripe_event,
    }

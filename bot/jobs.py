"""Scheduled jobs and the APScheduler that runs them.

APScheduler only supplies the ticks: every job reads what is due from the database and is
safe to run twice or late. Nothing is kept as a pickled job (a shared job store across
processes double-fires, and the default misfire grace of one second drops work after
downtime); the scheduler's own store is in memory and rebuilt on start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete

from bot.clock import utcnow
from storage.db import Database
from storage.models import SlotHold

log = logging.getLogger(__name__)


def purge_expired_holds(db: Database, now: datetime | None = None) -> int:
    """Delete holds that have lapsed; returns how many went."""
    now = now or utcnow()
    with db.write() as session:
        result = session.execute(delete(SlotHold).where(SlotHold.expires_at <= now))
        return result.rowcount or 0


def _safely(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:  # one failing tick must not stop the scheduler
            log.exception("scheduled job %s failed", name)

    return run


def build_scheduler(db: Database) -> BackgroundScheduler:
    """A scheduler with every periodic job slotbot runs, not yet started."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(
        _safely("purge_expired_holds", lambda: purge_expired_holds(db)),
        "interval",
        seconds=60,
        id="purge_expired_holds",
        next_run_time=utcnow(),
    )
    return scheduler

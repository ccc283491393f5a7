"""Scheduled jobs and the APScheduler that runs them.

APScheduler only supplies the ticks: every job reads what is due from the database and is
safe to run twice or late. Nothing is kept as a pickled job (a shared job store across
processes double-fires, and the default misfire grace of one second drops work after
downtime); the scheduler's own store is in memory and rebuilt on start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete

from bot.billing.jobs import billing_jobs
from bot.core.clock import utcnow
from bot.engagement import followup, reminders
from bot.messaging import handover
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import Sender, build_senders
from bot.scheduling import waitlist
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


def build_scheduler(
    db: Database, senders: Mapping[str, Sender] | None = None
) -> BackgroundScheduler:
    """A scheduler with every periodic job slotbot runs, not yet started.

    `senders` default to `build_senders()` from the environment.
    """
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
    senders = build_senders() if senders is None else senders
    # The outbox tick: short, frequent; each run drains what is due (time-boxed).
    scheduler.add_job(
        _safely("dispatch_outbox", lambda: dispatch_due(db, senders, time_budget=20.0)),
        "interval",
        seconds=2,
        id="dispatch_outbox",
        next_run_time=utcnow(),
    )
    scans: dict[str, Callable[[], object]] = {
        "scan_reminders": lambda: reminders.scan_reminders(db),
        "flag_unconfirmed": lambda: reminders.flag_unconfirmed(db),
        "mark_no_shows": lambda: reminders.mark_no_shows(db),
        "advance_waitlist_offers": lambda: waitlist.advance_offers(db),
        "scan_followups": lambda: followup.scan_followups(db),
        "close_quiet_handovers": lambda: handover.close_quiet(db),
    }
    for name, job in scans.items():
        scheduler.add_job(
            _safely(name, job), "interval", seconds=60, id=name, next_run_time=utcnow()
        )
    for name, seconds, job in billing_jobs(db):
        scheduler.add_job(
            _safely(name, job), "interval", seconds=seconds, id=name, next_run_time=utcnow()
        )
    return scheduler

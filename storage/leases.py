"""Named leases in the database: one holder at a time across every process and machine.

A lease is a row (`worker_lease`): who holds it and until when. `acquire` takes it when it
is free or lapsed, or renews it for its holder, in one conditional UPDATE (an INSERT the
first time), so two processes racing for it cannot both win: SQLite serialises writers
with BEGIN IMMEDIATE; on PostgreSQL the second UPDATE waits for the first's row lock and
re-checks its WHERE. `release` hands it back at once on a clean shutdown. Holders compare
against their own clocks, so the lease should be long next to any clock skew between them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Database
from storage.models import Base


class WorkerLease(Base):
    """Who may do a one-at-a-time job (e.g. "telegram-poller") and until when."""

    __tablename__ = "worker_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    acquired_at: Mapped[datetime | None] = mapped_column(default=None)


def acquire(db: Database, name: str, holder: str, *, now: datetime, seconds: float) -> bool:
    """Take or renew the lease `name` for `holder` until `now + seconds`; whether we hold it."""
    until = now + timedelta(seconds=seconds)
    with db.write() as session:
        renewed = session.execute(
            update(WorkerLease)
            .where(WorkerLease.name == name, WorkerLease.holder == holder)
            .values(expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if renewed.rowcount:
            return True
        taken = session.execute(
            update(WorkerLease)
            .where(
                WorkerLease.name == name,
                or_(
                    WorkerLease.holder.is_(None),
                    WorkerLease.expires_at.is_(None),
                    WorkerLease.expires_at <= now,
                ),
            )
            .values(holder=holder, expires_at=until, acquired_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount:
            return True
        if session.get(WorkerLease, name) is not None:
            return False  # held by someone else, and not lapsed
        try:
            with session.begin_nested():
                session.add(
                    WorkerLease(name=name, holder=holder, expires_at=until, acquired_at=now)
                )
        except IntegrityError:
            return False  # another process made the row first: it holds the lease
        return True


def release(db: Database, name: str, holder: str) -> bool:
    """Give the lease back if `holder` has it (others may take it at once); whether it did."""
    with db.write() as session:
        done = session.execute(
            update(WorkerLease)
            .where(WorkerLease.name == name, WorkerLease.holder == holder)
            .values(holder=None, expires_at=None)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)


def holder_of(db: Database, name: str, *, now: datetime) -> str | None:
    """Who holds the lease `name` now (None: nobody, or it lapsed)."""
    with db.read() as session:
        row = session.execute(
            select(WorkerLease.holder, WorkerLease.expires_at).where(WorkerLease.name == name)
        ).first()
    if row is None or row.holder is None or row.expires_at is None or row.expires_at <= now:
        return None
    return row.holder

"""What the business's calendar holds: agendas, customer look-ups, time blocks, job timing.

Read and write use cases for the owner and staff side; the admin chat calls these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import (
    CANCELLED,
    COMPLETED,
    IN_PROGRESS,
    NO_SHOW,
    UPCOMING_STATUSES,
    Appointment,
    AppointmentEvent,
    Customer,
    CustomerIdentity,
    TimeOff,
)


def appointments_between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    staff_id: int | None = None,
    include_cancelled: bool = False,
) -> list[Appointment]:
    """Appointments starting in [start, end), by start time then staff."""
    stmt = (
        select(Appointment)
        .where(Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at, Appointment.staff_id)
    )
    if staff_id is not None:
        stmt = stmt.where(Appointment.staff_id == staff_id)
    if not include_cancelled:
        stmt = stmt.where(Appointment.status != CANCELLED)
    return list(session.scalars(stmt))


def find_customers(session: Session, text: str, *, limit: int = 5) -> list[Customer]:
    """Customers whose name, phone or email matches `text`, best first.

    Digits are matched against phone numbers, an @ against emails, anything else fuzzily
    against names ("jane", "jane d", "Jane Doe").
    """
    query = text.strip()
    if not query:
        return []
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 6:
        return list(
            session.scalars(
                select(Customer).where(Customer.phone.like(f"%{digits[-10:]}%")).limit(limit)
            )
        )
    if "@" in query:
        return list(
            session.scalars(select(Customer).where(Customer.email.ilike(f"%{query}%")).limit(limit))
        )
    named = list(session.scalars(select(Customer).where(Customer.name.is_not(None))))
    choices = {c.id: c.name or "" for c in named}
    hits = process.extract(
        query, choices, scorer=fuzz.WRatio, processor=str.lower, limit=limit, score_cutoff=75
    )
    by_id = {c.id: c for c in named}
    if not hits:
        return []
    best = hits[0][1]
    # Keep only the close ones: "jane" matches both Janes, not every name with a "j".
    return [by_id[key] for _, score, key in hits if score >= best - 10]


def upcoming_for(session: Session, customer_id: int, now: datetime) -> list[Appointment]:
    """A customer's appointments still ahead, soonest first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.customer_id == customer_id,
                Appointment.status.in_(UPCOMING_STATUSES),
                Appointment.ends_at > now,
            )
            .order_by(Appointment.starts_at)
        )
    )


def identities_of(session: Session, customer_id: int) -> Sequence[CustomerIdentity]:
    """How a customer can be reached."""
    return session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
    ).all()


def block_time(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    staff_id: int | None,
    reason: str,
) -> tuple[TimeOff, list[Appointment]]:
    """Block [start, end) for one staff member (or everyone); returns the block and the
    live appointments already inside it, which are left for the owner to deal with."""
    block = TimeOff(staff_id=staff_id, starts_at=start, ends_at=end, reason=reason, source="admin")
    session.add(block)
    session.flush()
    clash = select(Appointment).where(
        Appointment.status.in_(UPCOMING_STATUSES),
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    if staff_id is not None:
        clash = clash.where(Appointment.staff_id == staff_id)
    return block, list(session.scalars(clash.order_by(Appointment.starts_at)))


def blocks_between(session: Session, start: datetime, end: datetime) -> list[TimeOff]:
    """Time off and closures overlapping [start, end)."""
    return list(
        session.scalars(
            select(TimeOff)
            .where(TimeOff.starts_at < end, TimeOff.ends_at > start)
            .order_by(TimeOff.starts_at)
        )
    )


@dataclass(frozen=True)
class JobTime:
    """How long a job took, from arrival (in progress) to done (completed)."""

    arrived: datetime
    done: datetime

    @property
    def minutes(self) -> int:
        """Whole minutes on the job."""
        return int((self.done - self.arrived).total_seconds() // 60)


def job_time(session: Session, appointment_id: int) -> JobTime | None:
    """Time on the job, from the status history; None until it is both started and done."""
    events = session.scalars(
        select(AppointmentEvent)
        .where(
            AppointmentEvent.appointment_id == appointment_id,
            or_(
                AppointmentEvent.to_status == IN_PROGRESS,
                AppointmentEvent.to_status == COMPLETED,
            ),
        )
        .order_by(AppointmentEvent.id)
    ).all()
    arrived = next((e.at for e in events if e.to_status == IN_PROGRESS), None)
    done = next((e.at for e in events if e.to_status == COMPLETED), None)
    if arrived is None or done is None:
        return None
    return JobTime(arrived, done)


@dataclass(frozen=True)
class Counts:
    """Booking numbers for a period."""

    booked: int
    completed: int
    cancelled: int
    no_shows: int

    @property
    def no_show_rate(self) -> float:
        """No-shows as a share of appointments that were due to happen."""
        due = self.completed + self.no_shows
        return self.no_shows / due if due else 0.0


def counts_between(session: Session, start: datetime, end: datetime) -> Counts:
    """How many appointments in [start, end) were booked, completed, cancelled, missed."""
    rows = appointments_between(session, start, end, include_cancelled=True)
    return Counts(
        booked=sum(1 for a in rows if a.status != CANCELLED),
        completed=sum(1 for a in rows if a.status == COMPLETED),
        cancelled=sum(1 for a in rows if a.status == CANCELLED),
        no_shows=sum(1 for a in rows if a.status == NO_SHOW),
    )

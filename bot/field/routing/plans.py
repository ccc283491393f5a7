"""Route plans: optimise a day into a proposal, apply it to the appointments, undo it.

A proposal is stored (`route_plan`) with each moved job's staff and times before and after.
Applying writes the "after" side in one transaction (jobs are first parked on an empty block so
the database's overlap guard never sees a half-moved day), records an appointment event per
job, tells each customer whose arrival window changed (outbox, with the updated .ics) and each
technician whose day changed. Undo writes the "before" side back, on the day it was applied,
as long as nobody has touched those jobs since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.core.formatting import format_day
from bot.core.text import _, nt, t
from bot.field.places.windows import format_window
from bot.field.routing.check import Violation, check
from bot.field.routing.day import MOVABLE, Change, Day, as_booked, changes, load_day
from bot.field.routing.model import Solution, driving, driving_time
from bot.field.routing.solver import solve
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.notify import calendar_file, tell_staff
from bot.messaging.outbox import CHANGE_NOTICE
from storage.models import Appointment, AppointmentEvent, RoutePlan

PARKED = datetime(1970, 1, 1, tzinfo=UTC)  # an empty block nothing overlaps, while a day moves
DEFAULT_SECONDS = 3.0


class PlanStatus(StrEnum):
    """Where a route plan is in its life."""

    PROPOSED = "proposed"
    APPLIED = "applied"
    UNDONE = "undone"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Proposal:
    """An optimised day: the stored plan, the day, the routes before and after, what moves."""

    plan: RoutePlan
    day: Day
    booked: Solution
    solution: Solution
    moves: list[Change]
    broken: list[Violation]


@dataclass(frozen=True)
class Outcome:
    """What applying or undoing did: jobs written and customers told, or why not."""

    moved: int = 0
    told: int = 0
    refused: str = ""


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _snapshot(job: Appointment) -> dict[str, Any]:
    return {
        "id": job.id,
        "staff_id": job.staff_id,
        "starts_at": _iso(job.starts_at),
        "ends_at": _iso(job.ends_at),
        "block_start": _iso(job.block_start),
        "block_end": _iso(job.block_end),
        "window_start": _iso(job.window_start),
        "window_end": _iso(job.window_end),
    }


def _route_figures(day: Day, solution: Solution) -> dict[str, dict[str, float]]:
    """Per technician: driving minutes and km along the route."""
    out: dict[str, dict[str, float]] = {}
    places = {v.id: v.place for v in day.problem.visits}
    for route in solution.routes:
        vehicle = next((v for v in day.problem.vehicles if v.id == route.vehicle), None)
        if vehicle is None or not route.stops:
            continue
        path = [vehicle.home, *(places[s.visit] for s in route.stops), vehicle.home]
        legs = list(zip(path, path[1:], strict=False))
        out[route.vehicle] = {
            "minutes": sum(day.problem.time[a][b] for a, b in legs),
            "km": round(sum(day.problem.cost[a][b] for a, b in legs), 1),
        }
    return out


def propose(
    session: Session, day: date, *, now: datetime, actor: str, seconds: float | None = None
) -> Proposal:
    """Optimise `day` and store the result as the day's proposal (earlier ones are superseded)."""
    loaded = load_day(session, day, now=now)
    booked = as_booked(session, loaded)
    solution = solve(loaded.problem, seconds or DEFAULT_SECONDS, initial=booked)
    moves = changes(session, loaded, solution)
    broken = check(loaded.problem, solution, allow_unassigned=True)
    late = [v.visit for v in broken if v.rule == "late"]
    for older in session.scalars(
        select(RoutePlan).where(
            RoutePlan.day == day.isoformat(), RoutePlan.status == PlanStatus.PROPOSED
        )
    ):
        older.status = PlanStatus.SUPERSEDED
    staff_ids = {key: s.id for key, s in loaded.staff.items()}
    after = []
    for move in moves:
        job = loaded.appointments[str(move.appointment_id)]
        shift = move.new_start - job.starts_at
        after.append(
            {
                "id": job.id,
                "staff_id": staff_ids[move.new_staff],
                "starts_at": _iso(job.starts_at + shift),
                "ends_at": _iso(job.ends_at + shift),
                "block_start": _iso(job.block_start + shift),
                "block_end": _iso(job.block_end + shift),
                "window_start": _iso(move.new_window[0]) if job.window_start is not None else None,
                "window_end": _iso(move.new_window[1]) if job.window_end is not None else None,
            }
        )
    summary = {
        "km_before": round(driving(loaded.problem, booked), 1),
        "km_after": round(driving(loaded.problem, solution), 1),
        "minutes_before": driving_time(loaded.problem, booked),
        "minutes_after": driving_time(loaded.problem, solution),
        "before": _route_figures(loaded, booked),
        "after": _route_figures(loaded, solution),
        "late": late,
        "unassigned": list(solution.unassigned),
        "seconds": round(solution.seconds, 2),
        "routes": {
            r.vehicle: [[s.visit, s.arrival, s.start] for s in r.stops]
            for r in solution.routes
            if r.stops
        },
    }
    plan = RoutePlan(
        day=day.isoformat(),
        status=PlanStatus.PROPOSED,
        actor=actor[:400],
        before=[_snapshot(loaded.appointments[str(m.appointment_id)]) for m in moves],
        after=after,
        summary=summary,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    return Proposal(plan, loaded, booked, solution, moves, broken)


def latest(session: Session, status: PlanStatus) -> RoutePlan | None:
    """The most recent plan in `status`."""
    return session.scalar(
        select(RoutePlan).where(RoutePlan.status == status).order_by(RoutePlan.id.desc()).limit(1)
    )


def _write(
    session: Session, rows: list[dict[str, Any]], *, now: datetime, actor: str, reason: str
) -> tuple[list[tuple[Appointment, dict[str, Any]]], str]:
    """Write `rows` onto their appointments (parked first); the old values of each, or why not."""
    jobs = {
        a.id: a
        for a in session.scalars(
            select(Appointment).where(Appointment.id.in_([r["id"] for r in rows]))
        )
    }
    if len(jobs) != len(rows) or any(j.status not in MOVABLE for j in jobs.values()):
        return [], t("Some of those jobs were cancelled or started since; optimise the day again.")
    olds = [(jobs[r["id"]], _snapshot(jobs[r["id"]])) for r in rows]
    try:
        with session.begin_nested():
            for job, _ in olds:
                job.block_start = job.block_end = PARKED
            session.flush()
            for row in rows:
                job = jobs[row["id"]]
                job.staff_id = row["staff_id"]
                job.starts_at, job.ends_at = _at(row["starts_at"]), _at(row["ends_at"])
                job.block_start, job.block_end = _at(row["block_start"]), _at(row["block_end"])
                job.window_start, job.window_end = _at(row["window_start"]), _at(row["window_end"])
                job.updated_at = now
            session.flush()
    except IntegrityError:
        for job, _ in olds:
            session.refresh(job)
        return (
            [],
            t("The day has changed since (a job would now overlap another); optimise the day again."),
        )
    for job, old in olds:
        session.add(
            AppointmentEvent(
                appointment_id=job.id,
                kind="rescheduled",
                old_starts_at=_at(old["starts_at"]),
                new_starts_at=job.starts_at,
                actor=actor[:64],
                reason=reason,
                at=now,
            )
        )
    return olds, ""


def _tell(
    session: Session, olds: list[tuple[Appointment, dict[str, Any]]], *, now: datetime, day: str
) -> int:
    """Tell customers whose arrival window (or exact time) changed, and each technician once."""
    info = business_context(session, required=False)
    told = 0
    for job, old in olds:
        before = (
            _at(old["window_start"]) or _at(old["starts_at"]),
            _at(old["window_end"]) or _at(old["starts_at"]),
        )
        after = (job.window_start or job.starts_at, job.window_end or job.starts_at)
        if before == after:
            continue
        if after[0] != after[1]:
            new = format_window(after[0], after[1], info.zone, info.locale)
            was = format_window(before[0], before[1], info.zone, info.locale)
            text = t("Changed: {business} will now arrive for your {service} on {new} (was {was}).", business=info.name, service=job.service.name, new=new, was=was)
        else:
            new, was = info.when(after[0]), info.when(before[0])
            text = t("Changed: your {service} at {business} is now {new} (was {was}).", service=job.service.name, business=info.name, new=new, was=was)
        sent = tell_customer(
            session,
            job.customer_id,
            Reply(text, attachments=(calendar_file(session, job, info, now=now),)),
            purpose=CHANGE_NOTICE,
            ref_id=job.id,
            now=now,
        )
        told += sent is not None
    moved: dict[int, int] = {}
    for job, old in olds:
        moved[job.staff_id] = moved.get(job.staff_id, 0) + 1
        moved.setdefault(old["staff_id"], 0)
    label = format_day(date.fromisoformat(day), info.zone, info.locale)
    for staff_id, count in sorted(moved.items()):
        gained = nt("{n} job new or retimed", "{n} jobs new or retimed", count) if count else _("jobs taken off it")
        tell_staff(session, staff_id, t("Your route for {label} has changed ({gained}).", label=label, gained=gained), now=now)
    return told


def apply(session: Session, plan: RoutePlan, *, now: datetime, actor: str) -> Outcome:
    """Write a proposal's routes onto the appointments and tell who needs telling."""
    if plan.status != PlanStatus.PROPOSED:
        return Outcome(refused=_("That plan is not waiting to be applied; optimise the day again."))
    ids = [row["id"] for row in plan.before]
    current = {a.id: a for a in session.scalars(select(Appointment).where(Appointment.id.in_(ids)))}
    if any(row["id"] not in current or _snapshot(current[row["id"]]) != row for row in plan.before):
        return Outcome(
            refused=_("The day has changed since this plan was made; optimise the day again.")
        )
    olds, why = _write(session, plan.after, now=now, actor=actor, reason=f"route plan {plan.id}")
    if why:
        return Outcome(refused=why)
    plan.status = PlanStatus.APPLIED
    plan.applied_at = now
    return Outcome(moved=len(olds), told=_tell(session, olds, now=now, day=plan.day))


def undo(
    session: Session, plan: RoutePlan, *, now: datetime, actor: str, zone: ZoneInfo
) -> Outcome:
    """Put the jobs of an applied plan back as they were, on the day it was applied."""
    if plan.status != PlanStatus.APPLIED or plan.applied_at is None:
        return Outcome(refused=_("There is no applied route plan to undo."))
    if now.astimezone(zone).date() != plan.applied_at.astimezone(zone).date():
        return Outcome(refused=_("A route plan can only be undone on the day it was applied."))
    jobs = {
        a.id: a
        for a in session.scalars(
            select(Appointment).where(Appointment.id.in_([r["id"] for r in plan.after]))
        )
    }
    touched = [
        row["id"]
        for row in plan.after
        if row["id"] not in jobs or _snapshot(jobs[row["id"]]) != row
    ]
    if touched:
        ids = ", ".join(f"#{i}" for i in touched[:5])
        return Outcome(
            refused=t("Some jobs changed after the plan was applied ({ids}); nothing undone.", ids=ids)
        )
    olds, why = _write(
        session, plan.before, now=now, actor=actor, reason=f"undo route plan {plan.id}"
    )
    if why:
        return Outcome(refused=why)
    plan.status = PlanStatus.UNDONE
    plan.undone_at = now
    return Outcome(moved=len(olds), told=_tell(session, olds, now=now, day=plan.day))

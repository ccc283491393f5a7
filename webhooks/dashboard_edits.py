"""The dashboard's edit form for one appointment: staff, service, day and time, length,
notes — the same edit as the owner chat's ("assign #7 to Priya"), through `bot.scheduling.edits`, so
the calendar is checked (hours, other bookings, rooms) and the customer is told.

GET+POST /dashboard/<token>/appointments/<id>/edit

Adds its routes to the dashboard blueprint (imported by the app factory before the
blueprint is registered) and writes an AdminAudit row like every dashboard action.
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask import redirect, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bot.core.clock import utcnow
from bot.scheduling.availability import local_instant
from bot.scheduling.booking import Refused
from bot.scheduling.edits import Edit, edit_appointment
from storage.models import UPCOMING_STATUSES, Appointment, Service, Staff
from webhooks import dashboard
from webhooks.context import current_db
from webhooks.portal import formats, message_page, not_found, require_form

bp = dashboard.bp
dashboard.NOTICES["edited"] = "Changed. The customer has been told what changed."


def _form(
    token: str, appointment_id: int, error: str = "", status: int = 200
) -> ResponseReturnValue:
    with current_db().read() as session:
        check = dashboard._open(session, token)
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            not_found()
        fmt = formats(session)
        local = appointment.starts_at.astimezone(fmt.ctx.zone)
        html = dashboard._page(
            "dashboard/edit.html",
            token,
            "week",
            session,
            check,
            appointment=appointment,
            when=fmt.when(appointment.starts_at),
            day=local.date().isoformat(),
            clock=local.strftime("%H:%M"),
            minutes=int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
            staff=list(
                session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id))
            ),
            services=list(
                session.scalars(
                    select(Service).where(Service.active.is_(True)).order_by(Service.id)
                )
            ),
            editable=appointment.status in UPCOMING_STATUSES
            and appointment.status != "in_progress",
            error=error,
        )
        return html, status


@bp.get("/dashboard/<token>/appointments/<int:appointment_id>/edit")
def edit_page(token: str, appointment_id: int) -> ResponseReturnValue:
    """The form, filled with the appointment as it is."""
    return _form(token, appointment_id)


def _start(day_text: str, clock_text: str, zone: object) -> datetime | None:
    try:
        day, clock = date.fromisoformat(day_text), time.fromisoformat(clock_text)
    except ValueError:
        return None
    instants = local_instant(day, clock, zone)  # type: ignore[arg-type]
    return instants[0] if instants else None


@bp.post("/dashboard/<token>/appointments/<int:appointment_id>/edit")
def edit_submit(token: str, appointment_id: int) -> ResponseReturnValue:
    """Apply what the form changed; back to the day, or the form again saying why not."""
    now = utcnow()
    form = request.form
    with current_db().write() as session:
        check = dashboard._open(session, token)
        require_form(session, check)
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            not_found()
        fmt = formats(session)
        start = _start(form.get("day", ""), form.get("time", ""), fmt.ctx.zone)
        if start is None:
            error = "Give a day and a time."
        else:
            try:
                minutes = int(form.get("minutes", "0"))
                staff_id = int(form.get("staff", "0"))
                service_id = int(form.get("service", "0"))
            except ValueError:
                return message_page("Not changed", "That form was not filled in right.", status=400)
            old_minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
            new_service = service_id != appointment.service_id
            changes = Edit(
                staff_id=staff_id if staff_id != appointment.staff_id else None,
                service_id=service_id if new_service else None,
                # A new service with the length untouched takes the new service's length.
                duration_minutes=None if new_service and minutes == old_minutes else minutes,
                start=start if start != appointment.starts_at else None,
                notes=form.get("notes", appointment.notes or "")[:2000].replace("\r\n", "\n"),
            )
            outcome = edit_appointment(
                session, appointment_id, changes, now=now, actor=dashboard.ACTOR
            )
            if not isinstance(outcome, Refused):
                dashboard._audit(
                    session,
                    check,
                    "edit",
                    now,
                    appointment=appointment_id,
                    changes=[str(c) for c in outcome.changes],
                )
                day = fmt.ctx.local_date(outcome.appointment.starts_at).isoformat()
                return redirect(f"/dashboard/{token}/day/{day}?notice=edited", code=303)
            error = outcome.message
    return _form(token, appointment_id, error=error, status=409)

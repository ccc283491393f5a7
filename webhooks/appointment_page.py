"""The dashboard's appointment page: one appointment, where it is, and its event log.

GET /dashboard/<token>/appointments/<id>    what, when, who, where (with a maps link), access
                                            and client notes, time in transit and on the job,
                                            and every entry of its event log (bot.scheduling.timeline)

Other features add their own section of the page through `SECTIONS` (photos, signatures):
each is called with (session, appointment, formats) and returns a template name and its
context, or None to show nothing. Also here: how the day view words a job's and a day's
times (`job_times`, `day_times`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.core.formatting import plain
from bot.customers.portal import csrf_token
from bot.scheduling import timeline
from bot.scheduling.timeline import Timing
from storage.models import Appointment, Staff
from storage.portal import OWNER
from webhooks.context import current_db
from webhooks.portal import STATUS_LABELS, Formats, formats, not_found, open_link, private

bp = Blueprint("appointment_page", __name__)

MAPS = "https://www.google.com/maps/search/?api=1&query="

# (session, appointment, formats) → (template, context) or None: more sections of the page.
Section = Callable[[Session, Appointment, Formats], tuple[str, dict[str, Any]] | None]
SECTIONS: list[Section] = []


@bp.after_request
def _private(response: Response) -> Response:
    return private(response)


def job_times(timing: Timing) -> str:
    """ "Drive 25 min · on the job 1 h", or "" when neither is known yet."""
    bits = []
    if timing.transit_minutes is not None:
        bits.append(f"Drive {timeline.duration(timing.transit_minutes)}")
    if timing.job_minutes is not None:
        bits.append(f"on the job {timeline.duration(timing.job_minutes)}")
    text = " · ".join(bits)
    return text[:1].upper() + text[1:]


def day_times(found: list[Timing]) -> str:
    """A staff member's day: "Driving 55 min · on jobs 1 h 45 min", or ""."""
    day = timeline.totals(found)
    if not day.transit_minutes and not day.job_minutes:
        return ""
    return (
        f"Driving {timeline.duration(day.transit_minutes)} · "
        f"on jobs {timeline.duration(day.job_minutes)}"
    )


def _staff_names(session: Session) -> tuple[dict[int, str], dict[str, str]]:
    staff = list(session.scalars(select(Staff)))
    by_id = {s.id: s.name.split(" ")[0] for s in staff}
    by_key = {s.key: s.name.split(" ")[0] for s in staff}
    by_identity = {
        identity: by_key.get(key, key)
        for key, identities in business_context(session, required=False).staff_identities.items()
        for identity in identities
    }
    return by_id, by_identity


@bp.get("/dashboard/<token>/appointments/<int:appointment_id>")
def appointment(token: str, appointment_id: int) -> ResponseReturnValue:
    """One appointment with its event log."""
    with current_db().read() as session:
        check = open_link(session, token, OWNER)
        item = session.get(Appointment, appointment_id)
        if item is None:
            not_found()
        fmt = formats(session)
        by_id, by_identity = _staff_names(session)
        log = timeline.entries(
            session,
            item,
            zone=fmt.ctx.zone,
            locale=fmt.ctx.locale,
            staff_names=by_id,
            staff_by_identity=by_identity,
        )
        timing = timeline.timings(session, [item.id])[item.id]
        customer = item.customer
        address = customer.address if item.service.on_site else None
        sections = [found for section in SECTIONS if (found := section(session, item, fmt))]
        day = fmt.ctx.local_date(item.starts_at).isoformat()
        return render_template(
            "dashboard/appointment.html",
            token=token,
            tab="week",
            base=f"/dashboard/{token}",
            csrf=csrf_token(session, check.link_id or 0),
            notice=None,
            item=item,
            title=plain(f"{item.service.name} · {customer.name or 'Customer'}"),
            when=f"{fmt.day(item.starts_at)}, {fmt.span(item.starts_at, item.ends_at)}",
            status_label=STATUS_LABELS.get(item.status, item.status),
            price=fmt.money(item.price_minor),
            address=address,
            maps=MAPS + quote_plus(address.strip()) if address else None,
            times={
                "set_off": fmt.when(timing.set_off) if timing.set_off else None,
                "arrived": fmt.when(timing.arrived) if timing.arrived else None,
                "done": fmt.when(timing.done) if timing.done else None,
                "transit": _minutes(timing.transit_minutes),
                "job": _minutes(timing.job_minutes),
            },
            log=log,
            sections=sections,
            day=day,
        )


def _minutes(value: int | None) -> str | None:
    return timeline.duration(value) if value is not None else None


def add_times(session: Session, entries: list[dict[str, Any]]) -> str:
    """Put each appointment entry's times on it ("times"); the day's totals, in words."""
    ids = [e["id"] for e in entries if e.get("kind") == "appointment"]
    found = timeline.timings(session, ids)
    for entry in entries:
        if entry.get("kind") == "appointment":
            entry["times"] = job_times(found[entry["id"]])
    return day_times(list(found.values()))

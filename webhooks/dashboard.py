"""The owner dashboard: the calendar, receivables, customers, feedback and no-shows, behind a
signed owner link (`bot.customers.portal.issue_link(role="owner")`, 12 hours by default).

/dashboard/<token>?week=YYYY-MM-DD                 the week by staff (prev / next week)
/dashboard/<token>/day/<YYYY-MM-DD>                one day by staff, with actions and block time
/dashboard/<token>/routes/<YYYY-MM-DD>             the day's routes: an SVG map and each technician's jobs
/dashboard/<token>/receivables                     aging buckets, largest balances, mark paid
/dashboard/<token>/customers?q=                    search; /customers/<id> history and notes
/dashboard/<token>/feedback                        scores and comments
/dashboard/<token>/no-shows                        the last 90 days' no-shows
POST /dashboard/<token>/invoices/<id>/payment      record a payment (amount, method)
POST /dashboard/<token>/appointments/<id>/status   completed or no-show
GET+POST /dashboard/<token>/appointments/<id>/cancel   confirm, then cancel (no cut-off)
POST /dashboard/<token>/block                      block time for one staff member or everyone

The actions are the admin chat's, through the same functions, and each writes an AdminAudit
row (actor "dashboard", role "owner", channel "web"). Link checks, the form token, headers
and formatting are shared with the customer portal (webhooks/portal.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_interval
from flask import Blueprint, Response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.ledger.invoices import account_balance, issued_invoices, totals_for
from bot.billing.ledger.receivables import aging
from bot.billing.ledger.settlement import PaymentRecorded, record_payment
from bot.billing.ledger.totals import BUCKETS
from bot.core.clock import utcnow
from bot.core.errors import InvalidRequest
from bot.core.formatting import plain
from bot.core.money import parse_amount, to_major
from bot.customers.portal import LinkCheck, csrf_token
from bot.field.routing.day import routes_of_day
from bot.scheduling.agenda import (
    appointments_between,
    block_time,
    blocks_between,
    counts_between,
    find_customers,
    upcoming_for,
)
from bot.scheduling.availability import local_instant
from bot.scheduling.booking import TRANSITIONS, Changed, cancel, history, set_status
from storage.billing import PAYMENT_METHODS, Invoice
from storage.messaging import Feedback
from storage.models import (
    COMPLETED,
    NO_SHOW,
    UPCOMING_STATUSES,
    AdminAudit,
    Appointment,
    Customer,
    CustomerIdentity,
    InboundMessage,
    RoutePlan,
    Staff,
    TimeOff,
    WorkingHours,
)
from storage.portal import OWNER
from webhooks.appointment_page import add_times
from webhooks.context import current_db
from webhooks.limits import row_id
from webhooks.portal import (
    STATUS_LABELS,
    Formats,
    formats,
    local_date_arg,
    message_page,
    not_found,
    open_link,
    private,
    require_form,
)
from webhooks.route_map import MapRoute, colour, route_map

bp = Blueprint("dashboard", __name__)

ACTOR = "owner:dashboard"  # as the booking service and notifications read actors
NOTICES = {
    "paid": "Payment recorded. The customer has been sent a receipt.",
    "completed": "Marked completed. The invoice has gone to the customer.",
    "no_show": "Marked as a no-show.",
    "cancelled": "Cancelled. The customer has been told.",
    "blocked": "Time blocked: nobody can book it now.",
}
METHOD_LABELS = {
    "cash": "Cash",
    "cheque": "Cheque",
    "card": "Card",
    "bank_transfer": "Bank transfer",
    "other": "Other",
}
BUCKET_LABELS = {
    "current": "Current",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "Over 90 days",
}
INVOICE_LABELS = {
    "draft": "Draft",
    "sent": "Unpaid",
    "partially_paid": "Part paid",
    "paid": "Paid",
    "void": "Void",
}
LOOKBACK = timedelta(days=90)


@bp.after_request
def _private(response: Response) -> Response:
    return private(response)


# ------------------------------------------------------------------------------ helpers


def _open(session: Session, token: str) -> LinkCheck:
    return open_link(session, token, OWNER)


def _page(
    template: str, token: str, tab: str, session: Session, check: LinkCheck, **kw: Any
) -> str:
    notice = NOTICES.get(request.args.get("notice", ""))
    clashes = request.args.get("clashes", "")
    if notice and clashes.isdigit() and int(clashes):
        notice += f" {clashes} appointment(s) already inside it: see the day below."
    return render_template(
        template,
        token=token,
        tab=tab,
        csrf=csrf_token(session, check.link_id or 0),
        notice=notice,
        base=f"/dashboard/{token}",
        **kw,
    )


def _audit(session: Session, check: LinkCheck, action: str, now: datetime, **detail: Any) -> None:
    session.add(
        AdminAudit(
            actor="dashboard",
            role="owner",
            channel="web",
            action=action,
            detail={**detail, "link": check.link_id},
            at=now,
        )
    )


def _back(token: str, notice: str, **extra: int) -> Response:
    """303 to the page the form was on (only ever a page of this dashboard), with a notice."""
    home = f"/dashboard/{token}"
    back = request.form.get("back", "").split("#")[0]
    if not (back == home or back.startswith(home + "/") or back.startswith(home + "?")):
        back = home
    query = "&".join([f"notice={notice}", *(f"{k}={v}" for k, v in extra.items())])
    return redirect(f"{back}{'&' if '?' in back else '?'}{query}", code=303)


def _staff(session: Session, extra_ids: Iterable[int] = ()) -> list[Staff]:
    """Active staff, plus any retired member who still has appointments shown."""
    return list(
        session.scalars(
            select(Staff)
            .where((Staff.active.is_(True)) | (Staff.id.in_(list(extra_ids))))
            .order_by(Staff.id)
        )
    )


def _appointment_item(fmt: Formats, appointment: Appointment) -> dict[str, Any]:
    status = appointment.status
    return {
        "kind": "appointment",
        "id": appointment.id,
        "start": appointment.starts_at,
        "time": fmt.span(appointment.starts_at, appointment.ends_at),
        "customer": appointment.customer.name or f"Customer {appointment.customer_id}",
        "customer_id": appointment.customer_id,
        "service": appointment.service.name,
        "status": status,
        "status_label": STATUS_LABELS.get(status, status),
        "can_complete": COMPLETED in TRANSITIONS.get(status, ()),
        "can_no_show": NO_SHOW in TRANSITIONS.get(status, ()),
        "can_cancel": status in UPCOMING_STATUSES,
    }


def _block_item(fmt: Formats, block: TimeOff, day: date) -> dict[str, Any]:
    day_start, day_end = fmt.midnight(day), fmt.midnight(day + timedelta(days=1))
    start, end = max(block.starts_at, day_start), min(block.ends_at, day_end)
    whole = start == day_start and end == day_end
    return {
        "kind": "block",
        "start": start,
        "time": "All day" if whole else fmt.span(start, end),
        "reason": block.reason or "Blocked",
        "status": "blocked",
        "status_label": "Closed" if whole and block.staff_id is None else "Blocked",
    }


def _by_staff_and_day(
    session: Session, fmt: Formats, first: date, days: int, *, include_cancelled: bool = False
) -> tuple[list[Staff], dict[int, list[list[dict[str, Any]]]]]:
    """Appointments and blocks in [first, first + days) per staff member, per local day."""
    start, end = fmt.midnight(first), fmt.midnight(first + timedelta(days=days))
    appointments = appointments_between(session, start, end, include_cancelled=include_cancelled)
    staff = _staff(session, {a.staff_id for a in appointments})
    cells: dict[int, list[list[dict[str, Any]]]] = {s.id: [[] for _ in range(days)] for s in staff}
    for appointment in appointments:
        index = (fmt.ctx.local_date(appointment.starts_at) - first).days
        cells[appointment.staff_id][index].append(_appointment_item(fmt, appointment))
    for block in blocks_between(session, start, end):
        for index in range(days):
            day = first + timedelta(days=index)
            if block.starts_at < fmt.midnight(day + timedelta(days=1)) and block.ends_at > (
                fmt.midnight(day)
            ):
                for member in staff:
                    if block.staff_id in (None, member.id):
                        cells[member.id][index].append(_block_item(fmt, block, day))
    for rows in cells.values():
        for cell in rows:
            cell.sort(key=lambda item: item["start"])
    return staff, cells


def _working_days(session: Session) -> dict[int, set[int]]:
    """The weekdays (Monday = 0) each staff member works."""
    days: dict[int, set[int]] = {}
    for staff_id, weekday in session.execute(
        select(WorkingHours.staff_id, WorkingHours.weekday).where(
            WorkingHours.is_break.is_(False), WorkingHours.staff_id.is_not(None)
        )
    ):
        days.setdefault(staff_id, set()).add(weekday)
    return days


# ----------------------------------------------------------------------------- calendar


@bp.get("/dashboard/<token>")
def week(token: str) -> ResponseReturnValue:
    """The week (Monday to Sunday, local) by staff member."""
    now = utcnow()
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        today = fmt.today(now)
        anchor = local_date_arg("week") or today
        monday = anchor - timedelta(days=anchor.weekday())
        staff, cells = _by_staff_and_day(session, fmt, monday, 7)
        counts = counts_between(
            session, fmt.midnight(monday), fmt.midnight(monday + timedelta(days=7))
        )
        days = [monday + timedelta(days=i) for i in range(7)]
        working = _working_days(session)
        return _page(
            "dashboard/week.html",
            token,
            "week",
            session,
            check,
            title=plain(format_interval(days[0], days[-1], "yMMMd", locale=fmt.ctx.locale)),
            days=[
                {"date": d, "iso": d.isoformat(), "label": fmt.day(d), "today": d == today}
                for d in days
            ],
            rows=[
                {
                    "name": s.name,
                    "cells": [
                        {"entries": cell, "off": d.weekday() not in working.get(s.id, set())}
                        for d, cell in zip(days, cells[s.id], strict=True)
                    ],
                }
                for s in staff
            ],
            counts=counts,
            previous=(monday - timedelta(days=7)).isoformat(),
            next=(monday + timedelta(days=7)).isoformat(),
            this_week=(today - timedelta(days=today.weekday())).isoformat(),
        )


@bp.get("/dashboard/<token>/day/<day>")
def day_view(token: str, day: str) -> ResponseReturnValue:
    """One local day by staff member, with the owner's actions and the block-time form."""
    now = utcnow()
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        chosen = None
    with current_db().read() as session:
        check = _open(session, token)
        if chosen is None:
            not_found()
        fmt = formats(session)
        staff, cells = _by_staff_and_day(session, fmt, chosen, 1, include_cancelled=True)
        working = _working_days(session)
        return _page(
            "dashboard/day.html",
            token,
            "today" if chosen == fmt.today(now) else "week",
            session,
            check,
            title=fmt.date(chosen),
            heading=fmt.day(chosen),
            day=chosen.isoformat(),
            week=(chosen - timedelta(days=chosen.weekday())).isoformat(),
            previous=(chosen - timedelta(days=1)).isoformat(),
            next=(chosen + timedelta(days=1)).isoformat(),
            columns=[
                {
                    "id": s.id,
                    "name": s.name,
                    "entries": cells[s.id][0],
                    "off": chosen.weekday() not in working.get(s.id, set()),
                    "times": add_times(session, cells[s.id][0]),
                }
                for s in staff
            ],
            staff=[{"id": s.id, "name": s.name} for s in staff if s.active],
        )


@bp.get("/dashboard/<token>/today")
def today_view(token: str) -> ResponseReturnValue:
    """Today's day view."""
    with current_db().read() as session:
        _open(session, token)
        today = formats(session).today(utcnow())
    return redirect(f"/dashboard/{token}/day/{today.isoformat()}", code=303)


# -------------------------------------------------------------------------- receivables


@bp.get("/dashboard/<token>/receivables")
def receivables(token: str) -> ResponseReturnValue:
    """Accounts receivable: aging buckets, the largest balances (mark paid), per customer."""
    now = utcnow()
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        report = aging(session, now)
        return _page(
            "dashboard/receivables.html",
            token,
            "receivables",
            session,
            check,
            buckets=[
                {"label": BUCKET_LABELS.get(b, b), "amount": fmt.money(report.buckets[b])}
                for b in BUCKETS
            ],
            credit=fmt.money(report.credit),
            total=fmt.money(report.total),
            largest=[
                {
                    "invoice_id": line.invoice_id,
                    "number": line.number,
                    "customer": line.customer_name,
                    "customer_id": line.customer_id,
                    "due": fmt.date(line.due_at),
                    "late": line.days_past_due if line.days_past_due > 0 else None,
                    "bucket": BUCKET_LABELS.get(line.bucket, line.bucket),
                    "balance": fmt.money(line.balance),
                    "amount": str(to_major(line.balance, report.currency)),
                }
                for line in report.largest(10)
            ],
            customers=[
                {
                    "id": row.customer_id,
                    "name": row.name,
                    "buckets": [fmt.money(row.buckets[b]) for b in BUCKETS],
                    "total": fmt.money(row.total),
                }
                for row in report.customers
                if row.total
            ],
            bucket_labels=[BUCKET_LABELS.get(b, b) for b in BUCKETS],
            methods=METHOD_LABELS,
        )


# ---------------------------------------------------------------------------- customers


def _next_visit(session: Session, fmt: Formats, customer_id: int, now: datetime) -> str:
    ahead = upcoming_for(session, customer_id, now)
    return fmt.when(ahead[0].starts_at) if ahead else ""


@bp.get("/dashboard/<token>/customers")
def customers(token: str) -> ResponseReturnValue:
    """Customers: a search by name, phone or email; the newest ones without a search."""
    now = utcnow()
    query = request.args.get("q", "").strip()[:100]
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        found = (
            find_customers(session, query, limit=25)
            if query
            else list(session.scalars(select(Customer).order_by(Customer.id.desc()).limit(50)))
        )
        return _page(
            "dashboard/customers.html",
            token,
            "customers",
            session,
            check,
            query=query,
            customers=[
                {
                    "id": c.id,
                    "name": c.name or f"Customer {c.id}",
                    "phone": fmt.phone(c.phone),
                    "email": c.email or "",
                    "next": _next_visit(session, fmt, c.id, now),
                    "balance": fmt.money(account_balance(session, c.id)),
                }
                for c in found
            ],
        )


def _feedback_rows(session: Session, fmt: Formats, customer_id: int | None) -> list[Any]:
    query = (
        select(Feedback, Appointment)
        .join(Appointment, Appointment.id == Feedback.appointment_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(200)
    )
    if customer_id is not None:
        query = query.where(Feedback.customer_id == customer_id)
    return [
        {
            "date": fmt.date(feedback.created_at),
            "customer": appointment.customer.name or f"Customer {appointment.customer_id}",
            "customer_id": appointment.customer_id,
            "visit": f"{appointment.service.name} with {appointment.staff.name}, "
            f"{fmt.day(appointment.starts_at)}",
            "score": feedback.score,
            "tone": "bad" if feedback.score <= 2 else "warn" if feedback.score == 3 else "ok",
            "label": "Low" if feedback.score <= 2 else "OK" if feedback.score == 3 else "Good",
            "comment": feedback.comment,
        }
        for feedback, appointment in session.execute(query)
    ]


RECENT_MESSAGES = 30


def _message_rows(session: Session, fmt: Formats, customer_id: int) -> list[Any]:
    """What the customer wrote lately, on every channel — answered or not (a flood the
    engine throttled is still here to read)."""
    query = (
        select(InboundMessage)
        .join(
            CustomerIdentity,
            (CustomerIdentity.channel == InboundMessage.channel)
            & (CustomerIdentity.address == InboundMessage.address),
        )
        .where(CustomerIdentity.customer_id == customer_id)
        .order_by(InboundMessage.id.desc())
        .limit(RECENT_MESSAGES)
    )
    return [
        {"when": fmt.when(message.received_at), "channel": message.channel, "text": message.text}
        for message in session.scalars(query)
    ]


@bp.get("/dashboard/<token>/customers/<int:customer_id>")
def customer(token: str, customer_id: int) -> ResponseReturnValue:
    """One customer: contact details, notes, appointments, invoices and feedback."""
    now = utcnow()
    with current_db().read() as session:
        check = _open(session, token)
        person = session.get(Customer, customer_id)
        if person is None:
            not_found()
        fmt = formats(session)
        invoices = issued_invoices(session, customer_id)
        sums = totals_for(session, invoices)
        visits = upcoming_for(session, customer_id, now) + history(session, customer_id, now=now)
        return _page(
            "dashboard/customer.html",
            token,
            "customers",
            session,
            check,
            person=person,
            phone=fmt.phone(person.phone),
            balance=fmt.money(account_balance(session, customer_id)),
            visits=[
                {
                    **_appointment_item(fmt, a),
                    "when": fmt.when(a.starts_at),
                    "staff": a.staff.name,
                    "upcoming": a.status in UPCOMING_STATUSES and a.ends_at > now,
                }
                for a in visits
            ],
            invoices=[
                {
                    "id": invoice.id,
                    "number": invoice.number,
                    "issued": fmt.date(invoice.issued_at) if invoice.issued_at else "",
                    "total": fmt.money(sums[invoice.id].total),
                    "balance": fmt.money(sums[invoice.id].balance),
                    "owing": invoice.voided_at is None and sums[invoice.id].balance > 0,
                    "amount": str(to_major(max(sums[invoice.id].balance, 0), invoice.currency)),
                    "status": INVOICE_LABELS.get(invoice.status, invoice.status),
                }
                for invoice in reversed(invoices)
            ],
            feedback=_feedback_rows(session, fmt, customer_id),
            messages=_message_rows(session, fmt, customer_id),
            methods=METHOD_LABELS,
        )


# ----------------------------------------------------------------------- feedback, no-shows


@bp.get("/dashboard/<token>/feedback")
def feedback(token: str) -> ResponseReturnValue:
    """Customers' scores and comments, newest first, with the average."""
    with current_db().read() as session:
        check = _open(session, token)
        rows = _feedback_rows(session, formats(session), None)
        scores = [row["score"] for row in rows]
        spread = Counter(scores)
        return _page(
            "dashboard/feedback.html",
            token,
            "feedback",
            session,
            check,
            rows=rows,
            average=f"{sum(scores) / len(scores):.1f}" if scores else None,
            spread=[(score, spread.get(score, 0)) for score in range(5, 0, -1)],
            low=sum(1 for s in scores if s <= 2),
        )


@bp.get("/dashboard/<token>/no-shows")
def no_shows(token: str) -> ResponseReturnValue:
    """No-shows in the last 90 days: who, when, and the no-show rate."""
    now = utcnow()
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        since = now - LOOKBACK
        missed = [
            a for a in reversed(appointments_between(session, since, now)) if a.status == NO_SHOW
        ]
        counts = counts_between(session, since, now)
        repeat = Counter(a.customer_id for a in missed)
        return _page(
            "dashboard/no_shows.html",
            token,
            "no_shows",
            session,
            check,
            rows=[
                {
                    **_appointment_item(fmt, a),
                    "when": fmt.when(a.starts_at),
                    "staff": a.staff.name,
                    "times": repeat[a.customer_id],
                }
                for a in missed
            ],
            counts=counts,
            rate=f"{counts.no_show_rate:.0%}",
        )


# ------------------------------------------------------------------------------ actions


@bp.post("/dashboard/<token>/invoices/<int:invoice_id>/payment")
def record(token: str, invoice_id: int) -> ResponseReturnValue:
    """Record money received (cash, cheque, …) against an invoice."""
    now = utcnow()
    method = request.form.get("method", "")
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            not_found()
        back = (f"/dashboard/{token}/receivables", "Back to receivables")
        try:
            amount = parse_amount(request.form.get("amount", ""), invoice.currency)
        except InvalidRequest:
            return message_page(
                "Check the amount", "Enter an amount like 45.00.", status=400, back=back
            )
        if method not in PAYMENT_METHODS:
            return message_page("Choose a method", "How was it paid?", status=400, back=back)
        outcome = record_payment(
            session, invoice.id, amount_minor=amount, method=method, now=now, actor=ACTOR
        )
        if not isinstance(outcome, PaymentRecorded):
            return message_page("Not recorded", outcome.message, status=409, back=back)
        _audit(
            session,
            check,
            "payment",
            now,
            invoice=invoice.number,
            amount_minor=amount,
            method=method,
        )
    return _back(token, "paid")


@bp.post("/dashboard/<token>/appointments/<int:appointment_id>/status")
def change_status(token: str, appointment_id: int) -> ResponseReturnValue:
    """Mark an appointment completed (which invoices it) or a no-show."""
    now = utcnow()
    status = request.form.get("status", "")
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            not_found()
        if status not in (COMPLETED, NO_SHOW):
            return message_page("Not changed", "Choose completed or no-show.", status=400)
        if status == NO_SHOW and appointment.starts_at > now:
            return message_page(
                "Not changed", "It hasn't started yet, so it can't be a no-show.", status=409
            )
        outcome = set_status(session, appointment_id, status, now=now, actor=ACTOR)
        if not isinstance(outcome, Changed):
            return message_page("Not changed", outcome.message, status=409)
        _audit(session, check, status, now, appointment=appointment_id)
    return _back(token, status)


@bp.get("/dashboard/<token>/appointments/<int:appointment_id>/cancel")
def cancel_page(token: str, appointment_id: int) -> ResponseReturnValue:
    """Ask before cancelling for the customer."""
    with current_db().read() as session:
        check = _open(session, token)
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            not_found()
        fmt = formats(session)
        return _page(
            "dashboard/cancel.html",
            token,
            "week",
            session,
            check,
            item={
                **_appointment_item(fmt, appointment),
                "when": fmt.when(appointment.starts_at),
                "staff": appointment.staff.name,
            },
            day=fmt.ctx.local_date(appointment.starts_at).isoformat(),
        )


@bp.post("/dashboard/<token>/appointments/<int:appointment_id>/cancel")
def cancel_submit(token: str, appointment_id: int) -> ResponseReturnValue:
    """Cancel for the customer (no cut-off for the business); the customer is told."""
    now = utcnow()
    reason = request.form.get("reason", "").strip()[:200] or "cancelled by the business"
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        if session.get(Appointment, appointment_id) is None:
            not_found()
        outcome = cancel(
            session, appointment_id, now=now, reason=reason, actor=ACTOR, enforce_cutoff=False
        )
        if not isinstance(outcome, Changed):
            return message_page("Not cancelled", outcome.message, status=409)
        _audit(session, check, "cancel", now, appointment=appointment_id, reason=reason)
    return _back(token, "cancelled")


def _block_times(fmt: Formats) -> tuple[datetime, datetime] | None:
    day = local_date_arg("day")
    try:
        start_at = time.fromisoformat(request.form.get("start", ""))
        end_at = time.fromisoformat(request.form.get("end", ""))
    except ValueError:
        return None
    if day is None or end_at <= start_at:
        return None
    zone = fmt.ctx.zone
    return local_instant(day, start_at, zone)[0], local_instant(day, end_at, zone)[0]


@bp.post("/dashboard/<token>/block")
def block(token: str) -> ResponseReturnValue:
    """Block time on one day for one staff member (or everyone) so nobody can book it."""
    now = utcnow()
    reason = request.form.get("reason", "").strip()[:200] or "Blocked by the owner"
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        fmt = formats(session)
        span = _block_times(fmt)
        if span is None:
            return message_page(
                "Check the times",
                "Choose a day and a start time before the end time.",
                status=400,
                back=(f"/dashboard/{token}/today", "Back to the calendar"),
            )
        raw_staff = request.form.get("staff", "")
        staff_id = row_id(raw_staff)
        if raw_staff and staff_id is None:
            not_found()
        if staff_id is not None and session.get(Staff, staff_id) is None:
            not_found()
        _, clashes = block_time(
            session, start=span[0], end=span[1], staff_id=staff_id, reason=reason
        )
        _audit(
            session,
            check,
            "block",
            now,
            start=span[0].isoformat(),
            end=span[1].isoformat(),
            staff=staff_id,
            reason=reason,
        )
    return _back(token, "blocked", clashes=len(clashes))


# -------------------------------------------------------------------------- routes


@bp.get("/dashboard/<token>/routes/<day>")
def routes_view(token: str, day: str) -> ResponseReturnValue:
    """The day's routes: a map drawn from coordinates and each technician's jobs in order."""
    try:
        chosen = date.fromisoformat(day)
    except ValueError:
        chosen = None
    with current_db().read() as session:
        check = _open(session, token)
        if chosen is None:
            not_found()
        fmt = formats(session)
        routes = [r for r in routes_of_day(session, chosen) if r.stops or r.staff.active]
        plan = session.scalar(
            select(RoutePlan)
            .where(RoutePlan.day == chosen.isoformat(), RoutePlan.status == "applied")
            .order_by(RoutePlan.id.desc())
            .limit(1)
        )
        technicians = []
        for i, route in enumerate(routes):
            stops = []
            for stop in route.stops:
                job = stop.appointment
                window = ""
                if job.window_start is not None and job.window_end is not None:
                    window = fmt.span(job.window_start, job.window_end)
                stops.append(
                    {
                        "time": fmt.span(job.starts_at, job.ends_at),
                        "window": window,
                        "customer": job.customer.name or "Customer",
                        "customer_id": job.customer_id,
                        "service": job.service.name,
                        "id": job.id,
                    }
                )
            technicians.append(
                {
                    "name": route.staff.name,
                    "colour": colour(i),
                    "minutes": route.minutes,
                    "km": route.km,
                    "stops": stops,
                }
            )
        svg = route_map(
            [
                MapRoute(
                    r.staff.name,
                    r.home,
                    tuple(s.point for s in r.stops),
                    tuple(
                        f"{fmt.span(s.appointment.starts_at, s.appointment.ends_at)}, "
                        f"{s.appointment.customer.name or 'Customer'}"
                        for s in r.stops
                    ),
                )
                for r in routes
            ],
            title=f"Routes for {fmt.day(chosen)}",
        )
        return _page(
            "dashboard/routes.html",
            token,
            "today" if chosen == fmt.today(utcnow()) else "week",
            session,
            check,
            title=f"Routes, {fmt.date(chosen)}",
            heading=f"Routes for {fmt.day(chosen)}",
            day=chosen.isoformat(),
            previous=(chosen - timedelta(days=1)).isoformat(),
            next=(chosen + timedelta(days=1)).isoformat(),
            svg=svg,
            technicians=technicians,
            total_minutes=sum(tech["minutes"] for tech in technicians),
            total_km=round(sum(tech["km"] for tech in technicians), 1),
            plan=plan.summary if plan is not None else None,
            plan_at=fmt.when(plan.applied_at) if plan is not None and plan.applied_at else "",
        )

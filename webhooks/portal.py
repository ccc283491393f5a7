"""The customer portal: one customer's account behind a signed link, mobile first.

/portal/<token>                                  appointments, estimates, invoices, statement, card
/portal/<token>/appointments/<id>/reschedule     pick a new time from the best slots (GET, POST)
/portal/<token>/appointments/<id>/cancel         confirm, then cancel (cut-off respected)
/portal/<token>/estimates/<id>/approve (POST)    approve a sent estimate
/portal/<token>/estimates/<id>.pdf               the estimate as a PDF
/portal/<token>/invoices/<id>/pay                303 to the invoice's pay link (/pay/<token>)
/portal/<token>/invoices/<id>.pdf                the invoice as a PDF
/portal/<token>/statement.pdf?from=&to=          a statement for local dates, as a PDF
/portal/<token>/card/remove (POST)               stop using the saved card
/brand/logo                                      the business's logo file from business.toml

Links are checked by `bot.customers.portal.verify`: a bad link is a 403 page, an expired or revoked one
a 410 page, and neither shows anything but the business's name and logo. Every query is
filtered by the link's customer, and ids in URLs and forms are checked against it (someone
else's id is a plain 404). Every POST carries the link's form token (CSRF).

This module also owns what every page here shares (the dashboard uses it too): the site's
white-label header (`site`), the link gate (`open_link`, `require_form`), message pages and
display formatting in the business's zone and locale.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NoReturn

from babel import Locale
from babel.dates import format_date, format_interval
from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.documents.delivery import invoice_pdf, printable_phone
from bot.billing.documents.estimates import (
    approve_estimate,
    decline_estimate,
    estimate_pdf,
    estimate_totals,
)
from bot.billing.ledger.invoices import issued_invoices, totals_for
from bot.billing.ledger.statements import statement, statement_pdf
from bot.billing.payments.links import pay_link
from bot.billing.payments.online import card_label, forget_card, saved_card
from bot.config.context import BusinessContext, business_context
from bot.core.clock import utcnow
from bot.core.formatting import format_day, format_when, plain
from bot.customers import attachments
from bot.customers.portal import (
    EXPIRED,
    INVALID,
    REVOKED,
    LinkCheck,
    Role,
    csrf_ok,
    csrf_token,
    verify,
)
from bot.engagement.consent import opted_in
from bot.field.places.windows import promised
from bot.messaging.messages import WEB
from bot.scheduling.availability import SlotQuery, best_slots, local_instant
from bot.scheduling.booking import Booked, Changed, cancel, history, reschedule, upcoming
from bot.scheduling.series_info import series_for
from storage.billing import (
    APPROVED,
    DECLINED,
    ESTIMATE_SENT,
    INVOICED,
    PAID,
    PARTIALLY_PAID,
    VOID,
    Estimate,
    Invoice,
)
from storage.models import IN_PROGRESS, Appointment, Customer, Staff
from storage.portal import CUSTOMER, OWNER
from webhooks.context import current_config, current_db
from webhooks.file_views import attachment_views
from webhooks.headers import csp_nonce
from webhooks.limits import row_id

bp = Blueprint("portal", __name__)

STATUS_LABELS = {
    "awaiting_deposit": "Awaiting deposit",
    "booked": "Booked",
    "confirmed": "Confirmed",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}
ESTIMATE_LABELS = {
    ESTIMATE_SENT: "Waiting for your approval",
    APPROVED: "Approved",
    DECLINED: "Declined",
    INVOICED: "Invoiced",
}
NOTICES = {
    "moved": "Your appointment has been moved. We've sent you the new details.",
    "cancelled": "Your appointment is cancelled. We've sent you a confirmation.",
    "approved": "Thank you: the estimate is approved. We'll be in touch to schedule the work.",
    "declined": "The estimate is declined. Message us any time if you change your mind.",
    "card_removed": "Your saved card has been removed. It won't be charged again.",
}
# What a link that cannot be used says; nothing in it depends on whose link it was.
PROBLEMS = {
    INVALID: (403, "This link doesn't work", "It may have been copied only in part."),
    EXPIRED: (410, "This link has expired", "For your security, links only work for a while."),
    REVOKED: (
        410,
        "This link has been turned off",
        "A newer link replaced it, or it was switched off.",
    ),
}
NEW_LINK = {
    CUSTOMER: "Message us and we'll send you a new one.",
    OWNER: "Send /dashboard in the admin chat for a new dashboard link.",
}
SLOT_CHOICES = 8
STATEMENT_MAX_DAYS = 3 * 366


# ------------------------------------------------------------------------- shared: site


@dataclass(frozen=True)
class Site:
    """The white-label header and contact details every page shows."""

    name: str
    logo_url: str | None
    colour: str
    accent: str
    lang: str
    phone: str | None
    phone_label: str | None
    email: str | None
    address: str | None


def site() -> Site:
    """The running business's name, logo, colours, language and contact details."""
    cfg = current_config()
    branding = cfg.branding
    logo = branding.logo if branding.logo_is_url else ("/brand/logo" if branding.logo else None)
    return Site(
        name=cfg.name,
        logo_url=logo,
        colour=branding.colour,
        accent=branding.accent or branding.colour,
        lang=cfg.locale.replace("_", "-"),
        phone=cfg.phone,
        phone_label=printable_phone(cfg.phone),
        email=cfg.email,
        address=cfg.address,
    )


@bp.app_context_processor
def _site_context() -> dict[str, Any]:
    # Every template in the app may extend base.html, so every one gets the site.
    return {"site": site()}


def private(response: Response) -> Response:
    """Headers for pages whose URL is a credential: never cached, sent on, framed or indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' https: data:; "
        f"style-src 'self' 'nonce-{csp_nonce()}'; "
        "script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    return response


@bp.after_request
def _private(response: Response) -> Response:
    if request.endpoint == "portal.logo":
        return response
    return private(response)


# ------------------------------------------------------------------- shared: formatting


@dataclass(frozen=True)
class Formats:
    """Times, days and money in the business's zone, locale and currency."""

    ctx: BusinessContext

    def when(self, moment: datetime) -> str:
        """ "Tue, Nov 17, 10:00 AM" in the business's zone."""
        return format_when(moment, self.ctx.zone, self.ctx.locale)

    def day(self, moment: datetime | date) -> str:
        """ "Tue, Nov 17"."""
        return format_day(moment, self.ctx.zone, self.ctx.locale)

    def date(self, moment: datetime | date) -> str:
        """ "Nov 17, 2026"."""
        day = self.ctx.local_date(moment) if isinstance(moment, datetime) else moment
        return plain(format_date(day, "medium", locale=self.ctx.locale))

    def span(self, start: datetime, end: datetime) -> str:
        """ "2:00 – 2:45 PM" (12-hour locales) or "14:00–14:45", in the business's zone."""
        pattern = Locale.parse(self.ctx.locale).time_formats["short"].pattern
        skeleton = "hm" if "h" in pattern else "Hm"
        first, last = (m.astimezone(self.ctx.zone).replace(tzinfo=None) for m in (start, end))
        return plain(format_interval(first, last, skeleton, locale=self.ctx.locale))

    def phone(self, number: str | None) -> str:
        """A phone number as people write it: "+1 212-555-0100"."""
        return printable_phone(number) or ""

    def money(self, amount_minor: int) -> str:
        """ "$45.00"."""
        return self.ctx.money(amount_minor)

    def today(self, now: datetime) -> date:
        """The business's local date now."""
        return self.ctx.local_date(now)

    def midnight(self, day: date) -> datetime:
        """The instant a local day starts."""
        return local_instant(day, time(0), self.ctx.zone)[0]


def formats(session: Session) -> Formats:
    """Formatting for the business, read from its row."""
    return Formats(business_context(session))


# ---------------------------------------------------------------------- shared: pages


def message_page(
    heading: str,
    body: str,
    *,
    status: int = 200,
    back: tuple[str, str] | None = None,
    tone: str = "",
    contact: bool = True,
) -> Response:
    """A page that says one thing (and maybe offers a way back, and the contact details)."""
    html = render_template(
        "portal/message.html", heading=heading, body=body, back=back, tone=tone, contact=contact
    )
    return private(make_response(html, status))


def problem_page(status: str, role: str) -> Response:
    """The page for a link that cannot be used: the business's name and logo, nothing else."""
    code, heading, body = PROBLEMS.get(status, PROBLEMS[INVALID])
    text = f"{body} {NEW_LINK[role]}"
    return message_page(heading, text, status=code, tone="bad", contact=False)


def not_found() -> NoReturn:
    """Stop with a 404 that does not say whether the thing exists for someone else."""
    abort(
        message_page(
            "Not found",
            "We couldn't find that. It may have changed since the page loaded.",
            status=404,
        )
    )


def open_link(session: Session, token: str, role: Role) -> LinkCheck:
    """The link's check when it may be used; otherwise stop with its 403/410 page."""
    check = verify(session, token, role, utcnow())
    if not check.ok:
        abort(problem_page(check.status, role))
    return check


def require_form(session: Session, check: LinkCheck) -> None:
    """Stop with a 403 unless the POST carries this link's form token."""
    assert check.link_id is not None
    if not csrf_ok(session, check.link_id, request.form.get("csrf")):
        abort(
            message_page(
                "Please try again",
                "This form was out of date. Go back, reload the page and try again.",
                status=403,
                tone="bad",
            )
        )


def notice() -> str | None:
    """The confirmation to show after a redirect (`?notice=`), if it is one we know."""
    return NOTICES.get(request.args.get("notice", ""))


def local_date_arg(name: str) -> date | None:
    """A YYYY-MM-DD query or form value, or None when absent or malformed."""
    raw = request.values.get(name, "")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------- the logo


@bp.get("/brand/logo")
def logo() -> ResponseReturnValue:
    """The logo file business.toml names (a URL logo is linked directly instead)."""
    branding = current_config().branding
    if not branding.logo or branding.logo_is_url:
        abort(404)
    return send_file(branding.logo, max_age=3600)


# -------------------------------------------------------------------------- the account


def _home_url(token: str, notice_key: str | None = None) -> str:
    return f"/portal/{token}" + (f"?notice={notice_key}" if notice_key else "")


def _appointment_view(
    appointment: Appointment, fmt: Formats, now: datetime, cutoff: timedelta
) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "service": appointment.service.name,
        "staff": appointment.staff.name,
        "when": promised(appointment, fmt.ctx.zone, fmt.ctx.locale),  # a window if promised one
        "status": appointment.status,
        "status_label": STATUS_LABELS.get(appointment.status, appointment.status),
        "changeable": appointment.status != IN_PROGRESS and appointment.starts_at - now >= cutoff,
    }


def _invoice_views(session: Session, customer_id: int, fmt: Formats, now: datetime) -> list[Any]:
    invoices = issued_invoices(session, customer_id)
    sums = totals_for(session, invoices)
    rows = []
    for invoice in sorted(invoices, key=lambda i: (i.issued_at, i.id), reverse=True):
        result = sums[invoice.id]
        if invoice.voided_at is not None:
            label, tone = "Cancelled", "muted"
        elif result.balance <= 0:
            label, tone = "Paid", "ok"
        elif invoice.due_at is not None and invoice.due_at < now:
            label, tone = "Overdue", "bad"
        elif invoice.status == PARTIALLY_PAID:
            label, tone = "Part paid", "warn"
        else:
            label, tone = "To pay", "warn"
        rows.append(
            {
                "id": invoice.id,
                "number": invoice.number,
                "issued": fmt.date(invoice.issued_at) if invoice.issued_at else "",
                "due": fmt.date(invoice.due_at) if invoice.due_at else "",
                "total": fmt.money(result.total),
                "paid": fmt.money(result.paid),
                "balance": fmt.money(max(result.balance, 0)),
                "owing": invoice.voided_at is None and result.balance > 0,
                "label": label,
                "tone": tone,
            }
        )
    return rows


def _estimate_views(
    session: Session, customer_id: int, fmt: Formats, now: datetime
) -> list[dict[str, Any]]:
    estimates = session.scalars(
        select(Estimate)
        .where(Estimate.customer_id == customer_id, Estimate.status.in_(tuple(ESTIMATE_LABELS)))
        .order_by(Estimate.id.desc())
    )
    return [
        {
            "id": estimate.id,
            "number": estimate.number,
            "total": fmt.money(estimate_totals(session, estimate).total),
            "valid_until": fmt.date(estimate.valid_until),
            "label": ESTIMATE_LABELS[estimate.status],
            "approvable": estimate.status == ESTIMATE_SENT and now <= estimate.valid_until,
            "expired": estimate.status == ESTIMATE_SENT and now > estimate.valid_until,
        }
        for estimate in estimates
    ]


@bp.get("/portal/<token>")
def home(token: str) -> ResponseReturnValue:
    """The customer's account: appointments, estimates, invoices, statements, saved card."""
    now = utcnow()
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        customer_id = check.customer_id
        assert customer_id is not None and check.link_id is not None
        customer = session.get(Customer, customer_id)
        fmt = formats(session)
        cutoff = timedelta(hours=business_context(session).rules.cancellation_cutoff_hours)
        card = saved_card(session, customer_id)
        today = fmt.today(now)
        return render_template(
            "portal/home.html",
            token=token,
            csrf=csrf_token(session, check.link_id),
            customer_name=(customer.name if customer else None) or "",
            notice=notice(),
            upcoming=[
                _appointment_view(a, fmt, now, cutoff)
                for a in upcoming(session, customer_id, now=now)
            ],
            past=[
                _appointment_view(a, fmt, now, cutoff)
                for a in history(session, customer_id, now=now)[:20]
            ],
            cutoff_hours=int(cutoff.total_seconds() // 3600),
            estimates=_estimate_views(session, customer_id, fmt, now),
            series=[
                {
                    "pattern": item.pattern,
                    "service": item.service,
                    "staff": item.staff,
                    "dates": [fmt.when(a.starts_at) for a in item.ahead[:4]],
                    "count": len(item.ahead),
                }
                for item in series_for(session, now, customer_id=customer_id)
            ],
            invoices=_invoice_views(session, customer_id, fmt, now),
            card=card_label(card) if card else None,
            statement_from=(today - timedelta(days=90)).isoformat(),
            statement_to=today.isoformat(),
            files=attachment_views(
                attachments.for_customer(session, customer_id), f"/portal/{token}/files", fmt.when
            ),
            offers=opted_in(session, customer_id),
        )


# ------------------------------------------------------------------------ appointments


def _own_appointment(session: Session, check: LinkCheck, appointment_id: int) -> Appointment:
    appointment = session.scalars(
        select(Appointment).where(
            Appointment.id == appointment_id, Appointment.customer_id == check.customer_id
        )
    ).first()
    if appointment is None:
        not_found()
    return appointment


def _slot_value(start: datetime, staff_id: int) -> str:
    return f"{start.isoformat()}|{staff_id}"


def _parse_slot(raw: str) -> tuple[datetime, int] | None:
    start_text, _, staff_text = raw.partition("|")
    try:
        start = datetime.fromisoformat(start_text)
        staff_id = int(staff_text)
    except ValueError:
        return None
    if row_id(staff_text.strip()) is None:
        return None
    return (start, staff_id) if start.tzinfo is not None else None


@bp.get("/portal/<token>/appointments/<int:appointment_id>/reschedule")
def reschedule_page(token: str, appointment_id: int) -> ResponseReturnValue:
    """The best open times for this appointment's service, from a chosen day on."""
    now = utcnow()
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        appointment = _own_appointment(session, check, appointment_id)
        fmt = formats(session)
        today = fmt.today(now)
        first = max(local_date_arg("from") or today, today)
        local_start = appointment.starts_at.astimezone(fmt.ctx.zone)
        query = SlotQuery(
            service_id=appointment.service_id,
            start=max(now, fmt.midnight(first)),
            end=fmt.midnight(first + timedelta(days=7)),
            staff_id=appointment.staff_id,
            customer_id=appointment.customer_id,
            target=local_instant(first, local_start.time(), fmt.ctx.zone)[0],
            ignore_appointment_id=appointment.id,
        )
        slots = best_slots(session, query, now=now, limit=SLOT_CHOICES)
        if len(slots) < SLOT_CHOICES // 2:  # the same person is busy: anyone who does it
            anyone = SlotQuery(**{**query.__dict__, "staff_id": None})
            seen = {(s.start, s.staff_id) for s in slots}
            slots += [
                s
                for s in best_slots(session, anyone, now=now, limit=SLOT_CHOICES)
                if (s.start, s.staff_id) not in seen
            ][: SLOT_CHOICES - len(slots)]
        names = {sid: name for sid, name in session.execute(select(Staff.id, Staff.name))}
        return render_template(
            "portal/reschedule.html",
            token=token,
            csrf=csrf_token(session, check.link_id or 0),
            appointment=_appointment_view(appointment, fmt, now, timedelta(0)),
            slots=[
                {
                    "value": _slot_value(slot.start, slot.staff_id),
                    "when": fmt.when(slot.start),
                    "staff": names.get(slot.staff_id, ""),
                }
                for slot in sorted(slots, key=lambda s: (s.start, s.staff_id))
            ],
            first=first.isoformat(),
            today=today.isoformat(),
            next_week=(first + timedelta(days=7)).isoformat(),
        )


@bp.post("/portal/<token>/appointments/<int:appointment_id>/reschedule")
def reschedule_submit(token: str, appointment_id: int) -> ResponseReturnValue:
    """Move the appointment to the chosen time (the booking rules and cut-off apply)."""
    now = utcnow()
    back = (f"/portal/{token}/appointments/{appointment_id}/reschedule", "Choose another time")
    chosen = _parse_slot(request.form.get("slot", ""))
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        require_form(session, check)
        appointment = _own_appointment(session, check, appointment_id)
        if chosen is None:
            return message_page(
                "Choose a time", "Please pick one of the times offered.", status=400, back=back
            )
        outcome = reschedule(
            session, appointment.id, new_start=chosen[0], staff_id=chosen[1], now=now
        )
        if not isinstance(outcome, Booked):
            return message_page("We couldn't move it", outcome.message, status=409, back=back)
    return redirect(_home_url(token, "moved"), code=303)


@bp.get("/portal/<token>/appointments/<int:appointment_id>/cancel")
def cancel_page(token: str, appointment_id: int) -> ResponseReturnValue:
    """Ask before cancelling."""
    now = utcnow()
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        appointment = _own_appointment(session, check, appointment_id)
        fmt = formats(session)
        return render_template(
            "portal/cancel.html",
            token=token,
            csrf=csrf_token(session, check.link_id or 0),
            appointment=_appointment_view(appointment, fmt, now, timedelta(0)),
        )


@bp.post("/portal/<token>/appointments/<int:appointment_id>/cancel")
def cancel_submit(token: str, appointment_id: int) -> ResponseReturnValue:
    """Cancel, unless the cancellation cut-off has passed."""
    now = utcnow()
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        require_form(session, check)
        appointment = _own_appointment(session, check, appointment_id)
        outcome = cancel(
            session, appointment.id, now=now, reason="cancelled in the customer portal"
        )
        if not isinstance(outcome, Changed):
            return message_page(
                "We couldn't cancel it",
                outcome.message,
                status=409,
                back=(_home_url(token), "Back to your account"),
            )
    return redirect(_home_url(token, "cancelled"), code=303)


# ---------------------------------------------------------------- estimates and invoices


def _own_estimate(session: Session, check: LinkCheck, estimate_id: int) -> Estimate:
    estimate = session.scalars(
        select(Estimate).where(
            Estimate.id == estimate_id,
            Estimate.customer_id == check.customer_id,
            Estimate.status.in_(tuple(ESTIMATE_LABELS)),
        )
    ).first()
    if estimate is None:
        not_found()
    return estimate


def _own_invoice(session: Session, check: LinkCheck, invoice_id: int) -> Invoice:
    invoice = session.scalars(
        select(Invoice).where(
            Invoice.id == invoice_id,
            Invoice.customer_id == check.customer_id,
            Invoice.issued_at.is_not(None),
        )
    ).first()
    if invoice is None:
        not_found()
    return invoice


def _pdf(data: bytes, name: str) -> Response:
    return send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name
    )


@bp.post("/portal/<token>/estimates/<int:estimate_id>/approve")
def approve(token: str, estimate_id: int) -> ResponseReturnValue:
    """Approve a sent estimate, recorded as given from this link."""
    return _decide(token, estimate_id, approve_estimate, "approve", "approved")


@bp.post("/portal/<token>/estimates/<int:estimate_id>/decline")
def decline(token: str, estimate_id: int) -> ResponseReturnValue:
    """Decline a sent estimate, recorded as given from this link."""
    return _decide(token, estimate_id, decline_estimate, "decline", "declined")


def _decide(
    token: str, estimate_id: int, decide: Callable[..., Any], verb: str, notice: str
) -> ResponseReturnValue:
    """Record the customer's answer to an estimate from their portal link."""
    now = utcnow()
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        require_form(session, check)
        estimate = _own_estimate(session, check, estimate_id)
        answer = decide(
            session, estimate.id, channel=WEB, address=f"portal:{check.link_id}", now=now
        )
        if not answer.ok:
            return message_page(
                f"We couldn't {verb} it",
                answer.reply.text,
                status=409,
                back=(_home_url(token), "Back to your account"),
            )
    return redirect(_home_url(token, notice), code=303)


@bp.get("/portal/<token>/estimates/<int:estimate_id>.pdf")
def estimate_file(token: str, estimate_id: int) -> ResponseReturnValue:
    """The estimate as a PDF."""
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        estimate = _own_estimate(session, check, estimate_id)
        return _pdf(estimate_pdf(session, estimate), f"{estimate.number}.pdf")


@bp.get("/portal/<token>/invoices/<int:invoice_id>/pay")
def pay(token: str, invoice_id: int) -> ResponseReturnValue:
    """Go to the invoice's pay link (made if it has none), which pays the balance now."""
    now = utcnow()
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        invoice = _own_invoice(session, check, invoice_id)
        if invoice.voided_at is not None or invoice.status in (PAID, VOID):
            return redirect(_home_url(token), code=303)
        link = pay_link(session, invoice.id, now=now)
        target = f"/pay/{link.token}"
    return redirect(target, code=303)


@bp.get("/portal/<token>/invoices/<int:invoice_id>.pdf")
def invoice_file(token: str, invoice_id: int) -> ResponseReturnValue:
    """The invoice as a PDF."""
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        invoice = _own_invoice(session, check, invoice_id)
        data = invoice_pdf(session, invoice, now=utcnow())
        return _pdf(data, f"{invoice.number or 'invoice'}.pdf")


@bp.get("/portal/<token>/statement.pdf")
def statement_file(token: str) -> ResponseReturnValue:
    """The customer's statement for local dates from..to (inclusive), as a PDF."""
    now = utcnow()
    start, end = local_date_arg("from"), local_date_arg("to")
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        back = (_home_url(token) + "#statement", "Back to your account")
        if start is None or end is None:
            return message_page(
                "Choose the dates", "Enter both dates as YYYY-MM-DD.", status=400, back=back
            )
        if end < start or (end - start).days > STATEMENT_MAX_DAYS:
            return message_page(
                "Choose the dates",
                "The first date must come before the last, at most three years apart.",
                status=400,
                back=back,
            )
        assert check.customer_id is not None
        st = statement(session, check.customer_id, start, end)
        data = statement_pdf(session, st, now=now)
    return _pdf(data, f"statement-{start.isoformat()}-to-{end.isoformat()}.pdf")


@bp.post("/portal/<token>/card/remove")
def remove_card(token: str) -> ResponseReturnValue:
    """Stop using the customer's saved card."""
    now = utcnow()
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        require_form(session, check)
        assert check.customer_id is not None
        forget_card(session, check.customer_id, now=now)
    return redirect(_home_url(token, "card_removed"), code=303)

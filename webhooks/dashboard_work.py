"""The dashboard's estimates and recurring series: write and send an estimate from a form,
follow each one through its chain (estimate → appointment → invoice), and see every
standing booking with the dates still ahead.

/dashboard/<token>/estimates               the estimates, newest first, and a form for a new one
POST /dashboard/<token>/estimates          create (and send) an estimate from the form
/dashboard/<token>/estimates/<id>          one estimate: lines, answer, appointment, invoice
/dashboard/<token>/estimates/<id>.pdf      the estimate as a PDF
/dashboard/<token>/series                  recurring series with the dates still ahead

Creating goes through bot.billing.documents.estimate_jobs, as the chat and the CLI do, and is audited
(actor "dashboard").
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, redirect, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.documents.estimate_jobs import chain_of_estimate, create_and_send, parse_items
from bot.billing.documents.estimates import estimate_lines, estimate_pdf, estimate_totals
from bot.billing.ledger.invoices import totals
from bot.core.clock import utcnow
from bot.core.errors import InvalidRequest
from bot.scheduling.series_info import series_for
from storage.billing import Estimate
from storage.models import Customer
from webhooks.context import current_db
from webhooks.dashboard import INVOICE_LABELS, _audit, _open, _page
from webhooks.portal import (
    ESTIMATE_LABELS,
    Formats,
    formats,
    not_found,
    private,
    require_form,
)

bp = Blueprint("dashboard_work", __name__)


@bp.after_request
def _private(response: Response) -> Response:
    """These pages' URLs hold the owner's token: never cached, sent on or indexed."""
    return private(response)


def _estimate_row(session: Session, fmt: Formats, estimate: Estimate) -> dict[str, Any]:
    chain = chain_of_estimate(session, estimate)
    return {
        "id": estimate.id,
        "number": estimate.number,
        "customer": estimate.customer.name or "",
        "customer_id": estimate.customer_id,
        "total": fmt.money(estimate_totals(session, estimate).total),
        "status": ESTIMATE_LABELS.get(estimate.status, estimate.status),
        "created": fmt.date(estimate.created_at),
        "valid_until": fmt.date(estimate.valid_until),
        "appointment": (
            {
                "id": chain.appointment.id,
                "when": fmt.when(chain.appointment.starts_at),
                "what": f"{chain.appointment.service.name} with {chain.appointment.staff.name}",
                "status": chain.appointment.status.replace("_", " "),
                "day": chain.appointment.starts_at.astimezone(fmt.ctx.zone).date().isoformat(),
            }
            if chain.appointment
            else None
        ),
        "invoice": (
            {
                "number": chain.invoice.number or "draft",
                "status": INVOICE_LABELS.get(chain.invoice.status, chain.invoice.status),
                "total": fmt.money(totals(session, chain.invoice).total),
            }
            if chain.invoice
            else None
        ),
    }


@bp.get("/dashboard/<token>/estimates")
def estimates(token: str) -> ResponseReturnValue:
    """Every estimate, newest first, with its chain; a form to write a new one."""
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        rows = session.scalars(select(Estimate).order_by(Estimate.id.desc()).limit(100))
        people = session.scalars(
            select(Customer).where(Customer.name.is_not(None)).order_by(Customer.name)
        )
        return _page(
            "dashboard/estimates.html",
            token,
            "estimates",
            session,
            check,
            estimates=[_estimate_row(session, fmt, e) for e in rows],
            customers=[{"id": c.id, "name": c.name} for c in people],
            error=request.args.get("error", ""),
        )


@bp.post("/dashboard/<token>/estimates")
def create(token: str) -> ResponseReturnValue:
    """Write an estimate from the form ("colour 120, toner 25") and send it if asked."""
    now = utcnow()
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        customer = session.get(Customer, request.form.get("customer", type=int) or 0)
        if customer is None:
            return redirect(f"/dashboard/{token}/estimates?error=Pick+a+customer", code=303)
        try:
            items = parse_items(
                request.form.get("items", "") + f", valid {request.form.get('valid', '30')} days",
                formats(session).ctx.currency,
            )
        except InvalidRequest as exc:
            return redirect(f"/dashboard/{token}/estimates?error={exc}", code=303)
        estimate, sent = create_and_send(
            session,
            customer_id=customer.id,
            items=items,
            now=now,
            send=request.form.get("send") == "on",
            notes=request.form.get("notes", "")[:500],
        )
        _audit(session, check, "estimate_create", now, estimate=estimate.number, sent=sent)
        target = f"/dashboard/{token}/estimates/{estimate.id}"
    return redirect(target, code=303)


@bp.get("/dashboard/<token>/estimates/<int:estimate_id>")
def estimate(token: str, estimate_id: int) -> ResponseReturnValue:
    """One estimate: its lines, the customer's answer, the appointment and the invoice."""
    with current_db().read() as session:
        check = _open(session, token)
        found = session.get(Estimate, estimate_id)
        if found is None:
            not_found()
        fmt = formats(session)
        result = estimate_totals(session, found)
        answered = found.approved_at or found.declined_at
        return _page(
            "dashboard/estimate.html",
            token,
            "estimates",
            session,
            check,
            e=_estimate_row(session, fmt, found),
            lines=[
                {
                    "description": ln.description,
                    "quantity": ln.quantity,
                    "unit": fmt.money(ln.unit_price_minor),
                    "amount": fmt.money(ln.net_minor),
                }
                for ln in estimate_lines(session, found.id)
            ],
            subtotal=fmt.money(result.subtotal),
            tax=fmt.money(result.tax),
            total=fmt.money(result.total),
            answer=(
                f"{'Approved' if found.approved_at else 'Declined'} {fmt.when(answered)}"
                f" by {found.answer_channel}"
                if answered
                else ""
            ),
        )


@bp.get("/dashboard/<token>/estimates/<int:estimate_id>.pdf")
def estimate_file(token: str, estimate_id: int) -> ResponseReturnValue:
    """The estimate as a PDF (with its appointment and invoice when it has them)."""
    with current_db().read() as session:
        _open(session, token)
        found = session.get(Estimate, estimate_id)
        if found is None:
            not_found()
        data = estimate_pdf(session, found)
        name = f"{found.number}.pdf"
    response: Response = send_file(
        io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name
    )
    return response


@bp.get("/dashboard/<token>/series")
def series(token: str) -> ResponseReturnValue:
    """Recurring series with the dates still ahead, soonest first."""
    now = utcnow()
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        return _page(
            "dashboard/series.html",
            token,
            "series",
            session,
            check,
            series=[
                {
                    "id": s.id,
                    "customer": s.customer_name,
                    "customer_id": s.customer_id,
                    "service": s.service,
                    "staff": s.staff,
                    "pattern": s.pattern,
                    "count": len(s.ahead),
                    "dates": [fmt.when(a.starts_at) for a in s.ahead[:6]],
                    "last": fmt.when(s.ahead[-1].starts_at),
                }
                for s in series_for(session, now)
            ],
        )

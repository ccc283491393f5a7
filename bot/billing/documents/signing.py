"""Estimates approved with a signature: the text the customer signs, the request, the sign-off.

The signed text spells out the estimate (number, every line, the total, the validity), so
its SHA-256 pins exactly what was agreed. Signing approves the estimate through the same
`approve_estimate` a chat reply or the portal uses, recorded as given from the signing link.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.billing.documents.delivery import long_date
from bot.billing.documents.estimates import (
    approve_estimate,
    estimate_lines,
    estimate_totals,
    get_estimate,
    send_estimate,
)
from bot.config.context import business_context
from bot.core.text import _, t
from bot.field.signatures import Kind, SigningRefused, check_png, request_signature, sign
from bot.messaging.messages import WEB
from storage.billing import ESTIMATE_DRAFT, ESTIMATE_SENT, Estimate
from storage.files import Signature, SignatureRequest


def estimate_text(session: Session, estimate: Estimate) -> str:
    """What the customer signs to approve an estimate: every line and the total."""
    ctx = business_context(session)
    lines = [
        f"- {line.description} x {line.quantity}: {ctx.money(line.net_minor)}"
        for line in estimate_lines(session, estimate.id)
    ]
    total = ctx.money(estimate_totals(session, estimate).total)
    parts = [
        t("I approve estimate {number} from {business}, "
        "dated {date}, for the work below:", number=estimate.number, business=ctx.name, date=long_date(ctx, estimate.created_at)),
        *lines,
        t("Total including tax: {total}. Valid until {until}.", total=total, until=long_date(ctx, estimate.valid_until)),
    ]
    if estimate.notes:
        parts.append(t("Notes: {notes}", notes=estimate.notes))
    parts.append(_("I agree to this work being done and to pay the total shown."))
    return "\n".join(parts)


def request_for_estimate(
    session: Session, estimate_id: int, *, requested_by: str, now: datetime
) -> SignatureRequest | None:
    """A request to approve an estimate by signing (sending it first if still a draft).

    None when the estimate cannot be approved any more (answered, invoiced) or the customer
    cannot be reached to send a draft.
    """
    estimate = get_estimate(session, estimate_id)
    if estimate.status == ESTIMATE_DRAFT and not send_estimate(session, estimate.id, now=now):
        return None
    if estimate.status != ESTIMATE_SENT or now > estimate.valid_until:
        return None
    return request_signature(
        session,
        customer_id=estimate.customer_id,
        kind=Kind.ESTIMATE,
        text=estimate_text(session, estimate),
        title=t("Estimate {number}", number=estimate.number),
        estimate_id=estimate.id,
        appointment_id=estimate.appointment_id,
        requested_by=requested_by,
        now=now,
    )


def complete(
    session: Session,
    request: SignatureRequest,
    *,
    name: str,
    now: datetime,
    image_png: bytes | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Signature:
    """Sign a request; an estimate's request also approves the estimate (or is refused)."""
    if image_png:
        check_png(image_png)
    if not " ".join((name or "").split()):
        raise SigningRefused(_("Please type your full name."))
    if request.signed_at is not None or now >= request.expires_at:
        raise SigningRefused(_("This link can no longer be signed."))
    if request.estimate_id is not None and request.kind == Kind.ESTIMATE:
        answer = approve_estimate(
            session, request.estimate_id, channel=WEB, address=f"sign:{request.id}", now=now
        )
        if not answer.ok:
            raise SigningRefused(answer.reply.text)
    return sign(
        session, request, name=name, now=now, image_png=image_png, ip=ip, user_agent=user_agent
    )

"""Signatures from the admin chat: staff and owners send the customer a link to sign.

"sign", "get signature", "send the waiver" (staff: for their job now; "before"/"after" picks
the disclaimer, else the one still missing), "sign #12" or "send the waiver to Jane"
(owners), and "sign EST-0003" (an estimate, approved by signing). The link goes to the
customer through the outbox. When a job is completed and its service wants an after-job
signature it does not have, the completion answer says so.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.billing.documents.signing import request_for_estimate
from bot.core.text import _, t
from bot.customers.attachments import current_or_next, staff_job
from bot.field.signatures import Kind, due_kind, missing, request_for_appointment, send_link
from bot.scheduling.agenda import find_customers
from conversations.admin import commands as admin
from conversations.admin.commands import OWNER, Actor, answer, audit, strip_command
from conversations.turn import Turn
from storage.billing import Estimate
from storage.files import SignatureRequest
from storage.models import COMPLETED, IN_PROGRESS, Appointment, Customer, Staff

WORDS = (
    "get a signature",
    "get signature",
    "get signed",
    "signature",
    "send the waiver",
    "send waiver",
    "send the disclaimer",
    "send disclaimer",
    "waiver",
    "sign",
)
PATTERN = (
    r"^/?(sign|signature|waiver)\b|^/?get\b.*\b(signed|signature|sign)\b"
    r"|\bsend (the |a )?(waiver|disclaimer|signature( link)?)\b"
)
JUST_FINISHED = timedelta(hours=3)  # "sign" after "done" still means the job just finished
_ESTIMATE = re.compile(r"\b([a-z]{2,5})[- ]?(\d{1,6})\b", re.I)


def _kind_asked(text: str) -> Kind | None:
    lowered = text.lower()
    if re.search(r"\bafter\b", lowered):
        return Kind.AFTER
    if re.search(r"\bbefore\b", lowered):
        return Kind.BEFORE
    return None


def _estimate_ref(turn: Turn, text: str) -> Estimate | None:
    for match in _ESTIMATE.finditer(text):
        number = f"{match.group(1)}-{match.group(2)}".upper()
        found = turn.session.scalars(
            select(Estimate).where(func.upper(Estimate.number) == number)
        ).first()
        if found is None and match.group(2).isdigit():
            # "est 3" for EST-0003
            wanted = f"{match.group(1).upper()}-{int(match.group(2)):04d}"
            found = turn.session.scalars(
                select(Estimate).where(func.upper(Estimate.number) == wanted)
            ).first()
        if found is not None:
            return found
    return None


def _just_finished(turn: Turn, staff_key: str) -> Appointment | None:
    """The staff member's job finished in the last hours still missing its after-job form."""
    recent = turn.session.scalars(
        select(Appointment)
        .join(Staff, Staff.id == Appointment.staff_id)
        .where(
            Staff.key == staff_key,
            Appointment.status == COMPLETED,
            Appointment.ends_at > turn.now - JUST_FINISHED,
            Appointment.starts_at <= turn.now,
        )
        .order_by(Appointment.ends_at.desc())
        .limit(3)
    )
    return next((a for a in recent if missing(turn.session, a, Kind.AFTER)), None)


def _appointment_for(turn: Turn, actor: Actor, text: str) -> Appointment | None:
    match = re.search(r"#\s*(\d+)", text)
    if match:
        found = turn.session.get(Appointment, int(match.group(1)))
        if found is not None and actor.role != OWNER and found.staff.key != actor.staff_key:
            return None  # staff ask for their own jobs only
        return found
    if actor.role != OWNER and actor.staff_key:
        job = staff_job(turn.session, actor.staff_key, turn.now)
        if job is not None and job.status == IN_PROGRESS:
            return job
        return _just_finished(turn, actor.staff_key) or job
    rest = strip_command(text, *WORDS)
    rest = re.sub(r"^(for|to)\s+", "", rest, flags=re.I)
    rest = re.sub(r"\b(before|after)( the job)?\b", "", rest, flags=re.I).strip(" ,.")
    if not rest:
        return None
    customers = find_customers(turn.session, rest)
    if len(customers) != 1:
        return None
    return current_or_next(turn.session, customers[0].id, turn.now)


def ask_signature(turn: Turn, actor: Actor, text: str) -> None:
    """Send the customer a link to sign a job's disclaimer or an estimate."""
    name = turn.business.name
    estimate = _estimate_ref(turn, text) if actor.role == OWNER else None
    if estimate is not None:
        request = request_for_estimate(
            turn.session, estimate.id, requested_by=actor.tag, now=turn.now
        )
        if request is None:
            answer(turn, [t("{number} can't be signed now (it is {status}).", number=estimate.number, status=estimate.status)])
            return
        _sent(turn, actor, request, send_link(turn.session, request, name, turn.now))
        return
    job = _appointment_for(turn, actor, text)
    if job is None:
        answer(
            turn,
            [_('Which job? Say "sign #12", "send the waiver to Jane" or "sign EST-0003".')]
            if actor.role == OWNER
            else [_("No job of yours to sign for today.")],
        )
        return
    kind = _kind_asked(text) or due_kind(turn.session, job)
    if kind is None:
        answer(
            turn,
            [
                t("Nothing to sign for #{job}: it is signed, or {service} has no disclaimer.", job=job.id, service=job.service.name)
            ],
        )
        return
    request = request_for_appointment(turn.session, job, kind, requested_by=actor.tag, now=turn.now)
    if request is None:
        answer(turn, [t("{service} has no disclaimer to sign {kind} the job.", service=job.service.name, kind=kind)])
        return
    _sent(turn, actor, request, send_link(turn.session, request, name, turn.now))


def _sent(turn: Turn, actor: Actor, request: SignatureRequest, queued: bool) -> None:
    audit(
        turn,
        actor,
        "signature_request",
        request=request.id,
        appointment=request.appointment_id,
        estimate=request.estimate_id,
        kind=request.kind,
    )
    customer = turn.session.get(Customer, request.customer_id)
    who = (customer.name if customer else None) or _("The customer")
    if not queued:
        answer(turn, [t("{who} can't be reached by message, so no link was sent.", who=who)])
        return
    ref = f" (#{request.appointment_id})" if request.appointment_id else ""
    answer(turn, [t('Sent {who} the link to sign "{request}"{ref}. It works for 3 days.', who=who, request=request.title, ref=ref)])


def missing_after_signature(turn: Turn, appointment: Appointment | None) -> list[str]:
    """The warning a completion carries while the after-job signature is missing."""
    if appointment is None or not missing(turn.session, appointment, Kind.AFTER):
        return []
    return [
        t("Warning: the customer hasn't signed the after-job form yet. "
        'Say "sign" (or "sign #{id}") to send them the link.', id=appointment.id)
    ]


_registered: list[bool] = []


def register() -> None:
    """Add the signature note after a completed job (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.COMPLETION_NOTES.append(missing_after_signature)

"""Twilio ingress: inbound SMS and WhatsApp messages, and delivery status callbacks.

`POST /twilio/sms` and `POST /twilio/whatsapp` take the form Twilio posts for an inbound
message (one handler: "whatsapp:" in From tells the channel); `POST /twilio/status` takes
the status callbacks of the messages we sent; `GET /outbox/files/<token>/<name>` serves
the .ics and PDFs that SMS and WhatsApp carry as signed links. Every request must carry a valid
X-Twilio-Signature for SLOTBOT_PUBLIC_URL + path (+ query) — the URL Twilio called, not
the one a proxy or tunnel hands us — or it is refused with 403 before anything is stored.
Without TWILIO_AUTH_TOKEN the endpoints answer 503: unsigned input is never accepted.

An inbound message becomes an `Inbound` (E.164 sender, MessageSid as the dedupe key, media
as attachments, a WhatsApp pin as a location) and is recorded in the inbox — one insert
under the unique MessageSid, so a redelivery is a no-op — and Twilio gets an empty TwiML
`<Response/>` at once. If the database refuses the insert, the delivery is kept in the spool
(`bot.messaging.spool`) and Twilio still gets its 200: Twilio never redelivers after a 5xx. Only when
the disk refuses it too is the answer a 503 (logged critical). The worker's inbox processor
then handles it and sends the replies through the API. STOP on SMS gets no reply from us
(Twilio answers it).
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.config.context import business_context
from bot.core.logcontext import delivery
from bot.core.names import clean_text
from bot.core.text import t
from bot.customers.identity import normalise_phone
from bot.messaging.inbox import Keeping, keep
from bot.messaging.messages import SMS, WHATSAPP, Attachment, Inbound, Location, Reply
from bot.messaging.outbox import DELIVERY_FAILED, STAFF_FACING, enqueue
from bot.messaging.senders.render import read_attachment_token
from storage.messaging import FAILED, SENT, OutboxMessage
from storage.models import CustomerIdentity
from webhooks.channels import clock, phone_region, public_url, setting
from webhooks.context import current_db
from webhooks.spooling import app_spool

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)

UNSUBSCRIBED = 21610  # Twilio: the recipient replied STOP
MAX_MEDIA = 10  # Twilio forwards at most ten media items per message
_EMPTY_TWIML = str(MessagingResponse())
# Twilio's message ids: "SM" or "MM" and 32 hex digits; anything far from that is not Twilio's.
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
# Status callbacks that mean the message did not reach the phone.
_UNDELIVERED = ("undelivered", "failed")


def _twiml() -> Response:
    return Response(_EMPTY_TWIML, mimetype="text/xml")


def _verified() -> None:
    """Abort unless Twilio signed this request (503 when no auth token is configured)."""
    token = setting("TWILIO_AUTH_TOKEN")
    if not token:
        abort(503, description="Twilio is not configured (TWILIO_AUTH_TOKEN)")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(token).validate(public_url(), request.form, signature):
        log.warning("refused a Twilio request to %s: bad or missing signature", request.path)
        abort(403, description="invalid Twilio signature")


def _float(raw: str | None) -> float | None:
    """A finite number, or None (NaN and infinity cannot be stored as JSON)."""
    try:
        value = float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def inbound_from_form(form: dict[str, str], region: str, received_at: datetime) -> Inbound | None:
    """The `Inbound` a Twilio messaging form describes; None without a usable sender."""
    form = {key: clean_text(value) for key, value in form.items()}  # storable text only
    raw_from = form.get("From", "")
    channel = WHATSAPP if raw_from.startswith("whatsapp:") else SMS
    sender = normalise_phone(raw_from, region)
    if sender is None and form.get("WaId"):
        sender = normalise_phone("+" + form["WaId"], region)
    if sender is None:
        return None
    attachments = []
    try:
        count = min(MAX_MEDIA, int(form.get("NumMedia") or 0))
    except ValueError:
        count = 0
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if url:
            kind = form.get(f"MediaContentType{index}") or "application/octet-stream"
            attachments.append(Attachment(content_type=kind, url=url))
    latitude, longitude = _float(form.get("Latitude")), _float(form.get("Longitude"))
    location = None
    if latitude is not None and longitude is not None:
        label = form.get("Label") or form.get("Address") or None
        location = Location(latitude, longitude, label)
    provider_id = form.get("MessageSid") or form.get("SmsMessageSid") or None
    if provider_id is not None and not _SID.match(provider_id):
        return None
    return Inbound(
        channel=channel,
        sender=sender,
        text=(form.get("Body") or "")[:4000],
        attachments=tuple(attachments),
        location=location,
        provider_id=provider_id,
        received_at=received_at,
        display_name=form.get("ProfileName") or None,
    )


@bp.post("/twilio/sms")
@bp.post("/twilio/whatsapp")
def message() -> ResponseReturnValue:
    """An inbound SMS or WhatsApp message: verify, keep (inbox or spool), answer empty TwiML."""
    _verified()
    inbound = inbound_from_form(request.form.to_dict(), phone_region(), clock()())
    if inbound is None or inbound.provider_id is None:
        log.warning("ignored a Twilio message without a usable From or MessageSid")
        return _twiml()
    with delivery(inbound.provider_id):
        kept = keep(current_db(), app_spool(), inbound)
        if kept is Keeping.LOST:
            abort(503, description="the message could not be stored")
        log.info("%s %s", inbound.channel, kept)
    return _twiml()


@bp.get("/outbox/files/<token>/<path:filename>")
def outbox_file(token: str, filename: str) -> ResponseReturnValue:
    """An inline file (.ics, PDF) of a sent message, by the signed link SMS/WhatsApp carry."""
    secret = setting("SLOTBOT_SECRET_KEY")
    found = read_attachment_token(secret, token) if secret else None
    if found is None:
        abort(404)
    message_id, index = found
    with current_db().read() as session:
        body = session.scalar(select(OutboxMessage.body).where(OutboxMessage.id == message_id))
    files = (body or {}).get("attachments") or []
    if index >= len(files) or not files[index].get("data"):
        abort(404)
    attachment = Attachment.from_json(files[index])
    response = Response(attachment.data, mimetype=attachment.content_type)
    name = attachment.filename or filename
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/twilio/status")
def status() -> ResponseReturnValue:
    """A delivery status callback: failures mark the outbox row (21610: opted out)."""
    _verified()
    sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    state = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or state not in _UNDELIVERED:
        return "", 204  # queued / sent / delivered / read: the row already says sent
    code = request.form.get("ErrorCode") or ""
    record_undelivered(sid, state, code, clock()())
    return "", 204


def record_undelivered(sid: str, state: str, code: str, now: datetime) -> bool:
    """Mark the row Twilio sent as `sid` failed; opt the number out on 21610; tell owners.

    Twilio may call more than once (and out of order): only the first failure counts.
    """
    with current_db().write() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.provider_id == sid).limit(1))
        if row is None or row.status != SENT:
            return False
        unsubscribed = code == str(UNSUBSCRIBED)
        error = f"Twilio: {state}" + (f" ({code})" if code else "")
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == SENT)
            .values(status=FAILED, last_error=error)
            .execution_options(synchronize_session=False)
        )
        if unsubscribed:
            session.execute(
                update(CustomerIdentity)
                .where(
                    CustomerIdentity.channel == row.channel,
                    CustomerIdentity.address == row.address,
                    CustomerIdentity.opted_out_at.is_(None),
                )
                .values(opted_out_at=now)
                .execution_options(synchronize_session=False)
            )
        owners = business_context(session, required=False).owner_addresses
        if row.purpose in STAFF_FACING or (row.channel, row.address) in owners or unsubscribed:
            return True  # never a note about a note; a STOP is the customer's choice
        text = row.body.get("text", "")
        quoted = text if len(text) <= 80 else text[:77] + "..."
        note = (
            t("A {purpose} to {address} by {channel} was not "
            'delivered ({error}). It said: "{quoted}"', purpose=row.purpose.replace('_', ' '), address=row.address, channel=row.channel, error=error, quoted=quoted)
        )
        for channel, address in owners:
            enqueue(
                session,
                channel=channel,
                address=address,
                reply=Reply(note),
                purpose=DELIVERY_FAILED,
                ref_id=row.id,
                now=now,
            )
        return True

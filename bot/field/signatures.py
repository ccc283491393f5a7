"""Signatures: a customer signs a service's disclaimer or an estimate on their phone.

A request is a `signature_request` row holding the exact text to sign; its link is
`<public url>/sign/<token>`, an itsdangerous `URLSafeTimedSerializer` signature (salt of its
own, so a portal token is not a signing token) over the row's id and customer, timed with
the injected clock. Like the portal's links a token is refused when tampered with, pointed
at another row, expired (3 days by default) or already used. Signing keeps the text, its
SHA-256, the signer's name, the drawn signature (a PNG, checked) or the typed name when the
page ran without JavaScript, the time, the IP and the browser.

Disclaimers come from business.toml (`disclaimer_before` / `disclaimer_after` on a
[[services]] entry); a service without them asks for nothing, so the salon demo is unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.payments.links import public_url
from bot.core.errors import InvalidRequest
from bot.core.text import N_, _, nt, t
from bot.customers.portal import secret_key
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.outbox import Purpose
from storage.files import Signature, SignatureRequest
from storage.models import COMPLETED, Appointment, Customer

SALT = "slotbot-signature"
DEFAULT_TTL = timedelta(days=3)
MAX_PNG_BYTES = 300 * 1024
MAX_PNG_SIDE = 2000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_NAME = 200


class Kind(StrEnum):
    """What is being signed."""

    BEFORE = "before"
    AFTER = "after"
    ESTIMATE = "estimate"


class Method(StrEnum):
    """How it was signed."""

    DRAWN = "drawn"
    TYPED = "typed"


class Status(StrEnum):
    """What a signing token turned out to be."""

    OK = "ok"
    EXPIRED = "expired"
    INVALID = "invalid"
    SIGNED = "signed"


TITLES = {
    Kind.BEFORE: N_("Before the job"),
    Kind.AFTER: N_("After the job"),
    Kind.ESTIMATE: N_("Estimate approval"),
}


@dataclass(frozen=True)
class SignCheck:
    """A token's verdict and, when it names a real request, the request's id."""

    status: Status
    request_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the link may be signed now."""
        return self.status == Status.OK


class SigningRefused(ValueError):
    """A signature that cannot be kept (no name, a broken image); the message says why."""


# ---------------------------------------------------------------------------- the text


def text_hash(text: str) -> str:
    """The SHA-256 (hex) of the signed text, as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def disclaimer(appointment: Appointment, kind: Kind) -> str | None:
    """The service's disclaimer text for before or after the job, if it has one."""
    service = appointment.service
    if kind == Kind.BEFORE:
        return service.disclaimer_before
    if kind == Kind.AFTER:
        return service.disclaimer_after
    return None


# ---------------------------------------------------------------------------- tokens


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the injected clock instead of time.time()."""

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


def _serializer(session: Session, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key(session), salt=SALT, signer=_ClockSigner, signer_kwargs={"now": now}
    )


def path_for(session: Session, request: SignatureRequest) -> str:
    """The signing page's path, /sign/<token> (the same token every time it is asked for)."""
    token = _serializer(session, request.created_at).dumps(
        {"req": request.id, "customer": request.customer_id}
    )
    return f"/sign/{token}"


def link_for(session: Session, request: SignatureRequest) -> str:
    """The full signing URL of a request."""
    return public_url() + path_for(session, request)


def verify(session: Session, token: str, now: datetime) -> SignCheck:
    """Check a signing token against its signature, its row, its age and whether it was used."""
    serializer = _serializer(session, now)
    try:
        payload, signed_at = serializer.loads(token, return_timestamp=True)
    except BadSignature:
        return SignCheck(Status.INVALID)
    request_id = payload.get("req") if isinstance(payload, dict) else None
    if not isinstance(request_id, int) or isinstance(request_id, bool):
        return SignCheck(Status.INVALID)
    request = session.get(SignatureRequest, request_id)
    if (
        request is None
        or payload.get("customer") != request.customer_id
        or int(signed_at.timestamp()) != int(request.created_at.timestamp())
    ):
        return SignCheck(Status.INVALID)
    if request.signed_at is not None:
        return SignCheck(Status.SIGNED, request.id)
    lifetime = int((request.expires_at - request.created_at).total_seconds())
    try:
        serializer.loads(token, max_age=lifetime)
    except SignatureExpired:
        return SignCheck(Status.EXPIRED, request.id)
    if now >= request.expires_at:
        return SignCheck(Status.EXPIRED, request.id)
    return SignCheck(Status.OK, request.id)


def form_token(session: Session, request_id: int) -> str:
    """The hidden form value that proves a POST came from this request's signing page."""
    secret = secret_key(session).encode()
    return hmac.new(secret, f"slotbot-sign-form:{request_id}".encode(), hashlib.sha256).hexdigest()


def form_ok(session: Session, request_id: int, value: str | None) -> bool:
    """Whether a submitted form value is this request's form token."""
    if not value:
        return False
    given = str(value).encode("utf-8", "surrogatepass")
    return hmac.compare_digest(form_token(session, request_id).encode(), given)


# ---------------------------------------------------------------------------- requests


def request_signature(
    session: Session,
    *,
    customer_id: int,
    kind: Kind,
    text: str,
    requested_by: str,
    now: datetime,
    appointment_id: int | None = None,
    estimate_id: int | None = None,
    title: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> SignatureRequest:
    """A new request to sign `text` (the link is `link_for(request)`)."""
    if session.get(Customer, customer_id) is None:
        raise InvalidRequest(f"a signature needs an existing customer, got {customer_id!r}")
    if not text.strip():
        raise InvalidRequest("there is nothing to sign")
    if ttl <= timedelta(0):
        raise InvalidRequest("a signing link must live for some time")
    request = SignatureRequest(
        customer_id=customer_id,
        appointment_id=appointment_id,
        estimate_id=estimate_id,
        kind=str(kind),
        title=(title or _(TITLES[kind]))[:200],
        text=text.strip(),
        requested_by=requested_by[:400],
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(request)
    session.flush()
    return request


def request_for_appointment(
    session: Session, appointment: Appointment, kind: Kind, *, requested_by: str, now: datetime
) -> SignatureRequest | None:
    """A request for the service's disclaimer (None when the service has none for `kind`)."""
    text = disclaimer(appointment, kind)
    if not text:
        return None
    return request_signature(
        session,
        customer_id=appointment.customer_id,
        kind=kind,
        text=text,
        title=t("{service}: {kind}", service=appointment.service.name, kind=_(TITLES[kind]).lower()),
        appointment_id=appointment.id,
        requested_by=requested_by,
        now=now,
    )


def send_link(session: Session, request: SignatureRequest, business: str, now: datetime) -> bool:
    """Send the signing link to the customer through the outbox; False if unreachable."""
    url = link_for(session, request)
    text = (
        t("{business} asks you to sign: {request}. "
        "Please read and sign here (the link works for {days}): {url}", business=business, request=request.title, days=_days(request), url=url)
    )
    queued = tell_customer(
        session,
        request.customer_id,
        Reply(text),
        purpose=Purpose.SIGNATURE,
        now=now,
        ref_id=request.id,
        dedupe_key=f"signature:{request.id}",
    )
    return queued is not None


def _days(request: SignatureRequest) -> str:
    days = max(1, round((request.expires_at - request.created_at).total_seconds() / 86400))
    return nt("{n} day", "{n} days", days)


# ---------------------------------------------------------------------------- signing


def check_png(data: bytes) -> bytes:
    """The drawn signature, if it is a real, reasonably small PNG; else SigningRefused."""
    if not data.startswith(PNG_MAGIC) or len(data) > MAX_PNG_BYTES:
        raise SigningRefused(_("The drawn signature could not be read. Please sign again."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or max(image.size) > MAX_PNG_SIDE:
                raise SigningRefused(_("The drawn signature is too large. Please sign again."))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise SigningRefused(_("The drawn signature could not be read. Please sign again.")) from error
    return data


def sign(
    session: Session,
    request: SignatureRequest,
    *,
    name: str,
    now: datetime,
    image_png: bytes | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Signature:
    """Record the customer's signature on the request's text (once)."""
    signer = " ".join((name or "").split())[:MAX_NAME]
    if not signer:
        raise SigningRefused(_("Please type your full name."))
    if request.signed_at is not None:
        raise SigningRefused(_("This has already been signed."))
    if now >= request.expires_at:
        raise SigningRefused(_("This link has expired."))
    png = check_png(image_png) if image_png else None
    signature = Signature(
        request_id=request.id,
        customer_id=request.customer_id,
        appointment_id=request.appointment_id,
        estimate_id=request.estimate_id,
        kind=request.kind,
        title=request.title,
        signed_text=request.text,
        text_sha256=text_hash(request.text),
        signer_name=signer,
        method=str(Method.DRAWN if png else Method.TYPED),
        image_png=png,
        ip=(ip or "")[:64] or None,
        user_agent=(user_agent or "")[:400] or None,
        signed_at=now,
    )
    request.signed_at = now
    session.add(signature)
    session.flush()
    return signature


def intact(signature: Signature) -> bool:
    """Whether the stored text still hashes to what was signed."""
    return text_hash(signature.signed_text) == signature.text_sha256


# ---------------------------------------------------------------------------- reading


def for_appointment(session: Session, appointment_id: int) -> list[Signature]:
    """An appointment's signatures, oldest first."""
    return list(
        session.scalars(
            select(Signature)
            .where(Signature.appointment_id == appointment_id)
            .order_by(Signature.id)
        )
    )


def for_estimate(session: Session, estimate_id: int) -> list[Signature]:
    """An estimate's approval signatures, oldest first."""
    return list(
        session.scalars(
            select(Signature).where(Signature.estimate_id == estimate_id).order_by(Signature.id)
        )
    )


def missing(session: Session, appointment: Appointment, kind: Kind) -> bool:
    """Whether the service wants a signature of `kind` that the appointment does not have."""
    if not disclaimer(appointment, kind):
        return False
    found = session.scalar(
        select(Signature.id).where(
            Signature.appointment_id == appointment.id, Signature.kind == str(kind)
        )
    )
    return found is None


def due_kind(session: Session, appointment: Appointment) -> Kind | None:
    """The disclaimer to ask for now: before the job until signed, then after it (a finished
    job asks for its after-job signature first)."""
    order = (
        (Kind.AFTER, Kind.BEFORE) if appointment.status == COMPLETED else (Kind.BEFORE, Kind.AFTER)
    )
    for kind in order:
        if missing(session, appointment, kind):
            return kind
    return None

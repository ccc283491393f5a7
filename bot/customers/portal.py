"""Signed links to the customer portal and the owner dashboard: issue, verify, revoke.

A link is `<public url>/portal/<token>` (a customer's account) or `/dashboard/<token>` (the
owner's). The token is an itsdangerous `URLSafeTimedSerializer` signature over the id of a
`portal_link` row (and the customer it was issued for), with a salt per role, so:

* a token is single-purpose: a portal token is not a dashboard token (the salts differ);
* it expires: the signature's max age is the link's lifetime (7 days for a customer, 12
  hours for the owner by default), measured with the injected clock;
* it is revocable: `revoke_links` stamps the rows, and a revoked row refuses its token;
* it is tied to its row: the customer named in the token must be the row's customer, and
  the token's signing time the row's creation time (so if link ids are ever reused, after a
  database is rebuilt under the same configured secret, old tokens do not open new rows).

The signing secret is $SLOTBOT_SECRET_KEY when set, else one generated once and kept in the
`app_secret` table, so links survive restarts and work on every worker and process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.billing.payments.links import public_url
from bot.config import process
from bot.core.clock import utcnow
from bot.core.errors import InvalidRequest
from storage.db import Database
from storage.models import Customer
from storage.portal import CUSTOMER, OWNER, ROLES, AppSecret, PortalLink

Role = Literal["customer", "owner"]

SECRET_ENV = "SLOTBOT_SECRET_KEY"
SECRET_NAME = "signing"
SALTS = {CUSTOMER: "slotbot-portal", OWNER: "slotbot-dashboard"}
PATHS = {CUSTOMER: "portal", OWNER: "dashboard"}
DEFAULT_TTL = {CUSTOMER: timedelta(days=7), OWNER: timedelta(hours=12)}

# Verification outcomes.
OK = "ok"
EXPIRED = "expired"
REVOKED = "revoked"
INVALID = "invalid"


@dataclass(frozen=True)
class LinkCheck:
    """What a token turned out to be: `ok` (with its customer), expired, revoked or invalid."""

    status: str
    link_id: int | None = None
    customer_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the link may be used."""
        return self.status == OK


# ---------------------------------------------------------------------------- secret


def secret_key(session: Session) -> str:
    """The signing secret: $SLOTBOT_SECRET_KEY, else the stored one (made on first use)."""
    configured = process.current().secret_key
    if configured:
        return configured
    stored = session.get(AppSecret, SECRET_NAME)
    if stored is not None:
        return stored.value
    row = AppSecret(name=SECRET_NAME, value=secrets.token_urlsafe(48), created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another worker made it first; theirs is the one everybody uses.
        return session.scalars(select(AppSecret.value).where(AppSecret.name == SECRET_NAME)).one()
    return row.value


def ensure_secret(db: Database) -> str:
    """Make sure the signing secret exists (at start-up); return it."""
    with db.write() as session:
        return secret_key(session)


# ----------------------------------------------------------------------------- links


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the injected clock instead of time.time()."""

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


def _serializer(secret: str, role: str, now: datetime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret, salt=SALTS[role], signer=_ClockSigner, signer_kwargs={"now": now}
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRequest(f"unknown link role {role!r}; use one of {ROLES}")


def issue_link(
    session: Session,
    *,
    customer_id: int | None,
    role: Role,
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    """A new signed link (full URL) to a customer's portal or, with role "owner", the dashboard.

    Customer links need the customer's id and last 7 days by default; owner links take no
    customer and last 12 hours.
    """
    _check_role(role)
    if role == CUSTOMER and (customer_id is None or session.get(Customer, customer_id) is None):
        raise InvalidRequest(f"a portal link needs an existing customer, got {customer_id!r}")
    if role == OWNER and customer_id is not None:
        raise InvalidRequest("a dashboard link is not for a customer")
    lifetime = ttl or DEFAULT_TTL[role]
    if lifetime <= timedelta(0):
        raise InvalidRequest("a link must live for some time")
    link = PortalLink(role=role, customer_id=customer_id, created_at=now, expires_at=now + lifetime)
    session.add(link)
    session.flush()
    token = _serializer(secret_key(session), role, now).dumps(
        {"link": link.id, "customer": customer_id}
    )
    return f"{public_url()}/{PATHS[role]}/{token}"


def verify(session: Session, token: str, role: Role, now: datetime) -> LinkCheck:
    """Check a token for `role` against its signature, its age and its row."""
    _check_role(role)
    serializer = _serializer(secret_key(session), role, now)
    try:
        payload, signed_at = serializer.loads(token, return_timestamp=True)
    except BadSignature:
        return LinkCheck(INVALID)
    link_id = payload.get("link") if isinstance(payload, dict) else None
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return LinkCheck(INVALID)
    link = session.get(PortalLink, link_id)
    if (
        link is None
        or link.role != role
        or payload.get("customer") != link.customer_id
        or int(signed_at.timestamp()) != int(link.created_at.timestamp())
    ):
        return LinkCheck(INVALID)
    if link.revoked_at is not None and link.revoked_at <= now:
        return LinkCheck(REVOKED, link.id, link.customer_id)
    lifetime = int((link.expires_at - link.created_at).total_seconds())
    try:
        serializer.loads(token, max_age=lifetime)
    except SignatureExpired:
        return LinkCheck(EXPIRED, link.id, link.customer_id)
    if now >= link.expires_at:
        return LinkCheck(EXPIRED, link.id, link.customer_id)
    if role == CUSTOMER and session.get(Customer, link.customer_id) is None:
        return LinkCheck(INVALID)
    return LinkCheck(OK, link.id, link.customer_id)


def revoke_links(session: Session, customer_id: int | None, *, now: datetime | None = None) -> int:
    """Turn off every live link of a customer (None: every owner dashboard link); how many."""
    now = now or utcnow()
    query = select(PortalLink).where(PortalLink.revoked_at.is_(None))
    if customer_id is None:
        query = query.where(PortalLink.role == OWNER)
    else:
        query = query.where(PortalLink.customer_id == customer_id)
    count = 0
    for link in session.scalars(query):
        link.revoked_at = now
        count += 1
    return count


# ------------------------------------------------------------------------------ forms


def csrf_token(session: Session, link_id: int) -> str:
    """The hidden form value that proves a POST came from a page of this link."""
    secret = secret_key(session).encode()
    return hmac.new(secret, f"slotbot-form:{link_id}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: Session, link_id: int, value: str | None) -> bool:
    """Whether a submitted form value is this link's form token."""
    if not value:
        return False
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    given = str(value).encode("utf-8", "surrogatepass")
    return hmac.compare_digest(csrf_token(session, link_id).encode(), given)

"""Pay links: opaque, revocable /pay/<token> URLs that always pay an invoice's CURRENT
balance. A link holds no amount and no session, so it never goes stale: each click makes a
fresh Checkout Session for what is owed at that moment.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.ledger.invoices import get_invoice, issue_invoice
from bot.config import process
from storage.billing import PayLink

DEFAULT_PUBLIC_URL = process.DEFAULT_PUBLIC_URL
# Set by `slotbot serve` to the address it listens on, for links when no public URL is set.
LISTEN_URL_ENV = "SLOTBOT_LISTEN_URL"


def public_url() -> str:
    """Where customers reach this app: $SLOTBOT_PUBLIC_URL, else where the server listens."""
    return process.current().links_base


def link_url(link: PayLink) -> str:
    """The full URL of a pay link."""
    return f"{public_url()}/pay/{link.token}"


def pay_link(session: Session, invoice_id: int, *, now: datetime) -> PayLink:
    """The invoice's live pay link, made (and the invoice issued) if it has none."""
    existing = session.scalars(
        select(PayLink)
        .where(PayLink.invoice_id == invoice_id, PayLink.revoked_at.is_(None))
        .order_by(PayLink.id.desc())
        .limit(1)
    ).first()
    if existing is not None:
        return existing
    issue_invoice(session, invoice_id, now=now)
    # 32 random bytes: unguessable, and nothing about the invoice can be read from it.
    link = PayLink(token=secrets.token_urlsafe(32), invoice_id=invoice_id, created_at=now)
    session.add(link)
    session.flush()
    return link


def pay_url(session: Session, invoice_id: int, *, now: datetime) -> str:
    """The URL of the invoice's pay link (made if needed)."""
    return link_url(pay_link(session, invoice_id, now=now))


def find_link(session: Session, token: str) -> PayLink | None:
    """The live (not revoked) pay link with this token."""
    link = session.scalars(select(PayLink).where(PayLink.token == token)).first()
    if link is None or link.revoked_at is not None:
        return None
    return link


def revoke_links(session: Session, invoice_id: int, *, now: datetime) -> int:
    """Revoke every live link to an invoice (a new one is made when next needed)."""
    count = 0
    for link in session.scalars(
        select(PayLink).where(PayLink.invoice_id == invoice_id, PayLink.revoked_at.is_(None))
    ):
        link.revoked_at = now
        count += 1
    get_invoice(session, invoice_id).updated_at = now
    return count

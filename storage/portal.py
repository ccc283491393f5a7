"""Models for the web pages beside the chat: signed portal/dashboard links and the app secret.

A link's token is signed (itsdangerous) over the id of its `portal_link` row, so the row is
what makes a link revocable and ties it to one customer (or to the owner). The secret that
signs them lives in `app_secret` when none is configured: generated once, shared by every
worker and process, and kept across restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

# Link roles.
CUSTOMER = "customer"
OWNER = "owner"
ROLES = (CUSTOMER, OWNER)


class PortalLink(Base):
    """One issued link to the customer portal (customer_id set) or the owner dashboard."""

    __tablename__ = "portal_link"
    __table_args__ = (Index("ix_portal_link_customer", "customer_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class AppSecret(Base):
    """A named secret generated once by the app itself (e.g. "signing")."""

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]

"""Models for what customers and staff leave on a job besides words: files and signatures.

`attachment` holds a photo or file on a customer (and, when there is one, their appointment):
the bytes themselves for uploads (web chat, a staff member's upload), or the provider's URL
for media that arrived by SMS/WhatsApp/Telegram. `signature_request` is one signed, expiring
link asking a customer to sign a text (a service's disclaimer, an estimate); `signature` is
what they signed: the exact text (and its SHA-256), their name, the drawn image (PNG) or a
typed name, the time and the IP it came from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Attachment(Base):
    """A photo or file kept with a customer and (usually) one of their appointments."""

    __tablename__ = "attachment"
    __table_args__ = (
        Index("ix_attachment_appointment", "appointment_id", "id"),
        Index("ix_attachment_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), default=None)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # before, after, customer
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(200), default=None)
    size: Mapped[int | None] = mapped_column(default=None)  # bytes; None when only a URL
    data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    sent_by: Mapped[str] = mapped_column(String(400))  # "staff:sms:+1…", "customer:web:…"
    created_at: Mapped[datetime]


class SignatureRequest(Base):
    """One link asking a customer to sign a text; the token is signed over this row's id."""

    __tablename__ = "signature_request"
    __table_args__ = (Index("ix_signature_request_appointment", "appointment_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), default=None)
    estimate_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # before, after, estimate
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)  # exactly what the page shows and the signer signs
    requested_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    signed_at: Mapped[datetime | None] = mapped_column(default=None)


class Signature(Base):
    """A customer's signature on a text: who, when, from where, and the hash of what."""

    __tablename__ = "signature"
    __table_args__ = (
        Index("ix_signature_appointment", "appointment_id", "kind"),
        Index("ix_signature_estimate", "estimate_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("signature_request.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), default=None)
    estimate_id: Mapped[int | None] = mapped_column(ForeignKey("estimate.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    signed_text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(16))  # drawn (a PNG) or typed (the name only)
    image_png: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(400), default=None)
    signed_at: Mapped[datetime]

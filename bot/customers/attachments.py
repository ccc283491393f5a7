"""Photos and files on a job: kept with the customer and their appointment, first-class.

Staff send before/after photos from the admin chat; customers send photos of the damage (or
a PDF) by SMS, Telegram or the web chat's upload button. Each is one `attachment` row: the
bytes for uploads (checked: size, and the type sniffed from the bytes, never taken from the
client's word), or the provider's URL for channel media. The dashboard's appointment page,
the customer's portal and the invoice PDF show them as thumbnails.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from PIL import Image, UnidentifiedImageError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defer

from bot.core.text import _, t
from storage.files import Attachment
from storage.models import (
    COMPLETED,
    IN_PROGRESS,
    UPCOMING_STATUSES,
    Appointment,
    CustomerIdentity,
    Staff,
)

MAX_BYTES = 8 * 1024 * 1024  # a phone photo fits; a video does not
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
THUMB_PIXELS = 480  # the longest side of a thumbnail in the PDF
PDF_PHOTOS = 8  # at most this many photos on an invoice


class Kind(StrEnum):
    """Whose photo it is and when it was taken."""

    BEFORE = "before"
    AFTER = "after"
    CUSTOMER = "customer"


# What an upload may be, by its first bytes: (magic, offset, content type).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)
ALLOWED_TYPES = tuple(dict.fromkeys(kind for _, _, kind in _MAGIC))
PRINTABLE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


class UploadRefused(ValueError):
    """An upload that is too big, empty or not a photo or PDF; the message says which."""


@dataclass(frozen=True)
class Stored:
    """What became of an upload: the rows made and the appointment they went on."""

    attachments: tuple[int, ...]
    appointment_id: int | None
    customer_id: int | None


# ---------------------------------------------------------------------------- checking


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (of those allowed), or None."""
    for magic, offset, kind in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if kind == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return kind
    return None


def check_upload(data: bytes) -> str:
    """The upload's real content type; raises UploadRefused when it may not be kept."""
    if not data:
        raise UploadRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise UploadRefused(t("The file is too big: up to {mb} MB.", mb=MAX_BYTES // (1024 * 1024)))
    kind = sniff(data)
    if kind is None:
        raise UploadRefused(_("Only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent."))
    if kind.startswith("image/"):
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise UploadRefused(_("The photo is too large to keep."))
                image.verify()
        # A header claiming a huge image is a decompression bomb: refused like any bad photo.
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            Image.DecompressionBombError,
        ) as error:
            raise UploadRefused(_("That photo could not be read.")) from error
    return kind


def thumbnail(data: bytes, longest: int = THUMB_PIXELS) -> bytes | None:
    """A small PNG or JPEG of an image for print (None when it cannot be decoded)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.thumbnail((longest, longest))
            out = io.BytesIO()
            if image.mode in ("RGBA", "LA", "P"):
                image.convert("RGBA").save(out, "PNG")
            else:
                image.convert("RGB").save(out, "JPEG", quality=82)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


# ---------------------------------------------------------------------------- storing


def current_or_next(session: Session, customer_id: int, now: datetime) -> Appointment | None:
    """The customer's appointment in progress, else their next one."""
    return session.scalar(
        select(Appointment)
        .where(
            Appointment.customer_id == customer_id,
            Appointment.status.in_(UPCOMING_STATUSES),
            or_(Appointment.ends_at > now, Appointment.status == IN_PROGRESS),
        )
        .order_by((Appointment.status == IN_PROGRESS).desc(), Appointment.starts_at)
        .limit(1)
    )


def add(
    session: Session,
    *,
    kind: Kind,
    content_type: str,
    sent_by: str,
    now: datetime,
    customer_id: int | None,
    appointment_id: int | None = None,
    data: bytes | None = None,
    url: str | None = None,
    filename: str | None = None,
) -> Attachment:
    """Keep one photo or file (bytes or a URL); a URL already on the appointment is reused."""
    if url is not None and data is None:
        seen = session.scalar(
            select(Attachment).where(
                Attachment.url == url,
                Attachment.appointment_id == appointment_id,
                Attachment.customer_id == customer_id,
            )
        )
        if seen is not None:
            return seen
    row = Attachment(
        appointment_id=appointment_id,
        customer_id=customer_id,
        kind=str(kind),
        content_type=content_type[:100],
        filename=(filename or "")[:200] or None,
        size=len(data) if data is not None else None,
        data=data,
        url=url,
        sent_by=sent_by[:400],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def staff_kind(session: Session, appointment: Appointment, text: str) -> Kind:
    """Before or after: what the staff member said, else "before" until the job has one."""
    words = (text or "").lower()
    if "after" in words or appointment.status == COMPLETED:
        return Kind.AFTER
    if "before" in words:
        return Kind.BEFORE
    has_before = session.scalar(
        select(Attachment.id).where(
            Attachment.appointment_id == appointment.id, Attachment.kind == str(Kind.BEFORE)
        )
    )
    return Kind.AFTER if has_before is not None else Kind.BEFORE


def _staff_key(staff_identities: Mapping[str, Sequence[str]], identity: str) -> str | None:
    return next((key for key, ids in staff_identities.items() if identity in ids), None)


def staff_job(session: Session, staff_key: str, now: datetime) -> Appointment | None:
    """A staff member's job now: in progress, else their next one, else their latest one."""
    staff_id = session.scalar(select(Staff.id).where(Staff.key == staff_key))
    if staff_id is None:
        return None
    mine = select(Appointment).where(Appointment.staff_id == staff_id)
    live = session.scalar(
        mine.where(Appointment.status.in_(UPCOMING_STATUSES), Appointment.ends_at > now)
        .order_by((Appointment.status == IN_PROGRESS).desc(), Appointment.starts_at)
        .limit(1)
    )
    if live is not None:
        return live
    return session.scalar(
        mine.where(Appointment.status == COMPLETED, Appointment.starts_at <= now)
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )


def receive_upload(
    session: Session,
    *,
    channel: str,
    address: str,
    staff_identities: Mapping[str, Sequence[str]],
    files: list[tuple[bytes, str | None]],
    text: str,
    now: datetime,
) -> Stored:
    """Keep checked uploads from a chat identity: a staff member's on their job, a customer's
    on their current or next appointment (or with them alone when they have none).

    Raises UploadRefused for a file that may not be kept (nothing is stored then) and
    LookupError when the sender is nobody we know.
    """
    checked = [(data, name, check_upload(data)) for data, name in files]
    identity = f"{channel}:{address}"
    staff_key = _staff_key(staff_identities, identity)
    if staff_key is not None:
        job = staff_job(session, staff_key, now)
        if job is None:
            raise LookupError("no job to add the photo to")
        kind = staff_kind(session, job, text)
        customer_id, appointment_id, by = job.customer_id, job.id, f"staff:{identity}"
    else:
        customer_id = session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.channel == channel, CustomerIdentity.address == address
            )
        )
        if customer_id is None:
            raise LookupError("unknown sender")
        appointment = current_or_next(session, customer_id, now)
        appointment_id = appointment.id if appointment else None
        kind, by = Kind.CUSTOMER, f"customer:{identity}"
    rows = [
        add(
            session,
            kind=kind,
            content_type=content_type,
            sent_by=by,
            now=now,
            customer_id=customer_id,
            appointment_id=appointment_id,
            data=data,
            filename=name,
        ).id
        for data, name, content_type in checked
    ]
    return Stored(tuple(rows), appointment_id, customer_id)


# ---------------------------------------------------------------------------- reading


def for_appointment(session: Session, appointment_id: int) -> list[Attachment]:
    """An appointment's photos and files, oldest first."""
    return list(
        session.scalars(
            select(Attachment)
            .options(defer(Attachment.data))  # the bytes load only when a page serves them
            .where(Attachment.appointment_id == appointment_id)
            .order_by(Attachment.id)
        )
    )


def for_customer(session: Session, customer_id: int) -> list[Attachment]:
    """Everything a customer sent or staff took on their jobs, newest first."""
    return list(
        session.scalars(
            select(Attachment)
            .options(defer(Attachment.data))
            .where(Attachment.customer_id == customer_id)
            .order_by(Attachment.id.desc())
        )
    )


def recent(session: Session, limit: int = 200) -> list[Attachment]:
    """Every customer's files, newest first (the owner's files page)."""
    query = select(Attachment).options(defer(Attachment.data))
    return list(session.scalars(query.order_by(Attachment.id.desc()).limit(limit)))


def stored(row: Attachment) -> bool:
    """Whether the bytes are kept here (an upload), not only a provider's URL."""
    return row.size is not None


def is_image(row: Attachment) -> bool:
    """Whether a row is a picture a page can show."""
    return row.content_type in PRINTABLE_TYPES


def printable(session: Session, appointment_id: int | None) -> list[tuple[str, bytes]]:
    """(caption, thumbnail bytes) for the stored photos of an appointment, for a PDF."""
    if appointment_id is None:
        return []
    photos = []
    for row in for_appointment(session, appointment_id):
        if row.size is None or not is_image(row):
            continue
        small = thumbnail(row.data)
        if small is not None:
            photos.append((row.kind.capitalize(), small))
        if len(photos) >= PDF_PHOTOS:
            break
    return photos

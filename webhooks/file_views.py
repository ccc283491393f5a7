"""How photos, files and signatures look on the web pages (dashboard and portal alike).

Pure view-building: rows in, template dicts out, with the URL each page serves a file from.
Bytes kept in the database are served by this app (`<prefix>/<id>`); channel media kept as a
provider's https URL is linked there directly; other references (a Telegram file id) are
shown as text.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bot.customers.attachments import is_image, stored
from bot.field.signatures import intact
from storage.files import Attachment, Signature

When = Callable[[datetime], str]  # a moment as the page shows it ("Tue, Nov 17, 10:00 AM")

KIND_LABELS = {"before": "Before", "after": "After", "customer": "From the customer"}


def _size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, size // 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_views(rows: Iterable[Attachment], prefix: str, when: When) -> list[dict[str, Any]]:
    """Thumbnail views of attachments; `prefix` is where this page serves stored bytes."""
    views = []
    for row in rows:
        if stored(row):
            href: str | None = f"{prefix}/{row.id}"
        elif row.url and row.url.startswith("https://"):
            href = row.url
        else:
            href = None
        views.append(
            {
                "id": row.id,
                "kind": row.kind,
                "label": KIND_LABELS.get(row.kind, row.kind.capitalize()),
                "name": row.filename or row.content_type,
                "size": _size(row.size),
                "when": when(row.created_at),
                "image": is_image(row) and href is not None,
                "href": href,
                "reference": None if href else row.url,
                "appointment_id": row.appointment_id,
                "customer_id": row.customer_id,
                "sent_by": row.sent_by.split(":", 1)[0],
            }
        )
    return views


def signature_views(rows: Iterable[Signature], when: When) -> list[dict[str, Any]]:
    """Views of signatures: the text, who, when, from where, the image and the hash."""
    return [
        {
            "id": row.id,
            "title": row.title,
            "text": row.signed_text,
            "signer": row.signer_name,
            "when": when(row.signed_at),
            "ip": row.ip or "",
            "method": "signed by hand" if row.image_png else "name typed",
            "digest": row.text_sha256,
            "intact": intact(row),
            "image": (
                "data:image/png;base64," + base64.b64encode(row.image_png).decode()
                if row.image_png
                else None
            ),
        }
        for row in rows
    ]

"""What a job's documents carry besides money: its photos and the customer's signatures.

The estimate and invoice PDFs print the appointment's stored photos as thumbnails and every
signed text (a service's disclaimer, the estimate's approval) with the signature, the
signer's name, the time in the business's zone, the IP and the SHA-256 of the text.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.billing.documents.pdf import Photo, Signed
from bot.config.context import BusinessContext, business_context
from bot.core.formatting import format_when
from bot.core.text import _, t
from bot.customers import attachments
from bot.field import signatures
from storage.files import Signature


def signed_block(ctx: BusinessContext, signature: Signature) -> Signed:
    """One signature as printed."""
    when = format_when(signature.signed_at, ctx.zone, ctx.locale)
    how = _("signed by hand") if signature.image_png else _("name typed")
    caption = t("Signed by {signer_name}, {when} ({how})", signer_name=signature.signer_name, when=when, how=how)
    if signature.ip:
        caption += t(", from {ip}", ip=signature.ip)
    if not signatures.intact(signature):
        caption += _(". WARNING: the stored text no longer matches its hash.")
    return Signed(
        title=signature.title,
        text=signature.signed_text,
        caption=caption,
        digest=signature.text_sha256,
        image=signature.image_png,
        typed_name=None if signature.image_png else signature.signer_name,
    )


def photos_for(session: Session, appointment_id: int | None) -> tuple[Photo, ...]:
    """The appointment's stored photos as thumbnails for print."""
    return tuple(
        Photo(caption, image) for caption, image in attachments.printable(session, appointment_id)
    )


def signatures_for(
    session: Session, *, appointment_id: int | None = None, estimate_id: int | None = None
) -> tuple[Signed, ...]:
    """The appointment's and/or the estimate's signatures as printed, oldest first."""
    ctx = business_context(session)
    found: dict[int, Signature] = {}
    if appointment_id is not None:
        found |= {s.id: s for s in signatures.for_appointment(session, appointment_id)}
    if estimate_id is not None:
        found |= {s.id: s for s in signatures.for_estimate(session, estimate_id)}
    return tuple(signed_block(ctx, found[key]) for key in sorted(found))

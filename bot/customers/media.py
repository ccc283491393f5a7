"""What customers send besides words: photos and files kept on their appointment.

A repair shop's "send us a photo of the damage" should end up where staff look, so the
inbox processor notes each file's link on the customer's current or next appointment, and
keeps it as an `attachment` row (bot.customers.attachments) the dashboard, portal and invoice show.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.config.context import business_context
from bot.core.text import _, t
from bot.customers import attachments
from bot.customers.attachments import current_or_next
from bot.messaging.messages import Inbound
from storage.db import Database
from storage.models import CustomerIdentity


def attach_media(db: Database, inbound: Inbound, now: datetime) -> int | None:
    """Note the files a customer sent on their current or next appointment; its id.

    A repair shop's "send us a photo of the damage" ends up where staff look. Idempotent
    (a redelivered message adds nothing); staff photos are the admin chat's business.
    """
    files = [a for a in inbound.attachments if a.url]
    if not files:
        return None
    with db.write() as session:
        team = business_context(session, required=False).team
        if f"{inbound.channel}:{inbound.sender}" in team:
            return None
        customer_id = session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.channel == inbound.channel,
                CustomerIdentity.address == inbound.sender,
            )
        )
        if customer_id is None:
            return None
        appointment = current_or_next(session, customer_id, now)
        for item in files:
            attachments.add(
                session,
                kind=attachments.Kind.CUSTOMER,
                content_type=item.content_type,
                sent_by=f"customer:{inbound.channel}:{inbound.sender}",
                now=now,
                customer_id=customer_id,
                appointment_id=appointment.id if appointment else None,
                url=item.url,
                filename=item.filename,
            )
        if appointment is None:
            return None
        lines = [
            t("{kind} from customer: {url}", kind=_('Photo') if a.content_type.startswith('image/') else _('File'), url=a.url)
            for a in files
            if a.url and a.url not in appointment.notes
        ]
        if lines:
            notes = appointment.notes.rstrip()
            appointment.notes = "\n".join([notes, *lines] if notes else lines)
        return appointment.id

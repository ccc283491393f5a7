"""Following a recipient whose address changed under us: a Telegram group upgraded to a
supergroup gets a new chat id, and Telegram answers the old one with `migrate_to_chat_id`.

The sender follows it once (the message goes to the new id) and says so in its result; the
outbox then calls `follow_move` in the same transaction that records the outcome, so every
later message goes to the new id: the customer's identity and conversation, the owners and
staff identities in `Business.settings`, and the messages still waiting to the old address
move with it. business.toml still names the old id until the owner edits it (a warning says
so); a config re-applied with it is followed again on the next send, so nothing is lost.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.config.context import business_row
from storage.messaging import PENDING, OutboxMessage
from storage.models import Conversation, CustomerIdentity

log = logging.getLogger(__name__)


def follow_move(session: Session, channel: str, old: str, new: str, *, message_id: int) -> None:
    """Move everything addressed to `channel:old` to `channel:new` (message `message_id`
    went there already)."""
    if old == new:
        return
    for model in (CustomerIdentity, Conversation):
        taken = session.scalar(
            select(model.id).where(model.channel == channel, model.address == new)
        )
        if taken is None:  # the new chat may have written to us already: keep that one
            session.execute(
                update(model)
                .where(model.channel == channel, model.address == old)
                .values(address=new)
                .execution_options(synchronize_session=False)
            )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == old,
            (OutboxMessage.status == PENDING) | (OutboxMessage.id == message_id),
        )
        .values(address=new)
        .execution_options(synchronize_session=False)
    )
    _move_in_settings(session, f"{channel}:{old}", f"{channel}:{new}")


def _move_in_settings(session: Session, old: str, new: str) -> None:
    business = business_row(session)
    if business is None or not business.settings:
        return
    settings = dict(business.settings)
    owners = list(settings.get("owners") or [])
    staff = {key: list(ids) for key, ids in (settings.get("staff_identities") or {}).items()}
    lists = [owners, *staff.values()]
    if not any(old in found for found in lists):
        return
    for found in lists:
        found[:] = [new if identity == old else identity for identity in found]
    settings["owners"] = owners
    settings["staff_identities"] = staff
    business.settings = settings
    log.warning(
        "%s is now %s (Telegram upgraded the group): change it in business.toml too", old, new
    )

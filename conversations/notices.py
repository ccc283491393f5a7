"""Messages the dialogue sends to the business's owners (hand-overs, alerts)."""

from __future__ import annotations

from bot.messages import Reply
from bot.outbox import enqueue
from conversations.turn import Turn


def tell_owners(turn: Turn, text: str) -> None:
    """Queue `text` to every owner identity in business.toml (`owners`)."""
    for identity in turn.business.settings.get("owners", []):
        channel, _, address = identity.partition(":")
        if channel and address:
            enqueue(
                turn.session,
                channel=channel,
                address=address,
                reply=Reply(text),
                purpose="owner_notice",
                now=turn.now,
            )

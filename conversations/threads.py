"""Replies to questions asked outside a dialogue: reminders, feedback requests, offers.

Lower layers leave an `AwaitingReply` row when they ask something (a reminder's C/R/X, a
feedback score, a waitlist offer, an estimate to approve). When the next message from that
person arrives and no dialogue is under way, this module decides whether it answers one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from bot.booking import Changed, set_status
from conversations import manage_flow
from conversations.turn import Turn
from conversations.understand import Intent, primary_intent, yes_no
from storage.models import CONFIRMED, AwaitingReply

_LETTER = re.compile(r"^\s*([crx])\s*[.!]?\s*$", re.IGNORECASE)


def _open_question(turn: Turn) -> AwaitingReply | None:
    return turn.session.scalar(
        select(AwaitingReply)
        .where(
            AwaitingReply.channel == turn.inbound.channel,
            AwaitingReply.address == turn.inbound.sender,
            AwaitingReply.answered_at.is_(None),
            AwaitingReply.expires_at > turn.now,
        )
        .order_by(AwaitingReply.created_at.desc(), AwaitingReply.id.desc())
        .limit(1)
    )


def answer(turn: Turn) -> bool:
    """Handle the message as the answer to the latest open question; True if it was one."""
    question = _open_question(turn)
    if question is None:
        return False
    handler = HANDLERS.get(question.kind)
    if handler is None or not handler(turn, question):
        return False
    question.answered_at = turn.now
    return True


def _reminder(turn: Turn, question: AwaitingReply) -> bool:
    text = turn.inbound.text or ""
    option = turn.inbound.option_id
    letter = _LETTER.match(text)
    choice = option or (letter.group(1).lower() if letter else None)
    if choice is None:
        intent = primary_intent(text)
        if intent is Intent.RESCHEDULE:
            choice = "r"
        elif intent is Intent.CANCEL:
            choice = "x"
        elif yes_no(text) is True:
            choice = "c"
    if choice in ("c", "confirm"):
        outcome = set_status(
            turn.session, question.ref_id or 0, CONFIRMED, now=turn.now, actor="customer"
        )
        if isinstance(outcome, Changed):
            turn.say(f"Thanks, you're confirmed for {turn.when(outcome.appointment.starts_at)}.")
        else:
            turn.say("Thanks! That appointment is already confirmed.")
        return True
    if choice in ("r", "reschedule"):
        manage_flow.start_for(turn, question.ref_id or 0, "move")
        return True
    if choice in ("x", "cancel"):
        manage_flow.start_for(turn, question.ref_id or 0, "cancel")
        return True
    return False


Handler = Callable[[Turn, AwaitingReply], bool]
HANDLERS: dict[str, Handler] = {"reminder": _reminder}

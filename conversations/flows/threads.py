"""Replies to questions asked outside a dialogue: reminders, feedback requests, offers.

Lower layers leave an `AwaitingReply` row when they ask something (a reminder's C/R/X, a
feedback score, a waitlist offer, an estimate to approve). When the next message from that
person arrives and no dialogue is under way, this module decides whether it answers one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.billing.documents.estimate_jobs import find_estimate, open_estimates
from bot.billing.documents.estimates import approve_estimate, decline_estimate, estimate_totals
from bot.core.text import _, t
from bot.engagement.followup import record_feedback
from bot.messaging.messages import Option
from bot.scheduling.booking import Booked, Changed, set_status
from bot.scheduling.waitlist import accept_offer, decline_offer
from conversations.flows import booking as booking_flow
from conversations.flows import manage as manage_flow
from conversations.nlu.moves import asks_to_move
from conversations.nlu.understand import Intent, primary_intent, yes_no
from conversations.nlu.words import NUMBER_WORDS
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import CONFIRMED, AwaitingReply, Service, Staff

_LETTER = re.compile(r"^\s*([crx])\s*[.!]?\s*$", re.IGNORECASE)


def _open_question(turn: Turn) -> AwaitingReply | None:
    return turn.open_question()


def answer(turn: Turn) -> bool:
    """Handle the message as the answer to the latest open question; True if it was one."""
    question = _open_question(turn)
    if question is None:
        return False
    handler = HANDLERS.get(question.kind)
    if handler is None or not handler(turn, question, _option(turn, question)):
        return False
    if question.kind not in SELF_CLOSING:
        question.answered_at = turn.now
    return True


def _option(turn: Turn, question: AwaitingReply) -> str | None:
    """The option meant: a pressed button, or a typed answer ("1", "C", a label) on SMS."""
    if turn.inbound.option_id:
        return turn.inbound.option_id
    typed = (turn.inbound.text or "").strip().lower().rstrip(".!")
    return ((question.data or {}).get("replies") or {}).get(typed)


def _reminder(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    text = turn.inbound.text or ""
    letter = _LETTER.match(text)
    choice = option or (letter.group(1).lower() if letter else None)
    if choice is None:
        intent = primary_intent(text)
        if intent is Intent.RESCHEDULE or asks_to_move(text) or _names_a_time(turn, text):
            # "an hour later?", "can I come at 3 instead": a move, answered in this thread
            manage_flow.start_for(turn, question.ref_id or 0, "move", text)
            return True
        if intent is Intent.CANCEL:
            choice = "x"
        elif yes_no(text) is True:
            choice = "c"
    if choice in ("c", "confirm"):
        outcome = set_status(
            turn.session, question.ref_id or 0, CONFIRMED, now=turn.now, actor="customer"
        )
        if isinstance(outcome, Changed):
            turn.say(
                t(
                    "Thanks, you're confirmed for {when}.",
                    when=turn.when(outcome.appointment.starts_at),
                )
            )
        else:
            turn.say(_("Thanks! That appointment is already confirmed."))
        return True
    if choice in ("r", "reschedule"):
        manage_flow.start_for(turn, question.ref_id or 0, "move")
        return True
    if choice in ("x", "cancel"):
        manage_flow.start_for(turn, question.ref_id or 0, "cancel")
        return True
    return False


def _names_a_time(turn: Turn, text: str) -> bool:
    """Tell whether a reply to a reminder asks for a day or time ("is 4 possible?"), as
    opposed to acknowledging the one it has ("great, see you tomorrow")."""
    if yes_no(text) is True or not ("?" in text or _ASKING.search(text.lower())):
        return False
    return parse_when(text, turn.now.astimezone(turn.business.zone)) is not None


_ASKING = re.compile(r"\b(?:can|could|would|prefer|rather|better|possible|ok(?:ay)?)\b")


_SCORE = re.compile(
    r"^\s*([1-5])\s*(?:/\s*5|stars?|out of 5)?\s*[.!,:;-]*\s*(.*)$", re.IGNORECASE | re.DOTALL
)


def _feedback(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    text = (option or turn.inbound.text or "").strip()
    match = _SCORE.match(text)
    first = text.split(" ", 1)[0].lower().strip(".!,")
    if match is not None:
        score, comment = int(match.group(1)), match.group(2)
    elif NUMBER_WORDS.get(first, 0) in range(1, 6):
        score, comment = NUMBER_WORDS[first], text[len(first) :].strip(" .!,-")
    else:
        return False
    record_feedback(turn.session, question.id, score, comment[:1000], now=turn.now)
    if score >= 4:
        turn.say(_("Thank you, that's lovely to hear!"))
    else:
        turn.say(
            _("Thank you for telling us. I've passed it to the team")
            + ("." if comment else _("; if you'd like to add what went wrong, just reply here."))
        )
    return True


def _waitlist_offer(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    answer_ = True if option == "yes" else False if option == "no" else yes_no(turn.inbound.text)
    if answer_ is None:
        return False
    if answer_ is False:
        decline_offer(turn.session, question.id, turn.now)
        turn.say(_("No problem, I'll keep you on the waitlist for other times."))
        return True
    outcome = accept_offer(turn.session, question.id, turn.now)
    if isinstance(outcome, Booked):
        appointment = outcome.appointment
        turn.say(
            t(
                "Done! You're booked: {service}, {when}.",
                service=appointment.service.name,
                when=turn.when(appointment.starts_at),
            )
        )
    else:
        turn.say(outcome.message)
    return True


def _rebook(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    text = turn.inbound.text or ""
    if not (option in ("yes", "book") or yes_no(text) is True):
        return False
    service = turn.session.get(Service, question.ref_id) if question.ref_id else None
    staff = turn.session.get(Staff, (question.data or {}).get("staff_id") or 0)
    booking_flow.start(
        turn, text, service=service.key if service else None, staff=staff.key if staff else None
    )
    return True


def _estimate(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    text = (turn.inbound.text or "").strip()
    said = (option or text).lower().strip(" .!")
    word = re.split(r"[:\s,]", said, maxsplit=1)[0]
    if word in ("approve", "approved", "accept") or yes_no(text) is True or option == "yes":
        decide, verb = approve_estimate, "approve"
    elif word in ("decline", "declined", "reject") or yes_no(text) is False or option == "no":
        decide, verb = decline_estimate, "decline"
    else:
        return False
    waiting = open_estimates(turn.session, turn.inbound.channel, turn.inbound.sender, turn.now)
    named = find_estimate(turn.session, option or text)
    if named is not None and named.customer_id != turn.customer.id:
        named = None  # only their own estimates: a number from someone else's is no answer
    if named is None and len(waiting) > 1:
        # Two open estimates and a bare "approve": ask, never guess the newest.
        ctx = turn.business
        turn.say(
            t(
                "You have {count} estimates waiting. Which one do you want to {verb}?",
                count=len(waiting),
                verb=verb,
            ),
            [
                Option(
                    f"{verb.upper()}:{e.number}",
                    f"{e.number} ({ctx.money(estimate_totals(turn.session, e).total)})",
                )
                for e in waiting
            ],
        )
        return True
    result = decide(
        turn.session,
        named.id if named is not None else question.ref_id or 0,
        channel=turn.inbound.channel,
        address=turn.inbound.sender,
        now=turn.now,
    )
    turn.replies.append(result.reply)
    return True


Handler = Callable[[Turn, AwaitingReply, str | None], bool]
# Kinds whose handler closes the question it settles (an estimate: maybe not the newest one).
SELF_CLOSING = frozenset({"estimate"})
HANDLERS: dict[str, Handler] = {
    "reminder": _reminder,
    "feedback": _feedback,
    "waitlist_offer": _waitlist_offer,
    "rebook": _rebook,
    "estimate": _estimate,
}

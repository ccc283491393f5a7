"""The customer's side of consent to promotions: the question, the words, STOP and START.

Asked once, at the end of a first booking (business.toml `[promotions]`); "subscribe",
"send me offers" say yes, "no more offers" says no (to offers only); STOP and its carrier
synonyms keep their meaning (no messages at all) and START undoes it, each kept as a
consent event with its words.
"""

from __future__ import annotations

import re

from bot import consent
from bot.messages import Option
from conversations.turn import Turn
from conversations.understand import yes_no
from storage.engagement import MESSAGES, PROMOTIONS
from storage.models import AwaitingReply

SUBSCRIBED = (
    "You're subscribed: we'll send you our offers now and then. "
    "Say unsubscribe from offers (or STOP for everything) any time."
)
UNSUBSCRIBED = (
    "Done: no more offers. You'll still get your confirmations and reminders. "
    "Say subscribe if you change your mind."
)
DECLINED = "No problem, no offers. You'll still get your confirmations and reminders."

_WANTS = re.compile(
    r"^\s*(?:please\s+)?(?:(?:re-?)?subscribe(?:\s+me)?(?:\s+(?:to|for))?"
    r"|sign\s+me\s+up(?:\s+(?:to|for))?|send\s+me(?:\s+your)?|i\s+(?:want|would\s+like|'d\s+like)"
    r"(?:\s+to\s+(?:get|receive))?|yes\s+to|opt\s+(?:me\s+)?in(?:\s+to)?)"
    r"\s+(?:the\s+|your\s+|some\s+)?(?:offers?|promos?|promotions?|deals|discounts|newsletters?"
    r"|specials)(?:\s+please)?[\s.!]*$",
    re.IGNORECASE,
)
_DOES_NOT_WANT = re.compile(
    r"^\s*(?:please\s+)?(?:unsubscribe(?:\s+me)?\s+from|no\s+more|stop(?:\s+sending(?:\s+me)?)?"
    r"|opt\s+(?:me\s+)?out\s+of|i\s+don'?t\s+want(?:\s+any)?|no)"
    r"\s+(?:the\s+|your\s+|any\s+)?(?:offers?|promos?|promotions?|deals|discounts|newsletters?"
    r"|specials|marketing)(?:\s+please)?[\s.!]*$",
    re.IGNORECASE,
)


def offer(turn: Turn) -> None:
    """At the end of a first booking: ask once whether they want offers (if configured)."""
    if not consent.should_ask(turn.session, turn.customer.id, turn.business.settings):
        return
    _, question = consent.question_settings(turn.business.settings)
    consent.leave_question(
        turn.session, turn.customer.id, turn.inbound.channel, turn.inbound.sender, now=turn.now
    )
    turn.say(
        question, [Option(consent.YES, "Yes, send me offers"), Option(consent.NO, "No thanks")]
    )


def answer_question(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    """The reply to the question after a first booking (a threads.HANDLERS entry)."""
    said = True if option == consent.YES else False if option == consent.NO else None
    if said is None and option is None:
        said = yes_no(turn.inbound.text or "")
    if said is None:
        return False
    words = turn.inbound.text or ("Yes, send me offers" if said else "No thanks")
    _promotions(turn, said, words, source="booking")
    turn.say(SUBSCRIBED if said else DECLINED)
    return True


def answer(turn: Turn) -> bool:
    """ "send me offers", "no more promotions": consent said in a chat (True if it was)."""
    text = turn.inbound.text or ""
    if turn.inbound.option_id or len(text) > 80:
        return False
    if _WANTS.match(text):
        _promotions(turn, True, text, source="chat")
        turn.say(SUBSCRIBED)
        return True
    if _DOES_NOT_WANT.match(text):
        _promotions(turn, False, text, source="chat")
        turn.say(UNSUBSCRIBED)
        return True
    return False


def _promotions(turn: Turn, granted: bool, words: str, *, source: str) -> None:
    consent.record(
        turn.session,
        turn.identity,
        topic=PROMOTIONS,
        granted=granted,
        words=words,
        source=source,
        now=turn.now,
    )


def on_opt_out(turn: Turn) -> None:
    """STOP (or a carrier synonym): kept as a withdrawal of every message, offers too."""
    consent.record(
        turn.session,
        turn.identity,
        topic=MESSAGES,
        granted=False,
        words=turn.inbound.text,
        source="keyword",
        now=turn.now,
    )
    turn.identity.promotions_opt_in = False


def on_opt_in(turn: Turn) -> bool:
    """START / SUBSCRIBE: messages again; "subscribe" says yes to offers too (True: said so)."""
    consent.record(
        turn.session,
        turn.identity,
        topic=MESSAGES,
        granted=True,
        words=turn.inbound.text,
        source="keyword",
        now=turn.now,
    )
    if turn.inbound.text.strip(" .!").lower() != "subscribe":
        return False
    _promotions(turn, True, turn.inbound.text, source="keyword")
    turn.say(SUBSCRIBED)
    return True

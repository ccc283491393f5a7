"""The customer's side of consent to promotions: the question, the words, STOP and START.

Asked once, at the end of a first booking (business.toml `[promotions]`); "subscribe",
"send me offers" say yes, "no more offers" says no (to offers only); STOP and its carrier
synonyms keep their meaning (no messages at all) and START undoes it, each kept as a
consent event with its words.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.core.text import N_, _
from bot.engagement import consent
from bot.messaging.messages import Option
from conversations.nlu.understand import yes_no
from conversations.turn import Turn
from storage.engagement import MESSAGES, PROMOTIONS
from storage.models import AwaitingReply

SUBSCRIBED = N_(
    "You're subscribed: we'll send you our offers now and then. "
    "Say unsubscribe from offers (or STOP for everything) any time."
)
UNSUBSCRIBED = N_(
    "Done: no more offers. You'll still get your confirmations and reminders. "
    "Say subscribe if you change your mind."
)
DECLINED = N_("No problem, no offers. You'll still get your confirmations and reminders.")

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
    if not consent.should_ask(turn.session, turn.customer.id, turn.business):
        return
    question = _(turn.business.consent_question)  # the default is worded by the catalogue
    consent.leave_question(
        turn.session, turn.customer.id, turn.inbound.channel, turn.inbound.sender, now=turn.now
    )
    turn.say(
        question,
        [Option(consent.YES, _("Yes, send me offers")), Option(consent.NO, _("No thanks"))],
    )


def _answers_question(turn: Turn) -> bool | None:
    """Yes or no to the question after a first booking, if this message is that answer.

    A pressed button always is. A typed yes or no is, when that question is the latest one
    still open in this chat (a "yes" to a newer reminder confirms the visit instead). Any
    other message lets the question lapse: it is asked once, not left waiting.
    """
    option = turn.inbound.option_id
    if option in (consent.YES, consent.NO):
        _close_questions(turn, lapsed=False)
        return option == consent.YES
    latest = turn.open_question()
    if latest is None:
        return None
    said = None
    if latest.kind == consent.CONSENT_KIND and option is None:
        typed = (turn.inbound.text or "").strip().lower().rstrip(".!")
        reply = ((latest.data or {}).get("replies") or {}).get(typed)
        said = True if reply == consent.YES else False if reply == consent.NO else None
        if said is None and _just_an_answer(typed):
            said = yes_no(turn.inbound.text or "")
    _close_questions(turn, lapsed=said is None)
    return said


# Consent to marketing must be meant: "ok see you then", "great" or a thumbs-up after the
# booking are not a yes to offers, and "yes please book another" is a booking request.
_CLEAR = re.compile(
    r"^(yes|yes please|yeah|yep|sure|ok sure|sure thing|please do|go ahead|no|no thanks|"
    r"no thank you|nope|nah|not now|no need)( (to|for|with) (offers|the offers|promotions))?$"
)


def _just_an_answer(typed: str) -> bool:
    """Whether the message is only a yes or no (to offers), nothing else in it."""
    return bool(_CLEAR.match(re.sub(r"[^\w' ]+", " ", typed).strip()))


def _close_questions(turn: Turn, *, lapsed: bool) -> None:
    open_ones = turn.session.scalars(
        select(AwaitingReply).where(
            AwaitingReply.channel == turn.inbound.channel,
            AwaitingReply.address == turn.inbound.sender,
            AwaitingReply.kind == consent.CONSENT_KIND,
            AwaitingReply.answered_at.is_(None),
        )
    ).all()
    for question in open_ones:
        question.answered_at = turn.now
        if lapsed:
            question.data = {**(question.data or {}), "lapsed": True}


def answer(turn: Turn) -> bool:
    """The question after a first booking answered, or consent said in a chat ("send me
    offers", "no more promotions"): True if this message was one of those."""
    said = _answers_question(turn)
    if said is not None:
        words = turn.inbound.text or (_("Yes, send me offers") if said else _("No thanks"))
        _promotions(turn, said, words, source="booking")
        turn.say(_(SUBSCRIBED) if said else _(DECLINED))
        return True
    text = turn.inbound.text or ""
    if turn.inbound.option_id or len(text) > 80:
        return False
    if _WANTS.match(text):
        _promotions(turn, True, text, source="chat")
        turn.say(_(SUBSCRIBED))
        return True
    if _DOES_NOT_WANT.match(text):
        _promotions(turn, False, text, source="chat")
        turn.say(_(UNSUBSCRIBED))
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
    turn.say(_(SUBSCRIBED))
    return True

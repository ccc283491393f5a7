"""Reading a request to move an appointment the customer already has.

People move an appointment relative to itself: "push it back an hour", "make it the day
after", "same time on friday", "could I come at 3 instead?". `parse_when` reads times
against *now*; here a time without a day means the appointment's own day, "same time"
keeps the appointment's clock time, and a shift is applied to the appointment's start.
`move_target` says what was asked (an exact new start, or a window to offer slots from);
`asks_to_move` tells whether a message is a request for another time at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.nlu.understand import normalise
from conversations.nlu.words import NUMBER_WORDS
from conversations.when import When, parse_when

_AMOUNT = r"(?:an?|one|two|three|four|half an?|\d+(?:[.,]5)?|couple of|few)"
_UNIT = r"(?:hours?|hrs?|h|minutes?|mins?|m)"
_AMOUNT_UNIT = rf"(?:an? hour and a half|{_AMOUNT} ?{_UNIT}|half an hour|half hour)"
_LATER_WORDS = r"(?:later|back|after)"
_EARLIER_WORDS = r"(?:earlier|forward|sooner|before)"
_VERBS = r"(?:push|move|bump|shift|put|bring|set|make|take)"
_OBJ = r"(?: (?:it|this|that|me|the \w+|my \w+))?"
# "push it back an hour", "move it forward by 30 minutes", "bump me 2 hours later"
_VERB_SHIFT = re.compile(
    rf"\b{_VERBS}{_OBJ} (?P<dir>{_LATER_WORDS}|{_EARLIER_WORDS})(?: by)? (?P<amt>{_AMOUNT_UNIT})\b"
    rf"|\b{_VERBS}{_OBJ}(?: by)? (?P<amt2>{_AMOUNT_UNIT}) (?P<dir2>{_LATER_WORDS}|{_EARLIER_WORDS})\b"
)
# "an hour later", "30 mins earlier"
_BARE_SHIFT = re.compile(rf"\b(?P<amt>{_AMOUNT_UNIT}) (?P<dir>later|earlier|sooner)\b")
_DAY_SHIFT = re.compile(
    r"\b(?:the )?(?:(?P<after>day after(?! tomorrow)|next day|following day|a day later|one day later)"
    r"|(?P<before>day before|previous day|a day earlier|one day earlier)"
    r"|(?P<week>(?:a|one) week later|following week|week after))\b"
)
_SAME_TIME = re.compile(r"\bsame (?:time|hour|slot)\b")
# The words that name a day (so "at 3" without them means the appointment's own day).
_DAY_WORDS = re.compile(
    r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?s?\b|\btoday\b|\btonight\b"
    r"|\btomorrow\b|\btmrw?\b|\btmr\b|\bweek\b|\bweekend\b|\bmonth\b|\b\d{1,2}(?:st|nd|rd|th)\b"
    r"|\b\d{1,2}/\d{1,2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
)
# A request for another time, as opposed to calling it off: "could we do", "instead", ...
_MOVE_CUES = re.compile(
    r"\binstead\b|\bsame (?:time|hour|slot)\b|\b(?:could|can|shall) (?:we|i|you) (?:do|make it|come|go"
    r"|have it|switch|change)\b|\bhow about\b|\bwhat about\b|\brather\b|\bswitch (?:it )?to\b"
    r"|\bchange (?:it )?to\b|\bmake it\b|\bmove\b|\bresched\w*|\bpush\b|\bbump\b|\bshift\b"
    r"|\bbring (?:it )?forward\b|\bday after(?! tomorrow)\b|\bday before\b|\bnext day\b|\bpostpone\b"
)


# A bare clock time ("is 3 ok instead?", "4:30?"): with an appointment to move it is a time.
_BARE_CLOCK = re.compile(
    r"(?<![\d:/.])\b(?P<clock>(?:1[0-2]|0?[1-9])(?::[0-5]\d)?(?: ?[ap]\.?m\.?)?)\b(?![\d:/.])"
    r"(?! ?(?:hours?|hrs?|h|minutes?|mins?|m|days?|weeks?|st|nd|rd|th|people|of)\b)",
    re.I,
)


@dataclass(frozen=True)
class MoveTarget:
    """What a move request asks for: an exact new start, or a window to offer times from."""

    start: datetime | None = None
    window: When | None = None


def _minutes(amount: str) -> int | None:
    amount = amount.strip()
    if amount in ("half an hour", "half hour", "half a hour"):
        return 30
    if amount.startswith(("an hour and a half", "a hour and a half")):
        return 90
    m = re.match(rf"(?P<n>{_AMOUNT}) ?(?P<unit>{_UNIT})$", amount)
    if m is None:
        return None
    raw, unit = m.group("n"), m.group("unit")
    if raw.startswith("half"):
        number = 0.5
    elif raw in ("a", "an", "one"):
        number = 1.0
    elif raw in ("couple of",):
        number = 2.0
    elif raw == "few":
        number = 3.0
    elif raw in NUMBER_WORDS:
        number = float(NUMBER_WORDS[raw])
    else:
        number = float(raw.replace(",", "."))
    per = 60 if unit.startswith("h") else 1
    return int(number * per)


def _shift(text: str) -> timedelta | None:
    for pattern in (_VERB_SHIFT, _BARE_SHIFT):
        m = pattern.search(text)
        if m is None:
            continue
        groups = m.groupdict()
        amount = groups.get("amt") or groups.get("amt2") or ""
        direction = groups.get("dir") or groups.get("dir2") or ""
        minutes = _minutes(amount)
        if minutes:
            later = direction in ("later", "back", "after")
            return timedelta(minutes=minutes if later else -minutes)
    m = _DAY_SHIFT.search(text)
    if m is not None:
        if m.group("after"):
            return timedelta(days=1)
        if m.group("before"):
            return timedelta(days=-1)
        return timedelta(days=7)
    return None


# Where one part of a message ends and the next begins: "can't do wednesday, friday instead?"
_CLAUSES = re.compile(r"[,;!?]|\s[-\u2013\u2014]+\s|\b(?:but|so|and|can|could|would)\b")


def _other_day(text: str, current: datetime, now: datetime, when: When | None) -> When | None:
    """The new day when a message names the appointment's own day too ("I have to cancel
    wednesday, can we do friday instead?"): the last clause naming another day wins."""
    if when is None or when.start.astimezone(current.tzinfo).date() != current.date():
        return when
    for clause in reversed(_CLAUSES.split(text)):
        # only a clause that names a day of its own: a bare "at 2" would be read as today
        other = parse_when(clause, now) if _DAY_WORDS.search(normalise(clause)) else None
        if other is not None and other.start.astimezone(current.tzinfo).date() != current.date():
            return other
    return when


def asks_to_move(text: str) -> bool:
    """Tell whether a message asks for another time (not just to call the visit off)."""
    words = normalise(text)
    return bool(_MOVE_CUES.search(words)) or _shift(words) is not None


def move_target(text: str, current: datetime, now: datetime) -> MoveTarget | None:
    """What new time a move request names, read against the appointment it moves.

    `current` and `now` are local (the business's zone). None when no time is named.
    """
    words = normalise(text)
    shift = _shift(words)
    if shift is not None:
        return MoveTarget(start=current + shift)
    when = _other_day(text, current, now, parse_when(text, now))
    if when is None:
        clock = _BARE_CLOCK.search(text)
        if clock is not None:
            when = parse_when(f"at {clock.group('clock')}", now)
    if _SAME_TIME.search(words):
        if "week" in words and not re.search(r"\b(?:mon|tue|wed|thu|fri|sat|sun)", words):
            # "same time next week": a week on from the appointment itself
            return MoveTarget(start=current + timedelta(days=7))
        if when is None:
            return None
        day = when.start.astimezone(current.tzinfo).date()
        return MoveTarget(start=datetime.combine(day, current.timetz()))
    if when is None:
        return None
    if not _DAY_WORDS.search(words):
        # A time alone ("at 3 instead") means the appointment's own day, not today.
        midnight = current.replace(hour=0, minute=0, second=0, microsecond=0)
        clock = _BARE_CLOCK.search(text)
        anchored = parse_when(text, midnight) or (
            parse_when(f"at {clock.group('clock')}", midnight) if clock else None
        )
        if anchored is not None:
            when = anchored
    if when.exact:
        return MoveTarget(start=when.start)
    return MoveTarget(window=when)

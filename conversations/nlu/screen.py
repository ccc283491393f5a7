"""Reading a reply against what the bot last showed.

With one day's times on screen (the offered slots, or a proposal), a typed time that names
no day is a time of THAT day, never of today: "10:15", "what about 5", "anything after 2",
"a bit later?". A bare number is an option only when it cannot be a time of that day;
when it can be both ("what about 4" with four options listed), the customer is asked which
one they meant. Pure functions: the booking dialogue decides what to do with the reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conversations.nlu.understand import normalise
from conversations.nlu.words import NUMBER_WORDS, ORDINAL_WORDS
from conversations.when import When, parse_when

# Words that tie a time to a particular day without naming a weekday or a date: a time
# said with them is not "a time of the day on screen".
_RELATIVE_DAY = re.compile(
    r"\b(?:today|tonight|tomorrow|tmrw|tmr|tmrow|tomoz|tomorow|tommorow|2morrow|2moro"
    r"|day after|in \d+ days?|in a (?:day|week)|next week|this (?:morning|afternoon|evening)"
    r"|asap|soonest|earliest|first available|same time)\b"
)
_LATER = re.compile(
    r"\b(?:(?:a )?(?:bit|little|tad|touch|smidge|slightly|bit more|little more|somewhat)"
    r" (later|earlier)|(later|earlier)(?: (?:on|in the day|that day|than that|than those"
    r"|than these|one|times?|slots?|options?|please|pls))?|any(?:thing|one| time)?"
    r" (later|earlier)|something (later|earlier)|(later|earlier) than)\b"
)
_PICK_ONLY = re.compile(r"\b(?:the )?(?:later|earlier|latest|earliest) one\b")
# "no. 2" and "no2" are numbers; "no 2" is as often "no, 2" (a correction): not an index.
_INDEX_WORD = re.compile(
    r"(?:#|\bno\. ?|\boption ?|\bnumber ?|\bnum ?|\bchoice ?|\bslot ?)\s*$|\bno$"
)
_NUMBER = re.compile(
    r"(?<![\d:.$£€#])\b(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\b"
    r"(?!\s*(?:[:.h]\d|am\b|pm\b|a\.m|p\.m|o'?clock|min|mins|minutes|hours?|hrs?|%|st\b|nd\b"
    r"|rd\b|th\b|people|persons?|of us|kids?|ppl|guests?))"
)
# A number after these is part of a time phrase ("at 5", "quarter past 5", "after 5"),
# which `parse_when` reads; it is not a bare number.
_TIME_CUE = re.compile(
    r"(?:\b(?:at|past|till|til|half|quarter|after|before|until|by|from|between|and|around)"
    # "quarter to 5" is a time phrase; "move it to 1", "push it to 3" name the hour itself
    r"|\b(?:quarter|half|ten|five|twenty|twenty-five|\d{1,2}) to"
    r"|@)\s*$"
)
_LONE_ORDINAL = re.compile(
    r"(?:(?:the|that|ok|okay|um|uh|hmm)\s+)*(?:"
    + "|".join(w for w, n in ORDINAL_WORDS.items() if n <= 10 and w.isalpha())
    + r")(?:\s+(?:one|please|pls|thanks|then|is fine|works|is good))*"
)
_LONE_FILLER = frozenset(["the", "please", "pls", "ok", "okay", "then", "thanks", "thx", "one"])


@dataclass(frozen=True)
class Number:
    """A bare number in a reply with times on screen, and how it can be read."""

    value: int
    option: bool  # it can be an option number
    minute: int | None  # minute of the day on screen it can mean, None if no time fits
    lone: bool  # the reply is just the number ("2", "2 please")


def screen_day(starts: list[datetime], zone: ZoneInfo) -> date | None:
    """The one local day all the shown times fall on, else None."""
    days = {s.astimezone(zone).date() for s in starts}
    return days.pop() if len(days) == 1 else None


def names_a_day(text: str, now: datetime, *, listed: bool = False) -> bool:
    """Whether the text ties what it says to a day of its own (a weekday, a date, "tomorrow").

    Read by comparing the same text read a day later: a time that names no day moves with
    "today"; a weekday or a date stays put. With options `listed`, an ordinal word alone
    ("the first", "second please") picks an option: it is not the 1st or the 2nd.
    """
    lowered = normalise(text)
    if listed and _LONE_ORDINAL.fullmatch(lowered):
        return False
    if _RELATIVE_DAY.search(lowered):
        return True
    first = parse_when(text, now)
    if first is None:
        return False
    second = parse_when(text, now + timedelta(days=1))
    if second is None:
        return True
    shift = second.start.astimezone(now.tzinfo).date() - first.start.astimezone(now.tzinfo).date()
    return shift != timedelta(days=1)


def later_or_earlier(text: str) -> str | None:
    """ "later" / "earlier" when the reply asks for times after / before those shown."""
    lowered = normalise(text)
    if _PICK_ONLY.search(lowered):
        return None
    m = _LATER.search(lowered)
    if m is None:
        return None
    return next(g for g in m.groups() if g)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of a local day."""
    return datetime.combine(day, time(0), zone)


def time_on(day: date, text: str, zone: ZoneInfo, opening: tuple[time, time]) -> When | None:
    """What the text says about a time, read as a time of `day`; None if it says none."""
    when = parse_when(text, midnight(day, zone), opening=opening)
    if when is None or when.start.astimezone(zone).date() != day:
        return None
    return when


def hour_minute(value: int, opening: tuple[time, time]) -> int | None:
    """The minute of day a bare hour means within opening hours (1-6 afternoon, 7-11
    morning when both fit), None when no reading of it is open."""
    lo = opening[0].hour * 60 + opening[0].minute
    hi = opening[1].hour * 60 + opening[1].minute or 24 * 60
    if value == 12:
        readings = [12 * 60]
    elif 1 <= value <= 11:
        readings = [value * 60, (value + 12) * 60]
    elif 13 <= value <= 23:
        readings = [value * 60]
    else:
        return None
    fits = [m for m in readings if lo <= m < hi]
    if len(fits) > 1:
        return fits[1] if value <= 6 else fits[0]
    return fits[0] if fits else None


def bare_number(text: str, count: int, opening: tuple[time, time] | None) -> Number | None:
    """The one bare number in the reply ("what about 5", "4?", "2"), else None.

    Numbers with a unit or an index word ("option 2", "#2", "5pm", "3 people") are not bare.
    """
    lowered = text.lower().replace("\u2019", "'")
    found = [m for m in _NUMBER.finditer(lowered) if not _INDEX_WORD.search(lowered[: m.start()])]
    if len(found) != 1 or _TIME_CUE.search(lowered[: found[0].start()]):
        return None
    m = found[0]
    token = m.group(1)
    value = NUMBER_WORDS.get(token) or int(token)
    rest = (lowered[: m.start()] + " " + lowered[m.end() :]).replace("?", " ")
    lone = all(w in _LONE_FILLER for w in normalise(rest).split())
    if token in NUMBER_WORDS and not lone and token == "one":
        return None  # "that one", "the one with Alex"
    return Number(
        value=value,
        option=1 <= value <= count,
        minute=hour_minute(value, opening) if opening else None,
        lone=lone,
    )

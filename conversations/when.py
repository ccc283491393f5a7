"""Understanding *when* a customer wants an appointment, from English chat text.

This module owns one translation: free text such as "can I come in friday after 3?",
"tmrw morning", "the 12th at 10:30" or "asap" becomes a :class:`When` -- an aware
window in the business's time zone, a preferred moment for nearest-first ranking and
a short label. It knows nothing about services, staff or availability.

How phrases are read (the documented choices):

* Everything is read towards the future (dateparser's ``PREFER_DATES_FROM='future'``).
  A window never starts before ``now``: it is clipped to ``now``, and when nothing of it
  is left it rolls forward (a day for "today"/undated times, a week for weekday names,
  a month for "the 12th", a year for "dec 3").
* ``<day>``, ``this <day>``, ``coming <day>``: the nearest upcoming such day, today
  included -- unless today is that day and it is already past closing time, then the
  same day next week. ``next <day>`` and ``<day> next week``: that day in the next
  calendar week (weeks run Monday to Sunday), so on a Wednesday "next friday" is
  nine days away, not two; "next thu or fri" is that pair in the next calendar week, and
  "the friday after next" the one after that.
* A bare hour ("at 3", "after 5", "between 2 and 4") takes the am/pm reading that falls
  inside the part of day mentioned ("tonight at 9" is 21:00), else inside opening hours
  ("at 7" with 08:00-20:00 is 19:00); when both or neither fit, 7-11 are morning and
  12-6 afternoon. Numbers with no time cue ("2", "42", "£30") are never times, nor are
  house and street numbers ("1919 Mount Diablo Blvd"), suites and rooms ("# 114", "suite
  300"), phone numbers, prices, counts ("table for 2", "3 people", "party of six") and
  numbers inside capitalised names ("Three Brothers Diner"); "am" is a.m. only after a
  number ("am I free" is the verb).
* An hour said with a part of day, in either order, is that exact time and the part sets
  am/pm: "six in the evening", "evening 6", "at afternoon 1", "12 o'clock in the afternoon"
  (12:00), "10:30 at night" (22:30), "4 in the evening" (16:00). With "around" it is an hour
  either side; with a bound ("after 5 in the evening") the bound grammar reads it. "for 3 at
  afternoon 1" is 1 pm (3 is the party). No evening has a 2 o'clock nor an afternoon an 8, so
  "a table for 2 in the evening" is the evening window. Guesses are read but flagged
  ``When.ambiguous``: "1 in the morning", "12:30 at night", "a table for five in the
  evening", and a bare hour whose morning and evening readings both fall in opening hours.
* Numeric dates "12/5" are month/day, except in Europe/* zones where they are
  day/month; an impossible reading is swapped ("25/12" is always Christmas).
* "from 10 to 4" and "10 to 4 tomorrow" are ranges (10:00-16:00); a lone "10 to 4" is
  nothing (it could be people); "ten to four" in words is 15:50.
* "after 5" with no day, said when 5 o'clock has passed, means tomorrow after 5.
  An exact or approximate time already past today ("at 9", "around 9:30" said at 10:15)
  means tomorrow. "how about 3", "say 3", "let's say 1 pm" name a time exactly; "pick up to
  4:30" is the pick-up time, not "up to 4:30".
* A bound said after its time reads like one said before: "7pm or later", "2 onwards", "9 at
  the earliest" are "after"; "4 at the latest", "3pm latest", "3 or earlier" are "before";
  "I get off at 5 so after that" is after 5. "1500 hrs" and "15h00" are 15:00, "at 8 30" and
  "8 30 am" 8:30 (one space, a multiple of five minutes: "not at 11, 12" stays two hours).
* Corrections and contrasts: "not 2, 3", "3 rather than 2", "instead of friday, saturday",
  "I can't do 3, how about 4", "can't do mornings, afternoon tomorrow?", "anything but the 3pm
  slot tomorrow", "1 pm instead? ... at 2" and "my slot is at 2, can I change
  it to 4" give the wanted reading, with the one given up in ``When.replaced`` (a time
  replaced without a day of its own falls on the wanted day). "move it from friday to monday"
  and "reschedule from 2 to 4" want the second, as does "my appt is at 3:30, can we make it
  4:30". "any day but monday", "anytime except 3":
  a window cannot hold a hole, so the answer is the as-soon-as-possible window with the
  refused reading in ``When.replaced`` for the dialogue to avoid.
* When several days are named the first wins, except runs: "mon-wed", "monday to
  wednesday", and "tue or wed" for two consecutive days, which span those days.
  "tomorrow or friday" and "today or tomorrow" span both when they are consecutive.
  A weekday next to a date defers to the date ("friday the 13th" is the next 13th that
  is a Friday). "the 9th of this month", "9th of next month", "the 9th", "on the 9th" are
  that day, and a month said elsewhere in the message counts: "next month on the 3rd",
  "in january on the 3rd". Runs of days of a month: "dec 3-5", "the 10th-12th", "between
  the 3rd and the 5th", and "the 3rd or 4th" (with "or"/"and" only for neighbours). "the
  first week of december" is its days 1-7, "the last week of" its last seven, "the week of
  the 7th" that date's Monday-to-Sunday week, "the first monday of december" and "the last
  friday of the month" that day. A refusal with nothing else wanted ("not monday", "not at
  2") is no answer (None), never the refused time. "last friday" is not understood.
* US holidays are dates: christmas (eve, day), boxing day, new year's eve and day, valentine's,
  independence day, halloween, veterans day, thanksgiving and black friday, memorial, labor,
  mother's, father's, MLK, presidents and columbus day; also "the day after christmas", "the
  friday after thanksgiving" and "between christmas and new year" (the days in between);
  "thanksgiving weekend" runs to its Sunday, "christmas week" is its Monday-to-Sunday week.
  "happy new year" and "merry christmas" are greetings.
* A date after "before", "by" or "no later than" (with no time of day) is the days up to it:
  "before the 10th" is now to the 9th, "by friday" now to the end of Friday ("come by
  friday", "stop by tomorrow" are visits on that day). "from the 5th"
  is the 5th (a start day, as the corpus reads it).
* Windows: morning opening-12:00, afternoon 12:00-17:00, evening/tonight 17:00-22:00,
  also as texted ("eve", "evng", "nite", "aft", "arvo", "friday a.m.", "an am slot", "in the
  pm": pm is 12:00-22:00), end of day / "eod" / "before you close" / "last appointment" the last two
  opening hours ("by end of day": what is left of the day), "first appointment of the day"
  and "when you open" first thing, lunchtime 11:30-14:00, "around 11" 10:00-12:00, "after
  5" 17:00-midnight, "before 3" midnight-15:00. "this week" is now to Sunday midnight,
  "next week" its Monday to Monday, "this weekend" Saturday to Monday midnight, "next
  weekend" the weekend of next calendar week, "end of the week" Friday to Monday midnight, "early
  next week" Monday to Thursday midnight, "mid next week" Tuesday to Thursday, "late next
  week" Thursday to Sunday, "in 2 weeks"/"in 3 days" that single day,
  "in 2 hours" and "same time next week" that exact minute, "the next few days" today
  and the 3 days after, "asap"/"earliest"/"first available" now to now + 14 days.
* A time of day with several days ("next week after 5", "tue or wed afternoon") is a
  daily filter: :meth:`When.contains` admits only those hours on each day.

dateparser is only a fallback, for date spellings the grammar here does not know
("5-dec-2026"); it is called only when the text holds a month name and a digit.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz, process

from conversations.nlu.words import DAY_NAMES, MONTHS, NUMBER_WORDS, ORDINAL_WORDS, WEEKDAYS

__all__ = ["When", "parse_when"]

_log = logging.getLogger(__name__)

_MAX_CHARS = 300  # customers state a time early; the tail of a long message is not worth its cost
_ASAP_SPAN = timedelta(days=14)
_MINUTE = timedelta(minutes=1)
_WEEK = timedelta(days=7)
_DAY_MIN = 24 * 60

_WEEKDAYS = WEEKDAYS
_MONTHS = MONTHS
_WD_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WD_LONG = DAY_NAMES
_MON_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class When:
    """What the customer asked for: a window of acceptable appointment starts."""

    start: datetime
    end: datetime
    target: datetime | None
    exact: bool
    label: str
    # Minutes-of-day filter for multi-day windows such as "next week after 5": the
    # span alone would also admit every night in between.
    _daily: tuple[int, int] | None = field(default=None, repr=False)
    # The reading is a guess ("2 in the evening", "at 8" when both 8s are open): confirm it.
    ambiguous: bool = False
    # What the customer is moving away from: "1 pm instead of 2" -> the 2 pm reading.
    replaced: When | None = None

    def contains(self, moment: datetime) -> bool:
        """Tell whether an appointment starting at `moment` fits what was asked."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            return False
        stamp = moment.timestamp()
        if self.exact:
            return stamp // 60 == self.start.timestamp() // 60
        if not self.start.timestamp() <= stamp < self.end.timestamp():
            return False
        if self._daily is None:
            return True
        local = moment.astimezone(self.start.tzinfo)
        lo, hi = self._daily
        return lo <= local.hour * 60 + local.minute < hi

    @property
    def daily(self) -> tuple[int, int] | None:
        """For multi-day windows with a time of day: [from, to) minutes after local midnight."""
        return self._daily

    @property
    def days(self) -> list[date]:
        """List the local dates the window touches."""
        zone = self.start.tzinfo
        first = self.start.date()
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        out: list[date] = []
        day = first
        while day <= last:
            if self._daily is None or self._touches(day):
                out.append(day)
            day += timedelta(days=1)
        return out

    def _touches(self, day: date) -> bool:
        assert self._daily is not None and self.start.tzinfo is not None
        lo, hi = self._daily
        opens = _at(day, lo, self.start.tzinfo)
        closes = _at(day, hi, self.start.tzinfo)
        return opens < self.end and closes > self.start


# --------------------------------------------------------------------------- internal model


class _Hours(NamedTuple):
    """Opening hours as minutes after local midnight, close exclusive."""

    open: int
    close: int


@dataclass(frozen=True)
class _Clock:
    """A time of day asked for, in minutes after local midnight (hi may be 1440)."""

    lo: int
    hi: int
    target: int | None
    kind: str  # exact | around | after | before | range | part
    label: str
    ambiguous: bool = False  # the reading is a guess worth confirming with the customer

    @property
    def exact(self) -> bool:
        return self.kind == "exact"


@dataclass(frozen=True)
class _Days:
    """One day or a run of consecutive days, and how to move on if it has passed."""

    first: date
    count: int = 1
    step: str | None = None  # day | week | month | year: how to roll forward, None: no roll
    label: str = ""  # used for multi-day spans only
    implicit: bool = False  # no day was named; today is assumed


@dataclass
class _Found:
    """What the date grammar found, and the text left for the clock grammar."""

    text: str
    days: _Days | None = None
    moment: datetime | None = None
    asap: bool = False


class _Atom(NamedTuple):
    hour: int
    minute: int
    meridiem: str | None
    bare: bool  # no minutes and no am/pm: the reading must be guessed


# --------------------------------------------------------------------------- normalising

_CURRENCY = re.compile(
    r"[$£€¥]\s*\d[\d,]*(?:\.\d+)?"
    r"|\d[\d,]*(?:\.\d+)?\s*(?:usd|gbp|eur|dollars?|pounds?|euros?|bucks|quid)\b",
    re.ASCII,
)
_AT_SIGN = re.compile(r"@\s*(?=\d|noon|midday)")
_MERIDIEM_DOTS = re.compile(r"(?<=\d)\s*([ap])\.?\s?m\b\.?|(?<=\d)([ap])\b", re.ASCII)
# "friday a.m.", "tmrw p.m.": dotted, the letters are a.m./p.m. even with no number before them
_DOTTED_MERIDIEM = re.compile(r"\b([ap])\.\s?m\b\.?", re.ASCII)
_DOTTED_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})\b", re.ASCII)
_DOTTED_TIME = re.compile(r"(\b[a-z]+ )?\b(\d{1,2})\.(\d{2})(?!\d)(\s?[ap]m\b)?", re.ASCII)
_GREETING = re.compile(
    r"\bgood\s?(?:morning|afternoon|evening|night|day)\b|^\W*(?:morning|evening)\s*[!,.]"
)
_OCLOCK = re.compile(r"\bo\s*['\"]?\s*clock\b", re.ASCII)
# Numbers that are parts of addresses, rooms, phones and names are never times: "1919 Mount
# Diablo Boulevard", "5 Bon Air Rd # 114", "suite 300", "555-123-4567", "Three Brothers".
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|place|pl|court|ct"
    r"|circle|cir|parkway|pkwy|highway|hwy|terrace|ter|square|sq|plaza|alley|row|crescent"
    r"|close|mall|expressway|expy|freeway|fwy|pike|trail|trl|loop|center|centre)"
)
_NOT_STREET_NAME = (
    r"(?!(?:at|on|in|for|and|or|to|by|am|pm|a|p|with|the|my|your|our|oclock|o|clock|please|this"
    r"|next|today|tonight|tomorrow|morning|afternoon|evening|night)\b)"
)
_ADDRESS = re.compile(
    rf"(?<![\d:.])\b\d{{1,6}}(?:\s{_NOT_STREET_NAME}(?:[a-z][a-z-]*\.?|\d{{1,3}}(?:st|nd|rd|th))){{1,4}}"
    rf"\s{_STREET}\b\.?"
    # "5th Avenue", "the 4th Street Deli": an ordinal naming a street is no day of the month
    rf"|\b\d{{1,3}}(?:st|nd|rd|th)\s{_STREET}\b\.?",
    re.ASCII,
)
_UNIT = re.compile(
    r"(?:#|\b(?:suite|ste|unit|apt|apartment|room|rm|floor|fl|building|bldg|gate|terminal"
    r"|flight|platform|bus|route|highway|hwy|interstate|exit|number|table|seat|box|lot"
    r"|pier|dock|bay|level)\b\.?)\s?#?\s?\d+[a-z]?\b"
    r"(?![:.]\d|\s?(?:[ap]\.?m\b|o\W{0,2}\s?clock))",  # "table 7pm" is still 7 pm
    re.ASCII,
)
_PHONE = re.compile(r"\+?\(?\d{2,4}\)?(?:[\s.-]?\d{2,4}){2,4}(?<=\d{4})(?!\d)", re.ASCII)
_NOT_NAME = (
    r"(?!AM\b|PM\b|A\.M|P\.M|O'|O\"|O\u2019|Noon|Midday|Midnight|Tomorrow|Today|Tonight"
    r"|This|Next|On|In|At|Or|And|To|Please|Thank|Morning|Afternoon|Evening|Night|Thirty|Fifteen"
    r"|With|If|For|Is|Would|Works|Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug"
    r"|Sep|Oct|Nov|Dec)"
)
# a spelt number before a capitalised word ("Three Brothers"), a figure before two ("at 5 Bon
# Air"); "at 2 Jess" keeps its time
_NAMED = re.compile(
    r"(?<=[A-Za-z,] )(?:(?:One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve)"
    rf"(?= {_NOT_NAME}[A-Z][A-Za-z]+)|\d{{1,4}}(?= {_NOT_NAME}[A-Z][A-Za-z]+ {_NOT_NAME}[A-Z][a-z]))"
)
# "a table for 2", "party of six", "2 people": a count, not a clock.
_COUNT = re.compile(
    r"\b(?:(?:table|booking|reservation|party|group)\s(?:for|of)\s(?:\d{1,2}|one|two|three|four"
    r"|five|six|seven|eight|nine|ten|eleven|twelve)\b(?![:.]\d|\s?(?:[ap]\.?m\b|o\W{0,2}\s?clock"
    r"|(?:in\s(?:the\s)?|at\s|this\s)(?:morning|afternoon|evening|night)))"
    r"|(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s"
    r"(?:people|persons?|guests?|adults?|kids|children|of us|pax|seats?|chairs?|cars?"
    r"|rooms?|bedrooms?|baths?|bathrooms?|tickets?|items?|stars?|nights)\b)",
    re.ASCII,
)
_JUNK = re.compile(r"[^a-z0-9:/\-\s]+", re.ASCII)
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_TIME_CUES = frozenset(
    {"at", "around", "about", "by", "after", "before", "from", "until", "till", "til", "to"}
)


def _normalise(text: str) -> str:
    """Lower-case ASCII words, digits and the separators : / - that times and dates use."""
    text = text[:_MAX_CHARS]
    digits = _DIGIT.search(text) is not None  # most of the masks below need a digit to act on
    text = _NAMED.sub("name", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-")
    text = text.replace("\u2014", " - ")
    if digits:
        text = _CURRENCY.sub(" ", text)
        text = _UNIT.sub(" ", _ADDRESS.sub(" ", _PHONE.sub(" ", text)))
    text = _COUNT.sub(" ", _GREETING.sub(" ", text))
    if digits:
        text = _AT_SIGN.sub("at ", text)
        text = _MERIDIEM_DOTS.sub(lambda m: (m.group(1) or m.group(2)) + "m", text)
    if "clock" in text:
        text = _OCLOCK.sub(" oclock", text)
    if ".m" in text or ". m" in text:
        text = _DOTTED_MERIDIEM.sub(r"\1m", text)
    if digits and " " in text:
        text = _SPACED_MINUTES.sub(_spaced_minutes, text)
    if "&" in text:
        text = text.replace("&", " and ")  # "btwn 2 & 4": a range, not "2 4"
    if digits and "." in text:
        text = _DOTTED_DATE.sub(r"\1/\2/\3", text)
        text = _DOTTED_TIME.sub(_dotted_time, text)
    text = _JUNK.sub(" ", text.replace("'", ""))
    return _SPACES.sub(" ", text).strip()


# minutes after one space, before commas are dropped: "at 8 30", "8 30 am" -- but not "not
# at 11, 12", "at 2 30 minutes" or "at 5 15 people"
_SPACED_MINUTES = re.compile(
    r"\b(?:(at|around|about|by|after|before|from|until) )?(\d{1,2}) ([0-5][05])(?!\d)"
    r"(?! ?(?:min|minutes?|hours?|hrs?|people|persons?|of us|guests?|kids|adults)\b|[:/.]\d)"
    r"( ?[ap]\.?m\b)?",
    re.ASCII,
)


def _spaced_minutes(m: re.Match[str]) -> str:
    cue, hour, minute, meridiem = m.groups()
    if (cue is None and meridiem is None) or int(hour) > 23:
        return m.group(0)
    if meridiem is not None and int(hour) > 12:
        return m.group(0)  # "nov 21 10 am": the 21st at 10, not 21:10 am
    if cue is None and _MONTH_BEFORE.search(m.string[max(0, m.start() - 12) : m.start()]):
        return m.group(0)  # "dec 3 10 am": the 3rd at 10
    return f"{cue + ' ' if cue else ''}{hour}:{minute}{meridiem or ''}"


_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? ?$", re.ASCII
)


def _dotted_time(m: re.Match[str]) -> str:
    # "10.30" is a time, "45.00" or "12.99" is a price: take only plausible clock faces.
    cue, hour, minute, meridiem = m.group(1) or "", int(m.group(2)), m.group(3), m.group(4)
    timed = meridiem is not None or cue.strip() in _TIME_CUES
    if hour <= 23 and int(minute) <= 59 and (timed or minute in ("00", "15", "30", "45")):
        return f"{cue}{hour}:{minute}{meridiem or ''}"
    return m.group(0).replace(".", " ")


# --------------------------------------------------------------------------- canonical words

_ALWAYS: dict[str, str] = {
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "tmw": "tomorrow",
    "tmoro": "tomorrow",
    "tomo": "tomorrow",
    "tomoz": "tomorrow",
    "2moro": "tomorrow",
    "2morro": "tomorrow",
    "2morrow": "tomorrow",
    "2morow": "tomorrow",
    "2mrw": "tomorrow",
    "2mro": "tomorrow",
    "2day": "today",
    "tdy": "today",
    "tonite": "tonight",
    "2nite": "tonight",
    "2night": "tonight",
    "tues": "tuesday",
    "tue": "tuesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "thr": "thursday",
    "thrs": "thursday",
    "fri": "friday",
    "nxt": "next",
    "wk": "week",
    "wks": "weeks",
    "wknd": "weekend",
    "wkend": "weekend",
    "weekends": "weekend",
    "hr": "hour",
    "hrs": "hours",
    "mins": "minutes",
    "b4": "before",
    "til": "until",
    "till": "until",
    "untill": "until",
    "btwn": "between",
    "betw": "between",
    "abt": "about",
    "approx": "about",
    "approximately": "about",
    "roughly": "about",
    "round": "around",
    "arround": "around",
    "arvo": "afternoon",
    "aft": "afternoon",
    "aftn": "afternoon",
    "aftrnoon": "afternoon",
    "afternon": "afternoon",
    "evng": "evening",
    "evnng": "evening",
    "evenin": "evening",
    "eveing": "evening",
    "nite": "night",
    "nites": "night",
    "morn": "morning",
    "mornin": "morning",
    "mornings": "morning",
    "afternoons": "afternoon",
    "evenings": "evening",
    "nights": "night",
    "lunchtimes": "lunchtime",
    "a-s-a-p": "asap",
    "b/w": "between",
}
for _name in _WEEKDAYS:
    _ALWAYS[_name + "s"] = _name
# Short forms that are also ordinary words ("I sat", "the sun", "Jan"): trusted only
# next to a date-ish neighbour.
_GUARDED: dict[str, str] = {
    "mon": "monday",
    "wed": "wednesday",
    "sat": "saturday",
    "sun": "sunday",
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}
_DATE_BEFORE = frozenset(
    {"on", "this", "next", "coming", "by", "until", "before", "after", "or", "and", "-", "/", "to"}
    | {"for", "from", "in", "of", "every", "early", "mid", "late", "the"}
    | {"noon", "midday", "midnight", "am", "pm"}  # "12 noon sat"
    | {"day", "time", "anytime", "whenever"}  # "all day sat", "any time sun"
)
_DATE_AFTER = frozenset(
    {"morning", "afternoon", "evening", "night", "lunchtime", "at", "am", "pm", "or", "and", "-"}
    | {"/", "to", "the", "next", "this"}
)
_FUZZY_TARGETS = (*_WEEKDAYS, "tomorrow", "morning", "afternoon", "evening", "tonight")
_FUZZY_MONTHS = tuple(m for m in _MONTHS if len(m) > 4)
_FUZZY_FIRST = frozenset(w[0] for w in _FUZZY_TARGETS + _FUZZY_MONTHS)
_NOT_TYPOS = frozenset(
    {"sundae", "sundaes", "sundry", "saturated", "mourning", "moaning", "mondays", "evenly"}
)
_KNOWN = frozenset(
    (*_WEEKDAYS, *_MONTHS, "today", "tonight", "tomorrow", "morning", "afternoon", "evening")
)

_NUMBER_WORDS = NUMBER_WORDS
_MINUTE_WORDS = {"five": 5, "ten": 10, "twenty": 20, "twenty-five": 25, "twentyfive": 25}
_ORDINAL_WORDS = ORDINAL_WORDS
_HOUR_BEFORE = frozenset(
    {"at", "around", "about", "by", "after", "before", "from", "between", "until", "to", "and"}
    | {"past", "half", "-", "or", "quarter", "like", "say"}
)
_HOUR_AFTER = frozenset(
    {"oclock", "am", "pm", "ish", "thirty", "fifteen", "forty-five", "fortyfive", "forty"}
)
_MINUTE_AFTER = frozenset({"past", "to", "after", "of", "until", "before"})


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


@lru_cache(maxsize=4096)
def _fuzzy(token: str) -> str | None:
    """Map a misspelt day or part-of-day word ("firday", "wensday") to its spelling."""
    if not (4 < len(token) <= 12 and token.isalpha()) or token[0] not in _FUZZY_FIRST:
        return None
    if token in _NOT_TYPOS:
        return None
    hit = process.extractOne(token, _FUZZY_TARGETS, scorer=fuzz.ratio, score_cutoff=80)
    if hit is not None and hit[0][0] == token[0]:
        return hit[0]
    hit = process.extractOne(token, _FUZZY_MONTHS, scorer=fuzz.ratio, score_cutoff=85)
    if hit is not None and hit[0][0] == token[0]:
        return hit[0]
    return None


def _word(tokens: list[str], i: int) -> str:
    """Canonical spelling of tokens[i], looking at its neighbours for context."""
    tok = tokens[i]
    prev = tokens[i - 1] if i else ""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok in _ALWAYS:
        return _ALWAYS[tok]
    if tok == "eve":
        # "wed eve", "this eve": the evening; "christmas eve", "new years eve": a holiday
        return tok if prev in _EVE_OF else "evening"
    if tok in _GUARDED:
        # "nxt mon" is "next monday", "mon aft" monday afternoon
        prev, nxt = _ALWAYS.get(prev, prev), "evening" if nxt == "eve" else _ALWAYS.get(nxt, nxt)
        near_date = i == 0 or prev in _DATE_BEFORE or nxt in _DATE_AFTER
        # "sat around 1": a day when a time cue and a figure follow
        after = tokens[i + 2] if i + 2 < len(tokens) else ""
        timed = nxt in _TIME_CUES and after[:1].isdigit()
        if near_date or timed or nxt[:1].isdigit() or prev[:1].isdigit():
            return _GUARDED[tok]
        if nxt in _WITH and prev not in _PRONOUNS:
            return _GUARDED[tok]  # "haircut sat with sam at 2" (but "I sat with her")
        if (
            _GUARDED[tok] in _WEEKDAYS
            and prev not in _PRONOUNS | _NAMING
            and (nxt in _DAY_THEN or (nxt == "" and i > 0))
        ):
            # "with jordan sun first thing", "sat early", "haircut with sam sat": a day,
            # unless someone sat ("I sat early", "where we sat")
            return _GUARDED[tok]
        return tok
    if tok in _MINUTE_WORDS and nxt in _MINUTE_AFTER and prev not in ("from", "between"):
        return f"{_MINUTE_WORDS[tok]}min"
    if tok == "am" and (prev == "i" or nxt == "i"):
        return "amverb"  # "am I free": the verb, never a.m.
    if tok in _NUMBER_WORDS and (
        prev in _HOUR_BEFORE
        or nxt in _HOUR_AFTER
        or (
            (prev in _PARTS or _part_follows(tokens, i))
            and not (tok == "one" and prev in _DETERMINERS)
        )
    ):
        return str(_NUMBER_WORDS[tok])
    if tok in _ORDINAL_WORDS and _ordinal_context(tokens, i):
        n = _ORDINAL_WORDS[tok]
        return f"{n}{_suffix(n)}"
    if tok in _KNOWN:
        return tok
    return _fuzzy(tok) or tok


_WITH = frozenset({"with", "w", "w/", "wth"})
_NAMING = frozenset({"im", "i'm", "is", "name", "names", "named", "called", "mr", "ms", "mrs"})
_DAY_THEN = frozenset(
    {"first", "early", "late", "noon", "midday", "lunch", "anytime", "any", "please", "pls"}
    | {"im", "i'm", "thanks", "thx", "if", "or", "between", "betw", "btwn"}  # "alex sat, I'm Lou"
)
_PRONOUNS = frozenset({"i", "we", "he", "she", "they", "you", "u", "who", "just", "had"})


_PARTS = frozenset({"morning", "afternoon", "evening", "night"})
_EVE_OF = frozenset({"christmas", "xmas", "years", "year", "halloween", "the", "on"})
# "the one in the afternoon", "is there one in the morning": a slot pointed at, not 1 o'clock
_DETERMINERS = frozenset({"the", "that", "this", "any", "a", "which", "no", "each", "there"})


def _part_follows(tokens: list[str], i: int) -> bool:
    # "six in the evening", "one in the afternoon": the part of day makes the number an hour
    nxt = tokens[i + 1 : i + 4]
    if len(nxt) >= 2 and nxt[0] in ("in", "at", "this") and nxt[1] in _PARTS:
        return True
    return len(nxt) == 3 and nxt[0] == "in" and nxt[1] == "the" and nxt[2] in _PARTS


def _ordinal_context(tokens: list[str], i: int) -> bool:
    # "the third of december", "december third", "on the third" -- not "first thing"
    prev = tokens[i - 1] if i else ""
    before = tokens[i - 2] if i > 1 else ""
    after = tokens[i + 2] if i + 2 < len(tokens) else ""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if nxt == "of" and (after in _MONTHS or after in ("next", "this", "the")):
        return True
    if prev in _MONTHS:
        return True
    # "the fifth" as the whole answer is a day too
    return prev == "the" and before in ("on", "for", "by", "until", "") and nxt in ("", "at", "of")


_HOUR_H = ("hours", *(f"{n}h" for n in range(10)))  # "1500 hours", "15h00"
# Each rewrite runs only when one of its words is in the text: most messages need few of them.
_REWRITES: tuple[
    tuple[tuple[str, ...], re.Pattern[str], str | Callable[[re.Match[str]], str]], ...
] = (
    (("oclock",), re.compile(r"\b(\d{1,2}) ?oclock\b"), r"\1:00"),
    (("ish",), re.compile(r"\b(noon|midday|midnight)ish\b"), r"\1 ish"),
    # before noon and midnight turn into figures: "quarter to midnight" is 23:45
    (
        ("quarter", "half"),
        re.compile(r"\b(?:a )?(quarter|half) (past|after|to|of|before) (noon|midday|midnight)\b"),
        lambda m: _quarter_of_twelve(m.group(1), m.group(2), m.group(3)),
    ),
    (("noon", "midday"), re.compile(r"\b(?:12 ?)?(?:noon|midday)\b"), "12:00pm"),
    (("midnight",), re.compile(r"\b(?:12 ?)?midnight\b"), "12:00am"),
    (("lunch",), re.compile(r"\blunch ?time\b"), "lunchtime"),
    (("half",), re.compile(r"\bhalf (?:past |after )?(\d{1,2})\b(?![:\d])"), r"\1:30"),
    (("quarter",), re.compile(r"\b(?:a )?quarter (?:past|after) (\d{1,2})\b(?![:\d])"), r"\1:15"),
    (
        ("quarter",),
        re.compile(r"\b(?:a )?quarter (?:to|of|before|until) (\d{1,2})\b(?![:\d])"),
        lambda m: f"{_hour_before(int(m.group(1)))}:45",
    ),
    (
        ("past", "after"),
        re.compile(r"\b(\d{1,2}) ?(?:(?:min|minutes?) (?:past|after)|past) (\d{1,2})\b(?![:\d])"),
        lambda m: _minutes_past(int(m.group(2)), int(m.group(1))),
    ),
    (
        ("min",),
        re.compile(r"\b(\d{1,2}) ?(?:min|minutes?) (?:to|of|before|until) (\d{1,2})\b(?![:\d])"),
        lambda m: _minutes_to(int(m.group(2)), int(m.group(1))),
    ),
    (("thirty",), re.compile(r"\b(\d{1,2}) (?:thirty)\b"), r"\1:30"),
    (("fifteen",), re.compile(r"\b(\d{1,2}) (?:fifteen)\b"), r"\1:15"),
    (("forty",), re.compile(r"\b(\d{1,2}) (?:forty-five|forty five|fortyfive)\b"), r"\1:45"),
    (("am", "pm"), re.compile(r"\b(\d{1,2})([0-5]\d) ?(am|pm)\b"), r"\1:\2\3"),
    (
        ("",),
        re.compile(r"\b(at|around|about|after|before|by|from|until) ([01]\d|2[0-3])([0-5]\d)\b"),
        r"\1 \2:\3",
    ),
    (
        ("as soon",),
        re.compile(r"\bas soon as (?:possible|poss|you can|you could|can be)\b"),
        "asap",
    ),
    (("a s a p",), re.compile(r"\ba s a p\b"), "asap"),
    # the shop's own hours as the time: "first appointment of the day", "before you close"
    (
        ("open", "first appointment", "first slot"),
        re.compile(
            r"\b(?:(?:as soon as|right when|when|once|after) (?:you|u) open"
            r"|(?:the )?first (?:appointment|slot)(?: of the day)?)\b"
        ),
        "first thing",
    ),
    (
        ("close", "last appointment", "last slot"),
        re.compile(
            r"\b(?:(?:just )?before (?:you|u) close|(?:the )?last (?:appointment|slot)(?: of the day)?)\b"
        ),
        "end of day",
    ),
    # "by end of day" is any time left in the day; "end of day" and "eod" are its last hours
    (
        ("end of", "eod", "close of"),
        re.compile(r"\b(?:by|before) (?:the )?end of (?:the )?day\b"),
        lambda m: "" if _OTHER_DAY.search(m.string) else "today",
    ),
    (
        ("end of", "eod", "close of"),
        re.compile(r"\b(?:(?:the )?end of (?:the )?day|eod|close of business)\b"),
        "end of day",
    ),
    # "1500 hrs", "15h00": a 24-hour clock face
    (_HOUR_H, re.compile(r"\b([01]\d|2[0-3])h?([0-5]\d) ?(?:hours|h)\b"), r"\1:\2"),
    (_HOUR_H, re.compile(r"\b([01]?\d|2[0-3])h([0-5]\d)\b"), r"\1:\2"),
    (
        ("dot", "sharp"),
        re.compile(r"\b(\d{1,2}(?::[0-5]\d)?(?:am|pm)?) (?:on the dot|sharp)\b"),
        r"at \1",
    ),
    # "I get off at 5 so after that", "pickup is at 3, before then": the bound points back
    (
        ("after that", "after then", "before that", "before then", "time after"),
        re.compile(
            r"\b(?:at|is|until) (\d{1,2}(?::[0-5]\d)?(?: ?[ap]m)?)\b(.{0,30}?) ?\b(after|before)"
            r"(?: (?:that|then)\b| ?$)"
        ),
        r"\3 \1 \2",
    ),
    # a bound said after its time: "7pm or later", "2 onwards", "4 at the latest", "3pm latest"
    (
        ("or later", "and later", "onward", "or after", "earliest"),
        re.compile(
            r"\b(\d{1,2}(?::[0-5]\d)?(?:\s?[ap]m)?)\s(?:or\s(?:later|after)|and\slater|onwards?"
            r"|at\s(?:the\s)?earliest)\b"
        ),
        r"after \1",
    ),
    (
        ("latest", "earlier", "or before"),
        re.compile(
            r"\b(\d{1,2}(?::[0-5]\d)?(?:\s?[ap]m)?)\s(?:at\s(?:the\s)?latest|latest|or\searlier"
            r"|or\sbefore)\b"
        ),
        r"by \1",
    ),
)


_OTHER_DAY = re.compile(r"\btomorrow\b|\d|" + "|".join(_WEEKDAYS), re.ASCII)


def _quarter_of_twelve(amount: str, way: str, twelve: str) -> str:
    night = twelve == "midnight"
    if way in ("past", "after"):
        return f"12:{15 if amount == 'quarter' else 30}{'am' if night else 'pm'}"
    if amount == "half":
        return f"half {way} {twelve}"  # "half to noon" is not said; leave it be
    return f"11:45{'pm' if night else 'am'}"


def _hour_before(hour: int) -> int:
    return 12 if hour == 1 else hour - 1


def _minutes_past(hour: int, minutes: int) -> str:
    if minutes >= 60 or hour > 23:
        return f"{minutes} {hour}"
    return f"{hour}:{minutes:02d}"


def _minutes_to(hour: int, minutes: int) -> str:
    if not 0 < minutes < 60 or hour > 23:
        return f"{minutes} {hour}"
    return f"{_hour_before(hour)}:{60 - minutes:02d}"


_DAY_FORMS = frozenset(_ALWAYS) | frozenset(_GUARDED) | frozenset(_WEEKDAYS)


def _split_hyphen(token: str) -> list[str]:
    # "mon-wed", "sat/sun" are days, but "mid-morning", "twenty-five" and "12/5" stay whole
    if "-" not in token and "/" not in token:
        return [token]
    for mark in "-/":
        if token.count(mark) == 1:
            left, right = token.split(mark)
            if left in _DAY_FORMS and right in _DAY_FORMS:
                return [left, mark, right]
    return [token]


_TENS_MINUTES = re.compile(r"\b(twenty|forty) (five)\b", re.ASCII)
_TENS_ORDINAL = re.compile(
    r"\b(twenty|thirty) (first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b", re.ASCII
)


def _canonical(text: str) -> str:
    """Normalised text with day words, typos and spelt-out times in one spelling each."""
    text = _TENS_ORDINAL.sub(r"\1-\2", _normalise(text))
    if "forty" in text or "twenty" in text:
        text = _TENS_MINUTES.sub(r"\1-\2", text)  # "nine forty five": the five is minutes
    tokens = [part for tok in text.split() for part in _split_hyphen(tok)]
    text = " ".join(_word(tokens, i) for i in range(len(tokens)))
    for needles, pattern, repl in _REWRITES:
        for needle in needles:  # a plain loop: a generator per rewrite costs more than the test
            if needle in text:
                text = pattern.sub(repl, text)
                break
    return text


# --------------------------------------------------------------------------- clock grammar

_ATOM = r"(\d{1,2})(?::([0-5]\d))?(?:\s?(am|pm)\b)?(?![\d:/]|(?:st|nd|rd|th)\b|\s?-?\s?ish)"
_ATOM_ISH = r"(\d{1,2})(?::([0-5]\d))?(?:\s?(am|pm))?"
_WEEKDAYS_ALT = "(?:" + "|".join(_WEEKDAYS) + ")"
_DAYWORD = r"(?:today|tomorrow|tonight|" + "|".join(_WEEKDAYS) + ")"
_C = re.ASCII

_RANGE_LEAD = re.compile(
    rf"\b(?:between|from)\s(?:about\s|around\s)?{_ATOM}\s?(?:-|to|until|and|thru|through)\s?"
    rf"(?:about\s|around\s)?{_ATOM}",
    _C,
)
_NOT_CLOCK = (
    r"(?!\s?(?:days?|weeks?|months?|years?|hours?|minutes?|mins?|people|persons?|of us|guests"
    r"|kids|children|adults|seats?|pax|cars?|times|more|dollars|bucks|percent|miles|km)\b)"
)
_RANGE_BARE = re.compile(rf"\b{_ATOM}\s?(?:-|to|until)\s?{_ATOM}{_NOT_CLOCK}", _C)
# "3 or 4 tomorrow", "at 3 or 4": either start will do, so both hours are in the window
_EITHER = re.compile(
    rf"\b(?:(at|either|around|about)\s)?{_ATOM}\s(?:or|or\sat)\s{_ATOM}{_NOT_CLOCK}", _C
)
_DAY_BEFORE_RANGE = re.compile(rf"\b{_DAYWORD}\s(?:from\s)?$", _C)
_DAY_AFTER_RANGE = re.compile(
    rf"\s(?:on\s|this\s|next\s|in\s(?:the\s)?)?(?:{_DAYWORD}|morning|afternoon|evening|night)\b", _C
)
# "how about 3?" proposes a time and "let's say 3" names one; neither hedges it
_AROUND = re.compile(
    rf"\b(?:around|(?<!how\s)(?<!what\s)about|circa|close to|near|nearer)\s(?:at\s)?{_ATOM}", _C
)
_ISH = re.compile(rf"\b{_ATOM_ISH}\s?-?\s?ish\b", _C)
_AFTER = re.compile(
    rf"\b(?:(?<!not\s)after|from|(?<!no\s)later than|not before|no earlier than|past"
    r"|any ?time after|earliest)"
    rf"\s(?:about\s|around\s)?{_ATOM}",
    _C,
)
_BEFORE = re.compile(
    rf"\b(?:(?<!not\s)before|by|until|no later than|not after|earlier than|(?<!pick\s)(?<!pick-)up to|latest)"
    rf"\s(?:about\s|around\s)?{_ATOM}",
    _C,
)
_AT = re.compile(
    rf"\b(?:at|how about|what about|say)\s{_ATOM}{_NOT_CLOCK}(?!\s(?:point|least|most|all|once)\b)",
    _C,
)
_EXPLICIT = re.compile(r"\b(\d{1,2})(?::([0-5]\d)(?:\s?(am|pm)\b)?|\s?(am|pm)\b)(?![\d:/])", _C)
_DAY_HOUR = re.compile(rf"\b{_DAYWORD}\s{_ATOM}{_NOT_CLOCK}", _C)
_HOUR_DAY = re.compile(
    rf"(?<!for\s)\b{_ATOM}\s(?:tonight|today|tomorrow|this\s(?:morning|afternoon|evening)"
    rf"|on\s{_WEEKDAYS_ALT})\b",
    _C,
)
_PART = re.compile(
    r"\b(?:(early|late|mid)\s?-?\s?)?(morning|afternoon|evening|night|tonight|lunchtime|lunch)\b"
    r"|\b(first thing|after work|after school|before work|after lunch|before lunch|end of day)"
    r"(?:time)?\b",
    _C,
)
# An hour with its part of day, in either order: "6 in the evening", "at evening 6",
# "around the afternoon 2", "10:30 at night". The part says am or pm; the cue before says
# whether it is exact, approximate or a bound.
_PART_CUE = (
    r"(?:\b(after|past|later than|not before|no earlier than|before|by|until|no later than"
    r"|earlier than|(?<!pick\s)(?<!pick-)up to)\s)?"
    r"(?:\b(around|(?<!how\s)(?<!what\s)about|circa)\s)?(?:at\s)?"
)
_PART_WORD = r"(morning|afternoon|evening|night|tonight)"
_HOUR_THEN_PART = re.compile(
    rf"{_PART_CUE}\b{_ATOM}\s(?:(?:in\s(?:the\s)?|at\s|this\s){_PART_WORD}|(tonight))\b", _C
)
_PART_THEN_HOUR = re.compile(
    rf"{_PART_CUE}(?:the\s)?(?:in\s(?:the\s)?|this\s|at\s)?{_PART_WORD}\s"
    rf"(?:(around|about|after|before|by)\s)?(?:at\s)?{_ATOM}{_NOT_CLOCK}",
    _C,
)
# "tomorrow am", "in the pm", "an am slot", "pm appt tmrw": am/pm as a part of the day
_DAY_MERIDIEM = re.compile(
    rf"\b(?:{_DAYWORD}|in\sthe|this|an?)\s(am|pm)\b|\b(am|pm)\s(?=slot|appointment|appt|booking)",
    _C,
)


def _minute_of_day(
    atom: _Atom, prefer: tuple[int, int], *, as_end: bool = False, hint: str | None = None
) -> int | None:
    """Minutes after midnight for a clock reading; guesses am/pm for bare hours."""
    hour, minute, meridiem = atom.hour, atom.minute, atom.meridiem or hint
    if minute > 59 or hour > 24:
        return None
    if hour == 24:
        return _DAY_MIN if as_end and minute == 0 else None
    if meridiem and 1 <= hour <= 12:
        value = (hour % 12 + (12 if meridiem == "pm" else 0)) * 60 + minute
    elif hour == 0 or hour > 12:
        value = hour * 60 + minute
    else:
        value = _guess_meridiem(hour, minute, prefer, as_end=as_end)
    if as_end and value == 0:
        return _DAY_MIN
    return value


def _guess_meridiem(hour: int, minute: int, prefer: tuple[int, int], *, as_end: bool) -> int:
    morning = (hour % 12) * 60 + minute
    readings = (morning, morning + 12 * 60)
    lo, hi = prefer
    fits = [r for r in readings if (lo < r <= hi if as_end else lo <= r < hi)]
    if len(fits) == 1:
        return fits[0]
    return readings[0] if 7 <= hour <= 11 else readings[1]


def _atom(groups: tuple[str | None, ...]) -> _Atom:
    hour, minute, meridiem = groups
    return _Atom(int(hour or 0), int(minute or 0), meridiem, minute is None and meridiem is None)


_QUALIFIED_PARTS: dict[tuple[str, str], tuple[int, int]] = {
    ("early", "morning"): (0, 10 * 60),  # starts at opening time, see _part_window
    ("mid", "morning"): (9 * 60 + 30, 11 * 60 + 30),
    ("late", "morning"): (10 * 60, 12 * 60),
    ("early", "afternoon"): (12 * 60, 15 * 60),
    ("mid", "afternoon"): (13 * 60 + 30, 16 * 60),
    ("late", "afternoon"): (15 * 60, 17 * 60),
    ("early", "evening"): (17 * 60, 19 * 60),
    ("mid", "evening"): (18 * 60, 20 * 60),
    ("late", "evening"): (19 * 60, 22 * 60),
}


def _part_window(word: str, qualifier: str | None, hours: _Hours) -> tuple[int, int, str, str]:
    """(lo, hi, kind, label) of a named part of the day."""
    morning_start = hours.open if hours.open < 11 * 60 else 6 * 60
    parts: dict[str, tuple[int, int, str]] = {
        "morning": (morning_start, 12 * 60, "part"),
        "afternoon": (12 * 60, 17 * 60, "part"),
        "evening": (17 * 60, 22 * 60, "part"),
        "lunchtime": (11 * 60 + 30, 14 * 60, "part"),
        "first thing": (hours.open, min(hours.open + 60, _DAY_MIN), "part"),
        "after work": (17 * 60, _DAY_MIN, "after"),
        "after school": (15 * 60, _DAY_MIN, "after"),
        "after lunch": (14 * 60, _DAY_MIN, "after"),
        "before work": (0, 9 * 60, "before"),
        "before lunch": (0, 11 * 60 + 30, "before"),
        # the last two opening hours
        "end of day": (max(hours.open, hours.close - 120), hours.close, "part"),
    }
    label = {"night": "evening", "tonight": "evening", "lunch": "lunchtime"}.get(word, word)
    lo, hi, kind = parts[label]
    if qualifier and (qualifier, label) in _QUALIFIED_PARTS:
        narrow_lo, narrow_hi = _QUALIFIED_PARTS[qualifier, label]
        if label == "morning":
            narrow_lo = max(narrow_lo, morning_start)
        if narrow_lo < narrow_hi:  # a late-opening shop has no "early morning" to speak of
            lo, hi = narrow_lo, narrow_hi
            label = f"{qualifier}-{label}" if qualifier == "mid" else f"{qualifier} {label}"
    return lo, hi, kind, label


def _find_part(text: str, hours: _Hours) -> _Clock | None:
    m = _PART.search(text)
    if m is not None:
        lo, hi, kind, label = _part_window(m.group(2) or m.group(3), m.group(1), hours)
        return _Clock(lo, hi, None, kind, label)
    m = _DAY_MERIDIEM.search(text)
    if m is not None:
        if (m.group(1) or m.group(2)) == "am":
            return _Clock(*_part_window("morning", None, hours)[:2], None, "part", "morning")
        return _Clock(12 * 60, 22 * 60, None, "part", "afternoon or evening")
    return None


def _part_hour(hour: int, minute: int, meridiem: str | None, part: str) -> tuple[int, bool] | None:
    """(minute of day, ambiguous) for an hour said with its part of day; None if it cannot be."""
    if minute > 59 or hour > 23:
        return None
    if meridiem is not None and 1 <= hour <= 12:
        return (hour % 12 + (12 if meridiem == "pm" else 0)) * 60 + minute, False
    if hour == 0 or hour > 12:
        return hour * 60 + minute, False
    if part == "morning":
        return (hour % 12) * 60 + minute, hour < 5 or hour == 12
    if part == "afternoon":
        # "for 8 in the afternoon" is 8 people: no afternoon has an 8 o'clock
        return ((hour % 12 + 12) * 60 + minute, False) if hour <= 6 or hour == 12 else None
    if hour == 12:
        # "12:30 at night" is just after midnight; "12 in the evening" is too odd to guess
        return (minute, True) if part != "evening" else None
    if part == "evening":
        # 4 in the evening is 16:00; "a table for 2 in the evening" is 2 people
        return ((hour + 12) * 60 + minute, False) if hour >= 4 else None
    if hour >= 5:
        return (hour + 12) * 60 + minute, False
    return hour * 60 + minute, True  # "2 at night": small hours, worth asking back


_PARTY_FOR = re.compile(r"\b(?:table|party|booking|reservation|group)\s(?:for|of)\s$", _C)


def _clock_part_time(text: str) -> _Clock | None:
    """An hour stated with a part of day, the part correcting am/pm ("7 in the evening")."""
    first, then = _HOUR_THEN_PART.search(text), _PART_THEN_HOUR.search(text)
    # when both share the part word, "for 3 at afternoon 1" is 1 pm for 3 people, while
    # "9 at night at 1 Main Street" is 9 pm somewhere
    if (
        first is not None
        and then is not None
        and then.start(3) < first.end() <= then.end()
        and " at " not in text[then.end(3) : then.start(5) + 1]
    ):
        first = None
    for m in (first, then):
        if m is None:
            continue
        if m.re is _HOUR_THEN_PART:
            bound, near, hour, minute, meridiem, part, tonight = m.groups()
            part = part or tonight
        else:
            bound, near, part, inner, hour, minute, meridiem = m.groups()
            if inner in ("around", "about"):
                near = near or inner
            else:
                bound = bound or inner
        if bound and not near:
            return None  # "after 5 in the evening": a bound, read by the bound grammar
        read = _part_hour(int(hour), int(minute or 0), meridiem, part)
        if read is None:
            continue
        value, ambiguous = read
        if minute is None and meridiem is None and _PARTY_FOR.search(text, 0, m.start(3)):
            ambiguous = True  # "a table for two in the evening": two people, or 2 o'clock?
        if near:
            lo, hi = max(0, value - 60), min(_DAY_MIN, value + 60)
            return _Clock(lo, hi, value, "around", f"around {_hm(value)}", ambiguous)
        return _Clock(value, value + 1, value, "exact", _hm(value), ambiguous)
    return None


def _range_clock(m: re.Match[str], prefer: tuple[int, int], *, lead: bool) -> _Clock | None:
    first, second = _atom(m.groups()[0:3]), _atom(m.groups()[3:6])
    if not lead and first.bare and second.bare and "-" not in m.group(0):
        # "2 to 4" alone is as likely "2 to 4 people" as a time; next to a day it is a time
        before, after = m.string[: m.start()], m.string[m.end() :]
        if not (_DAY_BEFORE_RANGE.search(before) or _DAY_AFTER_RANGE.match(after)):
            return None
    lo = _range_start(first, second, prefer)
    if lo is None:
        return None
    hi = _range_end(second, lo)
    if hi is None or hi <= lo:
        return None
    return _Clock(lo, hi, lo, "range", f"{_hm(lo)}-{_hm(hi)}")


def _range_start(first: _Atom, second: _Atom, prefer: tuple[int, int]) -> int | None:
    if first.meridiem is None and second.meridiem is not None:
        # "2-4pm": the pm carries back unless that turns the range round ("10-2pm")
        carried = _minute_of_day(first, prefer, hint=second.meridiem)
        end = _minute_of_day(second, prefer, as_end=True)
        if carried is not None and end is not None and carried < end:
            return carried
    return _minute_of_day(first, prefer)


def _range_end(atom: _Atom, lo: int) -> int | None:
    if atom.meridiem or atom.hour == 0 or atom.hour > 12:
        return _minute_of_day(atom, (lo, _DAY_MIN), as_end=True)
    if atom.minute > 59:
        return None
    morning = (atom.hour % 12) * 60 + atom.minute
    for reading in (morning, morning + 12 * 60):
        if reading > lo:
            return reading
    return None


def _find_clock(text: str, hours: _Hours) -> _Clock | None:
    """The time of day asked for, if any."""
    part = _find_part(text, hours)
    prefer = (part.lo, part.hi) if part is not None else (hours.open, hours.close)
    clock = _clock_range(text, prefer)
    if clock is not None:
        return _with_part(clock, part)
    if part is not None:
        clock = _clock_part_time(text)
        if clock is not None:
            return clock
    for finder in (_clock_around, _clock_after_before, _clock_exact):
        clock = finder(text, prefer)
        if clock is not None:
            return _with_part(clock, part)
    return part


def _with_part(clock: _Clock, part: _Clock | None) -> _Clock:
    # "afternoon before 3" narrows to 12:00-15:00; a clash means the part was loose talk
    if part is None or clock.kind not in ("after", "before"):
        return clock
    lo, hi = max(clock.lo, part.lo), min(clock.hi, part.hi)
    if lo >= hi:
        return clock
    return _Clock(lo, hi, None, clock.kind, f"{part.label} {clock.label}")


def _clock_range(text: str, prefer: tuple[int, int]) -> _Clock | None:
    for pattern, lead in ((_RANGE_LEAD, True), (_RANGE_BARE, False)):
        for m in pattern.finditer(text):
            clock = _range_clock(m, prefer, lead=lead)
            if clock is not None:
                return clock
    if " or " in text:
        return _clock_either(text, prefer)
    return None


def _clock_either(text: str, prefer: tuple[int, int]) -> _Clock | None:
    """ "3 or 4": a window from the first hour to an hour after the second, 4 hours at most."""
    m = _EITHER.search(text)
    if m is None:
        return None
    first, second = _atom(m.groups()[1:4]), _atom(m.groups()[4:7])
    if m.group(1) is None and first.bare and second.bare:
        before, after = m.string[: m.start()], m.string[m.end() :]
        if not (_DAY_BEFORE_RANGE.search(before) or _DAY_AFTER_RANGE.match(after)):
            return None  # "2 or 3" alone could be people
    lo = _range_start(first, second, prefer)
    last = _range_end(second, lo) if lo is not None else None
    if lo is None or last is None or not lo < last <= lo + 4 * 60:
        return None
    hi = min(last + 60, _DAY_MIN)
    return _Clock(lo, hi, lo, "range", f"{_hm(lo)} or {_hm(last)}")


def _clock_around(text: str, prefer: tuple[int, int]) -> _Clock | None:
    m = _AROUND.search(text) or _ISH.search(text)
    if m is None:
        return None
    atom = _atom(m.groups()[0:3])
    centre = _minute_of_day(atom, prefer)
    if centre is None:
        return None
    lo, hi = max(0, centre - 60), min(_DAY_MIN, centre + 60)
    return _Clock(lo, hi, centre, "around", f"around {_hm(centre)}", _two_readings(atom, prefer))


def _clock_after_before(text: str, prefer: tuple[int, int]) -> _Clock | None:
    m = _AFTER.search(text)
    if m is not None:
        lo = _minute_of_day(_atom(m.groups()[0:3]), prefer)
        if lo is not None and lo < _DAY_MIN:
            return _Clock(lo, _DAY_MIN, lo, "after", f"after {_hm(lo)}")
    m = _BEFORE.search(text)
    if m is not None:
        hi = _minute_of_day(_atom(m.groups()[0:3]), prefer, as_end=True)
        if hi is not None and hi > 0:
            return _Clock(0, hi, None, "before", f"before {_hm(hi)}")
    return None


def _clock_exact(text: str, prefer: tuple[int, int]) -> _Clock | None:
    for pattern in (_AT, _EXPLICIT, _DAY_HOUR, _HOUR_DAY):
        m = pattern.search(text)
        if m is None:
            continue
        groups = m.groups()
        if pattern is _EXPLICIT:
            groups = (groups[0], groups[1], groups[2] or groups[3])
        atom = _atom(groups)
        value = _minute_of_day(atom, prefer)
        if value is not None and value < _DAY_MIN:
            return _Clock(value, value + 1, value, "exact", _hm(value), _two_readings(atom, prefer))
    return None


def _two_readings(atom: _Atom, prefer: tuple[int, int]) -> bool:
    """A bare hour whose morning and evening readings both fit: the choice is a guess."""
    if not atom.bare or not 1 <= atom.hour <= 12:
        return False
    morning = (atom.hour % 12) * 60 + atom.minute
    lo, hi = prefer
    return lo <= morning < hi and lo <= morning + 12 * 60 < hi


# --------------------------------------------------------------------------- date grammar

_MONTH = "(" + "|".join(_MONTHS) + ")"
_MONTH_NOT_MAY = "(" + "|".join(m for m in _MONTHS if m != "may") + ")"
_WEEKDAY = "(" + "|".join(_WEEKDAYS) + ")"
_ORD = r"(?:st|nd|rd|th)"

_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:t|\b)", _C)
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b(?!/)", _C)
_MONTH_DAY = re.compile(
    rf"\b{_MONTH}\s(?:the\s)?(\d{{1,2}}){_ORD}?\b(?!:|\s?(?:am|pm)\b)(?:\s(\d{{4}})\b)?", _C
)
_DAY_MONTH = re.compile(
    rf"\b(?:the\s)?(\d{{1,2}}){_ORD}?\s(?:of\s)?{_MONTH}\b(?:\s(\d{{4}})\b)?", _C
)
_ORDINAL = re.compile(
    rf"(?:^|\b(?:the|on|for|by|until|from|after|before|{_WEEKDAY})\s)(?:the\s)?"
    rf"(\d{{1,2}}){_ORD}\b(\s(?:of\s)?(?:next|this)\smonth)?"
    # "9th of this month" needs no lead-in: the month says it is a day
    rf"|()\b(\d{{1,2}}){_ORD}(\s(?:of\s)?(?:next|this)\smonth)\b",
    _C,
)
_IN_HOURS = re.compile(
    r"\bin\s(?:(an?|one|half an|\d{1,3}|two|three|four|five|six|a couple of|a few)\s)?"
    r"(hours?|minutes?|min)\b(\s(?:and\s)?a\shalf)?",
    _C,
)
_IN_DAYS = re.compile(
    r"\b(?:in\s(an?|one|\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|a couple of"
    r"|a couple|a few)"
    r"\s(days?|weeks?|fortnights?|months?)"
    r"|(\d{1,3}|a|one|two|three|four|five|six)\s(days?|weeks?|months?)\s(?:from\s)?"
    r"(now|today|tomorrow|time)"
    r")\b",
    _C,
)
_DAY_AFTER = re.compile(
    r"\b(?:the\s)?day\safter\s(?:tomorrow|tmrw)\b|\b(?:the\s)?same\sday\s(next\sweek)\b", _C
)
_WEEKDAY_RANGE = re.compile(
    rf"\b{_WEEKDAY}\s?(-|to|until|thru|through|or|and|/)\s?(?:on\s)?{_WEEKDAY}\b", _C
)
_WEEKS_FROM_DAY = re.compile(
    rf"\b(a|one|\d|two|three|four)\sweeks?\s(?:from|on|after)\s(?:this\s)?{_WEEKDAY}\b", _C
)
_SAME_TIME = re.compile(r"\b(?:this|same)\stime\s(tomorrow|next\sweek)\b", _C)
_NEXT_DAYS = re.compile(
    r"\b(?:the\s)?(?:next|coming)\s(a few|few|a couple of|couple of|\d|two|three|four|five|six"
    r"|seven)\sdays\b",
    _C,
)
_WEEKDAY_WORD = re.compile(
    rf"\b(?:(next|this|coming|last|the)\s)?{_WEEKDAY}\b"
    r"(?:\s(?:of\s)?(next week|this week|after next|week))?",
    _C,
)
_WEEK_THEN_DAY = re.compile(
    rf"\b(?:(next|this)\sweek|week\s(after\snext))\s(?:on\s)?(?:the\s)?{_WEEKDAY}\b", _C
)
_RELATIVE_DAY = re.compile(r"\b(today|tonight|tomorrow|later today)\b", _C)
_THIS_PART = re.compile(r"\bthis\s(?:morning|afternoon|evening|lunchtime)\b", _C)
_PERIOD = re.compile(
    r"\b(?:(early|end of|the end of|later|later in|beginning of|start of|mid|late|middle of"
    r"|the middle of)\s?-?\s?)?(?:the\s)?"
    r"(this|next|coming|the)?\s?(weekend after next|weekend|week after next|week|month)\b",
    _C,
)
_MONTH_WORD = re.compile(
    rf"\b(?:(early|mid|late|end of|beginning of|start of)\s(?:of\s)?)?(?:in\s)?{_MONTH_NOT_MAY}\b"
    r"|\b(?:(early|mid|late|end of|beginning of|start of)\s|in\s)(may)\b",
    _C,
)
_ASAP = re.compile(
    r"\b(?:asap|soonest|earliest|first available|next available|first free|next free"
    r"|first opening|next opening|right away|straight away|immediately|urgent|urgently|sooner"
    r"|anytime|any time|whenever|any day|all day)\b",
    _C,
)
_FALLBACK_CUE = re.compile(
    r"(?=.*\d)(?=.*(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec|"
    + "|".join(_MONTHS)
    + r")(?![a-z]))",
    _C,
)
_AMOUNTS = {
    **NUMBER_WORDS,
    "a": 1,
    "an": 1,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
}


def _amount(word: str | None) -> int:
    if word is None:
        return 1
    return int(word) if word.isascii() and word.isdigit() else _AMOUNTS.get(word, 1)


def _mask(text: str, m: re.Match[str]) -> str:
    """Blank out a match so later grammar does not read its digits again."""
    return text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]


def _day_first(zone: tzinfo | None) -> bool:
    return str(getattr(zone, "key", "")).startswith("Europe/")


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_yearly(today: date, month: int, day: int) -> date | None:
    """The first month/day on or after today."""
    for year in range(today.year, today.year + 9):
        found = _make_date(year, month, day)
        if found is not None and found >= today:
            return found
    return None


def _next_monthly(start: date, day: int) -> date | None:
    """The first date with this day of month on or after start."""
    if not 1 <= day <= 31:
        return None
    first = start.replace(day=1)
    for k in range(14):
        month_start = _add_months(first, k)
        if day <= calendar.monthrange(month_start.year, month_start.month)[1]:
            found = month_start.replace(day=day)
            if found >= start:
                return found
    return None


def _add_months(d: date, n: int) -> date:
    year, month0 = divmod(d.month - 1 + n, 12)
    year += d.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _explicit_date(found: _Found, today: date, zone: tzinfo | None) -> _Days | None:
    """Calendar dates: ISO, numeric, month names and ordinals."""
    m = _ISO.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        d = _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return _Days(d) if d is not None and d >= today else None
    m = _NUMERIC.search(found.text)
    if m is not None and m.group(0) != "24/7":
        found.text = _mask(found.text, m)
        return _numeric_date(m, today, zone)
    m = _WEEK_OF_MONTH.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        return _week_of_month(m, today)
    m = _NTH_WEEKDAY.search(found.text) if "of" in found.text or "in" in found.text else None
    if m is not None:
        found.text = _mask(found.text, m)
        return _nth_weekday(m, today)
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        m = pattern.search(found.text)
        if m is not None:
            found.text = _mask(found.text, m)
            month = _MONTHS.index(m.group(month_group)) + 1
            first = int(m.group(day_group))
            first, count = _day_run(found, m, first, month_first=pattern is _MONTH_DAY)
            days = _dated(today, month, first, m.group(3))
            return _spread(days, count)
    m = _ORDINAL.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        start = today
        number, month = (m.group(2), m.group(3)) if m.group(2) else (m.group(5), m.group(6))
        first, count = _day_run(found, m, int(number), month_first=False)
        context = None if month else _MONTH_CONTEXT.search(found.text)
        if context is not None:
            # "next month on the 3rd", "in january on the 3rd": the month is said elsewhere
            found.text = _mask(found.text, context)
            if context.group(2):
                named = _dated(today, _MONTHS.index(context.group(2)) + 1, first, None)
                return _spread(named, count)
            month = context.group(1)
        if month and "next" in month:
            start = _add_months(today.replace(day=1), 1)
        d = _next_monthly(start, first)
        if d is not None and m.group(1):
            d = _on_weekday(d, _WEEKDAYS.index(m.group(1)))
        return _spread(_Days(d, step="month"), count) if d is not None else None
    return None


_WEEK_OF_MONTH = re.compile(
    r"\b(?:the\s)?(first|1st|second|2nd|third|3rd|fourth|4th|last|final)\sweek\s(?:of|in)\s"
    rf"(?:the\s)?(?:{_MONTH}|(next|this)\smonth)\b",
    _C,
)
# "the first monday of december", "the 2nd tuesday in january", "the last friday of the month"
_NTH_WEEKDAY = re.compile(
    rf"\b(?:the\s)?(first|1st|second|2nd|third|3rd|fourth|4th|last|final)\s{_WEEKDAY}\s(?:of|in)\s"
    rf"(?:the\s)?(?:{_MONTH}|(next|this|the)\smonth)\b",
    _C,
)


def _nth_weekday(m: re.Match[str], today: date) -> _Days | None:
    """The nth (or last) such weekday of the month named, this year's or next."""
    weekday, name, which = _WEEKDAYS.index(m.group(2)), m.group(3), m.group(4)
    if name:
        month = _MONTHS.index(name) + 1
        starts = [date(today.year, month, 1), date(today.year + 1, month, 1)]
    else:
        this = today.replace(day=1)
        starts = [_add_months(this, 1)] if which == "next" else [this, _add_months(this, 1)]
    for first in starts:
        if m.group(1) in ("last", "final"):
            last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
            d = last - timedelta(days=(last.weekday() - weekday) % 7)
        else:
            d = first + timedelta(days=(weekday - first.weekday()) % 7)
            d += timedelta(days=7 * _WEEK_NUMBERS[m.group(1)])
        if d.month == first.month and d >= today:
            return _Days(d)
    return None


_WEEK_NUMBERS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
_WEEK_NUMBERS |= {"fourth": 3, "4th": 3}


def _week_of_month(m: re.Match[str], today: date) -> _Days | None:
    """ "the first week of december", "last week of next month": seven days of that month."""
    if m.group(2):
        month = _MONTHS.index(m.group(2)) + 1
        year = today.year if month >= today.month else today.year + 1
        first = date(year, month, 1)
    else:
        first = _add_months(today.replace(day=1), 1 if m.group(3) == "next" else 0)
    length = calendar.monthrange(first.year, first.month)[1]
    lo = length - 6 if m.group(1) in ("last", "final") else 1 + 7 * _WEEK_NUMBERS[m.group(1)]
    start = first.replace(day=lo)
    end = start + timedelta(days=6)
    label = f"{_day_label(start)} - {_day_label(end)}"
    return _Days(start, 7, None, label) if end >= today else None


# "the 3rd", then "next month" or "in january" said elsewhere in the message
_MONTH_CONTEXT = re.compile(rf"\b(?:(next|this)\smonth|(?:in|of)\s{_MONTH})\b", _C)
# "dec 3-5", "the 10th to the 12th", "between the 3rd and the 5th", "the 3rd or 4th of dec"
_RUN_AFTER = re.compile(
    r"\s?(-|to|thru|through|until|till|and|or)\s?(?:the\s)?(\d{1,2})(st|nd|rd|th)?\b"
    r"(?!:|\s?(?:am|pm|oclock|people|persons|of us|guests)\b)",
    _C,
)
_RUN_BEFORE = re.compile(
    r"\b(between\s)?(?:the\s)?(\d{1,2})(?:st|nd|rd|th)\s?(-|to|thru|through|and|or)\s?$", _C
)


def _day_run(found: _Found, m: re.Match[str], first: int, *, month_first: bool) -> tuple[int, int]:
    """(first day, number of days) of a run of days of the month around the date matched."""
    text = found.text
    if m.re is _DAY_MONTH:
        run = _RUN_BEFORE.search(text, 0, m.start())
        if run is None:
            return first, 1
        lo, hi, mark, between = int(run.group(2)), first, run.group(3), run.group(1)
        span = (run.start(2), run.end())
    else:
        run = _RUN_AFTER.match(text, m.end())
        if run is None or (run.group(3) is None and not month_first and run.group(1) != "-"):
            return first, 1  # "the 3rd to 5" may be 3rd at 5; "dec 3 to 5" is days
        lo, hi, mark = first, int(run.group(2)), run.group(1)
        between = text[max(0, m.start() - 8) : m.start()].endswith("between ")
        span = (run.start(), run.end())
    if not lo < hi <= 31 or hi - lo > 13:
        return first, 1
    if mark in ("and", "or") and not between and hi != lo + 1:
        return first, 1  # "the 3rd or the 9th": two days, not all between; the first wins
    found.text = text[: span[0]] + " " * (span[1] - span[0]) + text[span[1] :]
    return lo, hi - lo + 1


def _spread(days: _Days | None, count: int) -> _Days | None:
    """A single date widened to a run of days ("dec 3-5")."""
    if days is None or count == 1:
        return days
    last = days.first + timedelta(days=count - 1)
    label = f"{_day_label(days.first)} - {_day_label(last)}"
    return _Days(days.first, count, days.step, label)


def _on_weekday(d: date, weekday: int) -> date:
    """ "friday the 13th": the first such date that really is a Friday, within a year."""
    found: date | None = d
    for _ in range(14):
        if found is None or found.weekday() == weekday:
            break
        found = _next_monthly(found + timedelta(days=1), d.day)
    return found if found is not None and found.weekday() == weekday else d


def _dated(today: date, month: int, day: int, year: str | None) -> _Days | None:
    if year is not None:
        d = _make_date(int(year), month, day)
        return _Days(d) if d is not None and d >= today else None
    d = _next_yearly(today, month, day)
    return _Days(d, step="year") if d is not None else None


def _numeric_date(m: re.Match[str], today: date, zone: tzinfo | None) -> _Days | None:
    a, b = int(m.group(1)), int(m.group(2))
    month, day = (b, a) if _day_first(zone) else (a, b)
    if month > 12 and day <= 12:
        month, day = day, month
    if not 1 <= month <= 12:
        return None
    year = m.group(3)
    if year is not None and len(year) == 2:
        year = str(2000 + int(year))
    return _dated(today, month, day, year)


def _relative_moment(found: _Found, now: datetime) -> None:
    """ "in 2 hours", "same time next week": an exact moment counted from now."""
    m = _IN_HOURS.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        amount = 0.5 if m.group(1) == "half an" else float(_amount(m.group(1)))
        if m.group(3):
            amount += 0.5
        unit = timedelta(hours=1) if m.group(2).startswith("hour") else timedelta(minutes=1)
        # real elapsed time, so "in 2 hours" stays 2 hours across a DST change
        moment = (now.astimezone(UTC) + amount * unit).astimezone(now.tzinfo)
        found.moment = moment.replace(second=0, microsecond=0)
        return
    m = _SAME_TIME.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        days = 1 if m.group(1) == "tomorrow" else 7
        moment = _at(now.date() + timedelta(days=days), now.hour * 60 + now.minute, now.tzinfo)
        found.moment = moment


def _relative_day(found: _Found, today: date) -> _Days | None:
    """ "in 3 days", "in 2 weeks", "day after tomorrow", "the next few days"."""
    m = _DAY_AFTER.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        return _Days(today + timedelta(days=7 if m.group(1) else 2))
    m = _NEXT_DAYS.search(found.text)
    if m is not None:
        found.text = _mask(found.text, m)
        n = min(_amount(m.group(1)), 31)
        return _Days(today, n + 1, None, f"the next {n} days")
    m = _IN_DAYS.search(found.text)
    if m is None:
        return None
    found.text = _mask(found.text, m)
    word, unit = (m.group(1), m.group(2)) if m.group(2) else (m.group(3), m.group(4))
    n = min(_amount(word), 400)
    if m.group(5) == "tomorrow":  # "a week tomorrow"
        today += timedelta(days=1)
    if unit.startswith("month"):
        return _Days(_add_months(today, min(n, 24)))
    days = n * (14 if unit.startswith("fortnight") else 7 if unit.startswith("week") else 1)
    if word == "a few":
        return _Days(today + timedelta(days=2), count=3, label="in a few days")
    return _Days(today + timedelta(days=days))


def _weekday(found: _Found, now: datetime, hours: _Hours) -> _Days | None:
    """Weekday names, alone or with this/next/next week, and Mon-Wed style runs."""
    today = now.date()
    m = _WEEKS_FROM_DAY.search(found.text)
    if m is not None:
        weeks = _amount(m.group(1))
        return _Days(_upcoming(today, _WEEKDAYS.index(m.group(2)), now, hours) + weeks * _WEEK)
    text = found.text
    m = _DAYWORD_RUN.search(text) if "today" in text or "tomorrow" in text else None
    if m is not None:
        return _dayword_run(m, now, hours)
    m = _WEEKDAY_RANGE.search(found.text)
    if m is not None:
        first = _upcoming(today, _WEEKDAYS.index(m.group(1)), now, hours)
        if found.text[max(0, m.start() - 5) : m.start()] == "next ":
            first = _week_day(today, _WEEKDAYS.index(m.group(1)), True).first  # "next thu or fri"
        span = (_WEEKDAYS.index(m.group(3)) - first.weekday()) % 7 + 1
        # "mon or tue" is a two-day span; "mon or thu" would wrongly admit the days between
        if m.group(2) not in ("or", "and", "/") or span == 2:
            last = first + timedelta(days=span - 1)
            return _Days(first, span, "week", f"{_day_label(first)} - {_day_label(last)}")
    m = _WEEK_THEN_DAY.search(found.text)
    if m is not None:
        wd = _WEEKDAYS.index(m.group(3))
        if m.group(2):  # "the week after next on tuesday"
            return _Days(_monday(today) + timedelta(days=14 + wd), step="week")
        return _week_day(today, wd, m.group(1) == "next")
    for m in _WEEKDAY_WORD.finditer(found.text):
        if m.group(1) == "last":
            continue  # the past is not bookable; "last friday" says nothing about the future
        wd = _WEEKDAYS.index(m.group(2))
        suffix = m.group(3)
        if m.group(1) == "next" or suffix == "next week":
            return _week_day(today, wd, True)
        if suffix == "after next":
            return _Days(_monday(today) + timedelta(days=14 + wd), step="week")
        if suffix == "week":  # British "friday week": a week after the coming friday
            return _Days(_upcoming(today, wd, now, hours) + timedelta(days=7), step="week")
        if suffix == "this week":
            return _week_day(today, wd, False)
        return _Days(_upcoming(today, wd, now, hours), step="week")
    return None


# "tomorrow or friday", "today or tomorrow", "tomorrow or the day after"
_DAYWORD_RUN = re.compile(
    rf"\b(today|tomorrow)\s?(or|and|-|to|until|thru|through)\s?(?:on\s)?(?:the\s)?"
    rf"(tomorrow|day\safter|{_WEEKDAY})\b",
    _C,
)


def _dayword_run(m: re.Match[str], now: datetime, hours: _Hours) -> _Days:
    """ "tomorrow or friday": both days when they are a run, else the first said."""
    today = now.date()
    first = today + timedelta(days=1 if m.group(1) == "tomorrow" else 0)
    if m.group(3) == "tomorrow":
        last = today + timedelta(days=1)
    elif m.group(3).startswith("day"):
        last = first + timedelta(days=1)
    else:
        last = first + timedelta(days=(_WEEKDAYS.index(m.group(3)) - first.weekday()) % 7)
    count = (last - first).days + 1
    if count < 2 or (m.group(2) in ("or", "and") and count != 2):
        return _Days(first, step=None if m.group(1) == "tomorrow" else "day")
    return _Days(first, count, None, f"{_day_label(first)} - {_day_label(last)}")


def _week_day(today: date, weekday: int, next_week: bool) -> _Days:
    monday = _monday(today) + timedelta(days=7 if next_week else 0)
    return _Days(monday + timedelta(days=weekday), step="week")


def _upcoming(today: date, weekday: int, now: datetime, hours: _Hours) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and now.hour * 60 + now.minute >= hours.close:
        ahead = 7  # "friday" said on a Friday after closing means next Friday
    return today + timedelta(days=ahead)


def _day_word(found: _Found, today: date) -> _Days | None:
    m = _RELATIVE_DAY.search(found.text) or _THIS_PART.search(found.text)
    if m is None:
        return None
    if m.group(0) == "tomorrow":
        return _Days(today + timedelta(days=1))
    return _Days(today, step="day")


def _period(found: _Found, today: date) -> _Days | None:
    """Weeks, weekends and months: "next week", "this weekend", "end of the week"."""
    for m in _PERIOD.finditer(found.text):
        qualifier, which, unit = m.group(1), m.group(2) or "this", m.group(3)
        if which in ("the", "coming"):
            which = "this"
        if unit == "month":
            if qualifier is None and m.group(2) is None:
                continue
            return _month_period(today, which, qualifier)
        if unit.startswith("weekend"):
            weeks = 2 if unit == "weekend after next" else 1 if which == "next" else 0
            saturday = _monday(today) + timedelta(days=5 + 7 * weeks)
            label = ("this weekend", "next weekend", "the weekend after next")[weeks]
            return _Days(saturday, 2, "week", label)
        if unit == "week" and m.group(2) is None and qualifier is None:
            continue  # a lone "week" ("in a week" was taken earlier) is no date
        return _week_period(today, which, unit, qualifier)
    return None


def _week_period(today: date, which: str, unit: str, qualifier: str | None) -> _Days:
    weeks = 2 if unit == "week after next" else 1 if which == "next" else 0
    monday = _monday(today) + timedelta(days=7 * weeks)
    name = "the week after next" if weeks == 2 else f"{which} week"
    if qualifier in ("early", "beginning of", "start of"):
        return _Days(monday, 3, "week", f"early {name}")
    if qualifier in ("later", "later in"):
        first = max(monday, today + timedelta(days=1))
        if first >= monday + timedelta(days=7):
            first = today
        return _Days(first, (monday + timedelta(days=7) - first).days, "week", f"later {name}")
    if qualifier in ("end of", "the end of"):
        return _Days(monday + timedelta(days=4), 3, "week", f"end of {name}")
    if qualifier in ("mid", "middle of", "the middle of"):
        return _Days(monday + timedelta(days=1), 3, "week", f"mid {name}")  # Tue-Thu
    if qualifier == "late":
        return _Days(monday + timedelta(days=3), 4, "week", f"late {name}")  # Thu-Sun
    return _Days(monday, 7, "week", name)


def _month_period(today: date, which: str, qualifier: str | None) -> _Days:
    first = today.replace(day=1)
    if which == "next":
        first = _add_months(first, 1)
    length = calendar.monthrange(first.year, first.month)[1]
    name = f"{which} month"
    if qualifier in ("end of", "the end of", "later", "later in", "late"):
        return _Days(first.replace(day=length - 6), 7, None, f"end of {name}")
    if qualifier in ("mid", "middle of", "the middle of"):
        return _Days(first.replace(day=11), 10, None, f"mid {name}")
    if qualifier in ("early", "beginning of", "start of"):
        return _Days(first, 10, None, f"early {name}")
    return _Days(first, length, None, name)


def _month_name(found: _Found, today: date) -> _Days | None:
    """A month on its own: "in december", "early march", "April"."""
    m = _MONTH_WORD.search(found.text)
    if m is None:
        return None
    qualifier, name = (m.group(1), m.group(2)) if m.group(2) else (m.group(3), m.group(4))
    month = _MONTHS.index(name) + 1
    year = today.year if month >= today.month else today.year + 1
    first = date(year, month, 1)
    length = calendar.monthrange(year, month)[1]
    lo, hi = 1, length
    if qualifier in ("early", "beginning of", "start of"):
        hi = 10
    elif qualifier == "mid":
        lo, hi = 11, 20
    elif qualifier in ("late", "end of"):
        lo = 21
    label = f"{qualifier + ' ' if qualifier else ''}{_MON_SHORT[month - 1]} {year}"
    return _Days(first.replace(day=lo), hi - lo + 1, "year", label)


def _dateparser_day(text: str, now: datetime) -> _Days | None:
    """Last resort for date spellings the grammar does not know ("5-dec-2026")."""
    if len(text) > 60 or not _FALLBACK_CUE.search(text):
        return None
    import dateparser  # deferred: importing it costs ~0.3 s and it is rarely needed

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        parsed = dateparser.parse(text, languages=["en"], settings=settings)
    except Exception:  # dateparser has raised on odd input before; never let it out
        return None
    if parsed is None:
        return None
    today = now.date()
    d = parsed.date()
    if not today <= d <= today + timedelta(days=366):
        return None
    return _Days(d)


# Public holidays customers name (US business locale): fixed dates, and the nth weekday of
# a month as (month, weekday, n) with n = -1 for the last one.
_FIXED_HOLIDAYS: dict[str, tuple[int, int]] = {
    "christmas eve": (12, 24),
    "xmas eve": (12, 24),
    "christmas day": (12, 25),
    "christmas": (12, 25),
    "xmas": (12, 25),
    "boxing day": (12, 26),
    "new years eve": (12, 31),
    "new year eve": (12, 31),
    "nye": (12, 31),
    "new years day": (1, 1),
    "new years": (1, 1),
    "new year": (1, 1),
    "valentines day": (2, 14),
    "valentines": (2, 14),
    "independence day": (7, 4),
    "halloween": (10, 31),
    "veterans day": (11, 11),
}
_WEEKDAY_HOLIDAYS: dict[str, tuple[int, int, int]] = {
    "thanksgiving day": (11, 3, 4),
    "thanksgiving": (11, 3, 4),
    "memorial day": (5, 0, -1),
    "labor day": (9, 0, 1),
    "labour day": (9, 0, 1),
    "mothers day": (5, 6, 2),
    "fathers day": (6, 6, 3),
    "mlk day": (1, 0, 3),
    "martin luther king day": (1, 0, 3),
    "presidents day": (2, 0, 3),
    "columbus day": (10, 0, 2),
}
_HOLIDAY_NAME = "|".join(
    sorted([*_FIXED_HOLIDAYS, *_WEEKDAY_HOLIDAYS, "black friday"], key=len, reverse=True)
)
_HOLIDAY = re.compile(
    # "happy new year", "merry christmas": a greeting, not a date
    rf"(?<!happy\s)(?<!merry\s)(?<!nice\s)(?<!good\s)(?<!great\s)"
    rf"\b(?:(?:the\s)?(day|night|{_WEEKDAYS_ALT})\s(before|after)\s)?(?:on\s)?({_HOLIDAY_NAME})\b"
    rf"(?:\s(?:and|to|until|-)\s(?:the\s)?({_HOLIDAY_NAME})\b)?",
    _C,
)
_HOLIDAY_CUE = re.compile(
    r"christmas|xmas|boxing|year|nye|valentine|independence|halloween|veterans|thanksgiving"
    r"|memorial|labo|mothers|fathers|mlk|king|presidents|columbus|black friday",
    _C,
)


_HOLIDAY_SPAN = re.compile(r"\s(weekend|week)\b", _C)


def _holiday_on(name: str, year: int) -> date:
    if name in _FIXED_HOLIDAYS:
        return date(year, *_FIXED_HOLIDAYS[name])
    if name == "black friday":
        return _holiday_on("thanksgiving", year) + timedelta(days=1)
    month, weekday, n = _WEEKDAY_HOLIDAYS[name]
    if n < 0:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _next_holiday(name: str, today: date, shift: int = 0) -> date:
    """The next date of a holiday (moved by shift days) that is not past."""
    d = _holiday_on(name, today.year) + timedelta(days=shift)
    return d if d >= today else _holiday_on(name, today.year + 1) + timedelta(days=shift)


def _holiday(found: _Found, today: date) -> _Days | None:
    """ "christmas eve", "thanksgiving", "the day after christmas", "christmas to new year"."""
    if _HOLIDAY_CUE.search(found.text) is None:
        return None
    m = _HOLIDAY.search(found.text)
    if m is None:
        return None
    found.text = _mask(found.text, m)
    shift = 0 if m.group(2) is None else (-1 if m.group(2) == "before" else 1)
    span = _HOLIDAY_SPAN.match(found.text, m.end()) if not shift else None
    if span is not None:  # "thanksgiving weekend": to its Sunday; "christmas week": its week
        found.text = _mask(found.text, span)
        day = _next_holiday(m.group(3), today)
        first = day if span.group(1) == "weekend" else max(_monday(day), today)
        last = _monday(day) + timedelta(days=6)
        count = (last - first).days + 1
        return _Days(first, count, None, f"{_day_label(first)} - {_day_label(last)}")
    if m.group(1) in _WEEKDAYS:  # "the friday after thanksgiving": the nearest such weekday
        day = _holiday_on(m.group(3), today.year)
        gap = (_WEEKDAYS.index(m.group(1)) - day.weekday()) * shift % 7 or 7
        shift *= gap
    first = _next_holiday(m.group(3), today, shift)
    if m.group(4):  # "between christmas and new year": the days from one to the other
        last = _next_holiday(m.group(4), first)
        between = found.text[max(0, m.start() - 8) : m.start()].endswith("between ")
        if between:
            first, last = first + timedelta(days=1), last - timedelta(days=1)
        if first <= last <= first + timedelta(days=14):
            count = (last - first).days + 1
            return _Days(first, count, None, f"{_day_label(first)} - {_day_label(last)}")
    return _Days(first, step="year" if m.group(3) in _FIXED_HOLIDAYS and not shift else None)


# "the week of the 7th", "week of dec 7", "week starting monday 7th": the week around a date
_WEEK_OF = re.compile(
    rf"\b(?:the\s)?week\s(of|starting|beginning|commencing)\s(?:on\s)?"
    rf"(?=(?:the\s)?\d|{_MONTH}\s(?:the\s)?\d)",
    _C,
)


def _week_from(d: date, how: str, today: date) -> _Days:
    """Seven days: the Monday-to-Sunday week holding d, or from d on ("week starting the 7th")."""
    first = _monday(d) if how == "of" else d
    first = max(first, today)
    last = (_monday(d) if how == "of" else d) + timedelta(days=6)
    return _Days(first, (last - first).days + 1, None, f"week of {_day_label(d)}")


def _find_days(found: _Found, now: datetime, hours: _Hours) -> None:
    """Fill found.days / found.moment / found.asap from the text, masking what it used."""
    today = now.date()
    week = _WEEK_OF.search(found.text) if "week" in found.text else None
    if week is not None:
        found.text = _mask(found.text, week)
    found.days = _explicit_date(found, today, now.tzinfo)
    if week is not None and found.days is not None and found.days.count == 1:
        found.days = _week_from(found.days.first, week.group(1), today)
    if found.days is None:
        _relative_moment(found, now)
    if found.days is None and found.moment is None:
        found.days = (
            _holiday(found, today)
            or _relative_day(found, today)
            or _weekday(found, now, hours)
            or _day_word(found, today)
            or _period(found, today)
            or _dateparser_day(found.text, now)
            or _month_name(found, today)
        )
    found.asap = _ASAP.search(found.text) is not None


# --------------------------------------------------------------------------- resolving


def _at(day: date, minutes: int, zone: tzinfo) -> datetime:
    """Local wall time on a day; minutes may be 1440 (next midnight)."""
    day += timedelta(days=minutes // _DAY_MIN)
    minutes %= _DAY_MIN
    naive = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
    # the UTC round trip moves times that do not exist (spring forward) onto real ones
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _ts(moment: datetime) -> float:
    # comparing aware datetimes that share a tzinfo ignores the DST fold; timestamps do not
    return moment.timestamp()


def _later(a: datetime, b: datetime) -> datetime:
    return a if _ts(a) >= _ts(b) else b


def _aim(target: datetime, start: datetime, end: datetime) -> datetime:
    """The asked-for moment, kept inside [start, end) (clipping and DST gaps can push it out)."""
    return target if _ts(start) <= _ts(target) < _ts(end) else start


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_label(d: date) -> str:
    return f"{_WD_SHORT[d.weekday()]} {d.day} {_MON_SHORT[d.month - 1]}"


def _exact(moment: datetime) -> When:
    end = (moment.astimezone(UTC) + _MINUTE).astimezone(moment.tzinfo)
    return When(moment, end, moment, True, f"{_day_label(moment.date())}, {_hm_of(moment)}")


def _hm_of(moment: datetime) -> str:
    return _hm(moment.hour * 60 + moment.minute)


def _target(start: datetime, end: datetime, hours: _Hours) -> datetime:
    """Where nearest-first ranking should aim: the window start, moved into opening hours."""
    zone = start.tzinfo
    assert zone is not None
    minute = start.hour * 60 + start.minute
    if minute < hours.open:
        candidate = _at(start.date(), hours.open, zone)
    elif minute >= hours.close:
        candidate = _at(start.date() + timedelta(days=1), hours.open, zone)
    else:
        return start
    return candidate if candidate.timestamp() < end.timestamp() else start


def _single_day(days: _Days, clock: _Clock | None, now: datetime, hours: _Hours) -> When | None:
    """The clock placed on one day; None when nothing of it is left."""
    zone = now.tzinfo
    assert zone is not None
    d = days.first
    if _after_has_passed(days, clock, now):
        return None  # "after 5" said at 6 means another day's evening
    found = _open_part_of_day(d, clock, now, hours)
    if found is None:
        return None
    start, target = found
    if clock is None:
        return When(start, _at(d, _DAY_MIN, zone), target, False, _day_label(d))
    if clock.exact:
        return _exact(start)
    end = _at(d, clock.hi, zone)
    return When(start, end, target, False, _clock_label(d, clock, now.date()))


def _after_has_passed(days: _Days, clock: _Clock | None, now: datetime) -> bool:
    if clock is None or clock.kind != "after" or not days.implicit:
        return False
    assert now.tzinfo is not None
    return _ts(_at(days.first, clock.lo, now.tzinfo)) < _ts(now)


def _clock_label(d: date, clock: _Clock, today: date) -> str:
    if clock.kind == "part":
        day = _WD_LONG[d.weekday()] if 0 <= (d - today).days < 7 else _day_label(d)
        return f"{day} {clock.label}"
    return f"{_day_label(d)}, {clock.label}"


def _multi_day(days: _Days, clock: _Clock | None, now: datetime, hours: _Hours) -> When | None:
    """Spread the clock over a run of days, starting on the first day it has not passed."""
    zone = now.tzinfo
    assert zone is not None
    lo, hi = (clock.lo, clock.hi) if clock is not None else (0, _DAY_MIN)
    last = days.first + timedelta(days=days.count - 1)
    window_end = _at(last, hi, zone)
    for offset in range(days.count):
        found = _open_part_of_day(days.first + timedelta(days=offset), clock, now, hours)
        if found is None:
            continue
        start, target = found
        if clock is None:
            return When(start, window_end, _target(start, window_end, hours), False, days.label)
        if not lo <= start.hour * 60 + start.minute < hi:
            continue  # the time falls in this day's DST gap; the daily filter would refuse it
        label = f"{days.label}, {clock.label}"
        return When(start, window_end, target, False, label, (lo, hi))
    return None


def _open_part_of_day(
    d: date, clock: _Clock | None, now: datetime, hours: _Hours
) -> tuple[datetime, datetime] | None:
    """(start, target) of what is left of the clock's window on day d, None if none is."""
    zone = now.tzinfo
    assert zone is not None
    lo, hi = (clock.lo, clock.hi) if clock is not None else (0, _DAY_MIN)
    start, end = _at(d, lo, zone), _at(d, hi, zone)
    if clock is not None and clock.exact:
        floor = now.replace(second=0, microsecond=0)
        return (start, start) if _ts(start) >= _ts(floor) else None
    if (
        clock is not None
        and clock.kind == "around"
        and clock.target is not None
        and _ts(_at(d, clock.target, zone)) < _ts(now)
    ):
        return None  # "around 9:30" said at 10:15 means the next 9:30 there is
    if _ts(end) <= _ts(now):
        return None
    start = _later(start, now)
    if clock is not None and clock.target is not None:
        return start, _aim(_at(d, clock.target, zone), start, end)
    return start, _target(start, end, hours)


def _roll(days: _Days) -> _Days | None:
    """The next candidate when what was asked has already passed."""
    if days.step is None:
        return None
    d = days.first
    if days.step == "day":
        nxt: date | None = d + timedelta(days=1)
    elif days.step == "week":
        nxt = d + timedelta(days=7)
    elif days.step == "month":
        nxt = _next_monthly(d + timedelta(days=1), d.day)
    else:
        nxt = _next_yearly(d + timedelta(days=1), d.month, d.day)
    if nxt is None:
        return None
    label = days.label
    if days.count > 1 and days.step == "week":
        label = {"this weekend": "next weekend", "this week": "next week"}.get(label, label)
    return _Days(nxt, days.count, days.step, label, days.implicit)


def _fit(days: _Days, clock: _Clock | None, now: datetime, hours: _Hours) -> When | None:
    """Place the clock on the days, rolling forward while it lies in the past."""
    current: _Days | None = days
    for _ in range(4):
        if current is None:
            return None
        if current.count == 1:
            found = _single_day(current, clock, now, hours)
        else:
            found = _multi_day(current, clock, now, hours)
        if found is not None:
            return replace(found, ambiguous=True) if clock and clock.ambiguous else found
        current = _roll(current)
    return None


def _asap(now: datetime) -> When:
    return When(now, now + _ASAP_SPAN, now, False, "as soon as possible")


def _opening(opening: tuple[time, time]) -> _Hours:
    lo = opening[0].hour * 60 + opening[0].minute
    hi = opening[1].hour * 60 + opening[1].minute or _DAY_MIN
    return _Hours(lo, hi) if lo < hi else _Hours(0, _DAY_MIN)


# Corrections and contrasts. "not 2, 3", "instead of friday, saturday", "3 rather than 2":
# the phrase after the marker is the one being replaced.
_REPLACED_ITEM = (
    rf"(?:(?:at|on|for|the|this|next)\s){{0,2}}(?:(?:{_DAYWORD}\b|\d{{1,2}}(?:st|nd|rd|th)\b"
    r"|\d{1,2}(?::[0-5]\d)?(?:\s?(?:am|pm))?(?![\d:/]|\s?(?:st|nd|rd|th)\b))"
    r"(?:\s(?:morning|afternoon|evening|night)\b)?"  # "except tuesday morning"
    r"|(?:morning|afternoon|evening)\b(?!\s\d))"  # "I can't do mornings, afternoon tomorrow?"
)
_CONTRAST = re.compile(
    r"\b(?:instead of|rather than|busy|not(?:\s(?:available|free|around|possible|good))?"
    # "any day but monday", "anytime except 3", "apart from friday": all but the one named
    r"|(?<=day\s)but|(?<=time\s)but|(?<=whenever\s)but|(?<=anything\s)but|except(?:\sfor|\son)?|other than"
    r"|apart from|besides"
    r"|(?:cant|cannot|can not)\s(?:do|make it|make|come(?:\sin)?))"
    rf"\s({_REPLACED_ITEM})"
    # "3 doesn't work, 4?": the item said before its refusal
    rf"|\b({_REPLACED_ITEM})\s(?:doesnt|does not|wont|will not|isnt|is not|is no)"
    r"\s(?:work|suit|possible|good|free)\b",
    _C,
)
# "can you make it 1 pm instead? I have something else at 2": the time before "instead" wins.
_TRAILING_NUMBER = re.compile(r"(?<![:\d])\b(\d{1,2})\s*$", _C)
# "change it to 4", "move my cut to 3": what follows "to" is the time wanted
_MOVE = re.compile(
    r"\b(?:(?:change|move|switch|push|bring|shift|reschedule)\s(?:it|that|this|(?:my|the)\s\w+)?"
    r"\s?(?:back\s|forward\s)?to|make\sit)\s(?=\d|at\s)()",  # "can we make it 4:30"
    _C,
)
_INSTEAD = re.compile(r"\binstead\b(?!\sof)", _C)
# "move my appt from friday to monday", "reschedule from 2 to 4": from the first to the second
_MOVE_FROM = re.compile(
    r"\b(?:move|moving|moved|change|changing|switch|switching|reschedule|rescheduling|push"
    r"|shift|bump|swap)\b(?:\s[a-z]+){0,4}?\sfrom\s(.+?)\s(?:to|until|till|for)\s(.+)$",
    _C,
)
# the first bare number within a few words: "for me, 4?", "but 4 works", "how about 4"
_LEADING_NUMBER = re.compile(
    r"^(\s*(?:(?:but|for|me|then|maybe|perhaps|how|what|about|try|make|it|say|lets|rather"
    r"|ok|okay|instead|so|and)\s){0,3}?)(?=\d{1,2}\b(?![:\d]|\s?(?:st|nd|rd|th|am|pm)\b))",
    _C,
)


# A bound on a date rather than a time: "before the 10th", "by friday", "sometime before
# christmas" are the days up to it. "from the 5th" stays the 5th: it names a start day (a
# rental, a course of treatment), as the corpus judges it.
_DATE_BOUND = re.compile(r"\b(before|by|no later than|ahead of)\s(?:the\s|on\s)*$", _C)
_DATE_BOUND_AT = re.compile(r"(before|by)\s", _C)
_DATE_BOUND_CUE = re.compile(r"\bby\s|before|no later|ahead of", _C)
_VISIT_BY = re.compile(
    r"\b(?:come|coming|came|stop|stopping|drop|dropping|swing|pop|popping|pass|go|get|be|walk"
    r"|call|ring|nip|head|run|bring it|bring the car|bring her|bring him)\s$",
    _C,
)


def _date_bound(found: _Found, before: str, today: date) -> None:
    """Widen a single day said after "before" or "by" into the days up to it."""
    days = found.days
    if days is None or days.count != 1 or days.implicit:
        return
    at = next((i for i, (a, b) in enumerate(zip(before, found.text, strict=True)) if a != b), None)
    if at is None:  # weekday names are read without masking: find where the day was said
        m = _WEEKDAY_WORD.search(before) or _RELATIVE_DAY.search(before)
        if m is None:
            return
        at = m.start()
    lead = _DATE_BOUND_AT.match(before, at)  # "before the 10th": the ordinal took the cue
    m = _DATE_BOUND.search(before, 0, at) if lead is None else None
    said = lead if lead is not None else m
    if said is None:
        return
    cue = said.group(1)
    if cue == "by" and _VISIT_BY.search(before, 0, said.start(1)):
        return  # "can I come by friday", "stop by tomorrow": a visit on that day
    last = days.first - timedelta(days=0 if cue in ("by", "no later than") else 1)
    if last >= today:
        found.days = _Days(today, (last - today).days + 1, None, f"by {_day_label(last)}")


def _read(found: _Found, now: datetime, hours: _Hours) -> When | None:
    """The When of canonical text: its days, then its clock placed on them."""
    before = found.text
    _find_days(found, now, hours)
    if found.moment is not None:
        return _exact(found.moment)
    clock = _find_clock(found.text, hours)
    if clock is None and found.days is not None and _DATE_BOUND_CUE.search(before):
        _date_bound(found, before, now.date())
    if found.days is None:
        if clock is None:
            return _asap(now) if found.asap else None
        found.days = _Days(now.date(), step="day", implicit=True)
    return _fit(found.days, clock, now, hours)


def _as_time(item: str, hours: _Hours) -> str:
    """A bare number that stands for a time ("not 2, 3") read as one: "at 2"."""
    if _find_clock(item, hours) is None and _LEADING_NUMBER.match(item):
        return _LEADING_NUMBER.sub(r"\1at ", item, count=1)
    return item


def _on_days_of(item: str, wanted: _Found, now: datetime, hours: _Hours) -> When | None:
    """The replaced reading; a time with no day of its own is on the wanted day."""
    old = _Found(item)
    _find_days(old, now, hours)
    clock = _find_clock(old.text, hours)
    if old.moment is not None:
        return _exact(old.moment)
    days = old.days or wanted.days
    if days is None:
        return None
    return _fit(days, clock, now, hours)


def _contrast(text: str, now: datetime, hours: _Hours) -> tuple[bool, When | None]:
    """ "not 2, 3" / "instead of friday, saturday": (a contrast was said, the wanted reading).

    A refusal with nothing wanted ("not at 2", "I'm not free monday") wants nothing: the
    refused time must not come back as the answer.
    """
    m = _CONTRAST.search(text)
    if m is None:
        return False, None
    item = _as_time(m.group(1) or m.group(2), hours)
    before, after = text[: m.start()], text[m.end() :]
    if _find_clock(item, hours) is not None:
        # the number that answers a replaced time is a time too: "not 2, 3" means 3 o'clock
        after = _as_time(after, hours)
        before = _TRAILING_NUMBER.sub(r"at \1", before, count=1)  # "I said 3, not 2"
    found = _Found(f"{before} {after}")
    wanted = _read(found, now, hours)
    if wanted is None:
        return True, None
    return True, replace(wanted, replaced=_on_days_of(item, found, now, hours))


def _moved(text: str, now: datetime, hours: _Hours) -> When | None:
    """ "my slot is at 2, can I change it to 4?": the time moved to wins over the one moved from."""
    m = _MOVE.search(text)
    if m is None:
        return None
    whole = _Found(text)
    _find_days(whole, now, hours)
    if whole.moment is not None:
        return None
    target = whole.text[m.start(1) :]
    wanted_clock = _find_clock(_as_time(target, hours), hours)
    other_clock = _find_clock(whole.text[: m.start()], hours)
    if wanted_clock is None or other_clock is None or wanted_clock.kind == "part":
        return None  # nothing to move from: the plain reading will do
    days = whole.days or _Days(now.date(), step="day", implicit=True)
    wanted = _fit(days, wanted_clock, now, hours)
    if wanted is None:
        return None
    return replace(wanted, replaced=_fit(days, other_clock, now, hours))


def _moved_from(text: str, now: datetime, hours: _Hours) -> When | None:
    """ "move it from friday to monday": the reading moved to, with the one moved from replaced."""
    m = _MOVE_FROM.search(text)
    if m is None:
        return None
    old, new = _as_time(m.group(1), hours), m.group(2)
    if _find_clock(old, hours) is not None:
        new = _as_time(new, hours)  # "from 2 to 4": the 4 is a time too
    probe = _Found(old)
    _find_days(probe, now, hours)
    if probe.days is None and probe.moment is None and _find_clock(probe.text, hours) is None:
        return None  # "from 2 to 4 people": nothing of a time was moved from
    found = _Found(f"{text[: m.start(1)]} {new}")
    wanted = _read(found, now, hours)
    if wanted is None:
        return None
    return replace(wanted, replaced=_on_days_of(old, found, now, hours))


def _instead(text: str, now: datetime, hours: _Hours) -> When | None:
    """ "1 pm instead? ... at 2": the time said nearest before "instead" wins over the others."""
    m = _INSTEAD.search(text)
    if m is None:
        return None
    whole = _Found(text)
    _find_days(whole, now, hours)  # masking keeps positions, so m still points at "instead"
    if whole.moment is not None:
        return None
    head = whole.text[: m.start()].split()
    wanted_clock, used = None, 0
    for used in range(1, min(len(head), 8) + 1):
        segment = head[-used:]
        if used == 1 and segment[0].isdigit() and head[-2:-1] != ["for"]:
            segment = ["at", segment[0]]  # "can we do 4 instead", but not "for 2 instead"
        wanted_clock = _find_clock(" ".join(segment), hours)
        if wanted_clock is not None and wanted_clock.kind != "part":
            break
    if wanted_clock is None:
        return None
    days = whole.days or _Days(now.date(), step="day", implicit=True)
    wanted = _fit(days, wanted_clock, now, hours)
    if wanted is None:
        return None
    rest = " ".join(head[:-used]) + " " + whole.text[m.end() :]
    other_clock = _find_clock(rest, hours)
    if other_clock is None:
        return wanted
    return replace(wanted, replaced=_fit(days, other_clock, now, hours))


_CORRECTION_WORDS = (
    "instead",
    "make it",
    "not ",
    "rather than",
    "cant",
    "cannot",
    " to ",
    "busy",
    "but",
    "except",
    "other than",
    "apart from",
    "besides",
    "nt ",
    "no good",
)


_CORRECTION_CUE = re.compile("|".join(map(re.escape, _CORRECTION_WORDS)))


def _parse(text: str, now: datetime, hours: _Hours) -> When | None:
    canonical = _canonical(text)
    if not canonical:
        return None
    if _CORRECTION_CUE.search(canonical) is not None:
        contrasted, corrected = _contrast(canonical, now, hours)
        if contrasted:
            return corrected
        corrected = (
            _moved_from(canonical, now, hours)
            or _instead(canonical, now, hours)
            or _moved(canonical, now, hours)
        )
        if corrected is not None:
            return corrected
    return _read(_Found(canonical), now, hours)


def parse_when(
    text: str, now: datetime, *, opening: tuple[time, time] = (time(8), time(20))
) -> When | None:
    """Read when the customer wants an appointment; None when the text names no date or time."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (the business's zone)")
    if not isinstance(text, str):
        return None
    try:
        return _parse(text, now, _opening(opening))
    except Exception:  # a chat message must never break the conversation
        _log.warning("parse_when failed on %r", text[:80], exc_info=True)
        return None

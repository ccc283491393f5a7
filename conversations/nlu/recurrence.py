"""Recurring requests in words: "every other Monday" becomes an RFC 5545 RRULE.

This module owns one translation: chat text asking for a standing arrangement becomes a
:class:`Recurrence` -- the RRULE body that bot.scheduling.booking.create_series expands from the
first start, and a short description to read back to the customer. The time of day and
the first date are not its business (conversations.when reads those); only the pattern is.

How phrases are read (the documented choices):

* A recurrence needs a cue: every/each, daily/weekly/fortnightly/monthly/yearly,
  "weekdays", "of the month", "once a week", "going forward"/"from now on". A bare day
  ("monday", "tomorrow", "the 2nd tuesday") or a plural day alone ("mondays") is not one.
* "biweekly" and "bi-weekly" mean every two weeks (not twice a week), "bimonthly" every
  two months, "quarterly" every three months.
* "every second Tuesday" is every other Tuesday; "the second Tuesday of the month" (or with
  "monthly") is the monthly one. "last friday of the month" is BYDAY=-1FR.
* COUNT is added only when it follows plainly: "10 times"/"10 sessions" directly; "for 8
  weeks" on a weekly rule (8 / interval occurrences per listed day), "for 6 months" on a
  monthly one, "for 2 weeks" on a daily one. "weekly for 3 months" has no exact count and
  gets none (the engine asks for an end or applies its own limit).
* "twice a week" without the days, or "every month on Tuesday" without which Tuesday,
  are not enough to write a rule: None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import t
from conversations.nlu.understand import normalise
from conversations.nlu.words import DAY_NAMES, NUMBER_WORDS

__all__ = ["Recurrence", "parse_recurrence"]

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = DAY_NAMES
_WEEKDAY = (
    r"(mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)s?"
)
_NUMBERS = {
    **NUMBER_WORDS,
    "a": 1,
    "an": 1,
    "other": 2,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
}
_NTH = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
    "final": -1,
    "second last": -2,
    "second to last": -2,
    "penultimate": -2,
}
_NTH_WORD = r"(second (?:to )?last|penultimate|first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|final)"
_NUM = r"(\d{1,3}|" + "|".join(_NUMBERS) + ")"

_CUE = re.compile(
    r"\b(?:every|each|daily|weekly|fortnightly|fortnight|biweekly|bi weekly|monthly|bimonthly"
    r"|bi monthly|quarterly|yearly|annually|weekdays|weekday|going forward|from now on"
    r"|recurring|standing|regular|ongoing|repeat|repeating|once a|twice a|per week|per month)\b"
    r"|\bof the month\b"
)
_MONTHLY_CUE = re.compile(
    r"\b(?:monthly|of (?:every|each|the) month|every month|each month|a month|per month"
    r"|every \S+ months?|bi ?monthly|quarterly|once a month)\b"
)
_NTH_DAY = re.compile(rf"\b{_NTH_WORD}(?: and (?:the )?{_NTH_WORD})? {_WEEKDAY}\b")
_MONTH_DAY = re.compile(r"\b(?:on )?(?:the )?(\d{1,2})(?:st|nd|rd|th)\b(?! (?:week|month))")
_WEEKDAYS_ONLY = re.compile(
    r"\bweek ?days?\b|\bmon(?:day)? (?:(?:to|through|thru|till|until) )?fri(?:day)?\b"
)
_WEEKENDS = re.compile(r"\b(?:every|each) weekend\b|\bweekends\b")
_ANY_WEEKDAY = re.compile(rf"\b{_WEEKDAY}\b")
_EVERY_N = re.compile(rf"\b(?:every|each) {_NUM} (day|week|month|year)s?\b")
_EVERY_NTH = {"other": 2, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_EVERY_NTH_DAY = re.compile(rf"\b(?:every|each) (other|second|2nd|third|3rd) {_WEEKDAY}\b")
_FIXED = (
    (re.compile(r"\b(?:every|each) ?day\b|\bdaily\b|\beveryday\b"), "DAILY", 1),
    (
        re.compile(
            r"\bfortnightly\b|\b(?:every|each|a) fortnight\b|\bbi ?weekly\b|\balternate weeks\b"
        ),
        "WEEKLY",
        2,
    ),
    (re.compile(r"\bbi ?monthly\b"), "MONTHLY", 2),
    (re.compile(r"\bquarterly\b"), "MONTHLY", 3),
    (
        re.compile(r"\bweekly\b|\b(?:every|each|once a|per) week\b"),
        "WEEKLY",
        1,
    ),
    (re.compile(r"\bmonthly\b|\b(?:every|each|once a|per) month\b"), "MONTHLY", 1),
    (re.compile(r"\byearly\b|\bannually\b|\b(?:every|each|once a|per) year\b"), "YEARLY", 1),
)
_TIMES = re.compile(
    rf"\b{_NUM} (?:times|sessions|appointments|visits|occurrences|bookings|treatments|weeks in a row)\b"
)
_FOR_SPAN = re.compile(rf"\bfor (?:the next )?{_NUM} (day|week|month|year)s?\b")
_LIMITS = {"DAILY": 365, "WEEKLY": 52, "MONTHLY": 24, "YEARLY": 10}


@dataclass(frozen=True)
class Recurrence:
    """A recurring request: an RRULE body ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO") and its words."""

    rule: str
    description: str


@dataclass
class _Rule:
    freq: str
    interval: int = 1
    byday: tuple[str, ...] = ()
    bymonthday: int | None = None
    count: int | None = None

    def body(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval > 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.byday:
            parts.append("BYDAY=" + ",".join(self.byday))
        if self.bymonthday is not None:
            parts.append(f"BYMONTHDAY={self.bymonthday}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        return ";".join(parts)


def _number(word: str) -> int:
    return _NUMBERS[word] if word in _NUMBERS else int(word)


def _day_index(word: str) -> int:
    return next(i for i, d in enumerate(_DAYS) if word.startswith(d.lower()))


def _days_named(text: str) -> tuple[str, ...]:
    """The weekdays named, in week order, without repeats."""
    found = {_day_index(m.group(1)) for m in _ANY_WEEKDAY.finditer(text)}
    return tuple(_DAYS[i] for i in sorted(found))


def _monthly_nth(text: str) -> _Rule | None:
    """ "the second tuesday of every month", "first and third monday monthly"."""
    m = _NTH_DAY.search(text)
    if not m or not _MONTHLY_CUE.search(text):
        return None
    day = _DAYS[_day_index(m.group(3))]
    nths = [_NTH[g] for g in (m.group(1), m.group(2)) if g]
    return _Rule("MONTHLY", byday=tuple(f"{n}{day}" for n in nths))


def _monthly_date(text: str) -> _Rule | None:
    """ "on the 15th of every month", "monthly on the 1st"."""
    m = _MONTH_DAY.search(text)
    if not m or not _MONTHLY_CUE.search(text) or not 1 <= int(m.group(1)) <= 31:
        return None
    return _Rule("MONTHLY", bymonthday=int(m.group(1)))


def _base_rule(text: str) -> _Rule | None:
    """Find the frequency, interval and days, before any count."""
    rule = _monthly_nth(text) or _monthly_date(text)
    if rule is None and _WEEKDAYS_ONLY.search(text):
        rule = _Rule("WEEKLY", byday=_DAYS[:5])
    if rule is None and _WEEKENDS.search(text):
        rule = _Rule("WEEKLY", byday=_DAYS[5:])
    if rule is None:
        rule = _interval_rule(text)
    days = _days_named(text)
    if rule is None and days:
        rule = _Rule("WEEKLY")
    if rule is None:
        return None
    if rule.freq == "WEEKLY" and days and not rule.byday:
        rule.byday = days
    if rule.freq == "MONTHLY" and days and not rule.byday:
        return None  # "every month on tuesday": which tuesday?
    return rule


def _interval_rule(text: str) -> _Rule | None:
    m = _EVERY_NTH_DAY.search(text)
    if m:
        return _Rule("WEEKLY", interval=_EVERY_NTH[m.group(1)])
    m = _EVERY_N.search(text)
    if m:
        freq = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}[m.group(2)]
        return _Rule(freq, interval=_number(m.group(1)))
    for pattern, freq, interval in _FIXED:
        if pattern.search(text):
            return _Rule(freq, interval=interval)
    return None


def _count(text: str, rule: _Rule) -> int | None:
    """Work out COUNT from "10 times" or "for 8 weeks" when it follows plainly."""
    m = _TIMES.search(text)
    if m:
        return _number(m.group(1))
    m = _FOR_SPAN.search(text)
    if not m:
        return None
    span, unit = _number(m.group(1)), m.group(2)
    per_period = len(rule.byday) if rule.freq == "WEEKLY" and rule.byday else 1
    if rule.freq == "MONTHLY" and rule.byday:
        per_period = len(rule.byday)
    periods = {
        ("DAILY", "day"): span,
        ("DAILY", "week"): span * 7,
        ("WEEKLY", "week"): span,
        ("MONTHLY", "month"): span,
        ("MONTHLY", "year"): span * 12,
        ("YEARLY", "year"): span,
    }.get((rule.freq, unit))
    if periods is None or periods % rule.interval:
        return None
    return periods // rule.interval * per_period


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _ordinal(n: int) -> str:
    words = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
    return words.get(n, "second to last")


def _every(interval: int, unit: str) -> str:
    if interval == 1:
        return t("every {unit}", unit=unit)
    if interval == 2:
        return t("every other {unit}", unit=unit)
    return t("every {interval} {unit}s", interval=interval, unit=unit)


def _describe(rule: _Rule) -> str:
    if rule.freq == "DAILY":
        text = _every(rule.interval, "day")
    elif rule.freq == "WEEKLY":
        text = _describe_weekly(rule)
    elif rule.freq == "MONTHLY":
        text = _describe_monthly(rule)
    else:
        text = _every(rule.interval, "year")
    return t("{text}, {count} times", text=text, count=rule.count) if rule.count else text


def _describe_weekly(rule: _Rule) -> str:
    names = [_DAY_NAMES[_DAYS.index(d)] for d in rule.byday]
    if rule.byday == _DAYS[:5] and rule.interval == 1:
        return "every weekday"
    if not names:
        return _every(rule.interval, "week")
    if rule.interval <= 2:
        return _every(rule.interval, _join(names))
    return t("every {interval} weeks on {days}", interval=rule.interval, days=_join(names))


def _describe_monthly(rule: _Rule) -> str:
    months = "every month" if rule.interval == 1 else _every(rule.interval, "month")
    if rule.bymonthday is not None:
        return t(
            "the {day_ordinal} of {months}",
            day_ordinal=_day_ordinal(rule.bymonthday),
            months=months,
        )
    if rule.byday:
        nths = [_ordinal(int(d[:-2])) for d in rule.byday]
        day = _DAY_NAMES[_DAYS.index(rule.byday[0][-2:])]  # one weekday: see _monthly_nth
        return t("the {nths} {day} of {months}", nths=_join(nths), day=day, months=months)
    return months


def _day_ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def parse_recurrence(text: str) -> Recurrence | None:
    """Read a recurring request ("every other monday") as an RRULE; None if not recurring."""
    words = normalise(text).replace("-", " ")
    if not _CUE.search(words):
        return None
    rule = _base_rule(words)
    if rule is None or not 1 <= rule.interval <= _LIMITS[rule.freq]:
        return None
    rule.count = _count(words, rule)
    if rule.count is not None and not 1 <= rule.count <= 500:
        rule.count = None
    return Recurrence(rule.body(), _describe(rule))

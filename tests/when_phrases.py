"""Customer phrases with the answer `conversations.when.parse_when` should give.

Shared by tests/dialogues/test_when.py and bench/when_cost.py. Times are local wall-clock
strings in the zone of the case's `now`; an exact case has no `end`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

NOWS: dict[str, datetime] = {
    "wed": datetime(2026, 11, 18, 10, 15, tzinfo=NEW_YORK),  # Wednesday morning
    "eve": datetime(2026, 11, 18, 18, 0, tzinfo=NEW_YORK),  # Wednesday, after 5
    "late": datetime(2026, 11, 18, 21, 30, tzinfo=NEW_YORK),  # Wednesday, after closing
    "sat": datetime(2026, 11, 21, 11, 0, tzinfo=NEW_YORK),  # Saturday
    "london": datetime(2026, 11, 18, 10, 15, tzinfo=LONDON),  # day-first dates
    "before_fall_back": datetime(2026, 10, 28, 10, 15, tzinfo=NEW_YORK),  # DST ends Sun 1 Nov
    "before_spring": datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK),  # DST starts Sun 8 Mar
    "dec1": datetime(2026, 12, 1, 10, 15, tzinfo=NEW_YORK),  # Tuesday, first of a month
}


@dataclass(frozen=True)
class Case:
    """One phrase, said at NOWS[now], and what it means (start None: no date or time)."""

    text: str
    now: str
    start: str | None
    end: str | None = None
    inside: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return self.start is not None and self.end is None

    def moment(self, local: str) -> datetime:
        """A local 'YYYY-MM-DD HH:MM' in the zone of this case's now."""
        zone = NOWS[self.now].tzinfo
        return datetime.fromisoformat(local).replace(tzinfo=zone)

    @property
    def id(self) -> str:
        return f"{self.now}:{self.text[:40]!r}"


def at(text: str, local: str, now: str = "wed") -> Case:
    """An exact appointment time."""
    return Case(text, now, local)


def span(
    text: str,
    start: str,
    end: str,
    now: str = "wed",
    inside: tuple[str, ...] = (),
    outside: tuple[str, ...] = (),
) -> Case:
    """A window of acceptable starts, [start, end)."""
    return Case(text, now, start, end, inside, outside)


def nothing(text: str, now: str = "wed") -> Case:
    """Text that names no date or time."""
    return Case(text, now, None)


TOMORROW = ("2026-11-19 00:00", "2026-11-20 00:00")
TODAY_LEFT = ("2026-11-18 10:15", "2026-11-19 00:00")
FRIDAY = ("2026-11-20 00:00", "2026-11-21 00:00")
TUESDAY = ("2026-11-24 00:00", "2026-11-25 00:00")
DEC_3 = ("2026-12-03 00:00", "2026-12-04 00:00")
DEC_5 = ("2026-12-05 00:00", "2026-12-06 00:00")
ASAP = ("2026-11-18 10:15", "2026-12-02 10:15")
TWO_TO_FOUR = ("2026-11-18 14:00", "2026-11-18 16:00")

EXACT_TIMES = [
    at("tomorrow at 3", "2026-11-19 15:00"),
    at("at 3pm", "2026-11-18 15:00"),
    at("3:30", "2026-11-18 15:30"),
    at("half past 4", "2026-11-18 16:30"),
    at("half 3", "2026-11-18 15:30"),
    at("quarter to 5", "2026-11-18 16:45"),
    at("quarter of 5", "2026-11-18 16:45"),
    at("quarter past 10", "2026-11-18 10:15"),
    at("noon", "2026-11-18 12:00"),
    at("midday", "2026-11-18 12:00"),
    at("midnight", "2026-11-19 00:00"),
    at("15:00", "2026-11-18 15:00"),
    at("3 o'clock", "2026-11-18 15:00"),
    at("10am", "2026-11-19 10:00"),
    at("10 a.m.", "2026-11-19 10:00"),
    at("10.30", "2026-11-18 10:30"),
    at("1030am", "2026-11-18 10:30"),
    at("930 am", "2026-11-19 09:30"),
    at("at 1530", "2026-11-18 15:30"),
    at("5pm ok?", "2026-11-18 17:00"),
    at("3p tomorrow", "2026-11-19 15:00"),
    at("@ 4pm tmrw", "2026-11-19 16:00"),
    at("ten to four", "2026-11-18 15:50"),
    at("twenty past three", "2026-11-18 15:20"),
    at("10 past 11 tomorrow", "2026-11-19 11:10"),
    at("at three", "2026-11-18 15:00"),
    at("three thirty", "2026-11-18 15:30"),
    at("noon tomorrow", "2026-11-19 12:00"),
    at("12 noon on friday", "2026-11-20 12:00"),
]

BARE_HOURS = [
    at("at 3", "2026-11-18 15:00"),
    at("at 9", "2026-11-19 09:00"),
    at("at 7", "2026-11-18 19:00"),
    at("Wednesday at 12", "2026-11-18 12:00"),
    at("friday 3", "2026-11-20 15:00"),
    at("tonight at 9", "2026-11-18 21:00"),
    at("9 tonight", "2026-11-18 21:00"),
    at("tomorrow night at 7", "2026-11-19 19:00"),
    at("tomorrow evening at 6:30", "2026-11-19 18:30"),
    at("friday morning at 10", "2026-11-20 10:00"),
    at("tomorrow at 9", "2026-11-19 09:00"),
    at("at 9", "2026-11-19 09:00", now="late"),
    at("at 10pm", "2026-11-18 22:00", now="late"),
]

DAY_WORDS = [
    span("tomorrow", *TOMORROW),
    span("tmrw", *TOMORROW),
    span("tmr", *TOMORROW),
    span("tomorow", *TOMORROW),
    span("2moro", *TOMORROW),
    span("tommorrow", *TOMORROW),
    span("thurs", *TOMORROW),
    span("thu", *TOMORROW),
    span("weds", *TODAY_LEFT),
    span("wensday", *TODAY_LEFT),
    span("wednsday", *TODAY_LEFT),
    span("tues", *TUESDAY),
    span("tuesay", *TUESDAY),
    span("firday", *FRIDAY),
    span("friday", *FRIDAY),
    span("this friday", *FRIDAY),
    span("coming friday", *FRIDAY),
    span("saturady", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("next friday", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("friday next week", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("friday week", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("next wednesday", "2026-11-25 00:00", "2026-11-26 00:00"),
    span("next week thursday", "2026-11-26 00:00", "2026-11-27 00:00"),
    span("day after tomorrow", *FRIDAY),
    span("today", "2026-11-18 21:30", "2026-11-19 00:00", now="late"),
    span("later today", *TODAY_LEFT),
    span("anytime tomorrow", *TOMORROW),
    span("earliest tomorrow", *TOMORROW),
    span("Can I book for 2 people tomorrow?", *TOMORROW),
    span("good morning, can I book friday?", *FRIDAY),
    span("wednesday", "2026-11-25 00:00", "2026-11-26 00:00", now="late"),
    span("friday", *FRIDAY, now="late"),
    span("saturday", "2026-11-21 11:00", "2026-11-22 00:00", now="sat"),
    span("sunday", "2026-11-22 00:00", "2026-11-23 00:00", now="sat"),
    span("next saturday", "2026-11-28 00:00", "2026-11-29 00:00", now="sat"),
    span("next sunday", "2026-11-29 00:00", "2026-11-30 00:00", now="sat"),
    span("friday", "2026-11-27 00:00", "2026-11-28 00:00", now="sat"),
    span("Mon-Wed", "2026-11-23 00:00", "2026-11-26 00:00"),
    span("monday to wednesday", "2026-11-23 00:00", "2026-11-26 00:00"),
    span("monday or tuesday", "2026-11-23 00:00", "2026-11-25 00:00"),
    span("a week on friday", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("2 weeks from friday", "2026-12-04 00:00", "2026-12-05 00:00"),
]

DATES = [
    span("the 12th", "2026-12-12 00:00", "2026-12-13 00:00"),
    span("on the 2nd", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("the 31st", "2026-12-31 00:00", "2027-01-01 00:00"),
    span("do you have something on the 5th next month", *DEC_5),
    span("dec 3", *DEC_3),
    span("3 december", *DEC_3),
    span("December 3rd", *DEC_3),
    span("december the 3rd", *DEC_3),
    span("the third of december", *DEC_3),
    span("12/5", *DEC_5),
    span("2026-12-05", *DEC_5),
    span("5-dec-2026", *DEC_5),
    span("decmber 5", *DEC_5),
    span("Febuary 3rd", "2027-02-03 00:00", "2027-02-04 00:00"),
    span("jan 5", "2027-01-05 00:00", "2027-01-06 00:00"),
    span("december twenty first", "2026-12-21 00:00", "2026-12-22 00:00"),
    span("may 5", "2027-05-05 00:00", "2027-05-06 00:00"),
    span("sat 21st nov", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("friday the 13th", "2027-08-13 00:00", "2027-08-14 00:00"),
    span("in december", "2026-12-01 00:00", "2027-01-01 00:00"),
    span("in may", "2027-05-01 00:00", "2027-06-01 00:00"),
    span("April", "2027-04-01 00:00", "2027-05-01 00:00"),
    at("what about the 12th at 10:30", "2026-12-12 10:30"),
    at("dec 3 at 3", "2026-12-03 15:00"),
    at("3rd of december at 2pm", "2026-12-03 14:00"),
    at("on 12/5 at 4", "2026-12-05 16:00"),
    at("2026-12-05 15:00", "2026-12-05 15:00"),
    at("can you fit me in at 4 on the 2nd", "2026-12-02 16:00"),
    span("12/5", "2027-05-12 00:00", "2027-05-13 00:00", now="london"),
    span("5/12", *DEC_5, now="london"),
    span("25/12", "2026-12-25 00:00", "2026-12-26 00:00", now="london"),
    span("12/25", "2026-12-25 00:00", "2026-12-26 00:00", now="london"),
    at("tomorrow at 3", "2026-11-19 15:00", now="london"),
]

RELATIVE = [
    span("in 2 weeks", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("in 3 days", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("in a week", "2026-11-25 00:00", "2026-11-26 00:00"),
    span("in a couple of days", *FRIDAY),
    span("in a few days", "2026-11-20 00:00", "2026-11-23 00:00"),
    span("in a month", "2026-12-18 00:00", "2026-12-19 00:00"),
    span("2 weeks today", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("a week tomorrow", "2026-11-26 00:00", "2026-11-27 00:00"),
    at("in an hour", "2026-11-18 11:15"),
    at("in 2 hours", "2026-11-18 12:15"),
    at("in half an hour", "2026-11-18 10:45"),
    at("in 90 minutes", "2026-11-18 11:45"),
    at("in 3 hours", "2026-11-19 00:30", now="late"),
    at("same time next week", "2026-11-25 10:15"),
    span("sometime in the next few days", "2026-11-18 10:15", "2026-11-22 00:00"),
    span("next week", "2026-11-23 00:00", "2026-11-30 00:00"),
    span("this week", "2026-11-18 10:15", "2026-11-23 00:00"),
    span("this week", "2026-11-18 21:30", "2026-11-23 00:00", now="late"),
    span("the week after next", "2026-11-30 00:00", "2026-12-07 00:00"),
    span("early next week", "2026-11-23 00:00", "2026-11-26 00:00"),
    span("end of the week", "2026-11-20 00:00", "2026-11-23 00:00"),
    span("end of next week", "2026-11-27 00:00", "2026-11-30 00:00"),
    span("later this week", "2026-11-19 00:00", "2026-11-23 00:00"),
    span("next month", "2026-12-01 00:00", "2027-01-01 00:00"),
    span("this weekend", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("next weekend", "2026-11-28 00:00", "2026-11-30 00:00"),
    span("the weekend after next", "2026-12-05 00:00", "2026-12-07 00:00"),
    span("can I get in sooner?", *ASAP),
    span("any time this weekend", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("this weekend", "2026-11-21 11:00", "2026-11-23 00:00", now="sat"),
    span("weekend", "2026-11-21 11:00", "2026-11-23 00:00", now="sat"),
    span("next weekend", "2026-11-28 00:00", "2026-11-30 00:00", now="sat"),
    span("next week", "2026-11-23 00:00", "2026-11-30 00:00", now="sat"),
    span("end of the week", "2026-11-21 11:00", "2026-11-23 00:00", now="sat"),
    span("asap", *ASAP),
    span("as soon as possible", *ASAP),
    span("earliest", *ASAP),
    span("soonest", *ASAP),
    span("the first available slot", *ASAP),
    span("asap", "2026-11-18 21:30", "2026-12-02 21:30", now="late"),
    span("whats your first available next week", "2026-11-23 00:00", "2026-11-30 00:00"),
]

WINDOWS = [
    span("morning", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("afternoon", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("evening", "2026-11-18 17:00", "2026-11-18 22:00"),
    span("this evening", "2026-11-18 17:00", "2026-11-18 22:00"),
    span("lunchtime", "2026-11-18 11:30", "2026-11-18 14:00"),
    span("around lunchtime", "2026-11-18 11:30", "2026-11-18 14:00"),
    span("morning", "2026-11-19 08:00", "2026-11-19 12:00", now="late"),
    span("tonight", "2026-11-18 21:30", "2026-11-18 22:00", now="late"),
    span("friday morning", "2026-11-20 08:00", "2026-11-20 12:00"),
    span("sunday afternoon?", "2026-11-22 12:00", "2026-11-22 17:00"),
    span("saturday morning", "2026-11-21 11:00", "2026-11-21 12:00", now="sat"),
    span("this morning", "2026-11-21 11:00", "2026-11-21 12:00", now="sat"),
    span("after 5", "2026-11-18 17:00", "2026-11-19 00:00"),
    span("after 5", "2026-11-19 17:00", "2026-11-20 00:00", now="eve"),
    span("after 5", "2026-11-19 17:00", "2026-11-20 00:00", now="late"),
    span("after 5", "2026-11-18 17:00", "2026-11-19 00:00", now="london"),
    span("after 5pm tomorrow", "2026-11-19 17:00", "2026-11-20 00:00"),
    span("anytime after 3 tomorrow", "2026-11-19 15:00", "2026-11-20 00:00"),
    span("before noon", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("before 3", "2026-11-18 10:15", "2026-11-18 15:00"),
    span("before 3", "2026-11-19 00:00", "2026-11-19 15:00", now="late"),
    span("by 4", "2026-11-18 10:15", "2026-11-18 16:00"),
    span("between 2 and 4", *TWO_TO_FOUR),
    span("from 2 to 4", *TWO_TO_FOUR),
    span("2-4pm", *TWO_TO_FOUR),
    span("I am free 2-3pm", "2026-11-18 14:00", "2026-11-18 15:00"),
    span("10-2pm", "2026-11-18 10:15", "2026-11-18 14:00"),
    span("1-3 wednesday", "2026-11-18 13:00", "2026-11-18 15:00"),
    span("2 to 4 tomorrow", "2026-11-19 14:00", "2026-11-19 16:00"),
    span("between 10 and 12 on saturday", "2026-11-21 10:00", "2026-11-21 12:00"),
    span("from 9 to 5 monday", "2026-11-23 09:00", "2026-11-23 17:00"),
    span("9am-12 tuesday", "2026-11-24 09:00", "2026-11-24 12:00"),
    span("around 11", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("3ish", "2026-11-18 14:00", "2026-11-18 16:00"),
    span("at about 4", "2026-11-18 15:00", "2026-11-18 17:00"),
    span("early afternoon tomorrow", "2026-11-19 12:00", "2026-11-19 15:00"),
    span("late morning on friday", "2026-11-20 10:00", "2026-11-20 12:00"),
    span("mid-morning friday", "2026-11-20 09:30", "2026-11-20 11:30"),
    span("first thing tomorrow", "2026-11-19 08:00", "2026-11-19 09:00"),
    span("after lunch", "2026-11-18 14:00", "2026-11-19 00:00"),
    span("before lunch tomorrow", "2026-11-19 00:00", "2026-11-19 11:30"),
    span("at lunch on thursday", "2026-11-19 11:30", "2026-11-19 14:00"),
    span("tomorrow am", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("fri pm", "2026-11-20 12:00", "2026-11-20 22:00"),
    span("tonight after 8", "2026-11-18 20:00", "2026-11-18 22:00"),
    span(
        "tues or weds afternoon",
        "2026-11-24 12:00",
        "2026-11-25 17:00",
        inside=("2026-11-25 13:00",),
        outside=("2026-11-24 18:00", "2026-11-25 11:00"),
    ),
    span(
        "saturday or sunday morning",
        "2026-11-21 08:00",
        "2026-11-22 12:00",
        inside=("2026-11-22 09:00",),
        outside=("2026-11-21 13:00",),
    ),
    span("I'm free Monday after work", "2026-11-23 17:00", "2026-11-24 00:00"),
    span(
        "I can do mornings next week",
        "2026-11-23 08:00",
        "2026-11-29 12:00",
        inside=("2026-11-25 09:00",),
        outside=("2026-11-25 13:00", "2026-11-24 07:00"),
    ),
    span(
        "next week after 5",
        "2026-11-23 17:00",
        "2026-11-30 00:00",
        inside=("2026-11-24 18:00",),
        outside=("2026-11-24 10:00",),
    ),
]

SENTENCES = [
    span("can I come in monday around 11?", "2026-11-23 10:00", "2026-11-23 12:00"),
    span("do you have anything tmrw after 3pm", "2026-11-19 15:00", "2026-11-20 00:00"),
    span("I'd like a haircut with Sam friday after 3", "2026-11-20 15:00", "2026-11-21 00:00"),
    span("Is there a slot next tuesday morning please", "2026-11-24 08:00", "2026-11-24 12:00"),
    span("thursday next week around 2", "2026-11-26 13:00", "2026-11-26 15:00"),
    at("any chance of thursday at 2:30?", "2026-11-19 14:30"),
    at("how about sat 10am", "2026-11-21 10:00"),
    at("sat at 11", "2026-11-21 11:00"),
    at("wed 2pm", "2026-11-18 14:00"),
    at("next thursday 4pm", "2026-11-26 16:00"),
    at("friday at 3pm", "2026-11-20 15:00"),
    at("fri 3pm", "2026-11-20 15:00"),
    at("Could I get a beard trim tomorrow at half past two?", "2026-11-19 14:30"),
    span(
        "need a colour sometime next week, mornings ideally", "2026-11-23 08:00", "2026-11-29 12:00"
    ),
    at("tomorrow at 10", "2026-11-22 10:00", now="sat"),
    at("how about 3?", "2026-11-18 15:00"),
    at("how about 6pm tonight", "2026-11-18 18:00"),
    at("could you do 9 on monday", "2026-11-23 09:00"),
    at("book me for next tues @ 11.30", "2026-11-24 11:30"),
    at("wed 25th at 9:45", "2026-11-25 09:45"),
    at("Monday at 9:30am with Jess for a cut and colour", "2026-11-23 09:30"),
    span("something around half 2 friday", "2026-11-20 13:30", "2026-11-20 15:30"),
    span("not before 11 please", "2026-11-18 11:00", "2026-11-19 00:00"),
    span("no later than 6", "2026-11-18 10:15", "2026-11-18 18:00"),
    span("morning of the 12th", "2026-12-12 08:00", "2026-12-12 12:00"),
    span("hey! any openings thurs arvo?", "2026-11-19 12:00", "2026-11-19 17:00"),
]

DAYLIGHT_SAVING = [
    at("sunday at 3", "2026-11-01 15:00", now="before_fall_back"),
    span("sunday", "2026-11-01 00:00", "2026-11-02 00:00", now="before_fall_back"),
    at("tomorrow at 9", "2026-03-08 09:00", now="before_spring"),
]

NOTHING = [
    nothing(""),
    nothing("   "),
    nothing("2"),
    nothing("5"),
    nothing("42"),
    nothing("+1 555 123 4567"),
    nothing("07700 900123"),
    nothing("call me on 555-123-4567"),
    nothing("$45"),
    nothing("45.00"),
    nothing("£30"),
    nothing("12.99"),
    nothing("it costs 45 dollars"),
    nothing("Sam"),
    nothing("Jane Smith"),
    nothing("I'm Jan"),
    nothing("yes"),
    nothing("no"),
    nothing("haircut"),
    nothing("how much is a haircut?"),
    nothing("hello"),
    nothing("thanks"),
    nothing("ok see you then"),
    nothing("sam@example.com"),
    nothing("my email is jane.doe@gmail.com"),
    nothing("\U0001f642"),
    nothing("\U0001f44d\U0001f3fd thanks!"),
    nothing("last friday"),
    nothing("yesterday"),
    nothing("I sat in the chair last time"),
    nothing("i may come"),
    nothing("2 to 4"),
    nothing("1-2 weeks"),
    nothing("is 3 ok"),
    nothing("we are 3 people"),
    nothing("table for 2"),
    nothing("what about 2 people"),
    nothing("I'm running 5 mins late"),
    nothing("at one point I had long hair"),
    nothing("24/7"),
    nothing("sundae"),
    nothing("fridge"),
    nothing("money"),
    nothing("thirsty"),
]

# Numbers that are not times: addresses, suites, names, prices, counts, phones, "am I".
NOT_TIMES = [
    nothing("we're at 1919 Harbor Boulevard"),
    nothing("the clinic is 1204 Elm Street, suite 300"),
    nothing("park behind 45 Oak Grove Avenue"),
    nothing("I live at 8 Cedar Lane"),
    nothing("unit 12 please"),
    nothing("room 5 on the second floor"),
    nothing("apt 7B buzzer is broken"),
    nothing("it's # 114 by the lift"),
    nothing("my number is 415 555 0199"),
    nothing("text me on (212) 555-0143"),
    nothing("call 020 7946 0018 if late"),
    nothing("a gel manicure is $35 right?"),
    nothing("the colour was 85 dollars last time"),
    nothing("I paid 12.50 for the trim"),
    nothing("a booking for 3 people"),
    nothing("party of six"),
    nothing("we are four adults and two kids"),
    nothing("I need 2 seats"),
    nothing("it's for 3 kids"),
    nothing("my car has 4 doors"),
    nothing("I've been 3 times before"),
    nothing("Am I free to pick a stylist?"),
    nothing("am i allowed to bring my dog"),
    nothing("I'd like to book at Seven Oaks Spa"),
    nothing("is Five Points Dental nice"),
    nothing("book me in at Twelve Bridges Clinic"),
    nothing("my daughter is 9"),
    nothing("I'll need 2 hours of work on the car"),
    nothing("a room for 5 nights"),
    nothing("Am I going to get a reminder?"),
    nothing("we're at Pier 39"),
    span("book a table for 2 tomorrow", *TOMORROW),
    span("a party of 8 on friday", *FRIDAY),
    span("Am I free the 27th?", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("am I booked on friday", *FRIDAY),
    span("at Three Rivers Salon on friday", *FRIDAY),
    span("the shop at 1400 Mission Street on tuesday", *TUESDAY),
    span("suite 210, tomorrow please", *TOMORROW),
    span("friday, my phone is 646 555 0172", *FRIDAY),
    span("tomorrow, it was $40 last time", *TOMORROW),
    span("3 of us friday", *FRIDAY),
    at("at 1919 Harbor Boulevard at half past 11 in the morning", "2026-11-18 11:30"),
    at("1204 Elm Street, suite 300, at 4pm", "2026-11-18 16:00"),
    at("tomorrow at 2 at 77 Sunset Drive", "2026-11-19 14:00"),
    at("meet at 12 Bay Road at 5:15 pm", "2026-11-18 17:15"),
    at("the garage at 1012 Pine Avenue, slot 17:00", "2026-11-18 17:00"),
    at("room 9 at 3:30", "2026-11-18 15:30"),
    at("a table at Four Seasons Grill at seven in the evening", "2026-11-18 19:00"),
    at("friday at 3, party of 5", "2026-11-20 15:00"),
    at("for 4 people at 6pm tomorrow", "2026-11-19 18:00"),
    at("call 212 555 0143 and book 2:45 pm", "2026-11-18 14:45"),
    at("$60 colour at 1pm", "2026-11-18 13:00"),
    at("Am I free at 4pm tomorrow?", "2026-11-19 16:00"),
    at("3 of us at 4:30 pm", "2026-11-18 16:30"),
    at("2 kids at 5 tomorrow", "2026-11-19 17:00"),
    at("Friday at 2 Jess if she's free", "2026-11-20 14:00"),
    at("tomorrow at 3 With Sam", "2026-11-19 15:00"),
    at("No 17:45 would suit me better", "2026-11-18 17:45"),
    at("book a table 7pm tomorrow", "2026-11-19 19:00"),
    at("gate 5 at 5:30", "2026-11-18 17:30"),
    nothing("a table at 3 Brothers Kitchen"),
]

# An hour with its part of day, in either order: exact, and the part sets am or pm.
PART_OF_DAY_TIMES = [
    at("six in the evening", "2026-11-18 18:00"),
    at("7 in the evening", "2026-11-18 19:00"),
    at("4 in the evening works", "2026-11-18 16:00"),
    at("five in the evening on the 24th", "2026-11-24 17:00"),
    at("one in the afternoon on thursday", "2026-11-19 13:00"),
    at("1 in the afternoon is fine", "2026-11-18 13:00"),
    at("two in the afternoon tomorrow", "2026-11-19 14:00"),
    at("12 in the afternoon if possible", "2026-11-18 12:00"),
    at("12 o'clock in the afternoon", "2026-11-18 12:00"),
    at("3 o'clock in the afternoon", "2026-11-18 15:00"),
    at("ten in the morning", "2026-11-19 10:00"),
    at("11 in the morning for me", "2026-11-18 11:00"),
    at("eleven in the morning on friday", "2026-11-20 11:00"),
    at("9 in the morning", "2026-11-19 09:00"),
    at("8 at night", "2026-11-18 20:00"),
    at("10:30 in the night", "2026-11-18 22:30"),
    at("8:45 at night", "2026-11-18 20:45"),
    at("9 in the night", "2026-11-18 21:00"),
    at("evening 6", "2026-11-18 18:00"),
    at("at evening 5", "2026-11-18 17:00"),
    at("afternoon 1", "2026-11-18 13:00"),
    at("at afternoon 3 on monday", "2026-11-23 15:00"),
    at("afternoon 12 works", "2026-11-18 12:00"),
    at("morning 11", "2026-11-18 11:00"),
    at("morning 9 on saturday", "2026-11-21 09:00"),
    at("in the afternoon 2", "2026-11-18 14:00"),
    at("in the evening 7:30", "2026-11-18 19:30"),
    at("this evening 7", "2026-11-18 19:00"),
    at("tomorrow morning 10", "2026-11-19 10:00"),
    at("friday evening 6", "2026-11-20 18:00"),
    at("5:15 in the evening", "2026-11-18 17:15"),
    at("half past 2 in the afternoon", "2026-11-18 14:30"),
    at("quarter to 6 in the evening", "2026-11-18 17:45"),
    at("quarter past 9 in the morning tomorrow", "2026-11-19 09:15"),
    at("from 2 in the afternoon on friday", "2026-11-20 14:00"),
    at("from eleven in the morning on the 26th", "2026-11-26 11:00"),
    at("could I get a cut at 3 in the afternoon", "2026-11-18 15:00"),
    at("Is one in the afternoon free on Monday?", "2026-11-23 13:00"),
    at("for three in the afternoon please", "2026-11-18 15:00"),
    at("a filling at ten in the morning on the 30th", "2026-11-30 10:00"),
    at("the mechanic at 4:30 in the afternoon", "2026-11-18 16:30"),
    at("can the engineer come at evening 6 on tuesday", "2026-11-24 18:00"),
    at("5 in the evening on the 27th", "2026-11-27 17:00"),
    at("for 2 at afternoon 1", "2026-11-18 13:00"),
    at("for 1 in the evening 6:30", "2026-11-18 18:30"),
    at("6 pm in the evening", "2026-11-18 18:00"),
    span("around 6 in the evening", "2026-11-18 17:00", "2026-11-18 19:00"),
    span("about evening 7", "2026-11-18 18:00", "2026-11-18 20:00"),
    span("around the afternoon 2", "2026-11-18 13:00", "2026-11-18 15:00"),
    span("after 5 in the evening", "2026-11-18 17:00", "2026-11-18 22:00"),
    span("before 11 in the morning tomorrow", "2026-11-19 08:00", "2026-11-19 11:00"),
    span("between 2 and 4 in the afternoon", *TWO_TO_FOUR),
    span("2 to 4 in the afternoon", *TWO_TO_FOUR),
    span("the evening", "2026-11-18 17:00", "2026-11-18 22:00"),
    at("12:30 at night", "2026-11-19 00:30"),
    at("nine forty five in the morning", "2026-11-19 09:45"),
    at("seven forty five in the evening", "2026-11-18 19:45"),
    at("ten to seven in the evening", "2026-11-18 18:50"),
    at("twenty past six in the evening", "2026-11-18 18:20"),
    span("I'll take the one in the afternoon", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("is there one in the morning?", "2026-11-18 10:15", "2026-11-18 12:00"),
    at("ok, make it four in the evening then", "2026-11-18 16:00"),
    at("at 6 pm at the 4th Street Salon", "2026-11-18 18:00"),
    span("the studio on 5th Avenue on the 24th", *TUESDAY),
    at("tonight 8", "2026-11-18 20:00"),
    span("evening, around 6", "2026-11-18 17:00", "2026-11-18 19:00"),
    span("3 or 4 tomorrow", "2026-11-19 15:00", "2026-11-19 17:00"),
    span("at 10 or 11 on friday", "2026-11-20 10:00", "2026-11-20 12:00"),
    span("either 3 or 4 pm", "2026-11-18 15:00", "2026-11-18 17:00"),
    nothing("we are 2 or 3"),
]

# Days of the month: "the 9th of this month", "24th of this month", "the 4th of next month".
MONTH_DAYS = [
    span("the 24th of this month", *TUESDAY),
    span("24th of this month", *TUESDAY),
    span("on 24th of this month", *TUESDAY),
    span("book me 27th of this month", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("is 30th of this month open", "2026-11-30 00:00", "2026-12-01 00:00"),
    span("the 4th of next month", "2026-12-04 00:00", "2026-12-05 00:00"),
    span("4th of next month", "2026-12-04 00:00", "2026-12-05 00:00"),
    span("the 10th next month", "2026-12-10 00:00", "2026-12-11 00:00"),
    span("change it to 26th of this month", "2026-11-26 00:00", "2026-11-27 00:00"),
    span("the 27th", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("on the 27th", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("for the 27th", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("the twenty-seventh of this month", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("the fifth of next month", *DEC_5),
    at("the 24th of this month at 2pm", "2026-11-24 14:00"),
    at("24th of this month, 10:30", "2026-11-24 10:30"),
    at("the 4th of next month at afternoon 3", "2026-12-04 15:00"),
    at("evening 4, 27th of this month", "2026-11-27 16:00"),
    at("28th of this month in the morning 9", "2026-11-28 09:00"),
]

# Corrections and contrasts: the wanted reading wins (tests check the replaced one too).
CORRECTIONS = [
    at("could you do 1 pm instead? I have the school run at 3", "2026-11-18 13:00"),
    at("I have a dentist at 2. 4pm instead?", "2026-11-18 16:00"),
    at("not 2, 3", "2026-11-18 15:00"),
    at("not at 11, 12 please", "2026-11-18 12:00"),
    at("I can't do 3, how about 4?", "2026-11-18 16:00"),
    at("3pm instead of 2pm on friday", "2026-11-20 15:00"),
    at("not at 2 but at 4 tomorrow", "2026-11-19 16:00"),
    at("can we make it 5 instead", "2026-11-18 17:00"),
    at("friday at 11 instead", "2026-11-20 11:00"),
    at("make it 4:30 rather than 3", "2026-11-18 16:30"),
    at("saturday at 10 instead of friday", "2026-11-21 10:00"),
    at("tuesday instead of monday, same 2pm", "2026-11-24 14:00"),
    span("instead of friday, saturday", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("saturday rather than friday", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("I cannot do friday, monday works", "2026-11-23 00:00", "2026-11-24 00:00"),
    span("not on the 24th, the 25th", "2026-11-25 00:00", "2026-11-26 00:00"),
    span("not before 11 please", "2026-11-18 11:00", "2026-11-19 00:00"),
    at("I said 3, not 2", "2026-11-18 15:00"),
    at("my slot is at 2, can I change it to 4?", "2026-11-18 16:00"),
    at("I have 3pm booked, move it to 5:30", "2026-11-18 17:30"),
    at("booked at 11 on friday, could you push it back to 1", "2026-11-20 13:00"),
    at("I'm not available at 3, but 4 works", "2026-11-18 16:00"),
    at("3 doesn't work for me, 4?", "2026-11-18 16:00"),
    at("friday is no good, saturday at 10?", "2026-11-21 10:00"),
    at("I can't come in at 2, 3 is better", "2026-11-18 15:00"),
    span("I'm busy on friday, monday?", "2026-11-23 00:00", "2026-11-24 00:00"),
    span("not this friday but next friday", "2026-11-27 00:00", "2026-11-28 00:00"),
    at("I'm not sure, maybe friday at 3", "2026-11-20 15:00"),
    nothing("not at 2, we'll be 3"),
    nothing("I'm not free on monday"),
    nothing("not today, thanks"),
    span("not after 5 please", "2026-11-18 10:15", "2026-11-18 17:00"),
]

# Bounds and pick-ups: "pick up to" is not "up to"; "say" and "how about" name a time.
CUES = [
    at("change the pick up to 4:30 in the evening", "2026-11-18 16:30"),
    at("move my pick-up to 5pm", "2026-11-18 17:00"),
    at("let's say 1 pm", "2026-11-18 13:00"),
    at("say 3:30", "2026-11-18 15:30"),
    at("how about 2:15?", "2026-11-18 14:15"),
    at("let's say at 11:30 am", "2026-11-18 11:30"),
    at("what about 4", "2026-11-18 16:00"),
    span("up to 4pm", "2026-11-18 10:15", "2026-11-18 16:00"),
    span("any time up to 3", "2026-11-18 10:15", "2026-11-18 15:00"),
]

# A time already past today goes to the next day it can happen, exact or approximate.
PAST_TODAY = [
    at("at 9:30", "2026-11-19 09:30"),
    at("9 am", "2026-11-19 09:00"),
    at("morning 10", "2026-11-19 10:00"),
    at("ten in the morning please", "2026-11-19 10:00"),
    at("how about 8 in the morning", "2026-11-19 08:00"),
    at("at 5pm", "2026-11-19 17:00", now="eve"),
    at("at 4 in the afternoon", "2026-11-19 16:00", now="eve"),
    at("evening 7", "2026-11-19 19:00", now="late"),
    span("around 9:30", "2026-11-19 08:30", "2026-11-19 10:30"),
    span("around 10 in the morning", "2026-11-19 09:00", "2026-11-19 11:00"),
    span("about 9am", "2026-11-19 08:00", "2026-11-19 10:00"),
    span("around 5", "2026-11-19 16:00", "2026-11-19 18:00", now="eve"),
    span("around 11", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("9ish", "2026-11-19 08:00", "2026-11-19 10:00"),
]


# ----------------------------------------------------------------------- generalisation probe
#
# Phrases written afresh, the way customers text a salon, clinic, garage or cleaner, to find
# the classes of phrase the tuning corpus did not hold. Each answer was decided by hand first.
PART_ABBREVIATIONS = [
    # "eve", "evng", "nite", "aft", "arvo", "a.m."/"p.m." and "in the am" are parts of the day
    span("wed eve", "2026-11-18 17:00", "2026-11-18 22:00"),
    at("thurs eve at 6", "2026-11-19 18:00"),
    span("fri evng", "2026-11-20 17:00", "2026-11-20 22:00"),
    span("tmrw aft", "2026-11-19 12:00", "2026-11-19 17:00"),
    span("sat arvo", "2026-11-21 12:00", "2026-11-21 17:00"),
    span("mon morn", "2026-11-23 08:00", "2026-11-23 12:00"),
    span("tues nite", "2026-11-24 17:00", "2026-11-24 22:00"),
    at("tomorrow nite at 8", "2026-11-19 20:00"),
    span("tmrw mornin pls", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("this aft", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("this arvo", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("this eve", "2026-11-18 17:00", "2026-11-18 22:00"),
    span("thu afternoon-ish", "2026-11-19 12:00", "2026-11-19 17:00"),
    span("friday a.m.", "2026-11-20 08:00", "2026-11-20 12:00"),
    span("monday p.m.", "2026-11-23 12:00", "2026-11-23 22:00"),
    span("in the am", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("friday in the pm", "2026-11-20 12:00", "2026-11-20 22:00"),
    span("tomorrow in the am", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("tmrw a.m.", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("thursday pm", "2026-11-19 12:00", "2026-11-19 22:00"),
    span("hi can i get a mani pedi thurs eve", "2026-11-19 17:00", "2026-11-19 22:00"),
    span("need an oil change fri aft if poss", "2026-11-20 12:00", "2026-11-20 17:00"),
    span("do u have anything 2moro arvo", "2026-11-19 12:00", "2026-11-19 17:00"),
    span("any appts wed evening after 6", "2026-11-18 18:00", "2026-11-18 22:00"),
    span("sat eve around 7", "2026-11-21 18:00", "2026-11-21 20:00"),
    span("could the plumber come mon aft", "2026-11-23 12:00", "2026-11-23 17:00"),
    span("is there anything sun eve", "2026-11-22 17:00", "2026-11-22 22:00"),
    span("nxt mon", "2026-11-23 00:00", "2026-11-24 00:00"),
    at("nxt sat at 10", "2026-11-28 10:00"),
    span("nxt mon morning", "2026-11-23 08:00", "2026-11-23 12:00"),
    span("sat/sun", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("mon/tues", "2026-11-23 00:00", "2026-11-25 00:00"),
    span("btwn 2 & 4 tomorrow", "2026-11-19 14:00", "2026-11-19 16:00"),
    at("12 noon sat", "2026-11-21 12:00"),
    span("noonish", "2026-11-18 11:00", "2026-11-18 13:00"),
    at("quarter to midnight", "2026-11-18 23:45"),
    at("quarter past noon", "2026-11-18 12:15"),
    at("half past midnight", "2026-11-19 00:30"),
    at("quarter to noon", "2026-11-18 11:45"),
    at("tonight at 8", "2026-11-19 20:00", now="late"),
    at("tonight at 10", "2026-11-18 22:00", now="late"),
    at("8pm", "2026-11-19 20:00", now="late"),
    span("first thing", "2026-11-19 08:00", "2026-11-19 09:00", now="late"),
]

MONTH_CONTEXT = [
    # the month said apart from the day: "next month on the 3rd", "in january on the 3rd"
    at("next month on the 3rd at 1pm", "2027-01-03 13:00", now="dec1"),
    span("next month on the 3rd", "2027-01-03 00:00", "2027-01-04 00:00", now="dec1"),
    span("next month the 15th", "2027-01-15 00:00", "2027-01-16 00:00", now="dec1"),
    span("in january on the 3rd", "2027-01-03 00:00", "2027-01-04 00:00", now="dec1"),
    span("the 3rd of next month", "2027-01-03 00:00", "2027-01-04 00:00", now="dec1"),
    span("the 3rd", "2026-12-03 00:00", "2026-12-04 00:00", now="dec1"),
    at("the 1st at 9", "2027-01-01 09:00", now="dec1"),
    at("1st at 9am", "2027-01-01 09:00", now="dec1"),
    span("tues the 8th", "2026-12-08 00:00", "2026-12-09 00:00", now="dec1"),
    span("wed eve", "2026-12-02 17:00", "2026-12-02 22:00", now="dec1"),
    span("next wed", "2026-12-09 00:00", "2026-12-10 00:00", now="dec1"),
    span("this wed", "2026-12-02 00:00", "2026-12-03 00:00", now="dec1"),
    span("wednesday week", "2026-12-09 00:00", "2026-12-10 00:00", now="dec1"),
    at("next month, on the 20th at 4pm", "2027-01-20 16:00", now="dec1"),
    span("for next month, the 2nd please", "2027-01-02 00:00", "2027-01-03 00:00", now="dec1"),
    span("next month on the 3rd", "2026-12-03 00:00", "2026-12-04 00:00"),
    span("the 1st of jan", "2027-01-01 00:00", "2027-01-02 00:00"),
    span("jan 1st", "2027-01-01 00:00", "2027-01-02 00:00"),
    at("jan 1st at 10am", "2027-01-01 10:00"),
    span("1st of january", "2027-01-01 00:00", "2027-01-02 00:00"),
    span("the 15th of january", "2027-01-15 00:00", "2027-01-16 00:00"),
    span("january the 15th", "2027-01-15 00:00", "2027-01-16 00:00"),
    span("1/15", "2027-01-15 00:00", "2027-01-16 00:00"),
    span("15/1", "2027-01-15 00:00", "2027-01-16 00:00"),
    at("1/15 at 2", "2027-01-15 14:00"),
    span("12/24", "2026-12-24 00:00", "2026-12-25 00:00"),
    at("on 12/3 at 9am", "2026-12-03 09:00"),
    span("12/3/26", "2026-12-03 00:00", "2026-12-04 00:00"),
    span("dec 24th", "2026-12-24 00:00", "2026-12-25 00:00"),
    span("tuesday the 8th", "2026-12-08 00:00", "2026-12-09 00:00"),
    at("tues the 8th at 4", "2026-12-08 16:00"),
    span("thursday the 3rd", "2026-12-03 00:00", "2026-12-04 00:00"),
    span("friday the 4th of december", "2026-12-04 00:00", "2026-12-05 00:00"),
    span("sat the 5th", "2026-12-05 00:00", "2026-12-06 00:00"),
    span("on tuesday 8th", "2026-12-08 00:00", "2026-12-09 00:00"),
    span("the fifth", "2026-12-05 00:00", "2026-12-06 00:00"),
    span("the twenty third", "2026-11-23 00:00", "2026-11-24 00:00"),
    span("on the twelfth", "2026-12-12 00:00", "2026-12-13 00:00"),
    nothing("the fifth time I ask"),
]

DAY_RUNS = [
    # runs of days of a month, weeks of a month and weeks around a date
    span("dec 3-5", "2026-12-03 00:00", "2026-12-06 00:00"),
    span("december 3 to 5", "2026-12-03 00:00", "2026-12-06 00:00"),
    span("the 10th-12th", "2026-12-10 00:00", "2026-12-13 00:00"),
    span("between the 3rd and the 5th", "2026-12-03 00:00", "2026-12-06 00:00"),
    span("the 3rd or 4th", "2026-12-03 00:00", "2026-12-05 00:00"),
    span("3rd or 4th of dec", "2026-12-03 00:00", "2026-12-05 00:00"),
    span("the 3rd or the 9th", "2026-12-03 00:00", "2026-12-04 00:00"),
    span("dec 5th and 6th", "2026-12-05 00:00", "2026-12-07 00:00"),
    span("dec 3 3-5pm", "2026-12-03 15:00", "2026-12-03 17:00"),
    span("the 12th 2-4", "2026-12-12 14:00", "2026-12-12 16:00"),
    span("the 12th at 2 or 3", "2026-12-12 14:00", "2026-12-12 16:00"),
    span("the first week of december", "2026-12-01 00:00", "2026-12-08 00:00"),
    span("first week of jan", "2027-01-01 00:00", "2027-01-08 00:00"),
    span("the last week of november", "2026-11-24 00:00", "2026-12-01 00:00"),
    span("the 1st week of next month", "2026-12-01 00:00", "2026-12-08 00:00"),
    span("any openings week of the 7th", "2026-12-07 00:00", "2026-12-14 00:00"),
    span("week of dec 7", "2026-12-07 00:00", "2026-12-14 00:00"),
    span("the week of the 14th", "2026-12-14 00:00", "2026-12-21 00:00"),
    span("week starting the 7th", "2026-12-07 00:00", "2026-12-14 00:00"),
    span("the week of the 16th", "2026-12-14 00:00", "2026-12-21 00:00"),
    span("week of the 7th after 5", "2026-12-07 17:00", "2026-12-14 00:00"),
    span("late next week", "2026-11-26 00:00", "2026-11-30 00:00"),
    span("mid next week", "2026-11-24 00:00", "2026-11-27 00:00"),
    span("mid-next week", "2026-11-24 00:00", "2026-11-27 00:00"),
    span("the middle of next week", "2026-11-24 00:00", "2026-11-27 00:00"),
    span("late this week", "2026-11-19 00:00", "2026-11-23 00:00"),
    span("mid next month", "2026-12-11 00:00", "2026-12-21 00:00"),
    span("late next month", "2026-12-25 00:00", "2027-01-01 00:00"),
    span("week after next on tuesday", "2026-12-01 00:00", "2026-12-02 00:00"),
    at("the week after next on friday at 2", "2026-12-04 14:00"),
    span("same day next week", "2026-11-25 00:00", "2026-11-26 00:00"),
    span("a month from now", "2026-12-18 00:00", "2026-12-19 00:00"),
    span("2 months from now", "2027-01-18 00:00", "2027-01-19 00:00"),
    span("next thurs or fri", "2026-11-26 00:00", "2026-11-28 00:00"),
    span("next mon-wed", "2026-11-23 00:00", "2026-11-26 00:00"),
]

HOLIDAYS = [
    # fixed and counted holidays (US), a day or a weekday before or after one
    span("christmas", "2026-12-25 00:00", "2026-12-26 00:00", now="dec1"),
    span("christmas day", "2026-12-25 00:00", "2026-12-26 00:00", now="dec1"),
    span("xmas", "2026-12-25 00:00", "2026-12-26 00:00", now="dec1"),
    span("boxing day", "2026-12-26 00:00", "2026-12-27 00:00", now="dec1"),
    span("christmas eve", "2026-12-24 00:00", "2026-12-25 00:00", now="dec1"),
    at("xmas eve at 10", "2026-12-24 10:00", now="dec1"),
    at("new years eve at 5", "2026-12-31 17:00", now="dec1"),
    span("nye", "2026-12-31 00:00", "2027-01-01 00:00", now="dec1"),
    span("new year's day", "2027-01-01 00:00", "2027-01-02 00:00", now="dec1"),
    span("new years", "2027-01-01 00:00", "2027-01-02 00:00", now="dec1"),
    span("valentines day", "2027-02-14 00:00", "2027-02-15 00:00", now="dec1"),
    span("halloween", "2027-10-31 00:00", "2027-11-01 00:00", now="dec1"),
    span("thanksgiving", "2027-11-25 00:00", "2027-11-26 00:00", now="dec1"),
    span("the day before thanksgiving", "2027-11-24 00:00", "2027-11-25 00:00", now="dec1"),
    span("memorial day", "2027-05-31 00:00", "2027-06-01 00:00", now="dec1"),
    span("labor day", "2027-09-06 00:00", "2027-09-07 00:00", now="dec1"),
    span("mothers day", "2027-05-09 00:00", "2027-05-10 00:00", now="dec1"),
    span("the day after christmas", "2026-12-26 00:00", "2026-12-27 00:00", now="dec1"),
    span("between christmas and new year", "2026-12-26 00:00", "2027-01-01 00:00", now="dec1"),
    span("the monday before christmas", "2026-12-21 00:00", "2026-12-22 00:00", now="dec1"),
    span("the saturday before christmas", "2026-12-19 00:00", "2026-12-20 00:00", now="dec1"),
    span("the thursday after christmas", "2026-12-31 00:00", "2027-01-01 00:00", now="dec1"),
    span("thanksgiving", "2026-11-26 00:00", "2026-11-27 00:00"),
    span("the day after thanksgiving", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("black friday", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("the friday after thanksgiving", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("happy new year! friday ok?", "2026-11-20 00:00", "2026-11-21 00:00"),
    at("merry xmas! tomorrow at 2?", "2026-11-19 14:00"),
    span("merry christmas, can I come on the 23rd", "2026-11-23 00:00", "2026-11-24 00:00"),
]

BOUNDS_AFTER = [
    # a bound said after its time: "7pm or later", "2 onwards", "4 at the latest"
    span("7pm or later", "2026-11-18 19:00", "2026-11-19 00:00"),
    span("6:30 or later", "2026-11-18 18:30", "2026-11-19 00:00"),
    span("7 or later", "2026-11-18 19:00", "2026-11-19 00:00"),
    span("3 or earlier", "2026-11-18 10:15", "2026-11-18 15:00"),
    span("4 at the latest", "2026-11-18 10:15", "2026-11-18 16:00"),
    span("3pm latest", "2026-11-18 10:15", "2026-11-18 15:00"),
    span("by 3 at the latest", "2026-11-18 10:15", "2026-11-18 15:00"),
    span("2 onwards", "2026-11-18 14:00", "2026-11-19 00:00"),
    span("anytime from 2 onwards", "2026-11-18 14:00", "2026-11-19 00:00"),
    span("sat from 10am onwards", "2026-11-21 10:00", "2026-11-22 00:00"),
    span("9 at the earliest", "2026-11-19 09:00", "2026-11-20 00:00"),
    span("friday 10 or later", "2026-11-20 10:00", "2026-11-21 00:00"),
    span("7pm onwards thursday", "2026-11-19 19:00", "2026-11-20 00:00"),
    span("close to noon", "2026-11-18 11:00", "2026-11-18 13:00"),
    span("near 3", "2026-11-18 14:00", "2026-11-18 16:00"),
    span("the earliest you have", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("earliest appointment tomorrow", "2026-11-19 00:00", "2026-11-20 00:00"),
]

MOVES_AND_EXCLUSIONS = [
    # "from X to Y" moves and "any day but X": the wanted reading, never the refused one
    span("any day but monday", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("any day except friday", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("anytime but 3", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("any time except tuesday morning", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("apart from friday any day is fine", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("whenever but not monday", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("I can do any day except for the 24th", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("monday but after 2", "2026-11-23 14:00", "2026-11-24 00:00"),
    span("move my appt from friday to monday", "2026-11-23 00:00", "2026-11-24 00:00"),
    at("reschedule from 2 to 4", "2026-11-18 16:00"),
    at("can you change my booking from tuesday at 3 to wednesday at 4", "2026-11-18 16:00"),
    span("move it from the 3rd to the 5th", "2026-12-05 00:00", "2026-12-06 00:00"),
    at("move me from 10am to 11", "2026-11-18 11:00"),
    span("not friday morning, saturday", "2026-11-21 00:00", "2026-11-22 00:00"),
    at("not at 2 in the afternoon, 4", "2026-11-18 16:00"),
    span("I said friday not thursday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("actually make it thursday", "2026-11-19 00:00", "2026-11-20 00:00"),
    at("actually can we do 4 instead", "2026-11-18 16:00"),
    at("sorry I meant 3pm", "2026-11-18 15:00"),
    span("change to tuesday", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("can we move to the 5th", "2026-12-05 00:00", "2026-12-06 00:00"),
    span("push to next week", "2026-11-23 00:00", "2026-11-30 00:00"),
    at("hi i booked for 2pm friday, can i move to 4?", "2026-11-20 16:00"),
    span(
        "Actually friday doesn't work, could we do sat morning instead",
        "2026-11-21 08:00",
        "2026-11-21 12:00",
    ),
    span("sorry can't make tmrw, is next tues ok?", "2026-11-24 00:00", "2026-11-25 00:00"),
]

TEXTED = [
    # what customers text: abbreviations, durations, prices, counts, addresses, names
    # durations are not times
    span("a 90 minute facial tomorrow", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("a 90 min massage on friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    at("90min massage tmrw at 2", "2026-11-19 14:00"),
    nothing("for 2 hours"),
    span("need the room for 2 hours friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    at("a 60 minute appointment at 3", "2026-11-18 15:00"),
    span("book a 45 min slot monday", "2026-11-23 00:00", "2026-11-24 00:00"),
    span("30 mins tomorrow morning", "2026-11-19 08:00", "2026-11-19 12:00"),
    nothing("it takes 1.5 hours"),
    span("a two hour colour on saturday", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("a 2 hr session thurs", "2026-11-19 00:00", "2026-11-20 00:00"),
    at("2hr appointment at 10am tomorrow", "2026-11-19 10:00"),
    span("can I book a 30-minute consult tmrw", "2026-11-19 00:00", "2026-11-20 00:00"),
    at("a 15 min call at 4", "2026-11-18 16:00"),
    span("a 3 hour job next tuesday", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("the cleaning takes 3 hrs, can you come monday", "2026-11-23 00:00", "2026-11-24 00:00"),
    at("for an hour at 6", "2026-11-18 18:00"),
    at("1 hour massage sat 11am", "2026-11-21 11:00"),
    span("ninety minutes on wed", "2026-11-18 10:15", "2026-11-19 00:00"),
    nothing("the appointment is 45 minutes"),
    nothing("im 10 mins away"),
    nothing("I'll be 15 min late"),
    at("could we do a 90 min deep tissue on fri at 6?", "2026-11-20 18:00"),
    span(
        "is there a slot for a 30 min consult b4 noon tmrw", "2026-11-19 00:00", "2026-11-19 12:00"
    ),
    # prices and counts
    at("$40 cut tomorrow at 5", "2026-11-19 17:00"),
    at("is it $40 for 2 people at 6", "2026-11-18 18:00"),
    at("it's 40 bucks right? friday 3pm", "2026-11-20 15:00"),
    at("2 people at 7 on saturday", "2026-11-21 19:00"),
    at("for 2 at 7", "2026-11-18 19:00"),
    span("3 kids haircuts after school", "2026-11-18 15:00", "2026-11-19 00:00"),
    span("4 of us sunday around 1", "2026-11-22 12:00", "2026-11-22 14:00"),
    at("me and 2 friends at 3", "2026-11-18 15:00"),
    span("a cut for my 2 boys saturday", "2026-11-21 00:00", "2026-11-22 00:00"),
    at("5 star review lol, book me fri at 10", "2026-11-20 10:00"),
    span("I'm 35 weeks pregnant, can I come tues", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("my 3 year old needs a cut friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    at("2 dogs for grooming on tuesday at 9", "2026-11-24 09:00"),
    at("both of us at 2", "2026-11-18 14:00"),
    at("hi, 2 people for pedicures sat at 11?", "2026-11-21 11:00"),
    # addresses, phones, names, references
    at("I'm at 221 Baker St, tomorrow 10am", "2026-11-19 10:00"),
    at("come to 14 Elm Ave at 3", "2026-11-18 15:00"),
    span("the house is 1600 Pennsylvania Ave, fri morning", "2026-11-20 08:00", "2026-11-20 12:00"),
    at("my address is 55 Main St apt 4, monday at 11", "2026-11-23 11:00"),
    span("call me 555 201 3344 about friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    nothing("text 917-555-0101 if 3 is free"),
    nothing("my number is 07712 345678"),
    at("Sarah at 3", "2026-11-18 15:00"),
    at("with Mike on thurs at 4", "2026-11-19 16:00"),
    at("book Jen for 2pm", "2026-11-18 14:00"),
    at("can Dr Patel see me at 11", "2026-11-18 11:00"),
    at("ask for Room 4 at 2", "2026-11-18 14:00"),
    span("zip 10001 tuesday", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("order #4521 pickup friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("ref 12345, wednesday", "2026-11-18 10:15", "2026-11-19 00:00"),
    span(
        "Can the cleaner come weds between 9 and 12? we're at 42 Oak St",
        "2026-11-18 10:15",
        "2026-11-18 12:00",
    ),
    # clock faces
    span("around 4ish", "2026-11-18 15:00", "2026-11-18 17:00"),
    span("4-ish on fri", "2026-11-20 15:00", "2026-11-20 17:00"),
    at("quarter to 3 tmrw", "2026-11-19 14:45"),
    at("quarter past 2", "2026-11-18 14:15"),
    at("20 past 4", "2026-11-18 16:20"),
    at("half past 11 on saturday", "2026-11-21 11:30"),
    at("at half 10", "2026-11-18 10:30"),
    span("5:30ish", "2026-11-18 16:30", "2026-11-18 18:30"),
    at("at 5.30", "2026-11-18 17:30"),
    at("5.30pm thurs", "2026-11-19 17:30"),
    at("17:30 pls", "2026-11-18 17:30"),
    at("at 0900", "2026-11-19 09:00"),
    at("9 at night", "2026-11-18 21:00"),
    at("2 in the afternoon", "2026-11-18 14:00"),
    at("8 in the evening", "2026-11-18 20:00"),
    at("11 at night", "2026-11-18 23:00"),
    at("half 3 tmrw", "2026-11-19 15:30"),
    span("3ish tomorrow", "2026-11-19 14:00", "2026-11-19 16:00"),
    span("around 3ish", "2026-11-18 14:00", "2026-11-18 16:00"),
    span("b4 noon", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("before noon tmrw", "2026-11-19 00:00", "2026-11-19 12:00"),
    at("12 noon", "2026-11-18 12:00"),
    at("12pm", "2026-11-18 12:00"),
    at("12am", "2026-11-19 00:00"),
    at("at 12", "2026-11-18 12:00"),
    at("12:00", "2026-11-18 12:00"),
    at("12:30pm", "2026-11-18 12:30"),
    at("12.30 ok?", "2026-11-18 12:30"),
    at("at 12:15 if free", "2026-11-18 12:15"),
    at("noon friday", "2026-11-20 12:00"),
    at("friday noon", "2026-11-20 12:00"),
    at("midday tmrw", "2026-11-19 12:00"),
    at("12:00 noon", "2026-11-18 12:00"),
    span("around midday", "2026-11-18 11:00", "2026-11-18 13:00"),
    span("midday-ish", "2026-11-18 11:00", "2026-11-18 13:00"),
    at("midnight tonight", "2026-11-19 00:00"),
    at("at midnight friday", "2026-11-20 00:00"),
    # days as texted
    at("tmrw at 3pm", "2026-11-19 15:00"),
    at("2moro 2pm", "2026-11-19 14:00"),
    at("2mrw @ 9", "2026-11-19 09:00"),
    at("tmr 10", "2026-11-19 10:00"),
    at("nxt tues 11am", "2026-11-24 11:00"),
    span("nxt week", "2026-11-23 00:00", "2026-11-30 00:00"),
    at("thurs 9:30", "2026-11-19 09:30"),
    at("weds 4", "2026-11-18 16:00"),
    at("sat 9", "2026-11-21 09:00"),
    at("sun 12", "2026-11-22 12:00"),
    at("mon at 1", "2026-11-23 13:00"),
    at("fri 8", "2026-11-20 08:00"),
    at("tues 10am", "2026-11-24 10:00"),
    at("tuesday 10 am", "2026-11-24 10:00"),
    at("wednesday at 3 please", "2026-11-18 15:00"),
    at("can i come in 2day at 4", "2026-11-18 16:00"),
    span("anything 2day?", "2026-11-18 10:15", "2026-11-19 00:00"),
    span("any chance today?", "2026-11-18 10:15", "2026-11-19 00:00"),
    span("today after 2", "2026-11-18 14:00", "2026-11-19 00:00"),
    span("today before 5", "2026-11-18 10:15", "2026-11-18 17:00"),
    span("sometime this afternoon", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("sometime tomorrow", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("some time next week", "2026-11-23 00:00", "2026-11-30 00:00"),
    span("late afternoon thurs", "2026-11-19 15:00", "2026-11-19 17:00"),
    span("mid-afternoon friday", "2026-11-20 13:30", "2026-11-20 16:00"),
    span("early morning tmrw", "2026-11-19 08:00", "2026-11-19 10:00"),
    span("early evening", "2026-11-18 17:00", "2026-11-18 19:00"),
    span("late evening", "2026-11-18 19:00", "2026-11-18 22:00"),
    span("afternoon on thurs", "2026-11-19 12:00", "2026-11-19 17:00"),
    span("evening of the 5th", "2026-12-05 17:00", "2026-12-05 22:00"),
    span("morning of dec 5", "2026-12-05 08:00", "2026-12-05 12:00"),
    span("the afternoon of the 27th", "2026-11-27 12:00", "2026-11-27 17:00"),
    span("on the morning of friday", "2026-11-20 08:00", "2026-11-20 12:00"),
    span("friday morning 10ish", "2026-11-20 09:00", "2026-11-20 11:00"),
    span("friday from 1", "2026-11-20 13:00", "2026-11-21 00:00"),
    span("friday from 1 to 3", "2026-11-20 13:00", "2026-11-20 15:00"),
    span("sat from 10", "2026-11-21 10:00", "2026-11-22 00:00"),
    span("from 3 tomorrow", "2026-11-19 15:00", "2026-11-20 00:00"),
    span("after 11 tmrw", "2026-11-19 11:00", "2026-11-20 00:00"),
    span("after 1pm", "2026-11-18 13:00", "2026-11-19 00:00"),
    span("sometime after lunch tmrw", "2026-11-19 14:00", "2026-11-20 00:00"),
    span("around noon tmrw", "2026-11-19 11:00", "2026-11-19 13:00"),
    span("just before noon", "2026-11-18 10:15", "2026-11-18 12:00"),
    span("just after lunch", "2026-11-18 14:00", "2026-11-19 00:00"),
    span("shortly after 5", "2026-11-18 17:00", "2026-11-19 00:00"),
    span("right after work", "2026-11-18 17:00", "2026-11-19 00:00"),
    span("after 6:30", "2026-11-18 18:30", "2026-11-19 00:00"),
    span("no later than 4 tmrw", "2026-11-19 00:00", "2026-11-19 16:00"),
    span("not before 2 on friday", "2026-11-20 14:00", "2026-11-21 00:00"),
    span("not after 6", "2026-11-18 10:15", "2026-11-18 18:00"),
    span("latest 5pm", "2026-11-18 10:15", "2026-11-18 17:00"),
    span("at the latest 4", "2026-11-18 10:15", "2026-11-18 16:00"),
    span("before 9", "2026-11-19 00:00", "2026-11-19 09:00"),
    span("this coming friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("fri next week", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("next fri", "2026-11-27 00:00", "2026-11-28 00:00"),
    at("next friday at 3", "2026-11-27 15:00"),
    span("this fri", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("a week from friday", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("a week from tomorrow", "2026-11-26 00:00", "2026-11-27 00:00"),
    span("a week from today", "2026-11-25 00:00", "2026-11-26 00:00"),
    span("two weeks from today", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("in three days", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("in 10 days", "2026-11-28 00:00", "2026-11-29 00:00"),
    span("3 days from now", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("in a fortnight", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("tuesday after next", "2026-12-01 00:00", "2026-12-02 00:00"),
    span("the friday after next", "2026-12-04 00:00", "2026-12-05 00:00"),
    span("monday week", "2026-11-30 00:00", "2026-12-01 00:00"),
    span("first thing friday", "2026-11-20 08:00", "2026-11-20 09:00"),
    span("first thing in the morning", "2026-11-19 08:00", "2026-11-19 09:00"),
    span("lunchtime tmrw", "2026-11-19 11:30", "2026-11-19 14:00"),
    span("over lunch on thurs", "2026-11-19 11:30", "2026-11-19 14:00"),
    span("after school on monday", "2026-11-23 15:00", "2026-11-24 00:00"),
    span("after work tmrw", "2026-11-19 17:00", "2026-11-20 00:00"),
    span("2-4", "2026-11-18 14:00", "2026-11-18 16:00"),
    span("between 1 and 3 on sat", "2026-11-21 13:00", "2026-11-21 15:00"),
    span("between 1 and 3pm saturday", "2026-11-21 13:00", "2026-11-21 15:00"),
    span("from 9 till 11", "2026-11-18 10:15", "2026-11-18 11:00"),
    span("9 to 11am tmrw", "2026-11-19 09:00", "2026-11-19 11:00"),
    span("anytime between 10 and 2", "2026-11-18 10:15", "2026-11-18 14:00"),
    span("next available", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("next available appointment", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("whats the next opening", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("soonest you have", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("earliest you can do", "2026-11-18 10:15", "2026-12-02 10:15"),
    at("tonight 7:30", "2026-11-18 19:30"),
    at("8 tonight", "2026-11-18 20:00"),
    at("at 10", "2026-11-19 10:00"),
    at("at 10:00", "2026-11-19 10:00"),
    at("9:45", "2026-11-19 09:45"),
    at("today at 3", "2026-11-18 15:00"),
    at("this morning at 11", "2026-11-18 11:00"),
    at("later today at 4", "2026-11-18 16:00"),
    span("weekends only", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("sat or sun", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("tuesday thru thursday", "2026-11-24 00:00", "2026-11-27 00:00"),
    span("tues-thurs", "2026-11-24 00:00", "2026-11-27 00:00"),
    span("thurs-sat after 2", "2026-11-19 14:00", "2026-11-22 00:00"),
    span("tues & wed", "2026-11-24 00:00", "2026-11-26 00:00"),
    span("anytime after 4 this week", "2026-11-18 16:00", "2026-11-23 00:00"),
    span("either thurs or fri afternoon", "2026-11-19 12:00", "2026-11-20 17:00"),
    span("thursday or friday after 3", "2026-11-19 15:00", "2026-11-21 00:00"),
    span("nov 30", "2026-11-30 00:00", "2026-12-01 00:00"),
    span("on the 30th", "2026-11-30 00:00", "2026-12-01 00:00"),
    at("the 30th at 11:30", "2026-11-30 11:30"),
    span("sunday 29th", "2026-11-29 00:00", "2026-11-30 00:00"),
    at("mon 30th 2pm", "2026-11-30 14:00"),
    span("30/11", "2026-11-30 00:00", "2026-12-01 00:00"),
    at("11/30 10am", "2026-11-30 10:00"),
    at("11.30", "2026-11-18 11:30"),
    span("around 11:30", "2026-11-18 10:30", "2026-11-18 12:30"),
    span(
        "hey its maria, can i get my roots done thurs around 2ish?",
        "2026-11-19 13:00",
        "2026-11-19 15:00",
    ),
    span(
        "Hi! Do you have anything for a gel fill tmrw after 4:30?",
        "2026-11-19 16:30",
        "2026-11-20 00:00",
    ),
    span(
        "need to bring my car in for brakes, any time monday morning works",
        "2026-11-23 08:00",
        "2026-11-23 12:00",
    ),
    span("i can only do lunchtime, any day this week", "2026-11-18 11:30", "2026-11-22 14:00"),
    at("can i book in for 3:15 on the 9th", "2026-12-09 15:15"),
    at("the 9th at quarter past 3", "2026-12-09 15:15"),
    at("running late, be there at 10:40", "2026-11-18 10:40"),
    at("see you at 2!", "2026-11-18 14:00"),
    at("thx, see u tmrw at 11", "2026-11-19 11:00"),
    at("ok 3pm it is", "2026-11-18 15:00"),
    at("great, friday at 10 then", "2026-11-20 10:00"),
    span("perfect, the 12th works", "2026-12-12 00:00", "2026-12-13 00:00"),
    at("yes please book 9:30", "2026-11-19 09:30"),
    nothing("yes 4 works"),
    at("can i get the 8:30 slot", "2026-11-19 08:30"),
    at("is the 4:45 still open", "2026-11-18 16:45"),
    span("booked in for the 2nd of dec", "2026-12-02 00:00", "2026-12-03 00:00"),
    at("I'd like to come in on 12/10 at 2:30pm", "2026-12-10 14:30"),
    at("12/10 2:30", "2026-12-10 14:30"),
    at("dec 10 @ 2:30pm", "2026-12-10 14:30"),
    at("10th dec 14:30", "2026-12-10 14:30"),
    at("Thursday 10th December at half 2", "2026-12-10 14:30"),
    span("on wed the 9th in the evening", "2026-12-09 17:00", "2026-12-09 22:00"),
    at("fri 11/27 at 9", "2026-11-27 09:00"),
    span("in two weeks time", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("in 2 wks", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("2 wks from now", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("3 weeks from monday", "2026-12-14 00:00", "2026-12-15 00:00"),
    at("this time next week", "2026-11-25 10:15"),
    span("sometime tues", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("tue 1st dec", "2026-12-01 00:00", "2026-12-02 00:00"),
    at("tuesday 1 december 10am", "2026-12-01 10:00"),
    at("the 1st of december at 10", "2026-12-01 10:00"),
    span("dec. 5", "2026-12-05 00:00", "2026-12-06 00:00"),
    at("Dec. 5th at 11", "2026-12-05 11:00"),
    span("5th Dec", "2026-12-05 00:00", "2026-12-06 00:00"),
    span("23rd", "2026-11-23 00:00", "2026-11-24 00:00"),
    at("on the 23rd at noon", "2026-11-23 12:00"),
    at("at noon on the 23rd", "2026-11-23 12:00"),
    span("before 10am", "2026-11-19 00:00", "2026-11-19 10:00"),
    span("before 10 tmrw", "2026-11-19 00:00", "2026-11-19 10:00"),
    span("til 2", "2026-11-18 10:15", "2026-11-18 14:00"),
    span("until 3pm", "2026-11-18 10:15", "2026-11-18 15:00"),
    span("up until 4", "2026-11-18 10:15", "2026-11-18 16:00"),
    span("anytime before 5 on sat", "2026-11-21 00:00", "2026-11-21 17:00"),
    span("sat before 1", "2026-11-21 00:00", "2026-11-21 13:00"),
    span("between 12 and 1", "2026-11-18 12:00", "2026-11-18 13:00"),
    span("12-1", "2026-11-18 12:00", "2026-11-18 13:00"),
    span("12 to 1 on friday", "2026-11-20 12:00", "2026-11-20 13:00"),
    span("11-1 tomorrow", "2026-11-19 11:00", "2026-11-19 13:00"),
    span("1-2 on monday", "2026-11-23 13:00", "2026-11-23 14:00"),
    span("10:30-11:30", "2026-11-18 10:30", "2026-11-18 11:30"),
    span("10.30 - 12", "2026-11-18 10:30", "2026-11-18 12:00"),
    span("9-5", "2026-11-18 10:15", "2026-11-18 17:00"),
    span("next mon", "2026-11-23 00:00", "2026-11-24 00:00", now="sat"),
    at("mon at 9", "2026-11-23 09:00", now="sat"),
]


# A second round, after the first fixes.
SECOND_ROUND = [
    # end of day, nth weekday of a month, "tomorrow or friday", 24-hour faces, bounds pointing back
    span("end of day", "2026-11-18 18:00", "2026-11-18 20:00"),
    span("end of day tomorrow", "2026-11-19 18:00", "2026-11-19 20:00"),
    span("by end of day", "2026-11-18 10:15", "2026-11-19 00:00"),
    span("by end of day tomorrow", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("before end of day friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("eod friday", "2026-11-20 18:00", "2026-11-20 20:00"),
    span("the first monday of december", "2026-12-07 00:00", "2026-12-08 00:00"),
    span("the 2nd tuesday in december", "2026-12-08 00:00", "2026-12-09 00:00"),
    span("the last friday of the month", "2026-11-27 00:00", "2026-11-28 00:00"),
    span("the first friday of next month", "2026-12-04 00:00", "2026-12-05 00:00"),
    span("tmrw or fri", "2026-11-19 00:00", "2026-11-21 00:00"),
    span("tomorrow or the day after", "2026-11-19 00:00", "2026-11-21 00:00"),
    span("today or tomorrow", "2026-11-18 10:15", "2026-11-20 00:00"),
    span("tomorrow or monday", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("tomorrow to saturday after 3", "2026-11-19 15:00", "2026-11-22 00:00"),
    at("1500 hrs", "2026-11-18 15:00"),
    at("15h00", "2026-11-18 15:00"),
    at("at 0930 hours", "2026-11-19 09:30"),
    at("9 on the dot", "2026-11-19 09:00"),
    span("I get off at 5 so after that", "2026-11-18 17:00", "2026-11-19 00:00"),
    span("I finish work at 5, anytime after", "2026-11-18 17:00", "2026-11-19 00:00"),
    span("school pickup is at 3 so before that", "2026-11-18 10:15", "2026-11-18 15:00"),
    at("at 5 after work", "2026-11-18 17:00"),
    span("all day sat", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("any time sat", "2026-11-21 00:00", "2026-11-22 00:00"),
    nothing("i sat there"),
    at("the 3rd at 2 for 2 hours", "2026-12-03 14:00"),
    span("every tuesday", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("later this afternoon", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("later tonight", "2026-11-18 17:00", "2026-11-18 22:00"),
    span("later this evening", "2026-11-18 17:00", "2026-11-18 22:00"),
    at("tomorow at 4", "2026-11-19 16:00"),
    span("tommorow morning", "2026-11-19 08:00", "2026-11-19 12:00"),
    at("thrusday 2pm", "2026-11-19 14:00"),
    at("saterday at 10", "2026-11-21 10:00"),
    span("satuday morning", "2026-11-21 08:00", "2026-11-21 12:00"),
    span("fryday", "2026-11-20 00:00", "2026-11-21 00:00"),
    at("mondy at 9", "2026-11-23 09:00"),
    span("tusday", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("tmorrow", "2026-11-19 00:00", "2026-11-20 00:00"),
    at("2nite at 7", "2026-11-18 19:00"),
    span("noon-ish", "2026-11-18 11:00", "2026-11-18 13:00"),
    at("at 3 oclock", "2026-11-18 15:00"),
    at("3 o clock tmrw", "2026-11-19 15:00"),
    at("3oclock", "2026-11-18 15:00"),
    at("3pm @ the salon", "2026-11-18 15:00"),
    at("3:00p", "2026-11-18 15:00"),
    at("3p.m.", "2026-11-18 15:00"),
    at("3 pm.", "2026-11-18 15:00"),
    at("for 30 mins at 2", "2026-11-18 14:00"),
    at("9:00a", "2026-11-19 09:00"),
    at("10a tomorrow", "2026-11-19 10:00"),
    span("10 am-ish", "2026-11-19 09:00", "2026-11-19 11:00"),
    at("a quarter after 3", "2026-11-18 15:15"),
    at("five past 4", "2026-11-18 16:05"),
    at("twenty to 6", "2026-11-18 17:40"),
    at("half six", "2026-11-18 18:30"),
    at("at ten thirty", "2026-11-18 10:30"),
    at("eleven fifteen tmrw", "2026-11-19 11:15"),
    at("at four thirty pm", "2026-11-18 16:30"),
    at("two thirty tmrw", "2026-11-19 14:30"),
    at("at 7 in the morning", "2026-11-19 07:00"),
    at("7 am sharp", "2026-11-19 07:00"),
    at("promptly at 9", "2026-11-19 09:00"),
    span("I'm free from 2", "2026-11-18 14:00", "2026-11-19 00:00"),
    span("free all day friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("sat anytime", "2026-11-21 00:00", "2026-11-22 00:00"),
    span("whenever on monday", "2026-11-23 00:00", "2026-11-24 00:00"),
    span("monday whenever", "2026-11-23 00:00", "2026-11-24 00:00"),
    span("tues any time after 1", "2026-11-24 13:00", "2026-11-25 00:00"),
    span("friday, any time", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("the sooner the better", "2026-11-18 10:15", "2026-12-02 10:15"),
    span("tomorrow if not today", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("next week sometime", "2026-11-23 00:00", "2026-11-30 00:00"),
    span("sometime next wk", "2026-11-23 00:00", "2026-11-30 00:00"),
    span("later in the week", "2026-11-19 00:00", "2026-11-23 00:00"),
    span("over the weekend", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("this sat or sun", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("the weekend", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("on the weekend", "2026-11-21 00:00", "2026-11-23 00:00"),
    span("weekend morning", "2026-11-21 08:00", "2026-11-22 12:00"),
    span("thanks! see you thursday", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("see you on the 3rd", "2026-12-03 00:00", "2026-12-04 00:00"),
    span("can we do 2 weeks from thursday", "2026-12-03 00:00", "2026-12-04 00:00"),
    at("thursday after next at 10", "2026-12-03 10:00"),
    span("the following monday", "2026-11-23 00:00", "2026-11-24 00:00"),
]


# A third round.
THIRD_ROUND = [
    # minutes after a space, the shop's own hours as the time, holiday weekends, SHOUTED texts
    at("at 8 30", "2026-11-19 08:30"),
    at("8 30 am", "2026-11-19 08:30"),
    at("8 30 a.m.", "2026-11-19 08:30"),
    at("at 10 45 tmrw", "2026-11-19 10:45"),
    at("table for 4 at 7 30", "2026-11-18 19:30"),
    at("2 15pm", "2026-11-18 14:15"),
    span("thanksgiving weekend", "2026-11-26 00:00", "2026-11-30 00:00"),
    span("christmas week", "2026-12-21 00:00", "2026-12-28 00:00"),
    span("before you close", "2026-11-18 18:00", "2026-11-18 20:00"),
    span("after you open", "2026-11-19 08:00", "2026-11-19 09:00"),
    span("as soon as you open tomorrow", "2026-11-19 08:00", "2026-11-19 09:00"),
    span("first appointment of the day", "2026-11-19 08:00", "2026-11-19 09:00"),
    span("the first appointment friday", "2026-11-20 08:00", "2026-11-20 09:00"),
    span("last appointment friday", "2026-11-20 18:00", "2026-11-20 20:00"),
    span("last slot of the day", "2026-11-18 18:00", "2026-11-18 20:00"),
    span("in the morning tomorrow", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("tmrw 9-11", "2026-11-19 09:00", "2026-11-19 11:00"),
    span("3:30-ish", "2026-11-18 14:30", "2026-11-18 16:30"),
    span("anything after 7?", "2026-11-18 19:00", "2026-11-19 00:00"),
    span("any evening this week", "2026-11-18 17:00", "2026-11-22 22:00"),
    span("next tuesday or wednesday morning", "2026-11-24 08:00", "2026-11-25 12:00"),
    span("sat 10 or 11", "2026-11-21 10:00", "2026-11-21 12:00"),
    span("either 10 or 11 on sat", "2026-11-21 10:00", "2026-11-21 12:00"),
    span("how about 10:30 or 11", "2026-11-18 10:30", "2026-11-18 12:00"),
    nothing("not mondays"),
    span("I work weekdays so weekends", "2026-11-21 00:00", "2026-11-23 00:00"),
    at("8:30a", "2026-11-19 08:30"),
    at("at 08:30", "2026-11-19 08:30"),
    at("2:00 PM", "2026-11-18 14:00"),
    at("2.00pm", "2026-11-18 14:00"),
    at("14.00 ok", "2026-11-18 14:00"),
    at("14:00 tmrw", "2026-11-19 14:00"),
    at("tomorrow 2 pm", "2026-11-19 14:00"),
    at("tomorrow @ 2", "2026-11-19 14:00"),
    span("tomorrow, 2ish", "2026-11-19 13:00", "2026-11-19 15:00"),
    span("2pm-ish tmrw", "2026-11-19 13:00", "2026-11-19 15:00"),
    span("in the evening tomorrow", "2026-11-19 17:00", "2026-11-19 22:00"),
    span("new year's eve afternoon", "2026-12-31 12:00", "2026-12-31 17:00"),
    at("dec 31 at noon", "2026-12-31 12:00"),
    at("12/31 11am", "2026-12-31 11:00"),
    span("01/02", "2027-01-02 00:00", "2027-01-03 00:00"),
    span("1/2", "2027-01-02 00:00", "2027-01-03 00:00"),
    span("2/1", "2027-02-01 00:00", "2027-02-02 00:00"),
    span("jan 2nd 2027", "2027-01-02 00:00", "2027-01-03 00:00"),
    span("2nd jan 2027", "2027-01-02 00:00", "2027-01-03 00:00"),
    span("2027-01-02", "2027-01-02 00:00", "2027-01-03 00:00"),
    at("on the 2nd of jan at 3", "2027-01-02 15:00"),
    at("the 2nd of jan at 3pm", "2027-01-02 15:00"),
    at("Mon. 11/23 @ 4:30", "2026-11-23 16:30"),
    span("Tues. 24th", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("Wed., Nov. 25", "2026-11-25 00:00", "2026-11-26 00:00"),
    at("Thurs Nov 26th 10AM", "2026-11-26 10:00"),
    at("FRIDAY 3PM", "2026-11-20 15:00"),
    span("TMRW AM", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("Sat a.m. pls", "2026-11-21 08:00", "2026-11-21 12:00"),
    span("sun p.m.", "2026-11-22 12:00", "2026-11-22 22:00"),
    at("4pm tmrw w/ Jess", "2026-11-19 16:00"),
    at("4 tmrw @ the shop", "2026-11-19 16:00"),
    at("4 tmrw", "2026-11-19 16:00"),
    at("tmrw 4", "2026-11-19 16:00"),
    at("tmrw @4", "2026-11-19 16:00"),
    span("tmrw at 4ish", "2026-11-19 15:00", "2026-11-19 17:00"),
    span("tmrw 4-6", "2026-11-19 16:00", "2026-11-19 18:00"),
    span("after 4 tmrw pls", "2026-11-19 16:00", "2026-11-20 00:00"),
    span("any time after 10am sat", "2026-11-21 10:00", "2026-11-22 00:00"),
    span("sat after 10", "2026-11-21 10:00", "2026-11-22 00:00"),
    span("b4 10 on sat", "2026-11-21 00:00", "2026-11-21 10:00"),
    span("sat b4 10", "2026-11-21 00:00", "2026-11-21 10:00"),
]


# A fourth round.
FOURTH_ROUND = [
    # bounds on dates ("before the 10th", "by friday"), "in a couple weeks", and more noise
    span("before the 10th", "2026-11-18 10:15", "2026-12-10 00:00"),
    span("by the 10th", "2026-11-18 10:15", "2026-12-11 00:00"),
    span("by friday", "2026-11-18 10:15", "2026-11-21 00:00"),
    span("no later than thursday", "2026-11-18 10:15", "2026-11-20 00:00"),
    span("before friday", "2026-11-18 10:15", "2026-11-20 00:00"),
    span("by tomorrow", "2026-11-18 10:15", "2026-11-20 00:00"),
    span("sometime before christmas", "2026-11-18 10:15", "2026-12-25 00:00"),
    span("I'm available from the 5th", "2026-12-05 00:00", "2026-12-06 00:00"),
    span("book me for friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("before 3 on friday", "2026-11-20 00:00", "2026-11-20 15:00"),
    at("by friday at 3", "2026-11-20 15:00"),
    span("in a couple weeks", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("in a couple of weeks", "2026-12-02 00:00", "2026-12-03 00:00"),
    span("tomorrow same time", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("3 weeks today", "2026-12-09 00:00", "2026-12-10 00:00"),
    span("next couple of days", "2026-11-18 10:15", "2026-11-21 00:00"),
    span("any day next week except wednesday", "2026-11-23 00:00", "2026-11-30 00:00"),
    span("11 am or 2 pm", "2026-11-18 11:00", "2026-11-18 15:00"),
    at("3pm on 12/5", "2026-12-05 15:00"),
    at("5th at 3", "2026-12-05 15:00"),
    at("at 3 on the 5th", "2026-12-05 15:00"),
    at("at 3 on 5th", "2026-12-05 15:00"),
    at("5 dec at 3", "2026-12-05 15:00"),
    at("december fifth at three", "2026-12-05 15:00"),
    at("three pm tomorrow", "2026-11-19 15:00"),
    at("three o'clock friday", "2026-11-20 15:00"),
    at("seven thirty tonight", "2026-11-18 19:30"),
    at("quarter after seven", "2026-11-18 19:15"),
    at("a quarter to eight tomorrow morning", "2026-11-19 07:45"),
    at("7.45am", "2026-11-19 07:45"),
    at("7:45 a.m. tomorrow", "2026-11-19 07:45"),
    at("19:45", "2026-11-18 19:45"),
    at("I have a 2 year old, 3pm works", "2026-11-18 15:00"),
    at("2 haircuts at 3", "2026-11-18 15:00"),
    at("3 haircuts at 2", "2026-11-18 14:00"),
    at("30 minute appointment at 2:30", "2026-11-18 14:30"),
    at("1 hr 30 min at 10", "2026-11-19 10:00"),
    at("for 45 minutes at 9:15", "2026-11-19 09:15"),
    span("for an hour and a half on friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    at("book 2 slots back to back at 4", "2026-11-18 16:00"),
    span("it's 2 for 1 on tuesdays", "2026-11-24 00:00", "2026-11-25 00:00"),
    span("20% off after 5?", "2026-11-18 17:00", "2026-11-19 00:00"),
    at("$20 at 3", "2026-11-18 15:00"),
    nothing("between 3 and 4 people"),
    span("4-5 people friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("2-3 hours on saturday", "2026-11-21 00:00", "2026-11-22 00:00"),
    at("starting at 10", "2026-11-19 10:00"),
    at("starting 10am tmrw", "2026-11-19 10:00"),
    span("from 10 onwards on monday", "2026-11-23 10:00", "2026-11-24 00:00"),
    at("I can drop the car at 8 and pick up at 5", "2026-11-19 08:00"),
    at("drop off 8am pick up 5pm", "2026-11-19 08:00"),
    span("need it done by 3", "2026-11-18 10:15", "2026-11-18 15:00"),
    span("ready by 5?", "2026-11-18 10:15", "2026-11-18 17:00"),
    # "come by", "stop by": a visit on the day, not a deadline
    span("can I come by friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("stop by tomorrow?", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("i'll drop by on the 5th", "2026-12-05 00:00", "2026-12-06 00:00"),
    span("could you have it ready by thursday", "2026-11-18 10:15", "2026-11-20 00:00"),
]


# A fifth round.
FIFTH_ROUND = [
    # refusals of a part of day or a slot, am/pm slots, moves between times, words that look like cues
    span("anything but the 3pm slot tomorrow", "2026-11-19 00:00", "2026-11-20 00:00"),
    span("I can't do mornings, afternoon tomorrow?", "2026-11-19 12:00", "2026-11-19 17:00"),
    span("not the morning, the afternoon", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("can't do afternoons, is thursday morning ok", "2026-11-19 08:00", "2026-11-19 12:00"),
    span("an am slot on sat", "2026-11-21 08:00", "2026-11-21 12:00"),
    span("pm slot tmrw", "2026-11-19 12:00", "2026-11-19 22:00"),
    span("am i free friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("on the eve of my wedding, friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("change my colour from blonde to brown on friday", "2026-11-20 00:00", "2026-11-21 00:00"),
    span("I'd like friday but after 3", "2026-11-20 15:00", "2026-11-21 00:00"),
    span("friday but not before 2", "2026-11-20 14:00", "2026-11-21 00:00"),
    span("happy holidays! any openings next week?", "2026-11-23 00:00", "2026-11-30 00:00"),
    at("move it from 2pm to 3pm friday", "2026-11-20 15:00"),
    at("switch my appointment from 10 to 11 tomorrow", "2026-11-19 11:00"),
    span("can we push it from the 5th to the 6th", "2026-12-06 00:00", "2026-12-07 00:00"),
    span("the 5th or 6th", "2026-12-05 00:00", "2026-12-07 00:00"),
    span("5th-6th dec", "2026-12-05 00:00", "2026-12-07 00:00"),
    span("the aft of the 5th", "2026-12-05 12:00", "2026-12-05 17:00"),
    span("eve appt friday", "2026-11-20 17:00", "2026-11-20 22:00"),
    span("is there an evening appt", "2026-11-18 17:00", "2026-11-18 22:00"),
    span("i'd prefer an aft slot", "2026-11-18 12:00", "2026-11-18 17:00"),
    span("tuesday between 9am and 12", "2026-11-24 09:00", "2026-11-24 12:00"),
    span("9am to noon tues", "2026-11-24 09:00", "2026-11-24 12:00"),
    span("noon to 2 on wed", "2026-11-18 12:00", "2026-11-18 14:00"),
    span("12-2pm thurs", "2026-11-19 12:00", "2026-11-19 14:00"),
    span("10am-12pm sat", "2026-11-21 10:00", "2026-11-21 12:00"),
    span("after 12 on sun", "2026-11-22 12:00", "2026-11-23 00:00"),
    span("before 12 on sun", "2026-11-22 00:00", "2026-11-22 12:00"),
    at("at 12 on sun", "2026-11-22 12:00"),
    span("1 or 2 tomorrow afternoon", "2026-11-19 13:00", "2026-11-19 15:00"),
]


# A sixth round.
SIXTH_ROUND = [
    # whole texts: "sat around 1" after a count, "b/w 8 and 10", "can we make it 4:30"
    span(
        "hiya, could I grab a trim sometime thurs? ideally after 6 x",
        "2026-11-19 18:00",
        "2026-11-20 00:00",
    ),
    span(
        "Need a full set of acrylics, 2 people, sat around 1?",
        "2026-11-21 12:00",
        "2026-11-21 14:00",
    ),
    span(
        "can i book a consult for my knee, anytime mon-wed b4 2",
        "2026-11-23 00:00",
        "2026-11-25 14:00",
    ),
    span("do u do house calls? 14 maple st, wed pm", "2026-11-18 12:00", "2026-11-18 22:00"),
    span(
        "deep clean for a 3 bed house, next week any day but fri",
        "2026-11-23 00:00",
        "2026-11-30 00:00",
    ),
    span("could the tech come b/w 8 and 10 tmrw", "2026-11-19 08:00", "2026-11-19 10:00"),
    at("my appt is at 3:30 fri, can we make it 4:30", "2026-11-20 16:30"),
    at("ok make it 3pm then", "2026-11-18 15:00"),
    at("I'm 20 mins late for my 2pm, still ok?", "2026-11-18 14:00"),
    at("can I get the 9:15 instead of the 10:15", "2026-11-19 09:15"),
    span("wax at 6ish tomorrow eve?", "2026-11-19 17:00", "2026-11-19 19:00"),
    at("how's thurs 2:45", "2026-11-19 14:45"),
    at("2:45 thurs?", "2026-11-19 14:45"),
    at("thurs @ 2:45pm", "2026-11-19 14:45"),
    at("thursday quarter to 3", "2026-11-19 14:45"),
    at("the 19th at 1", "2026-11-19 13:00"),
    at("19th nov at 1pm", "2026-11-19 13:00"),
    at("nov 19 1pm", "2026-11-19 13:00"),
    at("11/19 1pm", "2026-11-19 13:00"),
    span("sometime between xmas and new year", "2026-12-26 00:00", "2027-01-01 00:00"),
    span("any slots over christmas", "2026-12-25 00:00", "2026-12-26 00:00"),
    span("january 2nd or 3rd", "2027-01-02 00:00", "2027-01-04 00:00"),
]


CATEGORIES: dict[str, list[Case]] = {
    "exact times": EXACT_TIMES,
    "bare hours": BARE_HOURS,
    "day words and typos": DAY_WORDS,
    "dates and ordinals": DATES,
    "relative and periods": RELATIVE,
    "time windows": WINDOWS,
    "whole sentences": SENTENCES,
    "daylight saving": DAYLIGHT_SAVING,
    "no date or time": NOTHING,
    "numbers that are not times": NOT_TIMES,
    "hour with a part of day": PART_OF_DAY_TIMES,
    "days of this and next month": MONTH_DAYS,
    "corrections and contrasts": CORRECTIONS,
    "cues: pick up to, say, how about": CUES,
    "times already past today": PAST_TODAY,
    "probe: parts of day as texted": PART_ABBREVIATIONS,
    "probe: the month said apart from the day": MONTH_CONTEXT,
    "probe: runs of days and weeks of a month": DAY_RUNS,
    "probe: holidays": HOLIDAYS,
    "probe: bounds said after the time": BOUNDS_AFTER,
    "probe: moves and exclusions": MOVES_AND_EXCLUSIONS,
    "probe: texted requests with noise": TEXTED,
    "probe: second round": SECOND_ROUND,
    "probe: third round": THIRD_ROUND,
    "probe: fourth round": FOURTH_ROUND,
    "probe: fifth round": FIFTH_ROUND,
    "probe: sixth round": SIXTH_ROUND,
}

CASES: list[Case] = [case for cases in CATEGORIES.values() for case in cases]


def mismatch(case: Case, got: object) -> str | None:
    """Why `got` (a When or None) is not the answer the case expects; None when it is."""
    if case.start is None:
        return None if got is None else f"expected None, got {got!r}"
    if got is None:
        return "expected an answer, got None"
    start = case.moment(case.start)
    if getattr(got, "exact", None) != case.exact:
        return f"expected exact={case.exact}, got {got!r}"
    if got.start.timestamp() != start.timestamp():  # type: ignore[attr-defined]
        return f"expected start {start}, got {got!r}"
    if case.end is not None:
        end = case.moment(case.end)
        if got.end.timestamp() != end.timestamp():  # type: ignore[attr-defined]
            return f"expected end {end}, got {got!r}"
    return None


# --------------------------------------------------------------------------- never an invented time
#
# An independent check that an exact answer's hour is written in the phrase as a time: a
# clock token ("3", "3:30", "1530", "3pm"), an hour word ("three"), noon or midnight, or the
# next hour in "quarter to 4" / "ten to four". A number that belongs to an address, a suite,
# a price, a phone number or a count does not count. Answers counted from now ("in 2 hours",
# "same time next week") are exempt: their hour is not written.

_HOUR_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_TOKEN = re.compile(r"\d+(?:[:.]\d\d(?!\d))?|[a-z]+|[#$£€]")
# "Three Brothers Diner", "Seven Oaks Spa": a capitalised number inside a name is no hour
_NAME = re.compile(
    r"(?<=[a-z,] )(?:One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Eleven|Twelve)(?= [A-Z][a-z])"
)
_RELATIVE = re.compile(
    r"\bin\s(?:an?|half an|\d+|one|two|three|four|five|six|a couple of|a few)\s(?:hours?|minutes?|mins?)"
    r"|\b(?:same|this) time\b"
)
_STREET_WORDS = frozenset(
    [
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "boulevard",
        "blvd",
        "drive",
        "lane",
        "ln",
        "way",
        "place",
        "court",
        "ct",
        "parkway",
        "highway",
        "hwy",
        "plaza",
        "square",
        "center",
        "centre",
    ]
)
_NUMBER_OWNERS = frozenset(
    [
        "suite",
        "ste",
        "unit",
        "apt",
        "room",
        "floor",
        "number",
        "table",
        "box",
        "seat",
        "flight",
        "gate",
    ]
)
_COUNT_NOUNS = frozenset(
    [
        "people",
        "persons",
        "person",
        "guests",
        "adults",
        "kids",
        "children",
        "seats",
        "doors",
        "times",
        "dollars",
        "bucks",
        "pounds",
        "euros",
        "hours",
        "minutes",
        "mins",
        "days",
        "weeks",
        "months",
        "years",
        "of",
        "cars",
        "stars",
    ]
)
_MINUTE_WORDS = frozenset(
    ["half", "quarter", "thirty", "fifteen", "forty", "twenty", "ten", "five", "past", "to"]
)


def _clock_tokens(text: str) -> list[tuple[int, int | None]]:
    """(hour, minute or None) of every token in the text that can be a time of day."""
    lowered = re.sub(r"o\s?['\"\u2019]?\s?clock", " oclock", _NAME.sub("name", text).lower())
    lowered = re.sub(r"(\d)\s?([ap])\.?m\b\.?", r"\1 \2m", lowered)
    words = _TOKEN.findall(lowered)
    # "at 8 30": minutes after one space (a comma between, "evening 4, 27th", does not count)
    out: list[tuple[int, int | None]] = [
        (int(h), int(m)) for h, m in re.findall(r"(?<![\d:.])(\d{1,2}) ([0-5]\d)(?!\d)", lowered)
    ]
    for i, word in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        # no minute of their own: "quarter past noon" is 12:15, "quarter to midnight" 23:45
        if word in ("noon", "midday"):
            out.append((12, None))
        elif word == "midnight":
            out.append((0, None))
        elif word[0].isdigit():
            if prev in ("#", "$", "£", "€"):
                continue  # a price or a number sign
            if prev in _NUMBER_OWNERS and ":" not in word and nxt not in ("am", "pm", "oclock"):
                continue  # "suite 300", but "table 7pm" is a time
            if any(len(w) >= 3 and w.isdigit() for w in (prev, word, nxt)) and (
                prev.isdigit() or nxt.isdigit()
            ):
                continue  # a run of phone digits
            if any(w in _STREET_WORDS for w in words[i + 1 : i + 4]) and ":" not in word:
                continue  # "1919 Harbor Boulevard", "5 Bon Air Rd"
            if len(word) == 4 and word.isdigit() and nxt in ("hrs", "hours", "h"):
                if int(word[:2]) <= 23 and int(word[2:]) <= 59:  # "1500 hrs" is 15:00
                    out.append((int(word[:2]), int(word[2:])))
                continue
            if nxt in _COUNT_NOUNS and ":" not in word:
                continue
            hour, _, minute = word.replace(".", ":").partition(":")
            if minute:
                out.append((int(hour), int(minute)))
            elif len(hour) <= 2:
                out.append((int(hour), None))
            elif len(hour) <= 4 and (nxt in ("am", "pm") or prev in ("at", "around", "by")):
                out.append((int(hour[:-2]), int(hour[-2:])))
        elif word in _HOUR_WORDS and nxt not in _COUNT_NOUNS:
            out.append((_HOUR_WORDS[word], None))
    return out


def hour_is_written(text: str, hour: int, minute: int) -> bool:
    """Whether an exact answer at hour:minute is written in the text as a time."""
    if _RELATIVE.search(text.lower()):
        return True
    tokens = _clock_tokens(text)
    said_minutes = any(w in _MINUTE_WORDS for w in _TOKEN.findall(text.lower()))
    for written, written_minute in tokens:
        for candidate in (written, written - 1):  # "quarter to 4" is 3:45
            if candidate % 12 != hour % 12 or (candidate > 12 and candidate != hour):
                continue
            if written_minute is None:
                if minute == 0 or said_minutes:
                    return True
            elif written_minute == minute or candidate == written - 1:
                return True
    return False


# Phrases that hold numbers which are not times, next to ones that are: whatever parse_when
# makes of them, an exact answer must come from the time written.
TRAPS = [
    "the event is at 1919 Harbor Boulevard at half past 11 in the morning",
    "2203 Lakeview Avenue suite 400 on friday",
    "we're at 5 Oak Rd # 114, tomorrow at 3pm",
    "my number is 917 555 0134, call after 6",
    "Three Brothers Barbers on the 27th at seven in the evening",
    "a table at Four Seasons Grill on saturday",
    "it's $45 for a cut, friday ok?",
    "table for 6 on the 24th",
    "party of 12 tomorrow evening",
    "we'll be 3 people at 8 tonight",
    "two adults and 3 kids at 1 in the afternoon",
    "Am I free the 4th of next month?",
    "I have 2 cars for the service on tuesday",
    "book 3 treatments on friday",
    "room 12, monday morning",
    "unit 7 at 10:30 please",
    "the garage at 1500 Capitol Street, slot 17:00",
    "flight 815 lands tuesday, book me wednesday",
    "I'm 40 and want a trim on the 27th",
    "2 hours for the colour starting at 1pm",
]

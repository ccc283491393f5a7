"""Customer phrases with the answer `conversations.when.parse_when` should give.

Shared by tests/test_when.py and bench/when_cost.py. Times are local wall-clock
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
    out: list[tuple[int, int | None]] = []
    for i, word in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word in ("noon", "midday"):
            out.append((12, 0))
        elif word == "midnight":
            out.append((0, 0))
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

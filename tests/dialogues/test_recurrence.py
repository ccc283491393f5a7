"""Tests for conversations.nlu.recurrence: recurring requests in words become RRULEs."""

from __future__ import annotations

from datetime import date, datetime
from itertools import islice

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.nlu.recurrence import Recurrence, parse_recurrence

# Monday 16 November 2026, 10:00 local wall time: the first start create_series is given.
FIRST = datetime(2026, 11, 16, 10, 0)


def _d(text: str) -> date:
    return date.fromisoformat(text)


# text, rule, description, the first dates the rule gives from FIRST
CASES = [
    ("every monday", "FREQ=WEEKLY;BYDAY=MO", "every Monday", ["2026-11-16", "2026-11-23"]),
    ("Every Monday at 10", "FREQ=WEEKLY;BYDAY=MO", "every Monday", ["2026-11-16", "2026-11-23"]),
    ("every week", "FREQ=WEEKLY", "every week", ["2026-11-16", "2026-11-23", "2026-11-30"]),
    ("weekly", "FREQ=WEEKLY", "every week", ["2026-11-16", "2026-11-23"]),
    ("once a week", "FREQ=WEEKLY", "every week", ["2026-11-16", "2026-11-23"]),
    (
        "every other monday",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "every other Monday",
        ["2026-11-16", "2026-11-30", "2026-12-14"],
    ),
    (
        "every second Monday",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "every other Monday",
        ["2026-11-16", "2026-11-30"],
    ),
    (
        "every 2 weeks",
        "FREQ=WEEKLY;INTERVAL=2",
        "every other week",
        ["2026-11-16", "2026-11-30", "2026-12-14"],
    ),
    ("every two weeks", "FREQ=WEEKLY;INTERVAL=2", "every other week", ["2026-11-16", "2026-11-30"]),
    ("fortnightly", "FREQ=WEEKLY;INTERVAL=2", "every other week", ["2026-11-16", "2026-11-30"]),
    ("biweekly", "FREQ=WEEKLY;INTERVAL=2", "every other week", ["2026-11-16", "2026-11-30"]),
    ("bi-weekly", "FREQ=WEEKLY;INTERVAL=2", "every other week", ["2026-11-16", "2026-11-30"]),
    ("every fortnight", "FREQ=WEEKLY;INTERVAL=2", "every other week", ["2026-11-16", "2026-11-30"]),
    (
        "every 4 weeks",
        "FREQ=WEEKLY;INTERVAL=4",
        "every 4 weeks",
        ["2026-11-16", "2026-12-14", "2027-01-11"],
    ),
    (
        "haircut every 6 weeks at 10am with Sam",
        "FREQ=WEEKLY;INTERVAL=6",
        "every 6 weeks",
        ["2026-11-16", "2026-12-28", "2027-02-08"],
    ),
    ("every three weeks", "FREQ=WEEKLY;INTERVAL=3", "every 3 weeks", ["2026-11-16", "2026-12-07"]),
    (
        "every month",
        "FREQ=MONTHLY",
        "every month",
        ["2026-11-16", "2026-12-16", "2027-01-16"],
    ),
    ("monthly", "FREQ=MONTHLY", "every month", ["2026-11-16", "2026-12-16"]),
    ("once a month", "FREQ=MONTHLY", "every month", ["2026-11-16", "2026-12-16"]),
    (
        "every other month",
        "FREQ=MONTHLY;INTERVAL=2",
        "every other month",
        ["2026-11-16", "2027-01-16"],
    ),
    ("quarterly", "FREQ=MONTHLY;INTERVAL=3", "every 3 months", ["2026-11-16", "2027-02-16"]),
    (
        "monthly on the 2nd tuesday",
        "FREQ=MONTHLY;BYDAY=2TU",
        "the second Tuesday of every month",
        ["2026-12-08", "2027-01-12", "2027-02-09"],
    ),
    (
        "the second tuesday of every month",
        "FREQ=MONTHLY;BYDAY=2TU",
        "the second Tuesday of every month",
        ["2026-12-08", "2027-01-12"],
    ),
    (
        "first friday of each month",
        "FREQ=MONTHLY;BYDAY=1FR",
        "the first Friday of every month",
        ["2026-12-04", "2027-01-01", "2027-02-05"],
    ),
    (
        "last friday of the month",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "the last Friday of every month",
        ["2026-11-27", "2026-12-25", "2027-01-29"],
    ),
    (
        "the first and third monday of the month",
        "FREQ=MONTHLY;BYDAY=1MO,3MO",
        "the first and third Monday of every month",
        ["2026-11-16", "2026-12-07", "2026-12-21"],
    ),
    (
        "the 15th of every month",
        "FREQ=MONTHLY;BYMONTHDAY=15",
        "the 15th of every month",
        ["2026-12-15", "2027-01-15"],
    ),
    (
        "every day",
        "FREQ=DAILY",
        "every day",
        ["2026-11-16", "2026-11-17", "2026-11-18"],
    ),
    ("daily", "FREQ=DAILY", "every day", ["2026-11-16", "2026-11-17"]),
    ("every other day", "FREQ=DAILY;INTERVAL=2", "every other day", ["2026-11-16", "2026-11-18"]),
    (
        "weekdays",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "every weekday",
        ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-23"],
    ),
    (
        "every weekday",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "every weekday",
        ["2026-11-16", "2026-11-17"],
    ),
    (
        "every week mon-fri",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "every weekday",
        ["2026-11-16", "2026-11-17"],
    ),
    (
        "every weekend",
        "FREQ=WEEKLY;BYDAY=SA,SU",
        "every Saturday and Sunday",
        ["2026-11-21", "2026-11-22", "2026-11-28"],
    ),
    (
        "every tuesday and thursday",
        "FREQ=WEEKLY;BYDAY=TU,TH",
        "every Tuesday and Thursday",
        ["2026-11-17", "2026-11-19", "2026-11-24"],
    ),
    (
        "twice a week, tuesdays and thursdays",
        "FREQ=WEEKLY;BYDAY=TU,TH",
        "every Tuesday and Thursday",
        ["2026-11-17", "2026-11-19"],
    ),
    (
        "every mon, wed and fri",
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "every Monday, Wednesday and Friday",
        ["2026-11-16", "2026-11-18", "2026-11-20"],
    ),
    (
        "mondays from now on",
        "FREQ=WEEKLY;BYDAY=MO",
        "every Monday",
        ["2026-11-16", "2026-11-23"],
    ),
    ("every year", "FREQ=YEARLY", "every year", ["2026-11-16", "2027-11-16"]),
]

COUNT_CASES = [
    ("every monday for 8 weeks", "FREQ=WEEKLY;BYDAY=MO;COUNT=8", "every Monday, 8 times", 8),
    ("monthly for 6 months", "FREQ=MONTHLY;COUNT=6", "every month, 6 times", 6),
    ("every week, 10 times", "FREQ=WEEKLY;COUNT=10", "every week, 10 times", 10),
    ("weekly, 10 sessions", "FREQ=WEEKLY;COUNT=10", "every week, 10 times", 10),
    (
        "every other week on friday for 8 weeks",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;COUNT=4",
        "every other Friday, 4 times",
        4,
    ),
    (
        "every tuesday and thursday for 4 weeks",
        "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8",
        "every Tuesday and Thursday, 8 times",
        8,
    ),
    (
        "weekdays for 2 weeks",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10",
        "every weekday, 10 times",
        10,
    ),
    ("daily for 2 weeks", "FREQ=DAILY;COUNT=14", "every day, 14 times", 14),
    ("monthly for a year", "FREQ=MONTHLY;COUNT=12", "every month, 12 times", 12),
    # no exact count follows: left to the engine's end date
    ("weekly for 3 months", "FREQ=WEEKLY", "every week", None),
    ("every 6 weeks for a year", "FREQ=WEEKLY;INTERVAL=6", "every 6 weeks", None),
]

NOT_RECURRING = [
    "tomorrow",
    "monday",
    "next monday",
    "this friday at 3",
    "the 2nd tuesday",
    "mondays",
    "in a week",
    "end of the month",
    "twice a week",  # which days?
    "every month on tuesday",  # which tuesday?
    "every time I come in",
    "every 100 weeks",
    "every 0 days",
    "10 times",
    "",
    "haircut at 3",
    "cancel my appointment",
]


@pytest.mark.parametrize(("text", "rule", "description", "dates"), CASES)
def test_a_recurring_request_becomes_a_rule_that_gives_the_right_dates(
    text: str, rule: str, description: str, dates: list[str]
) -> None:
    got = parse_recurrence(text)
    assert got == Recurrence(rule, description)
    starts = list(islice(rrulestr(got.rule, dtstart=FIRST), len(dates)))
    assert [s.date() for s in starts] == [_d(d) for d in dates]
    assert all(s.time() == FIRST.time() for s in starts)


@pytest.mark.parametrize(("text", "rule", "description", "count"), COUNT_CASES)
def test_a_plain_count_ends_the_series(
    text: str, rule: str, description: str, count: int | None
) -> None:
    got = parse_recurrence(text)
    assert got == Recurrence(rule, description)
    if count is not None:
        assert len(list(rrulestr(got.rule, dtstart=FIRST))) == count


@pytest.mark.parametrize("text", NOT_RECURRING)
def test_a_one_off_or_unclear_request_is_not_a_recurrence(text: str) -> None:
    assert parse_recurrence(text) is None


def test_the_case_tables_are_large() -> None:
    assert len(CASES) + len(COUNT_CASES) + len(NOT_RECURRING) >= 60


# Words the grammar reacts to, shuffled by hypothesis into near-miss phrases.
FRAGMENTS = [
    *("every", "other", "each", "second", "2nd", "last", "first", "monday", "tuesday"),
    *("weekly", "monthly", "month", "weeks", "for", "8", "times", "3", "of", "the"),
    *("weekdays", "fortnightly", "daily", "and", "on", "15th", "a", "year"),
    *("\x00", "\u202e", "\U0001f642"),
]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=10_000),
        st.lists(
            st.sampled_from(FRAGMENTS),
            max_size=12,
        ).map(" ".join),
    )
)
def test_any_text_gives_none_or_a_rule_dateutil_accepts(text: str) -> None:
    got = parse_recurrence(text)
    if got is not None:
        rule = rrulestr(got.rule, dtstart=FIRST)
        assert next(iter(rule), None) is not None or "COUNT" in got.rule
        assert got.description

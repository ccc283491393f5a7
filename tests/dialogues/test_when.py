"""Tests for conversations.when: reading when a customer wants an appointment."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import when as when_module
from conversations.when import When, parse_when


def _load_phrases() -> ModuleType:
    # loaded by path so the table works however pytest sets up sys.path
    path = Path(__file__).resolve().parents[1] / "when_phrases.py"
    spec = importlib.util.spec_from_file_location("when_phrases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("when_phrases", module)
    spec.loader.exec_module(module)
    return module


phrases = _load_phrases()
NOWS = phrases.NOWS
NEW_YORK = phrases.NEW_YORK
WED = NOWS["wed"]


def local(text: str, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# --------------------------------------------------------------------------- the phrase table


def test_the_phrase_table_is_large_enough() -> None:
    assert len(phrases.CASES) >= 150


@pytest.mark.parametrize("case", phrases.CASES, ids=lambda c: c.id)
def test_phrase_means_what_a_receptionist_would_understand(case: phrases.Case) -> None:
    got = parse_when(case.text, NOWS[case.now])
    problem = phrases.mismatch(case, got)
    assert problem is None, problem
    if got is None:
        return
    start = case.moment(case.start)
    assert got.contains(start)
    assert not got.contains(start - timedelta(minutes=1))
    if case.exact:
        assert got.target == start
        assert not got.contains(start + timedelta(minutes=1))
    else:
        assert not got.contains(case.moment(case.end))
    for moment in case.inside:
        assert got.contains(case.moment(moment)), moment
    for moment in case.outside:
        assert not got.contains(case.moment(moment)), moment
    assert got.target is not None and got.contains(got.target)
    assert got.label


def test_the_table_covers_every_class_of_the_dates_and_times_work() -> None:
    grown = ("numbers that are not times", "hour with a part of day", "days of this and next month")
    grown += ("corrections and contrasts", "cues: pick up to, say, how about")
    grown += ("times already past today",)
    assert sum(len(phrases.CATEGORIES[name]) for name in grown) >= 150


@pytest.mark.parametrize(
    "case", [*phrases.CASES, *(phrases.nothing(t) for t in phrases.TRAPS)], ids=lambda c: c.id
)
def test_an_exact_answer_has_its_hour_written_in_the_phrase(case: phrases.Case) -> None:
    got = parse_when(case.text, NOWS[case.now])
    if got is None or not got.exact:
        assert got is None or got.end > got.start  # a window: no single hour to account for
        return
    assert phrases.hour_is_written(case.text, got.start.hour, got.start.minute), got


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("we're at 1919 Harbor Boulevard", 19, 19),
        ("the garage at 1012 Pine Avenue", 10, 12),
        ("a table at Three Brothers Diner", 15, 0),
        ("call me on 917 555 0134", 17, 55),
        ("it's $45", 16, 0),
        ("we are 4 people", 16, 0),
        ("suite 300", 15, 0),
        ("Am I free the 4th", 1, 0),
    ],
)
def test_the_written_hour_check_refuses_numbers_that_are_not_times(
    text: str, hour: int, minute: int
) -> None:
    assert not phrases.hour_is_written(text, hour, minute)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("at 3", 15, 0),
        ("six in the evening", 18, 0),
        ("quarter to 6", 17, 45),
        ("10.30", 10, 30),
        ("at 1530", 15, 30),
        ("noon", 12, 0),
        ("in 2 hours", 12, 15),
    ],
)
def test_the_written_hour_check_accepts_times_as_people_write_them(
    text: str, hour: int, minute: int
) -> None:
    assert phrases.hour_is_written(text, hour, minute)


def test_a_corrected_time_exposes_the_time_it_replaces() -> None:
    got = parse_when("could you do 1 pm instead? I have the school run at 3", WED)
    assert got is not None and got.start == local("2026-11-18 13:00")
    assert got.replaced is not None and got.replaced.start == local("2026-11-18 15:00")


def test_a_contrasted_number_is_the_new_time_and_the_first_the_replaced_one() -> None:
    got = parse_when("not 2, 3", WED)
    assert got is not None and got.exact and got.start == local("2026-11-18 15:00")
    assert got.replaced is not None and got.replaced.start == local("2026-11-18 14:00")


def test_a_replaced_time_without_a_day_falls_on_the_wanted_day() -> None:
    got = parse_when("3pm instead of 2pm on friday", WED)
    assert got is not None and got.start == local("2026-11-20 15:00")
    assert got.replaced is not None and got.replaced.start == local("2026-11-20 14:00")


def test_a_contrast_of_days_exposes_the_day_it_replaces() -> None:
    got = parse_when("instead of Friday, Saturday", WED)
    assert got is not None and got.start == local("2026-11-21 00:00")
    assert got.replaced is not None and got.replaced.days == [date(2026, 11, 20)]


def test_moving_a_booked_time_exposes_the_time_moved_from() -> None:
    got = parse_when("my slot is at 2, can I change it to 4?", WED)
    assert got is not None and got.start == local("2026-11-18 16:00")
    assert got.replaced is not None and got.replaced.start == local("2026-11-18 14:00")


def test_a_table_for_two_in_the_evening_is_two_people_in_the_evening() -> None:
    got = parse_when("a table for 2 in the evening", WED)
    assert got is not None and not got.exact
    assert (got.start, got.end) == (local("2026-11-18 17:00"), local("2026-11-18 22:00"))


def test_a_table_for_five_in_the_evening_could_be_people_or_the_hour() -> None:
    got = parse_when("a table for five in the evening", WED)
    assert got is not None and got.exact and got.ambiguous
    assert got.start == local("2026-11-18 17:00")


def test_a_plain_request_replaces_nothing_and_is_not_ambiguous() -> None:
    got = parse_when("tomorrow at 3pm", WED)
    assert got is not None and got.replaced is None and not got.ambiguous


def test_a_bare_hour_that_fits_both_ways_in_long_opening_hours_is_ambiguous() -> None:
    got = parse_when("at 8", WED, opening=(time(7), time(22)))
    assert got is not None and got.exact and got.ambiguous


def test_an_odd_hour_for_its_part_of_day_is_ambiguous() -> None:
    got = parse_when("1 in the morning", WED)
    assert got is not None and got.exact and got.ambiguous
    clear = parse_when("6 in the evening", WED)
    assert clear is not None and not clear.ambiguous


def test_an_approximate_time_already_past_today_means_tomorrow() -> None:
    got = parse_when("around 9:30", WED)
    assert got is not None and got.target == local("2026-11-19 09:30")
    assert got.start == local("2026-11-19 08:30")


def test_pick_up_to_names_the_pick_up_time_not_a_deadline() -> None:
    got = parse_when("change the pick up to 4:30 in the evening", WED)
    assert got is not None and got.exact and got.start == local("2026-11-18 16:30")


# --------------------------------------------------------------------------- documented rules


def test_tomorrow_at_3_means_three_in_the_afternoon() -> None:
    got = parse_when("tomorrow at 3", WED)
    assert got is not None
    assert got.exact
    assert got.start == got.target == local("2026-11-19 15:00")
    assert got.end == local("2026-11-19 15:01")
    assert got.label == "Thu 19 Nov, 15:00"


def test_an_exact_time_contains_only_its_own_minute() -> None:
    got = parse_when("tomorrow at 3", WED)
    assert got is not None
    assert got.contains(local("2026-11-19 15:00"))
    assert got.contains(local("2026-11-19 15:00").replace(second=59))
    assert got.contains(datetime(2026, 11, 19, 20, 0, tzinfo=UTC))  # same instant, in UTC
    assert not got.contains(local("2026-11-19 15:01"))
    assert not got.contains(local("2026-11-19 14:59"))
    assert not got.contains(datetime(2026, 11, 19, 15, 0))  # naive: cannot be placed


def test_around_11_is_an_hour_either_side_aiming_at_11() -> None:
    got = parse_when("around 11", local("2026-11-18 08:30"))
    assert got is not None
    assert (got.start, got.end, got.target) == (
        local("2026-11-18 10:00"),
        local("2026-11-18 12:00"),
        local("2026-11-18 11:00"),
    )
    assert not got.exact


def test_a_plain_day_is_the_whole_day_aiming_at_opening_time() -> None:
    got = parse_when("friday", WED)
    assert got is not None
    assert (got.start, got.end) == (local("2026-11-20 00:00"), local("2026-11-21 00:00"))
    assert got.target == local("2026-11-20 08:00")
    assert got.days == [date(2026, 11, 20)]


def test_today_by_name_aims_at_now_once_the_shop_is_open() -> None:
    got = parse_when("wednesday", WED)
    assert got is not None
    assert got.start == got.target == WED


def test_at_7_falls_inside_opening_hours_so_means_seven_in_the_evening() -> None:
    got = parse_when("at 7", WED)
    assert got is not None and got.start == local("2026-11-18 19:00")


def test_bare_hours_follow_the_opening_hours_given() -> None:
    early_shop = (time(6), time(14))
    got = parse_when("at 7", WED, opening=early_shop)
    assert got is not None and got.start == local("2026-11-19 07:00")


def test_a_day_name_equal_to_today_means_next_week_once_closed() -> None:
    got = parse_when("wednesday", NOWS["late"])
    assert got is not None and got.start == local("2026-11-25 00:00")


def test_next_friday_is_the_friday_of_next_calendar_week() -> None:
    got = parse_when("next friday", WED)
    assert got is not None and got.start.date() == date(2026, 11, 27)


def test_after_5_said_at_6pm_means_tomorrow_after_5() -> None:
    got = parse_when("after 5", NOWS["eve"])
    assert got is not None
    assert got.start == local("2026-11-19 17:00")


def test_a_window_never_starts_before_now() -> None:
    got = parse_when("this afternoon", local("2026-11-18 14:20"))
    assert got is not None
    assert got.start == local("2026-11-18 14:20")
    assert got.end == local("2026-11-18 17:00")


def test_a_morning_already_over_rolls_to_the_next_one() -> None:
    got = parse_when("friday morning", local("2026-11-20 13:00"))
    assert got is not None and got.start == local("2026-11-27 08:00")


def test_an_exact_time_earlier_today_rolls_to_tomorrow() -> None:
    got = parse_when("at 9am", WED)
    assert got is not None and got.start == local("2026-11-19 09:00")


def test_a_past_dated_iso_day_means_nothing() -> None:
    assert parse_when("2026-01-05", WED) is None


def test_numeric_dates_are_month_first_in_new_york_and_day_first_in_europe() -> None:
    new_york = parse_when("12/5", WED)
    london = parse_when("12/5", NOWS["london"])
    assert new_york is not None and new_york.start.date() == date(2026, 12, 5)
    assert london is not None and london.start.date() == date(2027, 5, 12)


def test_asap_spans_two_weeks_from_now_aiming_at_now() -> None:
    got = parse_when("as soon as possible please", WED)
    assert got is not None
    assert (got.start, got.end, got.target) == (WED, WED + timedelta(days=14), WED)
    assert got.label == "as soon as possible"


def test_multi_day_windows_keep_to_the_time_of_day_asked() -> None:
    got = parse_when("any evening next week", WED)
    assert got is not None
    assert got.contains(local("2026-11-24 18:00"))
    assert not got.contains(local("2026-11-24 12:00"))
    assert not got.contains(local("2026-11-25 02:00"))
    assert got.days == [date(2026, 11, 23) + timedelta(days=n) for n in range(7)]


def test_days_lists_each_local_date_the_window_touches() -> None:
    got = parse_when("this weekend", WED)
    assert got is not None
    assert got.days == [date(2026, 11, 21), date(2026, 11, 22)]


def test_labels_read_naturally() -> None:
    labels = {text: parse_when(text, WED) for text in ("friday morning", "next week", "2-4pm")}
    assert {t: w.label for t, w in labels.items() if w} == {
        "friday morning": "Friday morning",
        "next week": "next week",
        "2-4pm": "Wed 18 Nov, 14:00-16:00",
    }


def test_results_are_in_the_zone_of_now() -> None:
    london = NOWS["london"]
    got = parse_when("tomorrow at 3", london)
    assert got is not None
    assert got.start.tzinfo is london.tzinfo
    assert got.start.utcoffset() == timedelta(0)


def test_when_is_frozen() -> None:
    got = parse_when("friday", WED)
    assert isinstance(got, When)
    with pytest.raises(AttributeError):
        got.label = "changed"  # type: ignore[misc]


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("friday", datetime(2026, 11, 18, 10, 15))


def test_a_non_string_message_means_nothing() -> None:
    assert parse_when(None, WED) is None  # type: ignore[arg-type]
    assert parse_when(b"friday", WED) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("word", ["sundae", "fridge", "friend", "monkey", "someday", "thirsty"])
def test_fuzzy_day_matching_leaves_ordinary_words_alone(word: str) -> None:
    assert parse_when(word, WED) is None


@pytest.mark.parametrize("typo", ["firday", "fridy", "frday", "friday's", "FRIDAY!!"])
def test_misspelt_friday_still_means_friday(typo: str) -> None:
    got = parse_when(typo, WED)
    assert got is not None and got.start.date() == date(2026, 11, 20)


# --------------------------------------------------------------------------- daylight saving


def test_sunday_at_3_on_the_fall_back_day_is_eastern_standard_time() -> None:
    got = parse_when("sunday at 3", NOWS["before_fall_back"])
    assert got is not None
    assert got.start == local("2026-11-01 15:00")
    assert got.start.utcoffset() == timedelta(hours=-5)
    assert got.start.astimezone(UTC) == datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def test_the_fall_back_sunday_is_twenty_five_hours_long() -> None:
    got = parse_when("sunday", NOWS["before_fall_back"])
    assert got is not None
    assert got.end.timestamp() - got.start.timestamp() == 25 * 3600


def test_tomorrow_at_9_after_spring_forward_is_eastern_daylight_time() -> None:
    got = parse_when("tomorrow at 9", NOWS["before_spring"])
    assert got is not None
    assert got.start == local("2026-03-08 09:00")
    assert got.start.utcoffset() == timedelta(hours=-4)


def test_a_time_skipped_by_spring_forward_moves_onto_a_real_time() -> None:
    got = parse_when("tomorrow at 2:30am", NOWS["before_spring"])
    assert got is not None
    assert got.start.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_around_a_time_skipped_by_spring_forward_still_aims_inside_the_window() -> None:
    got = parse_when("tomorrow around 2am", NOWS["before_spring"])
    assert got is not None
    assert got.target is not None and got.contains(got.target)


def test_in_2_hours_counts_real_hours_across_fall_back() -> None:
    now = local("2026-11-01 00:30")
    got = parse_when("in 2 hours", now)
    assert got is not None
    assert got.start.timestamp() - now.timestamp() == 2 * 3600


# --------------------------------------------------------------------------- robustness


def test_ten_kilobytes_of_garbage_are_read_no_further_than_the_first_few_hundred_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What it costs is measured by bench/reading.py; here, that the work is bounded.
    import dateparser

    head = ("zq 7 :/ - 3 4 tmrw \u202e\U0001f600 " * 400)[: when_module._MAX_CHARS]
    seen: list[str] = []
    real = dateparser.parse

    def counting(text: str, *args, **kwargs):
        seen.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(dateparser, "parse", counting)
    alone = parse_when(head, WED)
    for tail in ("x" * 9_700, " tomorrow at 3pm" * 600, "\u202e\U0001f600 -:/" * 1_000):
        assert parse_when(head + tail, WED) == alone  # nothing past the head was read
    assert all(len(text) <= when_module._MAX_CHARS for text in seen)


_GRAMMAR_WORDS = (
    "tomorrow",
    "at",
    "3",
    "pm",
    "am",
    "friday",
    "next",
    "this",
    "last",
    "week",
    "weekend",
    "month",
    "after",
    "before",
    "between",
    "and",
    "to",
    "-",
    "/",
    ":",
    "12",
    "5",
    "30",
    "0",
    "24",
    "99",
    "the",
    "12th",
    "31st",
    "dec",
    "may",
    "in",
    "2",
    "hours",
    "days",
    "around",
    "ish",
    "quarter",
    "half",
    "past",
    "o'clock",
    "tonight",
    "noon",
    "midnight",
    "asap",
    "morning",
    "evening",
    "early",
    "late",
    "mid",
    "2026-02-29",
    "13/13",
    ".",
)
_ANY_TEXT = st.one_of(
    st.text(max_size=10_000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(st.sampled_from(_GRAMMAR_WORDS), max_size=12).map(" ".join),
)
_NOWS = st.sampled_from(list(NOWS.values())) | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(NEW_YORK)
)


_OPENINGS = st.just((time(8), time(20))) | st.tuples(st.times(), st.times())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_ANY_TEXT, now=_NOWS, opening=_OPENINGS)
def test_any_text_gives_none_or_a_sane_window(
    text: str, now: datetime, opening: tuple[time, time]
) -> None:
    got = parse_when(text, now, opening=opening)
    if got is None:
        return
    assert got.start < got.end
    assert got.start >= now - timedelta(minutes=1)
    assert got.target is not None
    for moment in (got.start, got.end, got.target):
        assert moment.tzinfo is not None and moment.utcoffset() is not None
    assert got.contains(got.target)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_ANY_TEXT, now=_NOWS, opening=_OPENINGS)
def test_the_never_raise_guard_is_not_hiding_crashes(
    text: str, now: datetime, opening: tuple[time, time]
) -> None:
    # parse_when swallows exceptions so a chat can never crash; the grammar itself must not raise
    when_module._parse(text, now, when_module._opening(opening))

"""The one formatting module: money, days, dates and times as the business's locale writes
them, with plain spaces; moved here from tests/billing/test_money.py with the functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

import bot.core.money as billing_money
from bot.core.formatting import (
    format_clock,
    format_date,
    format_day,
    format_long_date,
    format_money,
    format_month,
    format_rate,
    format_when,
)

NEW_YORK = ZoneInfo("America/New_York")


def test_amounts_format_in_the_business_locale_without_a_negative_zero() -> None:
    assert format_money(4550, "USD", "en_US") == "$45.50"
    assert format_money(0, "USD", "en_US") == "$0.00"
    assert format_money(-0, "USD", "en_US") == "$0.00"
    assert format_money(-250, "USD", "en_US") == "-$2.50"
    assert format_money(123456, "EUR", "de_DE") == "1.234,56 €"
    assert format_money(500, "JPY", "ja_JP") == "￥500"


def test_dates_follow_the_locale() -> None:
    assert format_date(date(2026, 12, 1), "en_US") == "Dec 1"
    assert format_date(date(2026, 12, 1), "en_GB") == "1 Dec"


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_formatting_never_shows_a_signed_zero(amount: int) -> None:
    text = format_money(amount, "USD", "en_US")
    assert (text.startswith("-")) == (amount < 0)


def test_an_appointment_day_has_its_weekday_and_a_due_date_does_not() -> None:
    assert format_day(date(2026, 11, 17), NEW_YORK, "en_US") == "Tue, Nov 17"
    assert format_date(date(2026, 11, 17), "en_US") == "Nov 17"


def test_a_day_is_read_in_the_business_zone() -> None:
    late = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)  # still the 17th in New York
    assert format_day(late, NEW_YORK, "en_US") == "Tue, Nov 17"


def test_the_summary_format_stays_as_the_contract_says() -> None:
    start = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert format_when(start, NEW_YORK, "en_US") == "Sat, Dec 5, 3:00 PM"


def test_clock_times_use_plain_spaces_so_an_sms_stays_gsm7() -> None:
    assert format_clock(time(15, 0), "en_US") == "3:00 PM"
    assert format_clock(time(15, 0), "en_GB") == "15:00"


def test_documents_carry_the_year_and_statements_the_month() -> None:
    assert format_long_date(date(2026, 12, 1), "en_US") == "Dec 1, 2026"
    assert format_month(date(2026, 12, 1), "en_US") == "December 2026"
    assert format_rate("8.875") == "8.875%"


def test_money_arithmetic_formats_nothing_of_its_own() -> None:
    assert not hasattr(billing_money, "format_money")
    assert not hasattr(billing_money, "format_day")
    assert not hasattr(billing_money, "format_rate")

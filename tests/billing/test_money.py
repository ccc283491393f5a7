"""Money: integer minor units, one rounding rule (half up, away from zero), babel formatting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import InvalidRequest
from bot.core.money import (
    line_net,
    normalise_quantity,
    normalise_rate,
    parse_amount,
    percent_of,
    round_minor,
    tax_on,
)

rates = st.decimals(min_value=0, max_value=100, places=4)
amounts = st.integers(min_value=-(10**9), max_value=10**9)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),  # not banker's rounding: half always goes up
        ("0.4999", 0),
        ("-0.5", -1),  # away from zero, so a discount mirrors a charge
        ("-2.5", -3),
        ("-0.4999", 0),
    ],
)
def test_half_a_minor_unit_rounds_away_from_zero(value: str, rounded: int) -> None:
    assert round_minor(Decimal(value)) == rounded


def test_tax_is_rounded_per_line_at_the_half_cent() -> None:
    assert tax_on(1000, "8.875") == 89  # 88.75 cents
    assert tax_on(200, "0.25") == 1  # exactly half a cent
    assert tax_on(-200, "0.25") == -1
    assert tax_on(199, "0.25") == 0  # 0.4975
    # Per line, not per invoice: two half cents make two cents, not one.
    assert tax_on(200, "0.25") + tax_on(200, "0.25") == 2
    assert tax_on(400, "0.25") == 1


def test_a_line_is_quantity_times_price_rounded_once() -> None:
    assert line_net("2.5", 333) == 833  # 832.5
    assert line_net(3, 1999) == 5997
    assert line_net("0.125", 4) == 1  # 0.5


def test_percent_of_rounds_half_up() -> None:
    assert percent_of(4999, 20) == 1000  # 999.8
    assert percent_of(12000, 20) == 2400
    assert percent_of(1050, "1.5") == 16  # 15.75


def test_floats_and_bad_numbers_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="float"):
        line_net(1.5, 100)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        normalise_rate("150")
    with pytest.raises(InvalidRequest):
        normalise_quantity("0")
    with pytest.raises(InvalidRequest):
        normalise_quantity("1.0001")


def test_amounts_typed_by_people_are_read_exactly() -> None:
    assert parse_amount("$1,045.50", "USD") == 104550
    assert parse_amount("45", "USD") == 4500
    assert parse_amount("500", "JPY") == 500
    with pytest.raises(InvalidRequest):
        parse_amount("45.005", "USD")


def test_rates_and_quantities_are_stored_canonically() -> None:
    assert normalise_rate("8.8750") == "8.875"
    assert normalise_rate(0) == "0"
    assert normalise_rate("20") == "20"
    assert normalise_quantity("2.50") == "2.5"


@given(amounts, rates)
def test_tax_of_a_negative_line_mirrors_the_positive_one(net: int, rate: Decimal) -> None:
    assert tax_on(-net, rate) == -tax_on(net, rate)


@given(amounts, rates)
def test_tax_is_within_half_a_minor_unit_of_the_exact_amount(net: int, rate: Decimal) -> None:
    exact = Decimal(net) * rate / 100
    assert abs(Decimal(tax_on(net, rate)) - exact) <= Decimal("0.5")

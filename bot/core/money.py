"""Money arithmetic: integer minor units, Decimal rates, one rounding rule.

Amounts are Python ints in the currency's minor unit (cents for USD, yen for JPY, fils for
BHD); rates and quantities are `Decimal`s, never floats. Whenever a product is not a whole
number of minor units it is rounded ONCE, to the minor unit, with ROUND_HALF_UP — half a
cent goes away from zero, so -0.5 becomes -1 exactly as 0.5 becomes 1. That symmetry means
a discount line's tax is the exact negative of the same charge's tax.

The rules, as applied by the ledger:
  * line net   = round(quantity x unit price)
  * line tax   = round(line net x rate / 100), per line, never on the invoice total, so a
                 line's tax is fixed when it is written and later lines cannot move it;
  * deposit    = round(price x percent / 100);
  * finance charge = round(overdue base x percent / 100).
The invoice total is then a plain sum of integers: no further rounding anywhere.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from bot.core.errors import InvalidRequest

Number = Decimal | int | str


def decimal(value: Number, what: str = "number") -> Decimal:
    """An exact Decimal from an int, a Decimal or a numeric string (floats are refused)."""
    if isinstance(value, float):
        raise InvalidRequest(f"{what} must not be a float (got {value!r}); use a string")
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise InvalidRequest(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise InvalidRequest(f"{what} is not a finite number: {value!r}")
    return number


def round_minor(value: Decimal) -> int:
    """Round a Decimal amount of minor units to a whole one, half away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_net(quantity: Number, unit_price_minor: int) -> int:
    """A line's amount before tax: quantity x unit price, rounded once."""
    return round_minor(decimal(quantity, "quantity") * unit_price_minor)


def tax_on(net_minor: int, rate_percent: Number) -> int:
    """The tax on one line's net amount at a percent rate, rounded once."""
    return round_minor(Decimal(net_minor) * decimal(rate_percent, "tax rate") / 100)


def percent_of(amount_minor: int, percent: Number) -> int:
    """`percent`% of an amount (deposits, finance charges), rounded once."""
    return round_minor(Decimal(amount_minor) * decimal(percent, "percent") / 100)


def normalise_rate(rate: Number) -> str:
    """A tax rate as a short canonical string for storage: "8.875", "0", "20"."""
    number = decimal(rate, "tax rate")
    if not 0 <= number <= 100:
        raise InvalidRequest(f"a tax rate is a percent from 0 to 100, got {rate!r}")
    text = format(number.normalize(), "f")
    return text if text != "-0" else "0"


def normalise_quantity(quantity: Number) -> str:
    """A quantity as a canonical string: "1", "2.5". Zero and negatives are refused."""
    number = decimal(quantity, "quantity")
    if number <= 0:
        raise InvalidRequest(f"a quantity must be more than zero, got {quantity!r}")
    if int(number.as_tuple().exponent) < -3:
        raise InvalidRequest(f"a quantity has at most 3 decimal places, got {quantity!r}")
    return format(number.normalize(), "f")


def digits(currency: str) -> int:
    """How many decimal places the currency's minor unit has (2 for USD, 0 for JPY)."""
    return get_currency_precision(currency)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """An integer minor amount as an exact Decimal in major units (4550 -> 45.50)."""
    # Decimal(int) is never negative zero, so 0 formats as "$0.00", not "-$0.00".
    return Decimal(int(amount_minor)).scaleb(-digits(currency))


def parse_amount(text: str, currency: str) -> int:
    """An amount typed by a person ("45", "45.5", "$1,045.50") in minor units."""
    cleaned = "".join(ch for ch in text if ch.isdigit() or ch in ".-")
    amount = decimal(cleaned or "x", "amount")
    minor = amount.scaleb(digits(currency))
    if minor != minor.to_integral_value():
        raise InvalidRequest(f"{text!r} has more decimal places than {currency} allows")
    return int(minor)

"""How times, days, dates, money and rates read in messages: the business's locale, plain spaces.

The one formatting module, so a confirmation, a reminder, an invoice and a chat reply all say
"Tue, Nov 17, 3:00 PM" (en_US) or "Tue 17 Nov, 15:00" (en_GB) alike. Two day formats on
purpose: `format_day` with the weekday for appointments ("Tue, Nov 17"), `format_date`
without it for documents and due dates ("Dec 1").
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency, get_currency_precision

# CLDR puts narrow and no-break spaces in times and amounts ("3:00\u202fPM"); one such
# character turns a whole SMS from GSM-7 into UCS-2 (70 characters a part instead of 160).
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})


def plain(text: str) -> str:
    """`text` with the typographic spaces CLDR uses replaced by ordinary ones."""
    return text.translate(_SPACES)


def format_day(moment: datetime | date, zone: ZoneInfo, locale: str) -> str:
    """A weekday and date: "Tue, Nov 17" (en_US), "Tue 17 Nov" (en_GB)."""
    day = moment.astimezone(zone) if isinstance(moment, datetime) else moment
    return plain(format_skeleton("MMMEd", day, locale=locale))


def format_date(day: date, locale: str) -> str:
    """A short date without the weekday: "Dec 1" (en_US), "1 Dec" (en_GB)."""
    return plain(format_skeleton("MMMd", day, locale=locale))


def format_long_date(day: date, locale: str) -> str:
    """A date with the year, for documents: "Dec 1, 2026" (en_US), "1 Dec 2026" (en_GB)."""
    # Not plain(): documents keep CLDR's spaces, as they always have.
    return babel_date(day, "medium", locale=locale)


def format_month(day: date, locale: str) -> str:
    """The month and year of `day`: "December 2026"."""
    return babel_date(day, "MMMM y", locale=locale)


def format_clock(moment: datetime | time, locale: str) -> str:
    """A wall time as the locale writes it: "3:00 PM" (en_US), "15:00" (en_GB)."""
    return plain(format_time(moment, "short", locale=locale))


def format_when(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A day and time in the business's zone: "Tue, Nov 17, 3:00 PM"."""
    local = moment.astimezone(zone)
    return f"{format_day(local, zone, locale)}, {format_clock(local, locale)}"


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """Minor units as the locale writes the currency: "$45.00", "45,00 €" (Decimal, never float)."""
    # Decimal(int) is never negative zero, so 0 formats as "$0.00", not "-$0.00".
    amount = Decimal(int(amount_minor)).scaleb(-get_currency_precision(currency))
    return plain(format_currency(amount, currency, locale=locale))


def format_rate(rate: str) -> str:
    """A stored rate for people: "8.875%"."""
    return f"{rate}%"

"""How times, days and money read in messages: the business's locale, and plain spaces.

One place for it, so a confirmation, a reminder, an invoice and a chat reply all say
"Tue, Nov 17, 3:00 PM" (en_US) or "Tue 17 Nov, 15:00" (en_GB) alike.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

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


def format_when(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A day and time in the business's zone: "Tue, Nov 17, 3:00 PM"."""
    local = moment.astimezone(zone)
    return f"{format_day(local, zone, locale)}, {plain(format_time(local, 'short', locale=locale))}"


def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """Minor units as the locale writes the currency: "$45.00" (exact: Decimal, never float)."""
    amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    return plain(format_currency(amount, currency, locale=locale))

"""Small vocabularies the language modules share: number and ordinal words, day and month
names, and how an invoice number and an amount of money are typed in a chat.

Each list lives here once; the modules that read people's words (understand, when,
recurrence, moves, screen, threads, the owner's money commands) take what they need.
"""

from __future__ import annotations

import re

# Cardinal numbers people spell out in chat ("at three", "every two weeks", "five stars").
NUMBER_WORDS: dict[str, int] = {
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

# Ordinals spelled out, up to the last day of a month ("the twenty-first", "the third one").
ORDINAL_WORDS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "twenty-first": 21,
    "twenty-second": 22,
    "twenty-third": 23,
    "twenty-fourth": 24,
    "twenty-fifth": 25,
    "twenty-sixth": 26,
    "twenty-seventh": 27,
    "twenty-eighth": 28,
    "twenty-ninth": 29,
    "thirtieth": 30,
    "thirty-first": 31,
}

# Monday first, as `date.weekday()` counts.
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS = tuple(name.lower() for name in DAY_NAMES)
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS = tuple(name.lower() for name in MONTH_NAMES)

# An invoice (or estimate) number as typed: "INV-0012", "inv-12", "INV12".
INVOICE_NUMBER = re.compile(r"\b([a-z]{2,5}-?\d{1,8})\b", re.IGNORECASE)
# An amount as typed: "45", "$45.50", "12,50" (a decimal comma), "1,200" (thousands); a job
# reference ("#12") or part of a word or number ("INV-0012") is none.
_AMOUNT = re.compile(
    r"(?<![\w#-])\$?(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?![\w-])"
)
_THOUSANDS = re.compile(r",\d{3}")


def amounts_in(text: str) -> list[str]:
    """Every amount typed in `text`, in order, as digits with a point: "1200", "12.50"."""
    return [
        found.replace(",", "") if _THOUSANDS.search(found) else found.replace(",", ".")
        for found in _AMOUNT.findall(text)
    ]

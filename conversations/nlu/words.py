"""Small vocabularies the language modules share."""

from __future__ import annotations

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

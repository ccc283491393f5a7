"""The vocabularies the language modules share live once, in conversations/nlu/words.py: number
and ordinal words, day and month names, and how invoice numbers and amounts are typed."""

from __future__ import annotations

import re

import pytest

from conversations import when
from conversations.admin import billing as admin_billing
from conversations.admin import money as admin_money
from conversations.nlu import recurrence, understand, words
from tests.conftest import ROOT


def test_ordinal_words_are_one_table() -> None:
    assert when._ORDINAL_WORDS is words.ORDINAL_WORDS
    assert {w: n for w, n in words.ORDINAL_WORDS.items() if n <= 10} == understand._ORDINALS
    assert words.ORDINAL_WORDS["twenty-first"] == 21 and len(words.ORDINAL_WORDS) == 31


def test_day_and_month_names_are_one_list() -> None:
    assert when._WEEKDAYS == words.WEEKDAYS and when._WD_LONG == words.DAY_NAMES
    assert recurrence._DAY_NAMES == words.DAY_NAMES
    assert understand._MONTHS[0] == "jan" and when._MONTHS[-1] == "december"


def test_no_language_module_spells_out_its_own_ordinals_or_day_names() -> None:
    for path in sorted((ROOT / "conversations").rglob("*.py")):
        if path.name == "words.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert '"twenty-first"' not in text and '"tenth": 10' not in text, path
        assert not re.search(r'\("Monday", "Tuesday"', text), path


@pytest.mark.parametrize(
    ("typed", "amounts"),
    [
        ("took 80 cash for #7", ["80"]),
        ("took 1,200 cash", ["1200"]),
        ("mark INV-0012 paid 12,50 cash", ["12.50"]),
        ("add 15 parts to INV-0012", ["15"]),
        ("got $45.50 by card", ["45.50"]),
        ("charge the card for INV-0012", []),
    ],
)
def test_every_money_command_reads_an_amount_the_same_way(typed: str, amounts: list[str]) -> None:
    assert words.amounts_in(typed) == amounts


def test_the_owner_money_commands_share_one_invoice_and_amount_reader() -> None:
    for module in (admin_billing, admin_money):
        assert module.INVOICE_NUMBER is words.INVOICE_NUMBER
        assert module.amounts_in is words.amounts_in
        assert not hasattr(module, "_AMOUNT") and not hasattr(module, "_INVOICE")
    assert words.INVOICE_NUMBER.search("mark inv12 paid").group(1) == "inv12"

"""The README's owner and staff command table is the command table itself."""

from __future__ import annotations

import pytest

from conversations.admin import command_table
from conversations.admin import commands as admin
from conversations.nlu.understand import normalise
from tests.conftest import ROOT


def handler_for(text: str, role: str) -> str | None:
    """The handler the admin chat picks for `text` from someone in `role` (first match)."""
    lowered = normalise(text)
    for pattern, roles, handler in admin.COMMANDS:
        if role in roles and pattern.search(lowered):
            return command_table.handler_name(handler)
    return None


def test_every_command_has_examples_and_a_summary():
    assert command_table.undocumented() == []


def test_every_handler_has_its_own_name():
    names: dict[str, object] = {}
    for _pattern, _roles, handler in admin.COMMANDS:
        name = command_table.handler_name(handler)
        assert names.setdefault(name, handler) is handler, f"two commands named {name}"


def test_the_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert command_table.replaced(readme) == readme, (
        "README's command table is stale: python -m conversations.admin.command_table --write README.md"
    )


@pytest.mark.parametrize("row", command_table.rows(), ids=lambda row: row.name)
def test_each_example_in_the_table_reaches_the_command_it_documents(row):
    assert row.examples, f"{row.name} has no examples in conversations/admin/command_table.py"
    for example in row.examples:
        if example in command_table.NOT_TYPED:
            continue
        for role in row.roles:
            assert handler_for(example, role) == row.name, (example, role)


# Phrases that once reached the wrong command: each must reach the one it means (or none).
ROUTES = [
    ("staff", "charge 10 late fee", "staff_charge"),
    ("staff", "charge 25 for traffic cones", "staff_charge"),
    ("staff", "access: key is behind the plant pot", "access_notes"),
    ("staff", "got held up 15 min", "running_late"),
    ("staff", "sorry, running about 20 minutes behind", "running_late"),
    ("staff", "got 45 by card", "took_payment"),
    ("staff", "took 1,200 cash", "took_payment"),
    ("owner", "cancel #12, don't charge her", "cancel_any"),
    ("owner", "cancel #12 because her card charge failed", "cancel_any"),
    ("owner", "cancel scheduled charge 3", "cancel_scheduled"),
    ("owner", "undo the cancel", None),
    ("owner", "apply a 10% discount to INV-0012", None),
    ("owner", "who's in each day this week", "agenda"),
    ("owner", "optimise every day this week", "optimise"),
    ("owner", "mark INV-0012 paid 50 cash for the monthly plan", "mark_paid"),
    ("owner", "Ana every monday 10am for 8 weeks", "book_series"),
    ("owner", "change ana's series to thursday", "move_series"),
    ("owner", "hand 3 back", "close"),
    ("owner", "hand jane back to the bot", "close"),
    ("owner", "assign 7 to Priya", "edit"),
    ("owner", "switch #7 to a beard trim", "edit"),
]


@pytest.mark.parametrize(("role", "text", "expected"), ROUTES)
def test_a_phrase_reaches_the_command_it_means(role, text, expected):
    assert handler_for(text, role) == expected

"""The README's owner and staff command table is the command table itself."""

from __future__ import annotations

import pytest

from conversations import admin, command_table
from conversations.understand import normalise
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


def test_the_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert command_table.replaced(readme) == readme, (
        "README's command table is stale: python -m conversations.command_table --write README.md"
    )


@pytest.mark.parametrize("row", command_table.rows(), ids=lambda row: row.examples[0])
def test_each_example_in_the_table_reaches_the_command_it_documents(row):
    documented = next(
        command_table.handler_name(handler)
        for _pattern, _roles, handler in admin.COMMANDS
        if command_table.EXAMPLES.get(command_table.handler_name(handler)) == row.examples
    )
    for example in row.examples:
        for role in row.roles:
            assert handler_for(example, role) == documented, (example, role)

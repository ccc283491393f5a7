"""The owner and staff command table is declared once, with a priority per command, so the
order modules are imported in can never change which command a phrase reaches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conversations.admin import command_table
from conversations.admin import commands as admin
from tests.conftest import ROOT

COMMAND_MODULES = [
    "conversations.admin.billing",
    "conversations.admin.edits",
    "conversations.admin.estimates",
    "conversations.admin.merge",
    "conversations.admin.money",
    "conversations.admin.road",
    "conversations.admin.routes",
    "conversations.admin.series",
    "conversations.admin.signing",
    "conversations.admin.weather",
    "conversations.flows.handover",
    "conversations.admin.promotions",
]
# Prints the routing table as handler names, after importing the modules named on argv.
_PRINT_TABLE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from conversations.admin import command_table
from conversations.admin import commands as admin
for pattern, roles, handler in admin.COMMANDS:
    print(handler.__module__, handler.__name__, roles, pattern.pattern)
"""


def test_every_command_has_a_priority_of_its_own() -> None:
    priorities = [command.priority for command in command_table.TABLE]
    assert len(set(priorities)) == len(priorities)


def test_the_chat_tries_commands_in_priority_order() -> None:
    installed = [(pattern.pattern, roles, handler) for pattern, roles, handler in admin.COMMANDS]
    declared = sorted(command_table.TABLE, key=lambda command: command.priority)
    assert installed == [(c.pattern, c.roles, c.handler) for c in declared]


def test_the_table_in_the_source_reads_top_to_bottom_in_priority_order() -> None:
    priorities = [command.priority for command in command_table.TABLE]
    assert priorities == sorted(priorities)


def test_installing_the_table_again_changes_nothing() -> None:
    before = list(admin.COMMANDS)
    guarded = set(admin.PIN_GUARDED)
    admin.COMMANDS.reverse()
    command_table.install()
    assert [(p.pattern, r, h) for p, r, h in admin.COMMANDS] == [
        (p.pattern, r, h) for p, r, h in before
    ]
    assert guarded == admin.PIN_GUARDED


def test_the_pin_guards_exactly_the_commands_marked_so() -> None:
    assert {c.handler for c in command_table.TABLE if c.pin} == admin.PIN_GUARDED
    assert admin.cancel_any in admin.PIN_GUARDED and admin.agenda not in admin.PIN_GUARDED


def test_no_command_module_can_add_itself_to_the_table() -> None:
    assert not hasattr(admin, "register") and not hasattr(admin, "unregister")
    for path in (ROOT / "conversations").rglob("*.py"):
        if path.name != "command_table.py":
            text = path.read_text(encoding="utf-8")
            assert "COMMANDS.insert" not in text and "COMMANDS.append" not in text, path


def _table_after_importing(modules: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_TABLE, *modules],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(ROOT),
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    return result.stdout


def test_import_order_cannot_change_routing() -> None:
    forwards = _table_after_importing(COMMAND_MODULES)
    backwards = _table_after_importing(list(reversed(COMMAND_MODULES)))
    flows_first = _table_after_importing(["conversations.flows.routing"])
    assert forwards == backwards == flows_first
    assert forwards.splitlines()[0].endswith("what can i (say|do)")

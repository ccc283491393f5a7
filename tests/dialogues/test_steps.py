"""The generic steps table (conversations.flows.steps): the first missing step is asked,
"go back" undoes the step before, a step not understood has its hint."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from conversations.flows.steps import Question, Step, Steps


@dataclass
class Draft:
    colour: str | None = None
    size: str | None = None
    trail: list[str] = field(default_factory=list)


def _ask_colour(turn, draft):
    """Which colour?"""
    return Question("Which colour?")


def _ask_size(turn, draft):
    """Which size?"""
    return Question("Which size?")


def _forget_colour(turn, draft):
    """The colour is asked again."""
    draft.colour = None


def _take_size(turn, draft, text, option):
    """A size typed."""
    draft.size = text
    return True


STEPS = Steps(
    (
        Step("colour", _ask_colour, lambda turn, d: d.colour is None, back=_forget_colour),
        Step(
            "size", _ask_size, lambda turn, d: d.size is None, reads=_take_size, hint="Say S or L."
        ),
    )
)


def _turn():
    said = []
    return SimpleNamespace(
        conversation=SimpleNamespace(step="start"),
        say=lambda text, options=(): said.append(text),
        said=said,
    )


def test_the_first_step_the_draft_lacks_is_asked_and_remembered_in_the_trail():
    turn, draft = _turn(), Draft()
    assert STEPS.advance(turn, draft).name == "colour"
    draft.colour = "red"
    assert STEPS.advance(turn, draft).name == "size"
    assert turn.said == ["Which colour?", "Which size?"]
    assert draft.trail == ["colour", "size"] and turn.conversation.step == "size"


def test_a_full_draft_asks_nothing():
    assert STEPS.advance(_turn(), Draft(colour="red", size="L")) is None


def test_going_back_undoes_the_step_before_so_it_is_asked_again():
    turn, draft = _turn(), Draft(colour="red", trail=["colour", "size"])
    assert STEPS.back(turn, draft, "colour") == "colour"
    assert draft.colour is None and draft.trail == []
    assert STEPS.advance(turn, draft).name == "colour"


def test_a_step_not_understood_has_its_hint_and_the_table_describes_every_step():
    assert STEPS.hint("size") == "Say S or L." and STEPS.hint("colour") == ""
    assert STEPS.table()[1] == (
        "size",
        "<lambda>",
        "Which size?",
        "A size typed.",
        "Say S or L.",
        "",
    )
    assert STEPS.markdown().splitlines()[2].startswith("| colour | <lambda> | Which colour? |")


def test_the_docs_show_the_booking_draft_and_steps_as_the_code_has_them():
    path = Path(__file__).resolve().parents[2] / "docs" / "steps_tables.py"
    spec = importlib.util.spec_from_file_location("steps_tables", path)
    assert spec is not None and spec.loader is not None
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    assert tables.block() in tables.DOC.read_text(), "stale: run docs/steps_tables.py"

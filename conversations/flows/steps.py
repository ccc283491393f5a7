"""Steps as data: a dialogue's questions as a table, and the one way through it.

A flow keeps a draft of what the customer has said (for a booking,
conversations.flows.draft.BookingDraft) and a table of `Step`s in the order they are asked.
The question asked next is the first step's whose `missing` says the draft still lacks it
(or has it unconfirmed): `Steps.advance`. Each message is offered to the current step's own
reader (`reads`) after the flow's questions in passing and corrections; what it leaves is
read into the draft by the flow (for a booking, `absorb`), then `reads_after`. "go
back" returns to the step asked before and undoes what it took (`Steps.back`); a message not
understood gets the step's `hint`. `Steps.markdown` renders the table for the docs.

Generic over the draft: any draft type with a `trail` (the steps asked, in order) will do.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from bot.core.text import _
from bot.messaging.messages import Option
from conversations.turn import Turn


class Trailed(Protocol):
    """A draft that remembers the steps asked, in order (for "go back")."""

    trail: list[str]


D = TypeVar("D", bound=Trailed)


@dataclass(frozen=True)
class Question:
    """What a step says: the text and the buttons under it."""

    text: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class Step(Generic[D]):
    """One question of a dialogue, as data."""

    name: str  # the conversation's `step` while it waits for the answer
    # The question, from the turn and the draft; None when the step answers in its own way
    # (a list of times, or a proposal found at once) and has moved the dialogue on itself.
    ask: Callable[[Turn, D], Question | None]
    # Whether the draft still lacks what this step asks for (or has it unconfirmed).
    missing: Callable[[Turn, D], bool]
    # The step's own reading of a message (text, option id), before the flow's general
    # reading of it; True when it took the message.
    reads: Callable[[Turn, D, str, str | None], bool] | None = None
    hint: str | None = None  # said (translated) before the question when not understood
    # What going back to this step undoes, so that its question is asked again.
    back: Callable[[Turn, D], None] | None = None
    # What the draft takes without asking, before `missing` is checked (a default).
    settle: Callable[[Turn, D], None] | None = None
    # The question asked again after an aside or help, when not `ask`.
    again: Callable[[Turn, D], Question | None] | None = None
    # Read after the flow's general reading found nothing in the message.
    reads_after: Callable[[Turn, D, str, str | None], bool] | None = None
    open: bool = False  # a free-text question (a name, notes): requests are not answers
    corrections: bool = False  # at an open question, a change of the booking comes first


def ask_step(turn: Turn, draft: Trailed, name: str, question: Question) -> None:
    """Ask `question` as step `name`: the conversation waits there, the trail remembers it."""
    if not draft.trail or draft.trail[-1] != name:
        draft.trail.append(name)
    turn.conversation.step = name
    turn.say(question.text, question.options)


@dataclass(frozen=True)
class Steps(Generic[D]):
    """A dialogue's steps, in the order they are asked."""

    steps: tuple[Step[D], ...]
    # How the flow puts a step's question (lead-ins, the trail); `ask_step` by default.
    say: Callable[[Turn, D, str, Question], None] = ask_step

    def get(self, name: str) -> Step[D] | None:
        """The step called `name` (steps sharing a name share their reading)."""
        return next((s for s in self.steps if s.name == name), None)

    def next(self, turn: Turn, draft: D) -> Step[D] | None:
        """The first step the draft still lacks, after each one's default is taken."""
        for step in self.steps:
            if step.settle is not None:
                step.settle(turn, draft)
            if step.missing(turn, draft):
                return step
        return None

    def advance(self, turn: Turn, draft: D, *, again: bool = False) -> Step[D] | None:
        """Ask the first step still missing (`again`: the same question re-asked)."""
        step = self.next(turn, draft)
        if step is None:
            return None
        ask = (step.again or step.ask) if again else step.ask
        question = ask(turn, draft)
        if question is not None:
            self.say(turn, draft, step.name, question)
        return step

    def hint(self, name: str) -> str:
        """What to say when a message at step `name` is not understood ("" if nothing)."""
        step = self.get(name)
        return _(step.hint) if step is not None and step.hint else ""

    def back(self, turn: Turn, draft: D, first: str) -> str:
        """Go back one step: the trail loses the current one and the one before, which is
        undone so that it is asked again; the name of that step (`first` if none)."""
        trail = list(draft.trail)
        if trail:
            trail.pop()  # the question we are on
        previous = trail.pop() if trail else first
        draft.trail = trail
        step = self.get(previous)
        if step is not None and step.back is not None:
            step.back(turn, draft)
        return previous

    def table(self) -> list[tuple[str, ...]]:
        """Each step as the docs show it: name, asked while, question, what answers it,
        hint, go back."""
        rows = []
        for step in self.steps:
            answers = "; ".join(_doc(f) for f in (step.reads, step.reads_after) if f is not None)
            if step.open:
                answers += _OPEN_CHANGES if step.corrections else _OPEN
            asked = _doc(step.missing)
            if step.settle is not None:
                asked += f" (first: {_doc(step.settle)})"
            rows.append(
                (
                    step.name,
                    asked,
                    _doc(step.ask),
                    answers.strip() or "(what the message says, read into the draft)",
                    step.hint or "",
                    _doc(step.back) if step.back is not None else "",
                )
            )
        return rows

    def markdown(self) -> str:
        """The table in Markdown (docs/CONVERSATIONS.md keeps a copy; a test compares)."""
        lines = [
            "| step | asked while | question | what answers it | hint | go back |",
            "|---|---|---|---|---|---|",
        ]
        for row in self.table():
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        return "\n".join(lines)


# How the docs' table says a step is a free-text question (not a reply: no catalogue).
_OPEN = " (free text: a request or a question is not an answer)"
_OPEN_CHANGES = " (free text: a change of the booking first; a request or a question is no answer)"


def _doc(function: Callable[..., object]) -> str:
    """A function's one-line docstring, as the table describes it."""
    return (inspect.getdoc(function) or function.__name__).split("\n\n")[0].replace("\n", " ")

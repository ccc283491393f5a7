"""The manage draft: the change to a booked appointment under way, typed.

The manage dialogue (conversations.flows.manage) keeps one `ManageDraft` — which appointment,
move or cancel, the new time proposed, the times offered, whether a series' later
occurrences move too, the reason for a cancellation — and asks the first question its
steps table finds still open. This module owns the draft's shape and the one place it meets
the conversation's JSON data: `ManageDraft.read` (once a turn, through `manage_draft_of`)
and `ManageDraft.written` (once, when the engine saves the turn: `Turn.save`). Nothing else
turns its dates into text or back.

Stored under the data's "change" key. Conversations saved before the draft existed kept
loose keys ("appointment", "start" as an ISO string, "offered", "ids", "request"), and the
action only in the step's name: a conversation with no "change" is read from those, so one
in the middle of a move when the new code deploys goes on; the loose keys are dropped when
the draft is written back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conversations.flows.draft import Offer
from conversations.turn import Turn

KEY = "change"  # where the draft is stored in the conversation's data


class Action(StrEnum):
    """What the customer is doing to the appointment."""

    MOVE = "move"
    CANCEL = "cancel"


class ManageDraft(BaseModel):
    """Everything the manage dialogue knows about the change under way."""

    model_config = ConfigDict(extra="ignore")

    # Kept in the data before the draft existed: draft field → the loose key it was under.
    LOOSE: ClassVar[dict[str, str]] = {
        "appointment": "appointment",
        "choices": "ids",
        "request": "request",
        "start": "start",
        "offered": "offered",
    }

    action: Action | None = Field(None, description="move or cancel")
    appointment: int | None = Field(None, description="the appointment being changed, once known")
    choices: list[int] = Field([], description='the appointments listed at "which one?"')
    request: str = Field("", description="the words that started it, read again once one is picked")
    start: datetime | None = Field(None, description="the new start proposed, waiting for a yes")
    offered: list[Offer] = Field([], description="the times listed to pick from")
    lead: str | None = Field(None, description="said as or before the next question")
    following: bool = Field(False, description="a series: this and all later occurrences move")
    reason: str = Field("", description="why it is cancelled, when the customer said")
    trail: list[str] = Field([], description='the steps asked, in order ("go back")')

    @classmethod
    def read(cls, data: dict[str, Any], step: str = "") -> Self:
        """The draft stored in a conversation's data (or its loose keys from before, with the
        action told by the step it waits at)."""
        stored = data.get(KEY)
        if not isinstance(stored, dict):
            stored = {field: data[loose] for field, loose in cls.LOOSE.items() if loose in data}
            action = _ACTION_OF_STEP.get(step)
            if stored and action is not None:
                stored["action"] = action
        try:
            return cls.model_validate(stored)
        except ValidationError:
            return cls()  # unreadable (hand-edited, truncated): start afresh

    def written(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with this draft stored in it (and the loose keys of before gone)."""
        out = {k: v for k, v in data.items() if k not in self.LOOSE.values()}
        stored = self.model_dump(mode="json", exclude_defaults=True)
        if stored:
            out[KEY] = stored
        else:
            out.pop(KEY, None)
        return out

    def offer(self, option_id: str) -> Offer | None:
        """The offered time with this option id."""
        return next((o for o in self.offered if o.id == option_id), None)


# Which action a step of before the draft was part of (only the step said it then).
_ACTION_OF_STEP = {
    "choose_move": Action.MOVE,
    "move_when": Action.MOVE,
    "move_pick": Action.MOVE,
    "move_confirm": Action.MOVE,
    "choose_cancel": Action.CANCEL,
    "cancel_reason": Action.CANCEL,
}


def manage_draft_of(turn: Turn) -> ManageDraft:
    """The turn's manage draft: read from the conversation once a turn, saved by the engine."""
    step = turn.conversation.step
    return turn.kept(KEY, lambda data: ManageDraft.read(data, step))

"""The booking draft: what the customer has said so far about the visit they want, typed.

The booking dialogue (conversations.flows.booking) fills one `BookingDraft` from every
message and asks for the first thing it still lacks (conversations.flows.steps). This
module owns the draft's shape and the one place it meets the conversation's JSON data:
`BookingDraft.read` (once a turn, through `draft_of`) and `BookingDraft.written` (once, when
the engine saves the turn: `Turn.save`). Nothing else converts its dates to or from text.

Stored under the data's "draft" key. Conversations saved before the draft existed kept the
same fields as loose keys of the data ("service", "when", "slot"...): a conversation with no
"draft" is read from those, so one mid-booking when the new code deploys goes on, and the
loose keys are dropped when the draft is written back.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from conversations.turn import Turn
from conversations.when import When

ANYONE = "any"  # the draft's staff when the customer has no preference
KEY = "draft"  # where the draft is stored in the conversation's data


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Window(_Part):
    """When the customer wants the visit: a window of acceptable starts (parse_when's
    `When`, kept): `exact` for one minute, `daily` the [from, to) minutes of each day."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start: datetime
    end: datetime
    target: datetime | None = None
    exact: bool = False
    label: str = ""
    daily: tuple[int, int] | None = None

    @classmethod
    def of(cls, when: When) -> Self:
        """The window parse_when read."""
        return cls(
            start=when.start,
            end=when.end,
            target=when.target,
            exact=when.exact,
            label=when.label,
            daily=when.daily,
        )

    @classmethod
    def at(cls, moment: datetime, label: str) -> Self:
        """Exactly `moment` (one minute)."""
        return cls(
            start=moment, end=moment + timedelta(minutes=1), target=moment, exact=True, label=label
        )

    def day(self, zone: ZoneInfo) -> date:
        """The local day the window starts on."""
        return self.start.astimezone(zone).date()

    def single_day(self, zone: ZoneInfo) -> bool:
        """Whether the window lies within one local day."""
        last = (self.end - timedelta(microseconds=1)).astimezone(zone)
        return self.day(zone) == last.date()

    def whole_day(self) -> bool:
        """A day with no time said (the label is just the day)."""
        return (
            not self.exact and self.end.hour == 0 and self.end.minute == 0 and "," not in self.label
        )


class Offer(_Part):
    """One time on the list shown ("slot:0"): its start and who does it."""

    id: str
    start: datetime
    staff_id: int


class Chosen(_Part):
    """The time picked (or asked for exactly) and free: proposed next, held only then."""

    start: datetime
    staff_id: int
    pinned: bool = False  # the customer asked for this staff member by name


class Then(_Part):
    """A further service of the visit, booked back to back after the first."""

    service: str
    staff_id: int
    start: datetime


class Another(_Part):
    """Someone else's booking asked for on the way ("can my sister get one too"), made
    after this one: the service, who for, and the time said for the visit."""

    service: str | None = None
    attendee: str | None = None
    relation: str | None = None
    when: Window | None = None


class BookingDraft(_Part):
    """Everything the booking dialogue knows so far; the steps ask for what is missing."""

    # Kept in the data before the draft existed, under these same names (see `read`).
    LOOSE: ClassVar[tuple[str, ...]] = (
        "service",
        "also",
        "service_choices",
        "staff",
        "staff_choices",
        "when",
        "slot",
        "offered",
        "hold_id",
        "chain",
        "attendee",
        "relation",
        "pin",
        "trail",
        "lead",
        "echo",
        "topic",
        "others",
    )

    service: str | None = Field(None, description="the service's key")
    also: list[str] = Field([], description="further services in the same visit, in the order said")
    service_choices: list[str] = Field(
        [], description='services a word matched ("a colour"): which one is asked'
    )
    staff: str | None = Field(None, description='a staff key, or "any" (anyone)')
    staff_choices: list[str] = Field(
        [], description='staff an ambiguous name matched ("pri"): who is asked'
    )
    when: Window | None = Field(
        None, description="the day and time asked for: start, end, target, exact, label, daily"
    )
    slot: Chosen | None = Field(
        None, description="the time picked (or asked for exactly) and free: start, staff, pinned"
    )
    offered: list[Offer] = Field([], description="the times listed: id, start, staff")
    hold_id: int | None = Field(None, description="the hold, made only once proposed")
    chain: list[Then] = Field(
        [], description="the rest of the visit, back to back: service, staff, start"
    )
    attendee: str | None = Field(
        None, description='who comes, when not the sender ("it\'s for my son Leo")'
    )
    relation: str | None = Field(
        None, description='a relation said without a name ("my son"): the name is asked'
    )
    pin: tuple[float, float] | None = Field(
        None, description="a location shared for an on-site visit (lat, lon)"
    )
    trail: list[str] = Field([], description='the steps asked, in order ("go back")')
    lead: str | None = Field(
        None, description='said before the next question ("Sam doesn\'t do facials; ...")'
    )
    echo: str | None = Field(None, description='a correction said back ("Fri, Nov 20 then.")')
    others: list[Another] = Field(
        [], description='bookings for others asked for on the way ("my sister too"), made next'
    )
    topic: str | None = Field(
        None, description='while idle: the service just asked about ("how much is a colour?")'
    )
    _loose: bool = PrivateAttr(default=False)  # read from the loose keys of before

    @classmethod
    def read(cls, data: dict[str, Any]) -> Self:
        """The draft stored in a conversation's data (or its loose keys, from before)."""
        stored = data.get(KEY)
        loose = not isinstance(stored, dict)
        if loose:
            stored = {k: data[k] for k in cls.LOOSE if k in data}
        if not stored:  # nothing stored (a greeting, a new booking): nothing to validate
            return cls.model_construct()
        try:
            draft = cls.model_validate(stored)
        except ValidationError:
            draft = cls()  # unreadable (hand-edited, truncated): start the draft afresh
        draft._loose = loose and bool(stored)
        return draft

    def written(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with this draft stored in it (and the loose keys it was read from gone)."""
        out = {k: v for k, v in data.items() if not (self._loose and k in self.LOOSE)}
        stored = self.model_dump(mode="json", exclude_defaults=True)
        if stored:
            out[KEY] = stored
        else:
            out.pop(KEY, None)
        return out


def fields_markdown(model: type[BaseModel] = BookingDraft) -> str:
    """A draft's fields as a Markdown table (docs/CONVERSATIONS.md keeps a copy)."""
    lines = ["| field | type | what |", "|---|---|---|"]
    for name, info in model.model_fields.items():
        kind = re.sub(r"<class '([\w.]+)'>", r"\1", str(info.annotation))
        kind = re.sub(r"\b[\w.]+\.(\w+)", r"\1", kind).replace("typing.", "")
        kind = re.sub(r"Optional\[(.+)\]", r"\1 | None", kind)
        kind = kind.replace("|", "\\|")  # a pipe in a cell, even in code, splits it
        lines.append(f"| `{name}` | `{kind}` | {info.description} |")
    return "\n".join(lines)


def draft_of(turn: Turn) -> BookingDraft:
    """The turn's booking draft: read from the conversation once a turn, saved by the engine."""
    return turn.kept(KEY, BookingDraft.read)

"""One turn of a conversation: the message, who sent it, where the dialogue stands, and
what the bot says back. Flows read and change a `Turn`; the engine saves it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.config.context import BusinessContext
from bot.core.formatting import format_clock, format_day, format_money, format_when
from bot.messaging.messages import Inbound, Option, Reply
from storage.models import (
    AwaitingReply,
    Conversation,
    Customer,
    CustomerIdentity,
    Service,
    Staff,
)

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# How conversations.when labels a day ("Fri 4 Dec") and a clock time ("15:00").
_DAY_LABEL = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{1,2}) (" + "|".join(_MONTHS) + r")\b")
_CLOCK_LABEL = re.compile(r"\b([01]\d|2[0-3]):([0-5]\d)\b")
# Built once (asked on every turn): the latest question still waiting for a chat's reply.
_OPEN_QUESTION = (
    select(AwaitingReply)
    .where(
        AwaitingReply.channel == bindparam("channel"),
        AwaitingReply.address == bindparam("address"),
        AwaitingReply.answered_at.is_(None),
        AwaitingReply.expires_at > bindparam("now"),
    )
    .order_by(AwaitingReply.created_at.desc(), AwaitingReply.id.desc())
    .limit(1)
)
_ACTIVE_SERVICES = select(Service).where(Service.active.is_(True))


class Kept(Protocol):
    """Typed state a flow keeps in the conversation's data (the booking draft)."""

    def written(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with this state stored in it."""
        ...


K = TypeVar("K", bound=Kept)


@dataclass
class Turn:
    """Everything a flow handler needs for one inbound message."""

    session: Session
    inbound: Inbound
    conversation: Conversation
    identity: CustomerIdentity
    customer: Customer
    business: BusinessContext
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    _services: list[Service] | None = field(default=None, repr=False)
    # Known that no question waits for this chat's reply (open_question() need not look).
    no_open_question: bool = field(default=False, repr=False)
    # Typed flow state (conversations.flows.draft), read from `data` at most once a turn and
    # written back once, by `save`, when the engine ends the turn.
    _kept: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- dialogue state ----------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        """The flow's scratch data (JSON), saved with the conversation."""
        return self.conversation.data

    def go(self, flow: str, step: str, **data: Any) -> None:
        """Move to `flow`/`step`, replacing the flow data when entering a new flow."""
        if flow != self.conversation.flow:
            self.conversation.data = {}
            self._kept.clear()
        self.conversation.flow = flow
        self.conversation.step = step
        self.conversation.data = {**self.conversation.data, **data}

    def set(self, **data: Any) -> None:
        """Update flow data (reassigns, so the JSON column notices the change)."""
        self.conversation.data = {**self.conversation.data, **data}

    def forget(self, *keys: str) -> None:
        """Drop keys from the flow data."""
        self.conversation.data = {k: v for k, v in self.conversation.data.items() if k not in keys}

    def idle(self) -> None:
        """End any flow."""
        self.conversation.flow = "idle"
        self.conversation.step = "start"
        self.conversation.data = {}
        self._kept.clear()

    def kept(self, key: str, read: Callable[[dict[str, Any]], K]) -> K:
        """The typed state stored under `key`, read from the data the first time it is asked
        for this turn (and again after the flow ends); the same object after that."""
        if key not in self._kept:
            self._kept[key] = read(self.conversation.data)
        return self._kept[key]

    def save(self) -> None:
        """Write the typed state read this turn back into the data (once, at the end)."""
        if not self._kept:
            return
        data = dict(self.conversation.data)
        for state in self._kept.values():
            data = state.written(data)
        if data != self.conversation.data:
            self.conversation.data = data

    # --- saying things -------------------------------------------------------------------

    def say(self, text: str, options: list[Option] | tuple[Option, ...] = ()) -> None:
        """Queue a reply."""
        self.replies.append(Reply(text=text, options=tuple(options)))

    # --- formatting ------------------------------------------------------------------

    def when(self, moment: datetime) -> str:
        """A moment as the business's customers read it: "Tue, Nov 17, 3:00 PM"."""
        return format_when(moment, self.business.zone, self.business.locale)

    def day(self, moment: datetime) -> str:
        """A date as "Tue, Nov 17"."""
        return format_day(moment, self.business.zone, self.business.locale)

    def window(self, label: str, start: datetime) -> str:
        """A parsed window's label ("Fri 4 Dec, after 15:00") in the business's locale.

        parse_when labels days and times one fixed way; customers read them the way every
        proposal is written ("Fri, Dec 4, after 3:00 PM").
        """
        local = start.astimezone(self.business.zone)

        def day(match: re.Match[str]) -> str:
            month = _MONTHS.index(match.group(3)) + 1
            year = local.year + (1 if month < local.month else 0)
            return format_day(
                date(year, month, int(match.group(2))), self.business.zone, self.business.locale
            )

        def clock(match: re.Match[str]) -> str:
            moment = time(int(match.group(1)), int(match.group(2)))
            return format_clock(moment, self.business.locale)

        return _CLOCK_LABEL.sub(clock, _DAY_LABEL.sub(day, label))

    def money(self, minor: int) -> str:
        """Minor units as the business's currency: "$45.00"."""
        return format_money(minor, self.business.currency, self.business.locale)

    # --- lookups ---------------------------------------------------------------------

    def services(self) -> list[Service]:
        """Active services, in configuration order (read once a turn: asked for often)."""
        if self._services is None:
            self._services = list(self.session.scalars(_ACTIVE_SERVICES))
        return list(self._services)

    def open_question(self) -> AwaitingReply | None:
        """The latest question still waiting for this chat's reply, if any.

        Asked by the offers check and then the threads check at the start of a turn; a
        "none" is remembered for the turn (nothing asks a question before both have looked).
        """
        if self.no_open_question:
            return None
        question = self.session.scalar(
            _OPEN_QUESTION,
            {"channel": self.inbound.channel, "address": self.inbound.sender, "now": self.now},
        )
        self.no_open_question = question is None
        return question

    def staff_for(self, service: Service) -> list[Staff]:
        """Active staff who do `service`."""
        return [s for s in service.staff if s.active]

"""Several services in one visit ("a cut and a beard trim after", "colour plus a facial"),
and who the visit is for when the booker names only a relation ("my son needs a trim").

The booking draft keeps the first service as its `service` and the rest, in the order said,
as `also`. The rest are booked back to back after the first: each starts when the one
before it (and its clean-up buffer) ends, with the same staff member when they do it,
else with whoever does it and is free then. A start time is offered only when the whole
visit fits; the customer confirms once, and the visit is booked all or nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.core.text import t
from bot.scheduling.availability import Slot, SlotQuery, slot_fits
from conversations.flows.draft import Chosen, Then, draft_of
from conversations.nlu.understand import Named, find_services
from conversations.turn import Turn
from storage.models import Service

_RELATION = re.compile(
    r"\bmy (?:little |eldest |oldest |youngest |baby |teenage )?(son|daughter|kid|child|boy"
    r"|girl|wife|husband|partner|mum|mom|mother|dad|father|friend|grandson|granddaughter"
    r"|grandma|grandpa|nephew|niece|brother|sister)\b",
    re.I,
)
_MYSELF = re.compile(r"\b(?:me|myself|for me|it's me|its me|i am|i'm)\b", re.I)

_JOINS = re.compile(
    r"\s*(?:\band then\b|\bthen\b|\bplus\b|\band\b|&|\+|\bfollowed by\b|\bas well as\b"
    r"|\bafter (?:that|it)\b|,)\s*"
)


# "oh and a beard trim after", "plus a facial", "add a beard trim", "a beard trim too":
# one more service for the visit under way, not a change of service.
_ADDING = re.compile(
    r"^\W*(?:(?:oh|ah|ok|okay|actually|and|also)\W+)*(?:and|also|plus|add(?: on)?|\+)\s"
    r"|\b(?:too|as well|also|after(?:wards)?|on top|after (?:that|it)|while i'?m there)\W*$",
    re.I,
)


def several(turn: Turn, text: str) -> list[str]:
    """The keys of two or more services a message asks for together, in the order said;
    [] when it names one service or none. A message that adds one service ("and a beard
    trim after") to the visit under way extends it; for someone else ("my son too") it does
    not: that is another person's visit."""
    services = turn.services()
    named = [Named(s.key, s.name, tuple(s.aliases or ())) for s in services]
    keys: list[str] = []
    for part in _JOINS.split(text):
        if not part.strip():
            continue
        match = find_services(part, named)
        if match.item is not None and match.item.key not in keys:
            keys.append(match.item.key)
    draft = draft_of(turn)
    current = [k for k in (draft.service, *draft.also) if k]
    if len(keys) == 1 and current and keys[0] not in current and _adds(text):
        return [*current, keys[0]]
    return keys if len(keys) >= 2 else []


def _adds(text: str) -> bool:
    """Whether the message adds to the visit rather than changing it or booking for another."""
    lowered = " ".join(text.lower().split())
    return _ADDING.search(lowered) is not None and relation(text) is None


def _by_key(turn: Turn) -> dict[str, Service]:
    return {s.key: s for s in turn.services()}


def chain(turn: Turn, first: Service, slot: Slot | Chosen) -> list[Then] | None:
    """The rest of the visit after `first` at `slot`, back to back; None if it doesn't fit."""
    extra = draft_of(turn).also
    if not extra:
        return []
    services = _by_key(turn)
    start, staff_id = slot.start, slot.staff_id
    previous = first
    planned: list[Then] = []
    for key in extra:
        service = services.get(key)
        if service is None:
            return None
        start = start + timedelta(
            minutes=previous.duration_minutes
            + previous.buffer_after_minutes
            + service.buffer_before_minutes
        )
        doers = [s.id for s in turn.staff_for(service)]
        order = [staff_id] if staff_id in doers else []
        order += [d for d in doers if d != staff_id]
        query = SlotQuery(
            service_id=service.id,
            start=start,
            end=start + timedelta(minutes=1),
            customer_id=turn.customer.id,
            target=start,
        )
        fit = next(
            (f for f in (slot_fits(turn.session, query, d, now=turn.now) for d in order) if f),
            None,
        )
        if fit is None:
            return None
        planned.append(Then(service=key, staff_id=fit.staff_id, start=start))
        previous, staff_id = service, fit.staff_id
    return planned


def fitting(turn: Turn, first: Service, slots: list[Slot], limit: int) -> list[Slot]:
    """Of `slots`, the first `limit` at which the whole visit fits."""
    if not draft_of(turn).also:
        return slots[:limit]
    return [s for s in slots if chain(turn, first, s) is not None][:limit]


def lines(turn: Turn, planned: list[Then], staff_name: Any) -> list[str]:
    """ "Then: Beard trim with Sam, 3:55 PM" for each service after the first."""
    services = _by_key(turn)
    out = []
    for item in planned:
        service = services.get(item.service)
        if service is None:
            continue
        clock = turn.when(item.start).rsplit(", ", 1)[-1]
        out.append(
            t(
                "Then: {service} with {staff_name}, {clock} ({duration_minutes} min, {amount})",
                service=service.name,
                staff_name=staff_name(turn, item.staff_id),
                clock=clock,
                duration_minutes=service.duration_minutes,
                amount=turn.money(service.price_minor),
            )
        )
    return out


def relation(text: str) -> str | None:
    """The relation a booking is for when no name is given ("my son needs a trim": son)."""
    m = _RELATION.search(text)
    return m.group(1).lower() if m else None


_THEIR_NAME = re.compile(
    r"^\W*(?:(?:his|her|their) name(?:'s| is)|(?:he|she)(?:'s| is)(?: called)?|it's|its"
    r"|(?:they're|they are) called|called|named)\s+",
    re.I,
)


def their_name(text: str) -> str:
    """An answer to "what's your son's name?" without its lead-in ("his name is Leo": Leo)."""
    return _THEIR_NAME.sub("", text.strip().replace("\u2019", "'"), count=1)


def means_myself(text: str) -> bool:
    """Whether an answer to "what's your son's name?" says the booking is the sender's own."""
    return _MYSELF.search(text) is not None and len(text.split()) <= 5

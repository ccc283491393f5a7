"""Honest times for the owner chat: is a start free for a staff member, and if not, why not
and what is free instead.

The owner books and moves by hand (no notice, horizon or per-day limits), but never into a
closed day, a staff member's day off, the hours they do not work or another booking: the
same availability engine that answers customers (bot.scheduling.availability) decides, and the reason
is said in words ("We're closed on Mondays", "Sam starts at 11:00 AM on Fridays").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from bot.core.text import _, t
from bot.scheduling.availability import Slot, SlotQuery, open_slots, slot_fits
from conversations.flows import faq, opening
from conversations.turn import Turn
from storage.models import Service, Staff

ALTERNATIVES = 3  # free times offered instead of one that is not
NEAR_DAYS = 7  # how far either side alternatives are looked for


@dataclass(frozen=True)
class Verdict:
    """Whether a start is free; if not, the reason in words and free times nearby."""

    slot: Slot | None
    why: str = ""
    short: str = ""  # a few words for a list line: "closed", "Sam is off", "taken"
    instead: list[Slot] = field(default_factory=list)

    @property
    def free(self) -> bool:
        """True when the start can be booked."""
        return self.slot is not None


def _query(
    service: Service,
    start: datetime,
    staff_id: int | None,
    customer_id: int | None,
    ignore: int | None,
) -> SlotQuery:
    return SlotQuery(
        service_id=service.id,
        start=start,
        end=start + timedelta(minutes=1),
        staff_id=staff_id,
        customer_id=customer_id,
        target=start,
        ignore_appointment_id=ignore,
        enforce_rules=False,
        within_horizon=False,
    )


def _works_then(turn: Turn, staff: Staff, start: datetime, minutes: int) -> bool:
    local = start.astimezone(turn.business.zone)
    end = (local + timedelta(minutes=minutes)).time()
    spans = opening.week(turn.session, staff.id).get(local.weekday(), [])
    return any(s <= local.time() and (end <= e or end == time(0)) for s, e in spans)


def reason(turn: Turn, service: Service, staff: Staff | None, start: datetime) -> tuple[str, str]:
    """(why `start` cannot be booked, the short form) for a start that is not free."""
    day = start.astimezone(turn.business.zone).date()
    closed = faq.why_closed(turn, day, staff, booking=False)
    if closed is not None:
        head = closed[0].split(" - ")[0]
        named = re.search(r"\(([^)]*)\)", head)
        weekly = re.search(r"closed on (\w+days)\b", head)
        if not head.startswith("We're closed"):
            short = t("{staff} is off", staff=staff.name.split()[0]) if staff is not None else _("day off")
        elif named or weekly:
            short = t("closed ({closure})", closure=named.group(1) if named else weekly.group(1))  # type: ignore[union-attr]
        else:
            short = "closed"
        return closed[0], short
    if staff is not None and not _works_then(turn, staff, start, service.duration_minutes):
        first = staff.name.split()[0]
        spans = opening.week(turn.session, staff.id).get(day.weekday(), [])
        hours = opening.spans_text(spans)
        return (
            t("{first} works {hours} on {weekday}s, "
            "so {when} doesn't fit.", first=first, hours=hours, weekday=opening.DAY_NAMES[day.weekday()], when=turn.when(start)),
            t("outside {first}'s hours", first=first),
        )
    if staff is None:
        return t("Nobody who does {service} is free at {when}.", service=service.name.lower(), when=turn.when(start)), "taken"
    return t("{staff} isn't free at {when}.", staff=staff.name.split()[0], when=turn.when(start)), "taken"


def check(
    turn: Turn,
    service: Service,
    staff: Staff | None,
    start: datetime,
    *,
    customer_id: int | None = None,
    ignore: int | None = None,
    alternatives: int = ALTERNATIVES,
) -> Verdict:
    """Whether `start` is free for `staff` (anyone who does the service when None)."""
    pool = [staff] if staff is not None else turn.staff_for(service)
    for member in pool:
        query = _query(service, start, member.id, customer_id, ignore)
        slot = slot_fits(turn.session, query, member.id, now=turn.now)
        if slot is not None:
            return Verdict(slot)
    why, short = reason(turn, service, staff, start)
    instead: list[Slot] = []
    if alternatives:
        instead = _nearby(turn, service, staff, start, customer_id, ignore)[:alternatives]
    return Verdict(None, why, short, instead)


def _nearby(
    turn: Turn,
    service: Service,
    staff: Staff | None,
    start: datetime,
    customer_id: int | None,
    ignore: int | None,
) -> list[Slot]:
    """Free starts near `start`: that day nearest the time first, then the same time of day
    on the nearest days (a Monday at 10 that is closed becomes Tuesday at 10)."""
    query = _query(service, start, staff.id if staff else None, customer_id, ignore)
    wide = replace(
        query,
        start=max(turn.now, start - timedelta(days=NEAR_DAYS)),
        end=start + timedelta(days=NEAR_DAYS),
    )
    zone = turn.business.zone
    local = start.astimezone(zone)
    minute = local.hour * 60 + local.minute

    def rank(slot: Slot) -> tuple[int, int, float]:
        there = slot.start.astimezone(zone)
        days = abs((there.date() - local.date()).days)
        return (days, abs(there.hour * 60 + there.minute - minute), slot.start.timestamp())

    return sorted(open_slots(turn.session, wide, now=turn.now), key=rank)


def times_text(turn: Turn, slots: list[Slot]) -> str:
    """ "Fri, Nov 20, 11:00 AM, Fri, Nov 20, 11:15 AM or Sat, Nov 21, 9:00 AM"."""
    shown = [turn.when(s.start) for s in slots]
    if len(shown) <= 1:
        return "".join(shown)
    return "; ".join(shown[:-1]) + _(" or ") + shown[-1]

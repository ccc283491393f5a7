"""Answers to the questions people ask in the middle of booking: hours, address, prices.

Answered from the business's own data (opening hours, settings, services), then the dialogue
carries on where it was.
"""

from __future__ import annotations

import re
from datetime import time

from sqlalchemy import select

from conversations.turn import Turn
from conversations.understand import Named, find_services
from storage.models import WorkingHours

_HOURS = re.compile(r"\b(hours|open|opening|close|closing|closed)\b")
_WHERE = re.compile(r"\b(where|address|located|location|directions|find you|parking)\b")
_PRICE = re.compile(r"\b(how much|price|prices|cost|costs|charge|rates?)\b")
_MENU = re.compile(r"\b(what services|what do you (do|offer)|services|menu|treatments)\b")
_PHONE = re.compile(r"\b(phone|call you|number to call|telephone)\b")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def answer(turn: Turn, text: str) -> bool:
    """Answer a question about the business if the text is one; True if answered."""
    lowered = text.lower()
    if "?" not in text and len(lowered.split()) > 12:
        return False
    if _PRICE.search(lowered):
        _prices(turn, text)
        return True
    if _HOURS.search(lowered):
        turn.say("Our hours: " + opening_hours(turn) + ".")
        return True
    if _WHERE.search(lowered):
        address = turn.business.settings.get("address")
        turn.say(f"We're at {address}." if address else "Ask the team for directions.")
        return True
    if _PHONE.search(lowered) and turn.business.settings.get("phone"):
        turn.say(f"You can call us on {turn.business.settings['phone']}.")
        return True
    if _MENU.search(lowered):
        _prices(turn, "")
        return True
    return False


def opening_hours(turn: Turn) -> str:
    """The business's weekly hours, compactly: "Tue–Fri 9:00–19:00, Sat 9:00–17:00"."""
    rows = turn.session.scalars(
        select(WorkingHours)
        .where(WorkingHours.staff_id.is_(None), WorkingHours.is_break.is_(False))
        .order_by(WorkingHours.weekday, WorkingHours.start)
    ).all()
    by_day: dict[int, list[str]] = {}
    for row in rows:
        by_day.setdefault(row.weekday, []).append(f"{_clock(row.start)}-{_clock(row.end)}")
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        spans = ", ".join(by_day.get(day, [])) or "closed"
        if groups and groups[-1][2] == spans and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, spans)
        else:
            groups.append((day, day, spans))
    parts = [
        f"{_DAYS[a]}{'-' + _DAYS[b] if b != a else ''} {spans}"
        for a, b, spans in groups
        if spans != "closed"
    ]
    return "; ".join(parts) or "by appointment"


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _prices(turn: Turn, text: str) -> None:
    services = turn.services()
    match = find_services(text, [Named(s.key, s.name, tuple(s.aliases or ())) for s in services])
    wanted = [s for s in services if match.item and s.key == match.item.key] or [
        s for s in services if any(c.key == s.key for c in match.candidates)
    ]
    shown = wanted or services
    lines = [f"{s.name} ({s.duration_minutes} min): {turn.money(s.price_minor)}" for s in shown]
    turn.say("\n".join(lines))

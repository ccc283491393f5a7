"""The recurring-booking dialogue: "facial with Priya every other Thursday at 4".

A standing arrangement is never booked from one reading: the customer first sees the
series — the pattern, each date, and the ones that are not free — and only a yes books it,
through bot.scheduling.booking.create_series (which books the free occurrences and reports the rest).
The flow asks for what the request leaves out: the service, who with (a series stays with
one person), the time of day, and a name. Without a count it plans `DEFAULT_COUNT` visits.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.text import N_, _, nt, t
from bot.messaging.messages import Option
from bot.scheduling.availability import SlotQuery, slot_fits
from bot.scheduling.booking import create_series, occurrences
from conversations.nlu.recurrence import parse_recurrence
from conversations.nlu.understand import (
    Intent,
    clean_name,
    extract_name,
    find_services,
    find_staff,
    looks_like_booking,
    primary_intent,
    to_named,
    yes_no,
)
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import Service, Staff

DEFAULT_COUNT = 6
_SHOWN = 6  # dates listed in the summary; the rest are counted
_FROM = re.compile(r"\b(?:starting|start|from|beginning|begin|commencing)\b(?P<tail>.*)", re.I)
_YES = Option("yes", N_("Yes, book the series"))
_NO = Option("restart", N_("Never mind"))


def wants_series(turn: Turn, text: str) -> bool:
    """Tell whether an idle message asks to book a recurring series."""
    if not text or parse_recurrence(text) is None:
        return False
    if looks_like_booking(text, turn.services()) or primary_intent(text) is Intent.BOOK:
        return True
    # "every second wednesday at 4": a pattern and a time of day is a standing booking
    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    return when is not None and when.exact and "?" not in text


def start(turn: Turn, text: str) -> None:
    """Entry point: read everything the request says, then ask for what is missing."""
    recurrence = parse_recurrence(text)
    if recurrence is None:
        return
    turn.go("series", "service", rule=recurrence.rule, pattern=recurrence.description)
    _absorb(turn, text)
    _advance(turn)


def handle(turn: Turn) -> None:
    """A message while planning a series."""
    text = turn.inbound.text or ""
    option = turn.inbound.option_id
    step = turn.conversation.step
    if option and option.startswith("svc:"):
        turn.set(service=option.split(":", 1)[1])
    elif option and option.startswith("staff:"):
        turn.set(staff=option.split(":", 1)[1])
    elif step == "confirm":
        answer = True if option == "yes" else yes_no(text)
        if answer is True:
            _book(turn)
            return
        if answer is False:
            turn.idle()
            turn.say(_("OK, no series booked. Anything else?"))
            return
        if not _absorb(turn, text):
            turn.say(_("Shall I book the series? Yes or no, or tell me what to change."))
            return
    elif step == "name":
        name = extract_name(text) or clean_name(text)
        if name is None:
            turn.say(_("Sorry, what name should I put the bookings under?"))
            return
        turn.customer.name = name
    elif not _absorb(turn, text):
        turn.say(_("Sorry, I didn't get that."))
    _advance(turn)


def reprompt(turn: Turn) -> None:
    """Ask the current question again."""
    _advance(turn)


# --- reading ----------------------------------------------------------------------------------


def _service(turn: Turn) -> Service | None:
    key = turn.data.get("service")
    return next((s for s in turn.services() if s.key == key), None) if key else None


def _staff(turn: Turn) -> Staff | None:
    service = _service(turn)
    key = turn.data.get("staff")
    pool = turn.staff_for(service) if service else []
    return next((s for s in pool if s.key == key), None) if key else None


def _absorb(turn: Turn, text: str) -> bool:
    """Take the service, staff, time of day, first date and name a message gives."""
    changed = False
    zone = turn.business.zone
    match = find_services(text, [to_named(s) for s in turn.services()])
    if match.item is not None:
        turn.set(service=match.item.key)
        changed = True
    service = _service(turn)
    pool = turn.staff_for(service) if service else []
    who = find_staff(text, [to_named(s) for s in pool]) if pool else None
    if who is not None and who.item is not None:
        turn.set(staff=who.item.key)
        changed = True
    local_now = turn.now.astimezone(zone)
    start_from = _FROM.search(text)
    head = text[: start_from.start()] if start_from else text
    when = parse_when(head, local_now)
    if when is not None and when.exact:
        turn.set(clock=when.start.astimezone(zone).strftime("%H:%M"))
        changed = True
    if start_from is not None:
        first = parse_when(start_from.group("tail"), local_now)
        if first is not None:
            turn.set(first_day=first.start.astimezone(zone).date().isoformat())
            changed = True
    recurrence = parse_recurrence(text)
    if recurrence is not None and recurrence.rule != turn.data.get("rule"):
        turn.set(rule=recurrence.rule, pattern=recurrence.description)
        changed = True
    name = extract_name(text)
    if name and not turn.customer.name:
        turn.customer.name = name
    return changed


# --- asking -----------------------------------------------------------------------------------


def _advance(turn: Turn) -> None:
    """Ask the first thing still missing, else show the series for a yes."""
    service = _service(turn)
    if service is None:
        turn.go("series", "service")
        turn.say(
            t("A standing booking {pattern}: which service?", pattern=turn.data["pattern"]),
            [Option(f"svc:{s.key}", s.name) for s in turn.services()],
        )
        return
    staff = _staff(turn)
    if staff is None:
        turn.go("series", "staff")
        turn.say(
            t(
                "{service} {pattern}: who with? A series stays with one person.",
                service=service.name,
                pattern=turn.data["pattern"],
            ),
            [Option(f"staff:{s.key}", s.name.split()[0]) for s in turn.staff_for(service)],
        )
        return
    if "clock" not in turn.data:
        turn.go("series", "time")
        turn.say(
            t(
                "{service} with {staff} {pattern}: what time?",
                service=service.name,
                staff=staff.name.split()[0],
                pattern=turn.data["pattern"],
            )
        )
        return
    if not turn.customer.name:
        turn.go("series", "name")
        turn.say(_("What name should I put the bookings under?"))
        return
    _summarise(turn, service, staff)


def _plan(turn: Turn, service: Service, staff: Staff) -> tuple[str, list[datetime], list[datetime]]:
    """The rule to book (with a count), the free starts and the ones that clash."""
    zone = turn.business.zone
    rule = turn.data["rule"]
    if "COUNT=" not in rule:
        rule = f"{rule};COUNT={DEFAULT_COUNT}"
    local_now = turn.now.astimezone(zone)
    day = date.fromisoformat(turn.data["first_day"]) if "first_day" in turn.data else None
    day = max(day or local_now.date(), local_now.date())
    clock = time.fromisoformat(turn.data["clock"])
    anchor = datetime.combine(day, clock, tzinfo=zone)
    if anchor <= turn.now:
        anchor += timedelta(days=1)  # today's time has passed: from tomorrow
    starts = occurrences(rule, anchor, turn.business)
    free, clashes = [], []
    for start in starts:
        query = SlotQuery(
            service_id=service.id,
            start=start,
            end=start + timedelta(minutes=1),
            staff_id=staff.id,
            customer_id=turn.customer.id,
            within_horizon=False,
        )
        fits = slot_fits(turn.session, query, staff.id, now=turn.now)
        (free if fits else clashes).append(start)
    return rule, free, clashes


def _summarise(turn: Turn, service: Service, staff: Staff) -> None:
    rule, free, clashes = _plan(turn, service, staff)
    starts = sorted(free + clashes)
    turn.go("series", "confirm", planned_rule=rule, first=starts[0].isoformat() if starts else "")
    who = staff.name.split()[0]
    lines = [f"{turn.when(s)}" + ("  (not free)" if s in clashes else "") for s in starts[:_SHOWN]]
    if len(starts) > _SHOWN:
        lines.append(t("… and {count} more", count=len(starts) - _SHOWN))
    head = (
        t(
            "{customer}, here's the series: {service} with {who} at {starts:%-I:%M %p}, {pattern}, {count} appointments:",
            customer=turn.customer.name.split()[0],
            service=service.name,
            who=who,
            starts=starts[0].astimezone(turn.business.zone),
            pattern=turn.data["pattern"],
            count=len(starts),
        )
        if starts
        else ""
    )
    if not free:
        turn.idle()
        turn.say(
            t("Sorry, none of those times is free with {who}. Could another time work?", who=who)
        )
        return
    tail = (
        nt(
            "{n} of them is not free; shall I book the other {free}?",
            "{n} of them are not free; shall I book the other {free}?",
            len(clashes),
            free=len(free),
        )
        if clashes
        else _("Shall I book them all?")
    )
    turn.say("\n".join([head, *lines, tail]), [Option(o.id, _(o.label)) for o in (_YES, _NO)])


def _book(turn: Turn) -> None:
    service, staff = _service(turn), _staff(turn)
    data: dict[str, Any] = turn.data
    if service is None or staff is None or not data.get("first"):
        _advance(turn)
        return
    result = create_series(
        turn.session,
        customer_id=turn.customer.id,
        service_id=service.id,
        staff_id=staff.id,
        rule=data["planned_rule"],
        first_start=datetime.fromisoformat(data["first"]),
        now=turn.now,
    )
    turn.idle()
    booked = [turn.when(a.starts_at) for a in result.booked]
    text = t(
        "Booked {count} {service} appointments with {staff}",
        count=len(booked),
        service=service.name.lower(),
        staff=staff.name.split()[0],
    )
    text += t(", from {booked}.", booked=booked[0]) if booked else "."
    if result.conflicts:
        text += t(" {count} could not be booked (not free).", count=len(result.conflicts))
    turn.say(text)

"""Recurring series from the owner chat: plan and book, move or cancel all following, change
the weekday.

"book Ana Lee haircut with Sam every other Friday at 11 for 3 months" is read with the
customers' own readers (conversations.nlu.recurrence for the pattern, conversations.when for the
time), planned against the availability engine (conversations.admin.slots: each date free,
or why not and a free time that day or near it), shown as a summary and booked on a yes
through bot.scheduling.booking.create_series. A date with no free time near it is skipped and said so.

"cancel Ana's series from next month" and "move all of Ana's fridays to 10" (or "... to
thursdays") act on the occurrences still ahead, from a date if one is given; each moved
date is checked first, and the summary says which ones cannot move. Registers its commands
with `conversations.admin`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from bot.core.names import clean_display_name
from bot.core.text import _, nt, t
from bot.scheduling.agenda import find_customers
from bot.scheduling.booking import (
    Booked,
    Changed,
    book,
    cancel,
    create_series,
    occurrences,
    reschedule,
)
from conversations.admin import booking as admin_booking
from conversations.admin import commands as admin
from conversations.admin import slots as owner_slots
from conversations.admin.commands import Actor, answer, audit, confirm
from conversations.nlu.recurrence import parse_recurrence
from conversations.nlu.understand import find_services, find_staff, to_named
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import (
    UPCOMING_STATUSES,
    Appointment,
    Customer,
    RecurringSeries,
    Service,
    Staff,
)

DEFAULT_COUNT = 6  # occurrences planned when the request gives no count or end
MAX_COUNT = 52
SHOWN = 8  # dates listed in a summary; the rest are counted
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAYS = r"(mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?s?\b"
_WEEKDAY = re.compile(r"\b" + _WEEKDAYS, re.I)
_FOR_SPAN = re.compile(r"\bfor (\d{1,2}|a|one|two|three|four|six|twelve) (week|month)s?\b", re.I)
_SPAN_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}
_NAME_STOP = re.compile(
    r"\b(?:with|every|each|weekly|fortnightly|biweekly|monthly|daily|on|at|from|starting|for"
    r"|once|twice|\d)\b"
    r"|\b" + _WEEKDAYS + r"|[,:\d]",
    re.I,
)
_FROM = re.compile(r"\b(?:from|starting|after|as of|beginning)\b(?P<tail>.*)$", re.I)
_BARE_HOUR = re.compile(r"\bto (\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?!\S)", re.I)


class Action(StrEnum):
    """The confirmed actions this module adds to the admin chat."""

    BOOK = "series_book"
    CANCEL = "series_cancel"
    MOVE = "series_move"


# --- reading --------------------------------------------------------------------------------


def _customer_name(text: str) -> str:
    """The customer named in a series request: "for Bob ..." or the words before the rest."""
    after_for = re.search(r"\bfor ([a-z][a-z'.-]*(?: [a-z][a-z'.-]*)?)", text, re.I)
    if after_for and not re.match(r"(\d|a |one |two |three |four )", after_for.group(1), re.I):
        words = after_for.group(1).split()
        keep = [w for w in words if not _NAME_STOP.match(w) and w.lower() not in ("the",)]
        if keep:
            return " ".join(keep)
    head = _NAME_STOP.split(text, maxsplit=1)[0]
    return head.strip()


def _strip_service_words(turn: Turn, name: str) -> str:
    """Drop service words from a candidate name ("Ana Lee haircut" → "Ana Lee")."""
    services = [to_named(s) for s in turn.services()]
    words = name.split()
    while words and find_services(words[-1], services).item is not None:
        words.pop()
    while words and find_services(words[0], services).item is not None:
        words.pop(0)
    return " ".join(words)


def _last_visit(turn: Turn, customer_id: int) -> Appointment | None:
    return turn.session.scalars(
        select(Appointment)
        .where(Appointment.customer_id == customer_id)
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    ).first()


@dataclass
class _Request:
    customer: Customer | None
    name: str
    service: Service | None
    staff: Staff | None
    rule: str
    pattern: str
    clock: time | None
    first_day: date | None
    until: datetime | None
    ambiguous: list[Customer]  # several customers match the name: ask which


def _read(turn: Turn, text: str) -> _Request | None:
    recurrence = parse_recurrence(text)
    if recurrence is None:
        return None
    zone = turn.business.zone
    local_now = turn.now.astimezone(zone)
    rest = admin.strip_command(text, "book", "schedule", "set up", "add")
    name = _strip_service_words(turn, clean_display_name(_customer_name(rest)) or "")
    matches = find_customers(turn.session, name) if name else []
    exact = [c for c in matches if (c.name or "").lower() == name.lower()]
    customer = exact[0] if len(exact) == 1 else matches[0] if len(matches) == 1 else None
    services = turn.services()
    service_match = find_services(rest, [to_named(s) for s in services])
    service = next(
        (s for s in services if service_match.item and s.key == service_match.item.key), None
    )
    last = _last_visit(turn, customer.id) if customer else None
    if service is None and last is not None:
        service = last.service
    staff = None
    if service is not None:
        pool = turn.staff_for(service)
        with_part = re.split(r"\bwith\b|\bw/", rest, maxsplit=1)
        said = with_part[1] if len(with_part) > 1 else rest.replace(name, " ")
        found = find_staff(said, [to_named(s) for s in pool])
        if found.item is not None:
            staff = next(s for s in pool if s.key == found.item.key)
        elif last is not None and last.staff in pool:
            staff = last.staff
    start_from = _FROM.search(rest)
    head = rest[: start_from.start()] if start_from else rest
    when = parse_when(_FOR_SPAN.sub(" ", head), local_now)
    clock = when.start.astimezone(zone).time() if when is not None and when.exact else None
    first_day = None
    if start_from is not None:
        first = parse_when(start_from.group("tail"), local_now)
        first_day = first.start.astimezone(zone).date() if first else None
    rule = recurrence.rule
    until = None
    span = _FOR_SPAN.search(rest)
    if "COUNT=" not in rule and span is not None:
        amount = int(span.group(1)) if span.group(1).isdigit() else _SPAN_WORDS[span.group(1)]
        begin = datetime.combine(first_day or local_now.date(), time(0), zone)
        step = (
            relativedelta(weeks=amount) if span.group(2) == "week" else relativedelta(months=amount)
        )
        until = begin + step
    elif "COUNT=" not in rule:
        rule = f"{rule};COUNT={DEFAULT_COUNT}"
    return _Request(
        customer,
        name,
        service,
        staff,
        rule,
        recurrence.description,
        clock,
        first_day,
        until,
        [] if customer or len(matches) < 2 else matches,
    )


# --- planning -------------------------------------------------------------------------------


@dataclass
class _Date:
    start: datetime
    instead: datetime | None = None  # a free time that day or near it, when `start` is not
    why: str = ""  # empty: free

    @property
    def skipped(self) -> bool:
        return bool(self.why) and self.instead is None


def _plan(turn: Turn, request: _Request) -> tuple[datetime, list[_Date]]:
    """The first start and every date of the series: free, moved to a free time, or skipped."""
    assert request.service and request.staff and request.clock
    zone = turn.business.zone
    day = max(
        request.first_day or turn.now.astimezone(zone).date(), turn.now.astimezone(zone).date()
    )
    anchor = datetime.combine(day, request.clock, tzinfo=zone)
    if anchor <= turn.now:
        anchor += timedelta(days=1)
    starts = occurrences(request.rule, anchor, turn.business, until=request.until)
    starts = starts[:MAX_COUNT]
    planned_days = {s.astimezone(zone).date() for s in starts}
    dates: list[_Date] = []
    taken: set[datetime] = set()
    customer_id = request.customer.id if request.customer else None
    for start in starts:
        verdict = owner_slots.check(
            turn, request.service, request.staff, start, customer_id=customer_id
        )
        if verdict.free:
            dates.append(_Date(start))
            continue
        own_day = start.astimezone(zone).date()
        instead = next(
            (
                s.start
                for s in verdict.instead
                if s.start not in taken
                and (
                    s.start.astimezone(zone).date() == own_day
                    or s.start.astimezone(zone).date() not in planned_days
                )
            ),
            None,
        )
        if instead is not None:
            taken.add(instead)
        dates.append(_Date(start, instead, verdict.short))
    return anchor, dates


def _best_plan(turn: Turn, request: _Request) -> tuple[datetime, list[_Date]]:
    """The plan with the staff member asked for, else with whoever fits most dates as asked."""
    if request.staff is not None:
        return _plan(turn, request)
    best: tuple[int, datetime, list[_Date], Staff] | None = None
    for member in turn.staff_for(request.service):  # type: ignore[arg-type]
        request.staff = member
        anchor, dates = _plan(turn, request)
        score = sum(1 for d in dates if not d.why)
        if best is None or score > best[0]:
            best = (score, anchor, dates, member)
    assert best is not None
    request.staff = best[3]
    return best[1], best[2]


def _date_line(turn: Turn, item: _Date) -> str:
    if not item.why:
        return turn.when(item.start)
    if item.instead is None:
        return t("{when} - {why}: skipped", when=turn.when(item.start), why=item.why)
    zone = turn.business.zone
    same_day = item.instead.astimezone(zone).date() == item.start.astimezone(zone).date()
    moved = admin._clock(turn, item.instead) if same_day else turn.when(item.instead)
    return t("{when} - {why}: {moved} instead", when=turn.when(item.start), why=item.why, moved=moved)


# --- booking a series ------------------------------------------------------------------------


def book_series(turn: Turn, actor: Actor, text: str) -> None:
    """ "book Ana haircut with Sam every other Friday at 11 for 3 months": plan, show, ask."""
    request = _read(turn, text)
    if request is None:
        admin_booking.book_for(turn, actor, text)
        return
    if request.ambiguous:
        names = ", ".join(f"{c.name} (#{c.id})" for c in request.ambiguous)
        turn.say(t("Which {request}: {names}? Say it again with the full name.", request=request.name, names=names))
        return
    if not request.name and request.customer is None:
        turn.say(_('For whom? e.g. "book Ana Lee haircut with Sam every Friday at 11, 6 times".'))
        return
    if request.service is None:
        turn.say(t('Which service for {request} {pattern}? e.g. "... haircut ...".', request=request.name, pattern=request.pattern))
        return
    if request.clock is None:
        turn.say(t('At what time {pattern}? e.g. "... at 11".', pattern=request.pattern))
        return
    anchor, dates = _best_plan(turn, request)
    if not dates:
        turn.say(_('That pattern gives no dates. Try a count, e.g. "6 times".'))
        return
    bookable = [d for d in dates if not d.skipped]
    who = request.customer.name if request.customer else request.name
    staff_first = request.staff.name.split()[0]
    head = (
        t("Series for {who}: {service} with {staff_first}, {pattern}, "
        "at {clock}, {count} dates:", who=who, service=request.service.name, staff_first=staff_first, pattern=request.pattern, clock=admin._clock(turn, anchor), count=len(dates))
    )
    lines = [_date_line(turn, d) for d in dates[:SHOWN]]
    if len(dates) > SHOWN:
        hidden = dates[SHOWN:]
        odd = sum(1 for d in hidden if d.why)
        lines.append(
            t("… and {count} more", count=len(hidden)) + (t(" ({odd} not at the usual time)", odd=odd) if odd else "")
        )
    if not bookable:
        admin.answer(turn, [head, *lines, t("None of them can be booked with {staff_first}.", staff_first=staff_first)])
        return
    moved = sum(1 for d in dates if d.why and d.instead)
    skipped = len(dates) - len(bookable)
    tail = t("Book {count}", count=len(bookable))
    extras = [t("{moved} at another time", moved=moved) if moved else "", t("{skipped} skipped", skipped=skipped) if skipped else ""]
    extras = [e for e in extras if e]
    tail += f" ({', '.join(extras)})?" if extras else "?"
    confirm(
        turn,
        "\n".join([head, *lines, tail + _(" The customer will be told.")]),
        Action.BOOK,
        customer=request.customer.id if request.customer else None,
        name=request.name,
        service=request.service.key,
        staff=request.staff.key,
        rule=request.rule,
        first=anchor.isoformat(),
        until=request.until.isoformat() if request.until else None,
        instead={d.start.isoformat(): d.instead.isoformat() for d in dates if d.instead},
    )


def _do_book(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    customer_id = pending.get("customer")
    if customer_id is None:
        customer = Customer(name=pending.get("name"), created_at=turn.now, notes="")
        turn.session.add(customer)
        turn.session.flush()
        customer_id = customer.id
    service = next(s for s in turn.services() if s.key == pending["service"])
    staff = next(s for s in turn.staff_for(service) if s.key == pending["staff"])
    result = create_series(
        turn.session,
        customer_id=customer_id,
        service_id=service.id,
        staff_id=staff.id,
        rule=pending["rule"],
        first_start=datetime.fromisoformat(pending["first"]),
        until=datetime.fromisoformat(pending["until"]) if pending.get("until") else None,
        now=turn.now,
        actor=actor.tag,
    )
    booked = list(result.booked)
    missed: list[datetime] = []
    instead = pending.get("instead") or {}
    for conflict in result.conflicts:
        other = next(
            (v for k, v in instead.items() if datetime.fromisoformat(k) == conflict.start), None
        )
        outcome = (
            book(
                turn.session,
                customer_id=customer_id,
                service_id=service.id,
                start=datetime.fromisoformat(other),
                staff_id=staff.id,
                now=turn.now,
                actor=actor.tag,
                enforce_rules=False,
                series_id=result.series_id,
                within_horizon=False,
            )
            if other
            else None
        )
        if isinstance(outcome, Booked):
            booked.append(outcome.appointment)
        else:
            missed.append(conflict.start)
    audit(turn, actor, "series_book", series=result.series_id, booked=len(booked))
    booked.sort(key=lambda a: a.starts_at)
    if not booked:
        answer(turn, [_("Nothing could be booked: those times were taken meanwhile.")])
        return
    lines = [
        t("Booked {count} {service} appointments with "
        "{staff} (series S{series_id}), "
        "{when} to {until}.", count=len(booked), service=service.name.lower(), staff=staff.name.split()[0], series_id=result.series_id, when=turn.when(booked[0].starts_at), until=turn.when(booked[-1].starts_at))
    ]
    if missed:
        lines.append(_("Not booked: ") + ", ".join(turn.when(m) for m in missed) + ".")
    answer(turn, lines)


# --- finding a series ------------------------------------------------------------------------


def _ahead(turn: Turn, series_id: int, since: datetime) -> list[Appointment]:
    return list(
        turn.session.scalars(
            select(Appointment)
            .where(
                Appointment.series_id == series_id,
                Appointment.starts_at >= since,
                Appointment.status.in_(UPCOMING_STATUSES),
            )
            .order_by(Appointment.starts_at)
        )
    )


def _since(turn: Turn, text: str) -> datetime:
    """The start of "from next month" / "from dec 15" / "after friday"; now without one."""
    found = _FROM.search(text)
    if found is None:
        return turn.now
    when = parse_when(found.group("tail"), turn.now.astimezone(turn.business.zone))
    if when is None:
        return turn.now
    day = when.start.astimezone(turn.business.zone).date()
    return max(turn.now, datetime.combine(day, time(0), tzinfo=turn.business.zone))


def _series_of(turn: Turn, text: str, words: tuple[str, ...]) -> tuple[Appointment | None, str]:
    """The first occurrence meant (by "#12" or a customer's name), and a problem if none."""
    direct = admin._appointment_ref(turn, text)
    since = _since(turn, text)
    if direct is not None:
        if direct.series_id is None:
            return direct, ""
        ahead = _ahead(turn, direct.series_id, max(since, direct.starts_at))
        return (ahead[0] if ahead else None), "" if ahead else _("Nothing of it is still ahead.")
    name = admin.strip_command(text, *words)
    name = re.sub(r"^(?:all (?:of )?|the )", "", name, flags=re.I)
    name = re.split(
        r"'s\b|\b(?:series|standing|recurring|from|to|and|on)\b|" + _WEEKDAYS,
        name,
        maxsplit=1,
        flags=re.I,
    )[0]
    name = name.strip(" ,.")
    if not name:
        return None, _('Whose series? e.g. "cancel Ana\'s series from next month".')
    customers = find_customers(turn.session, name)
    series = [
        s
        for c in customers
        for s in turn.session.scalars(
            select(RecurringSeries).where(RecurringSeries.customer_id == c.id)
        )
    ]
    weekday = _WEEKDAY.search(text.split(" to ")[0]) if " to " in text else _WEEKDAY.search(text)
    firsts = []
    for item in series:
        ahead = _ahead(turn, item.id, since)
        if weekday is not None:
            index = _day_index(weekday.group(1))
            ahead = [
                a for a in ahead if a.starts_at.astimezone(turn.business.zone).weekday() == index
            ]
        if ahead:
            firsts.append(ahead[0])
    if not firsts:
        return None, t("No series ahead for {name!r}.", name=name)
    return min(firsts, key=lambda a: a.starts_at), ""


def _day_index(word: str) -> int:
    return [d.lower() for d in _DAYS].index(word[:2].lower())


def _occurrences_from(turn: Turn, first: Appointment, text: str = "") -> list[Appointment]:
    """The occurrence and the later ones of its series (only its weekday's for "fridays")."""
    if first.series_id is None:
        return [first]
    items = _ahead(turn, first.series_id, first.starts_at)
    head = text.split(" to ")[0]
    plural = re.search(r"\b(mon|tues|wednes|thurs|fri|satur|sun)days\b", head, re.I)
    if plural is not None:
        index = _day_index(plural.group(1))
        zone = turn.business.zone
        items = [a for a in items if a.starts_at.astimezone(zone).weekday() == index]
    return items


def _reason(text: str) -> str:
    found = re.search(r"\b(?:because|reason:?|due to|as)\b\s*(.+)$", text, re.I)
    return found.group(1).strip(" .") if found else ""


# --- cancelling ------------------------------------------------------------------------------


def cancel_series(turn: Turn, actor: Actor, text: str) -> None:
    """ "cancel Ana's series (from next month)", "cancel #12 and all following"."""
    first, problem = _series_of(turn, text, ("cancel", "stop", "end"))
    if first is None:
        turn.say(problem)
        return
    items = _occurrences_from(turn, first, text)
    who = first.customer.name or _("the customer")
    confirm(
        turn,
        nt("Cancel {n} {service} appointment"
        " of {who}'s series with {staff}, "
        "from {when} to {until}? "
        "The customer will be told.", "Cancel {n} {service} appointment"
        "s of {who}'s series with {staff}, "
        "from {when} to {until}? "
        "The customer will be told.", len(items), service=first.service.name.lower(), who=who, staff=first.staff.name.split()[0], when=turn.when(items[0].starts_at), until=turn.when(items[-1].starts_at)),
        Action.CANCEL,
        appointments=[a.id for a in items],
        series=first.series_id,
        reason=_reason(text),
    )


def _do_cancel(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    done = 0
    for appointment_id in pending["appointments"]:
        outcome = cancel(
            turn.session,
            appointment_id,
            now=turn.now,
            reason=pending.get("reason") or _("cancelled by the business"),
            actor=actor.tag,
            enforce_cutoff=False,
        )
        done += isinstance(outcome, Changed)
    series = turn.session.get(RecurringSeries, pending.get("series") or 0)
    if series is not None:
        series.active = False  # it ends here: nothing after the cancelled ones
    audit(turn, actor, "series_cancel", series=pending.get("series"), cancelled=done)
    answer(turn, [nt("Cancelled {n} appointment; the customer has been told.", "Cancelled {n} appointments; the customer has been told.", done)])


# --- moving ----------------------------------------------------------------------------------


def _target(turn: Turn, text: str) -> tuple[int | None, time | None]:
    """The new weekday and/or time of day a "move ... to ..." asks for."""
    tail = re.split(r"\bto\b", text, maxsplit=1)
    target = tail[1] if len(tail) > 1 else ""
    target = _FROM.sub("", target)
    weekday = _WEEKDAY.search(target)
    clock = None
    bare = _BARE_HOUR.search(_("to ") + target.strip())
    if bare is not None and not weekday:
        hour, minute = int(bare.group(1)), int(bare.group(2) or 0)
        meridian = (bare.group(3) or "").lower().replace(".", "")
        if meridian == "pm" and hour < 12:
            hour += 12
        elif not meridian and 1 <= hour <= 7:
            hour += 12  # "to 3": the afternoon, as the salon's hours go
        if hour < 24 and minute < 60:
            clock = time(hour, minute)
    else:
        when = parse_when(target, turn.now.astimezone(turn.business.zone))
        if when is not None and when.exact:
            clock = when.start.astimezone(turn.business.zone).time()
    return (_day_index(weekday.group(1)) if weekday else None), clock


def move_series(turn: Turn, actor: Actor, text: str) -> None:
    """ "move all of Ana's fridays to 10", "move Ana's series to thursdays at 11"."""
    first, problem = _series_of(turn, text, ("move", "change", "shift", "reschedule"))
    if first is None:
        turn.say(problem)
        return
    weekday, clock = _target(turn, text)
    if weekday is None and clock is None:
        turn.say(t('To when? e.g. "move all of Ana\'s fridays to 10" or "... to thursdays".'))
        return
    zone = turn.business.zone
    items = _occurrences_from(turn, first, text)
    plan: list[tuple[int, str, str]] = []  # (appointment, new start, why not)
    lines = []
    for item in items:
        local = item.starts_at.astimezone(zone)
        shift = 0
        if weekday is not None:  # to that weekday in the same week, never into the past
            shift = (weekday - local.weekday()) % 7
            if shift > 3 and local + timedelta(days=shift - 7) > turn.now:
                shift -= 7
        wall = clock or local.time().replace(tzinfo=None)
        new = datetime.combine(local.date() + timedelta(days=shift), wall, tzinfo=zone)
        if new == item.starts_at:
            continue  # already there
        verdict = owner_slots.check(
            turn,
            item.service,
            item.staff,
            new,
            customer_id=item.customer_id,
            ignore=item.id,
            alternatives=0,
        )
        plan.append((item.id, new.isoformat(), verdict.short))
        line = f"{turn.when(item.starts_at)} → {turn.when(new)}"
        lines.append(line + (t(" - {short}: stays", short=verdict.short) if not verdict.free else ""))
    movable = sum(1 for _, _, why in plan if not why)
    who = first.customer.name or t("the customer")
    if not movable:
        answer(turn, [t("None of {who}'s dates can move there:", who=who), *lines[:SHOWN]])
        return
    shown = lines[:SHOWN] + ([t("… and {count} more", count=len(lines) - SHOWN)] if len(lines) > SHOWN else [])
    confirm(
        turn,
        "\n".join(
            [
                t("Move {movable} of {who}'s {service} appointments:", movable=movable, who=who, service=first.service.name.lower()),
                *shown,
                t("Go ahead? The customer will be told."),
            ]
        ),
        Action.MOVE,
        plan=[[a, s] for a, s, why in plan if not why],
        series=first.series_id,
        byday=_DAYS[weekday] if weekday is not None else None,
    )


def _do_move(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    moved, stuck = 0, []
    for appointment_id, start in pending["plan"]:
        appointment = turn.session.get(Appointment, appointment_id)
        outcome = reschedule(
            turn.session,
            appointment_id,
            new_start=datetime.fromisoformat(start),
            now=turn.now,
            staff_id=appointment.staff_id if appointment else None,
            actor=actor.tag,
            enforce_rules=False,
        )
        if isinstance(outcome, Booked):
            moved += 1
        else:
            stuck.append(datetime.fromisoformat(start))
    series = turn.session.get(RecurringSeries, pending.get("series") or 0)
    if series is not None and pending.get("byday"):
        series.rule = re.sub(r"BYDAY=[^;]*", f"BYDAY={pending['byday']}", series.rule)
    audit(turn, actor, "series_move", series=pending.get("series"), moved=moved)
    lines = [nt("Moved {n} appointment; the customer has been told.", "Moved {n} appointments; the customer has been told.", moved)]
    if stuck:
        lines.append(_("Taken meanwhile, not moved: ") + ", ".join(turn.when(s) for s in stuck))
    answer(turn, lines)


# --- registering ------------------------------------------------------------------------------

_SERIES_WORDS = (
    r"\b(?:series|standing|recurring|all|every|following|the rest)\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days\b"
)
_CUES = (
    r"\b(?:every|each|weekly|fortnightly|biweekly|bi weekly|monthly|bimonthly|daily"
    r"|quarterly|once a|twice a)\b"
)
CANCEL_SERIES_COMMAND = (
    r"^/?(cancel|stop|end)\b.*\b(series|standing|recurring|following|the rest)\b"
)
MOVE_SERIES_COMMAND = r"^/?(move|change|shift|reschedule)\b.*(" + _SERIES_WORDS + ")"
BOOK_SERIES_COMMAND = (
    r"^(?!/?(cancel|stop|end|move|change|shift|reschedule|block|close|broadcast|promot"
    r"|stats|customer|statement|help|who|whos|what|whats|when|how|is|are|do|does|today"
    r"|tomorrow|week|agenda|schedule|optimi[sz]e|plan|route|rain|raining|storm|snow"
    r"|mark|paid|link|add|charge|took|got|received|undo|apply|r|reply|access|history"
    r"|sign|merge|note|notes|assign|give|estimate|quote|send|invoice)\b)"
    r"(?!.*\beach day\b).*" + _CUES
)
_registered: list[bool] = []


def register() -> None:
    """Add the series actions to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS[Action.BOOK] = _do_book
    admin.ACTIONS[Action.CANCEL] = _do_cancel
    admin.ACTIONS[Action.MOVE] = _do_move

"""The customer booking dialogue: service → staff → when → slot → details → confirm → booked.

Every message is first read for anything it says about the booking (a service, a staff
member, a time, a name), so "haircut with Sam tomorrow at 3, I'm Jane" fills everything at
once and goes straight to the confirmation question, and "actually make it a colour" in the
middle changes the service without starting over. Then the current step reads the rest
(a picked option, yes/no). The steps asked are kept in `trail`, so "go back" works.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.availability import Slot, SlotQuery, best_slots, nearest_slots, slot_fits
from bot.billing.deposits import deposit_for
from bot.booking import Booked, Held, book_hold, hold_slot, release_hold
from bot.messages import SMS, WHATSAPP, Option
from bot.names import clean_display_name
from bot.outbox import CONFIRMATION
from bot.waitlist import join_waitlist
from conversations.payments import ask_for_deposit
from conversations.turn import Turn
from conversations.understand import (
    Intent,
    Named,
    Offered,
    address_problems,
    clean_name,
    extract_attendee,
    extract_email,
    extract_name,
    find_services,
    find_staff,
    pick_option,
    primary_intent,
    wants_anyone,
    yes_no,
)
from conversations.when import When, parse_when
from storage.messaging import OutboxMessage
from storage.models import AWAITING_DEPOSIT, BOOKED, Service, Staff

ANYONE = "any"
NO_THANKS = Option("restart", "Never mind")


# --- reading the message ------------------------------------------------------------------


def _named(items: list[Service] | list[Staff]) -> list[Named]:
    return [
        Named(key=i.key, name=i.name, aliases=tuple(getattr(i, "aliases", None) or ()))
        for i in items
    ]


def _service(turn: Turn) -> Service | None:
    key = turn.data.get("service")
    return next((s for s in turn.services() if s.key == key), None) if key else None


def _when_to_json(when: When) -> dict[str, Any]:
    return {
        "start": when.start.isoformat(),
        "end": when.end.isoformat(),
        "target": when.target.isoformat() if when.target else None,
        "exact": when.exact,
        "label": when.label,
        "daily": list(when.daily) if when.daily else None,
    }


def _when(turn: Turn) -> dict[str, Any] | None:
    return turn.data.get("when")


def looks_like_a_request(turn: Turn, text: str) -> bool:
    """Whether an idle message is a booking request in disguise ("haircut friday?")."""
    match = find_services(text, _named(turn.services()))
    local_now = turn.now.astimezone(turn.business.zone)
    return (
        match.item is not None
        or bool(match.candidates)
        or (parse_when(text, local_now) is not None and len(text.split()) > 1)
    )


def absorb(turn: Turn, text: str) -> bool:
    """Take whatever the message says about the booking; True if it changed anything."""
    if not text.strip():
        return False
    changed = False
    services = turn.services()
    match = find_services(text, _named(services))
    if match.item is not None and match.item.key != turn.data.get("service"):
        turn.set(service=match.item.key)
        turn.forget("service_choices")
        if turn.data.get("staff") not in (None, ANYONE):
            service = _service(turn)
            if service and turn.data["staff"] not in {s.key for s in turn.staff_for(service)}:
                turn.forget("staff")
        changed = True
    elif match.item is None and match.candidates and "service" not in turn.data:
        turn.set(service_choices=[c.key for c in match.candidates])
        changed = True

    service = _service(turn)
    staff_pool = turn.staff_for(service) if service else _all_staff(turn)
    if wants_anyone(text):
        if turn.data.get("staff") != ANYONE:
            turn.set(staff=ANYONE)
            changed = True
    else:
        who = find_staff(text, _named(staff_pool))
        if who.item is not None and who.item.key != turn.data.get("staff"):
            turn.set(staff=who.item.key)
            changed = True

    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    if when is not None:
        turn.set(when=_when_to_json(when))
        changed = True

    name = clean_display_name(extract_name(text))
    if name and not turn.customer.name:
        turn.customer.name = name
    attendee = extract_attendee(text)  # "it's for my son Leo": Leo comes, the sender books
    if attendee and attendee != turn.data.get("attendee"):
        turn.set(attendee=attendee)
    email = extract_email(text)
    if email:
        turn.customer.email = email
    if changed:
        _drop_slot(turn)
    return changed


def _all_staff(turn: Turn) -> list[Staff]:
    seen: dict[int, Staff] = {}
    for service in turn.services():
        for member in turn.staff_for(service):
            seen[member.id] = member
    return list(seen.values())


def _drop_slot(turn: Turn) -> None:
    """A change of service, staff or time makes the held slot and the offers stale."""
    if turn.data.get("hold_id"):
        release_hold(turn.session, turn.data["hold_id"])
    turn.forget("hold_id", "slot", "offered")


# --- the steps ---------------------------------------------------------------------------


def start(turn: Turn, text: str, *, service: str | None = None, staff: str | None = None) -> None:
    """Entry point: begin a booking, using everything the first message already says
    (and a service or staff member already known, when rebooking)."""
    turn.go("book", "service", trail=[])
    turn.set(**{k: v for k, v in (("service", service), ("staff", staff)) if v})
    absorb(turn, text)
    advance(turn)


def handle(turn: Turn) -> None:
    """A message while booking."""
    text = turn.inbound.text or ""
    step = turn.conversation.step
    option = turn.inbound.option_id
    intent = Intent.UNKNOWN if option else primary_intent(text)

    if intent is Intent.BACK or option == "back":
        _back(turn)
        return
    if step == "name":
        _take_name(turn, text)
        return
    if step == "address":
        _take_address(turn, text)
        return
    if step == "notes":
        _take_notes(turn, text)
        return
    if intent is Intent.CANCEL and step != "done":
        _drop_slot(turn)
        turn.idle()
        turn.say("OK, I've stopped that booking. Anything else?", _menu())
        return
    if option and _take_option(turn, option):
        return
    if step == "confirm" and _take_yes_no(turn, text):
        return
    if step == "offer" and _take_pick(turn, text):
        return
    if step == "service" and _take_service_choice(turn, text):
        return
    if absorb(turn, text):
        advance(turn)
        return
    if step == "staff" and yes_no(text) is False:
        turn.set(staff=ANYONE)
        advance(turn)
        return
    _not_understood(turn)


def reprompt(turn: Turn) -> None:
    """Ask the current step's question again."""
    advance(turn, again=True)


def _menu() -> tuple[Option, ...]:
    from conversations.flows import MENU

    return MENU


def _ask(turn: Turn, step: str, text: str, options: list[Option] | tuple[Option, ...] = ()) -> None:
    trail = list(turn.data.get("trail", []))
    if not trail or trail[-1] != step:
        trail.append(step)
    turn.conversation.step = step
    turn.set(trail=trail)
    turn.say(text, options)


def advance(turn: Turn, again: bool = False) -> None:
    """Ask for the next missing thing, or offer slots, or ask to confirm."""
    service = _service(turn)
    if service is None:
        _ask_service(turn)
        return
    staff = turn.staff_for(service)
    if "staff" not in turn.data:
        if len(staff) <= 1:
            turn.set(staff=ANYONE)
        else:
            options = [Option(f"staff:{s.key}", s.name.split()[0]) for s in staff]
            _ask(
                turn,
                "staff",
                f"{service.name}: any preference who with?",
                [*options, Option(f"staff:{ANYONE}", "Anyone")],
            )
            return
    if _when(turn) is None:
        _ask(
            turn,
            "when",
            f"When would you like your {service.name.lower()}? "
            'For example "tomorrow afternoon" or "Friday after 3".',
        )
        return
    if "slot" not in turn.data:
        if again and turn.data.get("offered"):
            _show_offers(turn, turn.data["offered"], "Here are the times again:")
            return
        _offer(turn, service)
        return
    if not turn.customer.name:
        _ask(turn, "name", "Great. What name should I put the booking under?")
        return
    if service.on_site and not turn.customer.address:
        _ask(turn, "address", "What's the address for the visit? (street, number and town)")
        return
    _ask_confirm(turn, service)


def _ask_service(turn: Turn) -> None:
    services = turn.services()
    choices = turn.data.get("service_choices")
    if choices:
        pool = [s for s in services if s.key in choices]
        names = " or ".join(s.name for s in pool)
        _ask(
            turn, "service", f"Which one: {names}?", [Option(f"svc:{s.key}", s.name) for s in pool]
        )
        return
    _ask(
        turn,
        "service",
        "What would you like to book?",
        [Option(f"svc:{s.key}", s.name) for s in services[:8]],
    )


def _query(turn: Turn, service: Service, when: dict[str, Any]) -> SlotQuery:
    staff_key = turn.data.get("staff")
    staff_id = None
    if staff_key and staff_key != ANYONE:
        staff_id = next((s.id for s in turn.staff_for(service) if s.key == staff_key), None)
    return SlotQuery(
        service_id=service.id,
        start=datetime.fromisoformat(when["start"]),
        end=datetime.fromisoformat(when["end"]),
        staff_id=staff_id,
        customer_id=turn.customer.id,
        target=datetime.fromisoformat(when["target"]) if when.get("target") else None,
        daily=tuple(when["daily"]) if when.get("daily") else None,
    )


def _limit(turn: Turn) -> int:
    # SMS and WhatsApp show options as numbered text: keep the message short.
    return 3 if turn.inbound.channel in (SMS, WHATSAPP) else 5


def _offer(turn: Turn, service: Service) -> None:
    when = _when(turn)
    assert when is not None
    query = _query(turn, service, when)
    if when.get("exact"):
        slot = _exact_fit(turn, query)
        if slot is not None:
            _hold(turn, slot)
            return
        near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
        lead = f"Sorry, {turn.when(query.start)} isn't free."
        _present(turn, near, lead + " The nearest times I have:", lead)
        return
    slots = best_slots(turn.session, query, now=turn.now, limit=_limit(turn))
    if slots:
        _present(turn, slots, f"Here's what I have for {when['label']}:", "")
        return
    near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
    lead = f"Nothing's free {when['label']}."
    waitlist = Option("waitlist", f"Waitlist for {when['label']}"[:60])
    _present(
        turn, near, lead + " The nearest times I have, or join the waitlist:", lead, [waitlist]
    )


def _exact_fit(turn: Turn, query: SlotQuery) -> Slot | None:
    staff_ids = (
        [query.staff_id]
        if query.staff_id is not None
        else [s.id for s in turn.staff_for(_service(turn))]  # type: ignore[arg-type]
    )
    for staff_id in staff_ids:
        slot = slot_fits(turn.session, query, staff_id, now=turn.now)
        if slot is not None:
            return slot
    return None


def _present(
    turn: Turn, slots: list[Slot], lead: str, empty_lead: str, extra: list[Option] | None = None
) -> None:
    if not slots:
        if extra:
            _ask(turn, "offer", f"{empty_lead} I'm fully booked around then.".strip(), extra)
            return
        turn.forget("when")
        _ask(
            turn,
            "when",
            f"{empty_lead} I'm fully booked around then. Could another day work?".strip(),
        )
        return
    # Ranking chose which slots; people read times in order.
    offered = [
        {"id": f"slot:{i}", "start": s.start.isoformat(), "staff_id": s.staff_id}
        for i, s in enumerate(sorted(slots, key=lambda s: s.start))
    ]
    turn.set(offered=offered)
    _show_offers(turn, offered, lead, extra)


def _staff_name(turn: Turn, staff_id: int) -> str:
    member = turn.session.get(Staff, staff_id)
    return member.name.split()[0] if member else "us"


def _label(turn: Turn, offer: dict[str, Any]) -> str:
    start = datetime.fromisoformat(offer["start"])
    return f"{turn.when(start)} with {_staff_name(turn, offer['staff_id'])}"


def _show_offers(
    turn: Turn, offered: list[dict[str, Any]], lead: str, extra: list[Option] | None = None
) -> None:
    options = [Option(o["id"], _label(turn, o)) for o in offered]
    _ask(turn, "offer", lead, [*options, *(extra or []), Option("other", "Other times")])


def _hold(turn: Turn, slot: Slot) -> None:
    service = _service(turn)
    assert service is not None
    held = hold_slot(
        turn.session,
        customer_id=turn.customer.id,
        service_id=service.id,
        start=slot.start,
        staff_id=slot.staff_id,
        now=turn.now,
    )
    if not isinstance(held, Held):
        when = _when(turn) or {}
        query = _query(turn, service, {**when, "target": slot.start.isoformat()})
        near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
        _present(turn, near, "Sorry, that time was just taken. The nearest I have:", "Sorry,")
        return
    turn.set(
        hold_id=held.hold_id,
        slot={"start": held.slot.start.isoformat(), "staff_id": held.slot.staff_id},
    )
    advance(turn)


def _ask_confirm(turn: Turn, service: Service) -> None:
    slot = turn.data["slot"]
    start = datetime.fromisoformat(slot["start"])
    lines = [
        f"{service.name} with {_staff_name(turn, slot['staff_id'])}",
        f"{turn.when(start)} ({service.duration_minutes} min)",
        f"Price: {turn.money(service.price_minor)}",
    ]
    deposit = deposit_for(turn.session, service.id)
    if deposit:
        lines.append(f"Deposit to secure it: {turn.money(deposit)}")
    if service.on_site and turn.customer.address:
        lines.append(f"At: {turn.customer.address}")
    if turn.data.get("attendee"):
        lines.append(f"For: {turn.data['attendee']}")
    name = turn.customer.name or ""
    lead = f"{name.split()[0]}, shall I book this?" if name else "Shall I book this?"
    _ask(
        turn,
        "confirm",
        lead + "\n" + "\n".join(lines),
        [Option("yes", "Yes, book it"), Option("other", "Other times"), NO_THANKS],
    )


# --- taking answers ----------------------------------------------------------------------


def _take_option(turn: Turn, option: str) -> bool:
    if option.startswith("svc:"):
        turn.set(service=option[4:])
        turn.forget("service_choices")
        _drop_slot(turn)
        advance(turn)
        return True
    if option.startswith("staff:"):
        turn.set(staff=option[6:])
        _drop_slot(turn)
        advance(turn)
        return True
    if option == "other":
        _drop_slot(turn)
        turn.forget("when")
        advance(turn)
        return True
    if option == "waitlist":
        _join_waitlist(turn)
        return True
    if option == "yes" and turn.conversation.step == "confirm":
        _book(turn)
        return True
    if option.startswith("slot:") and turn.conversation.step == "offer":
        return _take_pick(turn, "", option)
    return False


def _join_waitlist(turn: Turn) -> None:
    service, when = _service(turn), _when(turn)
    if service is None or when is None:
        advance(turn)
        return
    query = _query(turn, service, when)
    join_waitlist(
        turn.session,
        turn.customer.id,
        service.id,
        query.start,
        query.end,
        query.staff_id,
        now=turn.now,
    )
    turn.idle()
    turn.say(
        f"You're on the waitlist for a {service.name.lower()} {when['label']}. "
        "If a time opens up I'll message you here, first come first served."
    )


def _take_service_choice(turn: Turn, text: str) -> bool:
    choices = turn.data.get("service_choices")
    if not choices:
        return False
    pool = [s for s in turn.services() if s.key in choices]
    picked = pick_option(text, [Offered(id=s.key, label=s.name) for s in pool])
    if picked is None:
        return False
    turn.set(service=picked.id)
    turn.forget("service_choices")
    absorb(turn, text)
    advance(turn)
    return True


def _take_pick(turn: Turn, text: str, option_id: str | None = None) -> bool:
    offered = turn.data.get("offered") or []
    choices = [
        Offered(id=o["id"], label=_label(turn, o), start=datetime.fromisoformat(o["start"]))
        for o in offered
    ]
    picked = pick_option(text, choices, option_id=option_id, zone=turn.business.zone)
    if picked is None:
        return False
    chosen = next(o for o in offered if o["id"] == picked.id)
    start = datetime.fromisoformat(chosen["start"])
    service = _service(turn)
    assert service is not None
    _hold(
        turn,
        Slot(start, start + timedelta(minutes=service.duration_minutes), chosen["staff_id"]),
    )
    return True


def _take_yes_no(turn: Turn, text: str) -> bool:
    answer = yes_no(text)
    if answer is True:
        _book(turn)
        return True
    if answer is False and not absorb(turn, text):
        _drop_slot(turn)
        turn.forget("when")
        turn.set(trail=[t for t in turn.data.get("trail", []) if t != "confirm"])
        _ask(turn, "when", "No problem. What other day or time would suit you?")
        return True
    return False


def _take_name(turn: Turn, text: str) -> None:
    name = clean_display_name(extract_name(text) or clean_name(text))
    if name is None:
        turn.say("Sorry, what name should I put the booking under?")
        return
    turn.customer.name = name
    advance(turn)


def _take_address(turn: Turn, text: str) -> None:
    problems = address_problems(text)
    if problems:
        missing = " and ".join(problems)
        turn.say(f"I need {missing} too. What's the full address?")
        return
    turn.customer.address = text.strip()[:500]
    advance(turn)


def _take_notes(turn: Turn, text: str) -> None:
    answer = yes_no(text)
    turn.idle()
    if answer is False or not text.strip():
        turn.say("All set. See you then!")
        return
    if answer is True:
        turn.say("Go ahead, what should we know?")
        turn.go("book", "notes", trail=[])
        return
    note = text.strip()[:1000]
    turn.customer.notes = f"{turn.customer.notes}\n{note}".strip() if turn.customer.notes else note
    turn.say("Thanks, I've noted that for the team.")


def _back(turn: Turn) -> None:
    trail = list(turn.data.get("trail", []))
    if trail:
        trail.pop()  # the question we are on
    previous = trail.pop() if trail else "service"
    turn.set(trail=trail)
    clear = {"service": ("service", "staff", "when"), "staff": ("staff",), "when": ("when",)}
    for key in clear.get(previous, ()):
        turn.forget(key)
    if previous in ("offer", "when", "staff", "service", "confirm"):
        _drop_slot(turn)
    if previous == "name":
        turn.customer.name = None
    if previous == "offer" and turn.data.get("when"):
        service = _service(turn)
        if service is not None:
            _offer(turn, service)
            return
    advance(turn)


def _not_understood(turn: Turn) -> None:
    from conversations import faq

    if faq.answer(turn, turn.inbound.text or ""):
        advance(turn, again=True)
        return
    step = turn.conversation.step
    hints = {
        "offer": "Pick one of the times by number, or say another day.",
        "confirm": 'Reply "yes" to book it, or tell me another time.',
        "when": 'Tell me a day and time, like "tomorrow at 3" or "Saturday morning".',
        "staff": "Tell me who you'd like, or say anyone.",
        "service": "Tell me which service, or pick one below.",
    }
    turn.say("Sorry, I didn't get that. " + hints.get(step, ""))
    advance(turn, again=True)


def _book(turn: Turn) -> None:
    service = _service(turn)
    hold_id = turn.data.get("hold_id")
    if service is None or hold_id is None:
        advance(turn)
        return
    deposit = deposit_for(turn.session, service.id)
    outcome = book_hold(
        turn.session,
        hold_id,
        now=turn.now,
        status=AWAITING_DEPOSIT if deposit else BOOKED,
        actor="customer",
    )
    if not isinstance(outcome, Booked):
        turn.forget("hold_id")
        slot = turn.data.get("slot") or {}
        when = {**(_when(turn) or {}), "target": slot.get("start")}
        turn.forget("slot")
        query = _query(turn, service, when)
        near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
        _present(turn, near, "Sorry, that time was just taken. The nearest I have:", "Sorry,")
        return
    appointment = outcome.appointment
    appointment.attendee = turn.data.get("attendee")
    first_visit = not turn.customer.notes and _is_first_booking(turn)
    turn.idle()
    staff = _staff_name(turn, appointment.staff_id)
    what = f"{service.name} with {staff}, {turn.when(appointment.starts_at)}"
    if deposit:
        request = ask_for_deposit(turn, appointment)
        hours = round((request.due_at - turn.now).total_seconds() / 3600) if request else 24
        turn.say(
            f"Almost done: {what} is held for you. Please pay the {turn.money(deposit)} "
            f"deposit within {hours} hours to confirm it; I've sent you the link."
        )
    elif not _confirmed_here(turn, appointment.id):
        # The confirmation (with its .ics) went to another channel: say so here.
        turn.say(f"You're booked: {what}. Your confirmation is on its way.")
    if first_visit:
        turn.go("book", "notes", trail=[])
        turn.say(
            "Anything we should know before your visit, like allergies? Just reply here, or say no."
        )


def _confirmed_here(turn: Turn, appointment_id: int) -> bool:
    """Whether bot.notify queued the booking confirmation to this very chat."""
    return (
        turn.session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.purpose == CONFIRMATION,
                OutboxMessage.ref_id == appointment_id,
                OutboxMessage.channel == turn.inbound.channel,
                OutboxMessage.address == turn.inbound.sender,
            )
        )
        is not None
    )


def _is_first_booking(turn: Turn) -> bool:
    from sqlalchemy import func, select

    from storage.models import Appointment

    count = turn.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.customer_id == turn.customer.id)
    )
    return (count or 0) <= 1

"""The manage dialogue: list upcoming appointments, reschedule, cancel, show history.

Rescheduling keeps the old appointment until the new time is booked (the booking service
moves it atomically), so a customer who wanders off mid-way loses nothing. Cancelling
explains the cut-off policy when it is too late and asks for a reason when it is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.availability import SlotQuery, best_slots, nearest_slots
from bot.booking import TOO_LATE, Booked, Changed, cancel, history, reschedule, upcoming
from bot.messages import SMS, WHATSAPP, Option
from conversations.turn import Turn
from conversations.understand import Intent, Offered, pick_option, primary_intent, yes_no
from conversations.when import When, parse_when
from storage.models import Appointment


def _describe(turn: Turn, appointment: Appointment) -> str:
    who = appointment.staff.name.split()[0]
    return f"{appointment.service.name} with {who}, {turn.when(appointment.starts_at)}"


def _upcoming(turn: Turn) -> list[Appointment]:
    return upcoming(turn.session, turn.customer.id, now=turn.now)


def show_upcoming(turn: Turn) -> None:
    """List the customer's upcoming appointments with what they can do about each."""
    items = _upcoming(turn)
    turn.idle()
    if not items:
        turn.say(
            "You have no upcoming appointments. Would you like to book one?",
            [Option("book", "Book an appointment")],
        )
        _mention_history(turn)
        return
    lines = [f"{i}. {_describe(turn, a)}" for i, a in enumerate(items, 1)]
    options: list[Option] = []
    for i, a in enumerate(items[:3], 1):
        suffix = f" {i}" if len(items) > 1 else ""
        options += [
            Option(f"appt:{a.id}:move", f"Reschedule{suffix}"),
            Option(f"appt:{a.id}:cancel", f"Cancel{suffix}"),
        ]
    heading = "Your upcoming appointment:" if len(items) == 1 else "Your upcoming appointments:"
    turn.say(heading + "\n" + "\n".join(lines), options)
    _mention_history(turn)


def _mention_history(turn: Turn) -> None:
    past = history(turn.session, turn.customer.id, now=turn.now)
    if not past:
        return
    counts: dict[str, int] = {}
    for a in past:
        counts[a.status] = counts.get(a.status, 0) + 1
    words = {
        "completed": "visit",
        "cancelled": "cancelled",
        "no_show": "missed",
    }
    parts = [
        f"{n} {words.get(s, s.replace('_', ' '))}{'s' if n > 1 and s == 'completed' else ''}"
        for s, n in counts.items()
    ]
    last = next((a for a in past if a.status == "completed"), None)
    text = "History: " + ", ".join(parts) + "."
    if last is not None:
        text += f" Last visit: {last.service.name}, {turn.day(last.starts_at)}."
    turn.say(text)


def handle_option(turn: Turn, option: str) -> None:
    """A button from the appointment list: `appt:<id>:move` or `appt:<id>:cancel`."""
    _, raw_id, action = (option.split(":") + ["", ""])[:3]
    mine = {a.id: a for a in _upcoming(turn)}
    appointment = mine.get(int(raw_id)) if raw_id.isdigit() else None
    if appointment is None:
        turn.say("That appointment isn't one of your upcoming ones any more.")
        show_upcoming(turn)
        return
    if action == "move":
        _ask_when(turn, appointment)
    else:
        _ask_reason(turn, appointment)


def _choose(turn: Turn, action: str, text: str = "") -> Appointment | None:
    """The appointment the customer means, or ask which (returns None while asking)."""
    items = _upcoming(turn)
    if not items:
        turn.idle()
        turn.say("You have no upcoming appointments.", [Option("book", "Book an appointment")])
        return None
    if len(items) == 1:
        return items[0]
    turn.go("manage", f"choose_{action}", ids=[a.id for a in items])
    verb = "move" if action == "move" else "cancel"
    turn.say(
        f"Which one would you like to {verb}?",
        [Option(f"pick:{a.id}", _describe(turn, a)) for a in items[:8]],
    )
    return None


def start_reschedule(turn: Turn, text: str = "") -> None:
    """Entry point: "move my appointment (to friday)"."""
    appointment = _choose(turn, "move", text)
    if appointment is not None:
        _ask_when(turn, appointment, text)


def start_cancel(turn: Turn) -> None:
    """Entry point: "cancel my appointment"."""
    appointment = _choose(turn, "cancel")
    if appointment is not None:
        _ask_reason(turn, appointment)


def start_for(turn: Turn, appointment_id: int, action: str) -> None:
    """Start rescheduling or cancelling a known appointment (from a reminder reply)."""
    appointment = next((a for a in _upcoming(turn) if a.id == appointment_id), None)
    if appointment is None:
        turn.say("That appointment has already changed.")
        show_upcoming(turn)
    elif action == "move":
        _ask_when(turn, appointment)
    else:
        _ask_reason(turn, appointment)


def _ask_when(turn: Turn, appointment: Appointment, text: str = "") -> None:
    turn.go("manage", "move_when", appointment=appointment.id)
    when = parse_when(text, turn.now.astimezone(turn.business.zone)) if text else None
    if when is not None:
        _offer(turn, appointment, when)
        return
    turn.say(
        f"Moving {_describe(turn, appointment)}. When would suit you instead? "
        "Your current time stays booked until we find a new one."
    )


def _offer(turn: Turn, appointment: Appointment, when: When) -> None:
    label = when.label
    query = SlotQuery(
        service_id=appointment.service_id,
        start=when.start,
        end=when.end,
        staff_id=appointment.staff_id,
        customer_id=turn.customer.id,
        target=when.target,
        ignore_appointment_id=appointment.id,
        daily=when.daily,
    )
    limit = 3 if turn.inbound.channel in (SMS, WHATSAPP) else 5
    slots = best_slots(turn.session, query, now=turn.now, limit=limit)
    lead = f"Here's what {appointment.staff.name.split()[0]} has {label}:"
    if not slots:
        slots = nearest_slots(turn.session, query, now=turn.now, limit=limit)
        lead = f"Nothing's free {label}. The nearest times:"
    if not slots:
        turn.say("I'm fully booked around then. Could another day work?")
        return
    offered = [
        {"id": f"slot:{i}", "start": s.start.isoformat(), "staff_id": s.staff_id}
        for i, s in enumerate(sorted(slots, key=lambda s: s.start))
    ]
    turn.go("manage", "move_pick", appointment=appointment.id, offered=offered)
    turn.say(
        lead, [Option(o["id"], turn.when(datetime.fromisoformat(o["start"]))) for o in offered]
    )


def _ask_reason(turn: Turn, appointment: Appointment) -> None:
    cutoff = timedelta(hours=turn.business.context.rules.cancellation_cutoff_hours)
    if appointment.starts_at - turn.now < cutoff:
        turn.idle()
        hours = turn.business.context.rules.cancellation_cutoff_hours
        turn.say(
            f"{_describe(turn, appointment)} is less than {hours} hours away, so it can't be "
            "cancelled here. I can pass you to the team, who can help.",
            [
                Option("human", "Talk to a person"),
                Option(f"appt:{appointment.id}:move", "Reschedule"),
            ],
        )
        return
    turn.go("manage", "cancel_reason", appointment=appointment.id)
    turn.say(
        f'Cancel {_describe(turn, appointment)}? If you like, tell me why (or just say "yes").',
        [Option("yes", "Yes, cancel it"), Option("keep", "No, keep it")],
    )


def reprompt(turn: Turn) -> None:
    """Ask the current question again."""
    appointment = _current(turn)
    step = turn.conversation.step
    if step.startswith("choose_"):
        _choose(turn, "move" if step == "choose_move" else "cancel")
    elif appointment is None:
        show_upcoming(turn)
    elif step == "cancel_reason":
        _ask_reason(turn, appointment)
    elif step == "move_pick":
        offered = turn.data.get("offered", [])
        turn.say(
            "Pick a time:",
            [Option(o["id"], turn.when(datetime.fromisoformat(o["start"]))) for o in offered],
        )
    else:
        _ask_when(turn, appointment)


def _current(turn: Turn) -> Appointment | None:
    appointment_id = turn.data.get("appointment")
    return turn.session.get(Appointment, appointment_id) if appointment_id else None


def handle(turn: Turn) -> None:
    """A message during the manage dialogue."""
    text = turn.inbound.text or ""
    option = turn.inbound.option_id
    step = turn.conversation.step
    intent = Intent.UNKNOWN if option else primary_intent(text)
    if intent is Intent.BACK and step in ("move_pick", "cancel_reason"):
        appointment = _current(turn)
        if appointment is not None and step == "move_pick":
            _ask_when(turn, appointment)
            return
    if step.startswith("choose_"):
        _take_choice(turn, step, text, option)
    elif step == "move_when":
        _take_when(turn, text)
    elif step == "move_pick":
        _take_pick(turn, text, option)
    elif step == "cancel_reason":
        _take_reason(turn, text, option)
    else:
        show_upcoming(turn)


def _take_choice(turn: Turn, step: str, text: str, option: str | None) -> None:
    items = {a.id: a for a in _upcoming(turn) if a.id in turn.data.get("ids", [])}
    offered = [
        Offered(id=f"pick:{a.id}", label=_describe(turn, a), start=a.starts_at)
        for a in items.values()
    ]
    picked = pick_option(text, offered, option_id=option, zone=turn.business.zone)
    if picked is None:
        turn.say("Which one? Pick by number.", [Option(o.id, o.label) for o in offered])
        return
    appointment = items[int(picked.id.split(":")[1])]
    if step == "choose_move":
        _ask_when(turn, appointment)
    else:
        _ask_reason(turn, appointment)


def _take_when(turn: Turn, text: str) -> None:
    appointment = _current(turn)
    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    if appointment is None:
        show_upcoming(turn)
        return
    if when is None:
        turn.say('Tell me a day and time, like "Thursday after 4" or "next week".')
        return
    _offer(turn, appointment, when)


def _take_pick(turn: Turn, text: str, option: str | None) -> None:
    appointment = _current(turn)
    offered = turn.data.get("offered", [])
    choices = [
        Offered(
            id=o["id"],
            label=turn.when(datetime.fromisoformat(o["start"])),
            start=datetime.fromisoformat(o["start"]),
        )
        for o in offered
    ]
    picked = pick_option(text, choices, option_id=option, zone=turn.business.zone)
    if appointment is None:
        show_upcoming(turn)
        return
    if picked is None:
        when = parse_when(text, turn.now.astimezone(turn.business.zone))
        if when is not None:
            _offer(turn, appointment, when)
            return
        turn.say("Pick one of the times by number, or tell me another day.")
        return
    start = datetime.fromisoformat(next(o["start"] for o in offered if o["id"] == picked.id))
    old = _describe(turn, appointment)
    outcome = reschedule(
        turn.session, appointment.id, new_start=start, now=turn.now, actor="customer"
    )
    if isinstance(outcome, Booked):
        turn.idle()
        turn.say(f"Done. Moved from {old.split(', ', 1)[1]} to {turn.when(start)}.")
        return
    if outcome.reason == TOO_LATE:
        turn.idle()
        turn.say(outcome.message, [Option("human", "Talk to a person")])
        return
    around = When(
        start=start - timedelta(days=1),
        end=start + timedelta(days=1),
        target=start,
        exact=False,
        label="around then",
    )
    _offer(turn, appointment, around)


def _take_reason(turn: Turn, text: str, option: str | None) -> None:
    appointment = _current(turn)
    if appointment is None:
        show_upcoming(turn)
        return
    answer = True if option == "yes" else False if option == "keep" else yes_no(text)
    if answer is False:
        turn.idle()
        turn.say(f"OK, {_describe(turn, appointment)} stays booked.")
        return
    reason = "" if answer is True or option else text.strip()[:500]
    outcome = cancel(turn.session, appointment.id, now=turn.now, reason=reason, actor="customer")
    turn.idle()
    if isinstance(outcome, Changed):
        turn.say(
            f"Cancelled: {_describe(turn, appointment)}. Hope to see you another time!",
            [Option("book", "Book another time")],
        )
    else:
        turn.say(outcome.message, [Option("human", "Talk to a person")])

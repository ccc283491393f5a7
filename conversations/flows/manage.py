"""The manage dialogue: list upcoming appointments, reschedule, cancel, show history.

Rescheduling keeps the old appointment until the new time is booked (the booking service
moves it atomically), so a customer who wanders off mid-way loses nothing. Cancelling
explains the cut-off policy when it is too late and asks for a reason when it is not.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.core.text import N_, _, t
from bot.field.places.windows import promised
from bot.messaging.messages import SMS, WHATSAPP, Option
from bot.scheduling.availability import SlotQuery, best_slots, nearest_slots, slot_fits
from bot.scheduling.booking import (
    TOO_LATE,
    Booked,
    Changed,
    cancel,
    history,
    reschedule,
    reschedule_following,
    upcoming,
)
from conversations.flows.visits import visit_point_of
from conversations.nlu.moves import asks_to_move, move_target
from conversations.nlu.understand import (
    Intent,
    Offered,
    find_services,
    pick_option,
    primary_intent,
    to_named,
    yes_no,
)
from conversations.turn import Turn
from conversations.when import When, parse_when
from storage.models import Appointment

_KEEP = Option("keep", N_("No, keep it"))
_FOLLOWING = re.compile(
    r"\b(?:all (?:of them|the (?:later|following|rest|others?))|all later|all following"
    r"|the rest|from (?:now|then) on|every (?:one|time)|all future|going forward)\b"
)
_KEEP_IT = re.compile(
    r"\b(?:leave it|keep it|keep (?:the|my) (?:old|current|original)|as (?:it )?is|don'?t move)\b"
)
# "book another one at the same time": a new booking, not a move of the one they have.
_NEW_BOOKING = re.compile(
    r"\b(?:book|another|second|also|as well|too"
    r"|my (?:son|daughter|wife|husband|partner|friend|kid|child|mum|mom|dad))\b"
)


def _describe(turn: Turn, appointment: Appointment) -> str:
    who = appointment.staff.name.split()[0]
    when = promised(appointment, turn.business.zone, turn.business.locale)  # a window if promised
    return t("{service} with {who}, {when}", service=appointment.service.name, who=who, when=when)


def _upcoming(turn: Turn) -> list[Appointment]:
    return upcoming(turn.session, turn.customer.id, now=turn.now)


def show_upcoming(turn: Turn) -> None:
    """List the customer's upcoming appointments with what they can do about each."""
    items = _upcoming(turn)
    turn.idle()
    if not items:
        turn.say(
            _("You have no upcoming appointments. Would you like to book one?"),
            [Option("book", _("Book an appointment"))],
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
    heading = (
        _("Your upcoming appointment:") if len(items) == 1 else _("Your upcoming appointments:")
    )
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
        text += t(
            " Last visit: {service}, {day}.",
            service=last.service.name,
            day=turn.day(last.starts_at),
        )
    turn.say(text)


def handle_option(turn: Turn, option: str) -> None:
    """A button from the appointment list: `appt:<id>:move` or `appt:<id>:cancel`."""
    _kind, raw_id, action = (option.split(":") + ["", ""])[:3]
    mine = {a.id: a for a in _upcoming(turn)}
    appointment = mine.get(int(raw_id)) if raw_id.isdigit() else None
    if appointment is None:
        turn.say(_("That appointment isn't one of your upcoming ones any more."))
        show_upcoming(turn)
        return
    if action == "move":
        _ask_when(turn, appointment)
    else:
        _ask_reason(turn, appointment)


def _choose(turn: Turn, action: str, text: str = "") -> Appointment | None:
    """The appointment the customer means, or ask which (returns None while asking).

    A service or a day in the message narrows the list ("cancel my facial", "move friday's"):
    when one upcoming appointment is left it is taken without asking.
    """
    items = _upcoming(turn)
    if not items:
        turn.idle()
        turn.say(
            _("You have no upcoming appointments."), [Option("book", _("Book an appointment"))]
        )
        return None
    narrowed, missing = _narrow(turn, items, text)
    if missing:
        turn.say(t("I can't find {missing} among your upcoming appointments.", missing=missing))
    if len(narrowed) == 1 and not missing:
        return narrowed[0]
    if len(items) == 1 and not missing:
        return items[0]
    choices = narrowed if narrowed and not missing else items
    turn.go("manage", f"choose_{action}", ids=[a.id for a in choices], request=text[:300])
    verb = "move" if action == "move" else "cancel"
    turn.say(
        t("Which one would you like to {verb}?", verb=verb),
        [Option(f"pick:{a.id}", _describe(turn, a)) for a in choices[:8]],
    )
    return None


def _narrow(
    turn: Turn, items: list[Appointment], text: str
) -> tuple[list[Appointment], str | None]:
    """The appointments a message's service or day picks out, and what it named in vain."""
    if not text:
        return items, None
    narrowed = items
    services = turn.services()
    match = find_services(text, [to_named(s) for s in services])
    keys = {match.item.key} if match.item else {c.key for c in match.candidates}
    if keys:
        named = [a for a in narrowed if a.service.key in keys]
        if not named:
            label = match.item.name if match.item else "that service"
            return [], f"a {label.lower()}" if match.item else label
        narrowed = named
    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    if when is not None and not asks_to_move(text):
        # A day named in "cancel friday's" picks the appointment; in a move it is the new day.
        days = set(when.days)
        on_day = [a for a in narrowed if a.starts_at.astimezone(turn.business.zone).date() in days]
        if on_day:
            narrowed = on_day
    return narrowed, None


def start_reschedule(turn: Turn, text: str = "") -> None:
    """Entry point: "move my appointment (to friday)"."""
    appointment = _choose(turn, "move", text)
    if appointment is not None:
        _ask_when(turn, appointment, text)


def start_cancel(turn: Turn, text: str = "") -> None:
    """Entry point: "cancel my appointment" (or "cancel my facial": just that one)."""
    appointment = _choose(turn, "cancel", text)
    if appointment is not None:
        _ask_reason(turn, appointment)


_BOOKED_ONE = re.compile(
    # "the booking" alone is the one being made ("cancel the booking"), and "I have" alone
    # is anything ("cancel, I have to work"): a booked one is "my …", "the one I have", …
    r"\b(?:my|our) (?:\w+ ){0,2}?(?:appointments?|appts?|bookings?|reservations?|visits?)\b"
    r"|\b(?:one|appointment|booking|appt) (?:i|we) (?:have|had|booked|made|got)\b"
    r"|\b(?:i|we) already (?:have|booked|made)\b|\b\w+day's\b|\b(?:existing|other) one\b"
)


def means_a_booked_one(turn: Turn, text: str) -> bool:
    """Whether a "cancel" said during a new booking is about an appointment the customer
    already has ("actually cancel my friday appointment", "cancel my beard trim")."""
    items = _upcoming(turn)
    if not items or not text:
        return False
    lowered = text.lower().replace("\u2019", "'")
    if _BOOKED_ONE.search(lowered):
        return True
    if " my " not in f" {lowered} ":
        return False
    named, missing = _narrow(turn, items, text)
    service = find_services(text, [to_named(s) for s in turn.services()]).item
    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    return missing is None and bool(named) and (service is not None or when is not None)


def start_for(turn: Turn, appointment_id: int, action: str, text: str = "") -> None:
    """Start rescheduling or cancelling a known appointment (from a reminder reply); a
    move request that names the new time ("an hour later") goes straight to proposing it."""
    appointment = next((a for a in _upcoming(turn) if a.id == appointment_id), None)
    if appointment is None:
        turn.say(_("That appointment has already changed."))
        show_upcoming(turn)
    elif action == "move":
        _ask_when(turn, appointment, text)
    else:
        _ask_reason(turn, appointment)


def reads_as_move(turn: Turn, text: str) -> bool:
    """Tell whether an idle message asks to move an appointment the customer has
    ("same time on friday instead", "push it back an hour"), rather than to book or cancel."""
    if not text or _NEW_BOOKING.search(text.lower()) or not asks_to_move(text):
        return False
    items = _upcoming(turn)
    if not items:
        return False
    # "could I come friday for a facial?" with only a haircut booked is a new booking
    named, missing = _narrow(turn, items, text)
    return bool(named) and missing is None


def _ask_when(turn: Turn, appointment: Appointment, text: str = "") -> None:
    turn.go("manage", "move_when", appointment=appointment.id)
    if text and _read_move(turn, appointment, text):
        return
    turn.say(
        t(
            "Moving {describe}. When would suit you instead? Your current time stays booked until we find a new one.",
            describe=_describe(turn, appointment),
        )
    )


def _read_move(turn: Turn, appointment: Appointment, text: str) -> bool:
    """Act on the new time a message names: propose an exact one, offer from a window."""
    zone = turn.business.zone
    target = move_target(text, appointment.starts_at.astimezone(zone), turn.now.astimezone(zone))
    if target is None:
        return False
    if target.start is not None:
        _propose(turn, appointment, target.start)
    elif target.window is not None:
        _offer(turn, appointment, target.window)
    return True


def _confirm_options(appointment: Appointment) -> list[Option]:
    """Yes / other times / keep; for a series occurrence also "this and all later ones"."""
    if appointment.series_id is None:
        return [
            Option("yes", _("Yes, move it")),
            Option("other", _("Other times")),
            Option(_KEEP.id, _(_KEEP.label)),
        ]
    return [
        Option("yes", _("Just this one")),
        Option("following", _("This and all later ones")),
        Option("other", _("Other times")),
        Option(_KEEP.id, _(_KEEP.label)),
    ]


def _propose(turn: Turn, appointment: Appointment, start: datetime) -> None:
    """Ask before moving to exactly `start` (weekday and date named); nearby times if taken."""
    if start == appointment.starts_at:
        turn.go("manage", "move_when", appointment=appointment.id)
        turn.say(
            t(
                "That's the time you already have: {describe}. When would suit you instead?",
                describe=_describe(turn, appointment),
            )
        )
        return
    query = SlotQuery(
        service_id=appointment.service_id,
        start=start,
        end=start + timedelta(minutes=1),
        staff_id=appointment.staff_id,
        customer_id=turn.customer.id,
        target=start,
        ignore_appointment_id=appointment.id,
        place=visit_point_of(appointment),
    )
    if slot_fits(turn.session, query, appointment.staff_id, now=turn.now):
        turn.go("manage", "move_confirm", appointment=appointment.id, start=start.isoformat())
        turn.say(
            t(
                "Move {describe} to {when}?",
                describe=_describe(turn, appointment),
                when=turn.when(start),
            ),
            _confirm_options(appointment),
        )
        return
    who = appointment.staff.name.split()[0]
    around = When(
        start=start - timedelta(days=1),
        end=start + timedelta(days=1),
        target=start,
        exact=False,
        label=t("around {when}", when=turn.when(start)),
    )
    turn.say(t("{who} isn't free at {when}.", who=who, when=turn.when(start)))
    _offer(turn, appointment, around)


def _offer(turn: Turn, appointment: Appointment, when: When) -> None:
    label = turn.window(when.label, when.start)  # "Fri, Dec 4, after 3:00 PM"
    query = SlotQuery(
        service_id=appointment.service_id,
        start=when.start,
        end=when.end,
        staff_id=appointment.staff_id,
        customer_id=turn.customer.id,
        target=when.target,
        ignore_appointment_id=appointment.id,
        daily=when.daily,
        place=visit_point_of(appointment),
    )
    limit = 3 if turn.inbound.channel in (SMS, WHATSAPP) else 5
    slots = best_slots(turn.session, query, now=turn.now, limit=limit)
    lead = t(
        "Here's what {staff} has {label}:", staff=appointment.staff.name.split()[0], label=label
    )
    if not slots:
        slots = nearest_slots(turn.session, query, now=turn.now, limit=limit)
        lead = t("Nothing's free {label}. The nearest times:", label=label)
    if not slots:
        turn.say(_("I'm fully booked around then. Could another day work?"))
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
    cutoff = timedelta(hours=turn.business.rules.cancellation_cutoff_hours)
    if appointment.starts_at - turn.now < cutoff:
        turn.idle()
        hours = turn.business.rules.cancellation_cutoff_hours
        turn.say(
            t(
                "{describe} is less than {hours} hours away, so it can't be cancelled here. I can pass you to the team, who can help.",
                describe=_describe(turn, appointment),
                hours=hours,
            ),
            [
                Option("human", _("Talk to a person")),
                Option(f"appt:{appointment.id}:move", _("Reschedule")),
            ],
        )
        return
    turn.go("manage", "cancel_reason", appointment=appointment.id)
    turn.say(
        t(
            'Cancel {describe}? If you like, tell me why (or just say "yes").',
            describe=_describe(turn, appointment),
        ),
        [Option("yes", _("Yes, cancel it")), Option("keep", _("No, keep it"))],
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
    elif step == "move_confirm":
        start = datetime.fromisoformat(turn.data["start"])
        turn.say(
            t(
                "Move {describe} to {when}?",
                describe=_describe(turn, appointment),
                when=turn.when(start),
            ),
            _confirm_options(appointment),
        )
    elif step == "move_pick":
        offered = turn.data.get("offered", [])
        turn.say(
            _("Pick a time:"),
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
    if intent is Intent.BACK and step in ("move_pick", "move_confirm", "cancel_reason"):
        appointment = _current(turn)
        if appointment is not None and step in ("move_pick", "move_confirm"):
            _ask_when(turn, appointment)
            return
    if step.startswith("choose_"):
        _take_choice(turn, step, text, option)
    elif step == "move_when":
        _take_when(turn, text)
    elif step == "move_pick":
        _take_pick(turn, text, option)
    elif step == "move_confirm":
        _take_confirm(turn, text, option)
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
        turn.say(_("Which one? Pick by number."), [Option(o.id, o.label) for o in offered])
        return
    appointment = items[int(picked.id.split(":")[1])]
    if step == "choose_move":
        _ask_when(turn, appointment, turn.data.get("request", ""))
    else:
        _ask_reason(turn, appointment)


def _take_when(turn: Turn, text: str) -> None:
    appointment = _current(turn)
    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    if appointment is None:
        show_upcoming(turn)
        return
    if _read_move(turn, appointment, text):
        return
    if when is None:
        turn.say(_('Tell me a day and time, like "Thursday after 4" or "next week".'))
        return
    _offer(turn, appointment, when)


def _take_confirm(turn: Turn, text: str, option: str | None) -> None:
    """The answer to "Move … to …?": yes moves it, no keeps it, another time re-proposes."""
    appointment = _current(turn)
    if appointment is None:
        show_upcoming(turn)
        return
    start = datetime.fromisoformat(turn.data["start"])
    if option == "other":
        _ask_when(turn, appointment)
        return
    if appointment.series_id is not None and (
        option == "following" or (option is None and _FOLLOWING.search(text.lower()))
    ):
        _move_following(turn, appointment, start)
        return
    answer = True if option == "yes" else False if option == "keep" else None
    if answer is None and _KEEP_IT.search(text.lower()):
        answer = False
    if answer is None and not _read_move(turn, appointment, text):
        answer = yes_no(text)
    elif answer is None:
        return  # a new time was named and proposed
    if answer is None:
        turn.say(_("Shall I move it? Yes or no, or tell me another time."))
        return
    if answer is False:
        turn.idle()
        turn.say(t("OK, {describe} stays booked.", describe=_describe(turn, appointment)))
        return
    _move(turn, appointment, start)


def _move_following(turn: Turn, appointment: Appointment, start: datetime) -> None:
    """Move this occurrence and every later one of its series the same way."""
    old = turn.when(appointment.starts_at)
    result = reschedule_following(
        turn.session, appointment.id, new_start=start, now=turn.now, actor="customer"
    )
    turn.idle()
    text = t(
        "Done. Moved {count} appointments, from {old} to {when} onwards.",
        count=len(result.booked),
        old=old,
        when=turn.when(start),
    )
    if result.conflicts:
        missed = ", ".join(turn.when(c.start) for c in result.conflicts[:3])
        text += t(
            " {count} could not be moved (not free): {missed}.",
            count=len(result.conflicts),
            missed=missed,
        )
    turn.say(text)


def _move(turn: Turn, appointment: Appointment, start: datetime) -> None:
    """Move the appointment to a start the customer accepted, or offer what is near."""
    old = _describe(turn, appointment)
    outcome = reschedule(
        turn.session, appointment.id, new_start=start, now=turn.now, actor="customer"
    )
    if isinstance(outcome, Booked):
        turn.idle()
        turn.say(
            t("Done. Moved from {old} to {when}.", old=old.split(", ", 1)[1], when=turn.when(start))
        )
        return
    if outcome.reason == TOO_LATE:
        turn.idle()
        turn.say(outcome.message, [Option("human", _("Talk to a person"))])
        return
    around = When(
        start=start - timedelta(days=1),
        end=start + timedelta(days=1),
        target=start,
        exact=False,
        label="around then",
    )
    _offer(turn, appointment, around)


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
        if _read_move(turn, appointment, text):
            return
        turn.say(_("Pick one of the times by number, or tell me another day."))
        return
    start = datetime.fromisoformat(next(o["start"] for o in offered if o["id"] == picked.id))
    _move(turn, appointment, start)


def _take_reason(turn: Turn, text: str, option: str | None) -> None:
    appointment = _current(turn)
    if appointment is None:
        show_upcoming(turn)
        return
    answer = True if option == "yes" else False if option == "keep" else yes_no(text)
    if answer is False:
        turn.idle()
        turn.say(t("OK, {describe} stays booked.", describe=_describe(turn, appointment)))
        return
    reason = "" if answer is True or option else text.strip()[:500]
    outcome = cancel(turn.session, appointment.id, now=turn.now, reason=reason, actor="customer")
    turn.idle()
    if isinstance(outcome, Changed):
        turn.say(
            t(
                "Cancelled: {describe}. Hope to see you another time!",
                describe=_describe(turn, appointment),
            ),
            [Option("book", _("Book another time"))],
        )
    else:
        turn.say(outcome.message, [Option("human", _("Talk to a person"))])

"""The manage dialogue: list upcoming appointments, reschedule, cancel, show history.

Rescheduling keeps the old appointment until the new time is booked (the booking service
moves it atomically), so a customer who wanders off mid-way loses nothing. Cancelling
explains the cut-off policy when it is too late and asks for a reason when it is not.

The change under way is a typed draft (conversations.flows.manage_draft) and the questions
are a table, `STEPS` (conversations.flows.steps): which appointment → when → the times
offered → the proposal → done, or which appointment → the reason → done. Every message is
read first for a question in passing (answered, then the question asked again), then by
the current step's own reading (a button, a pick, yes/no), then for a new time at any step
of a move (`_fill`), then by the step's fallback; the question asked next is the first one
the draft still leaves open. "go back" returns to the question asked before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
from conversations.flows import faq
from conversations.flows.draft import Offer
from conversations.flows.manage_draft import Action, ManageDraft, manage_draft_of
from conversations.flows.steps import Question, Step, Steps
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
# "I can't make it": at the cancel question a reason to cancel, not a "no".
_CANT_COME = re.compile(
    r"\b(?:can'?t|cannot|won'?t|couldn'?t|not able to|unable to)\b(?: \w+){0,3}? "
    r"(?:make it|come|attend|be there|go)\b"
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


# --- starting a change ------------------------------------------------------------------------


def _begin(turn: Turn, action: Action, request: str = "") -> ManageDraft:
    """A fresh draft for a new change (whatever change was under way is dropped)."""
    if turn.conversation.flow == "manage":
        turn.idle()
    turn.go("manage", "start")
    draft = manage_draft_of(turn)
    draft.action = action
    draft.request = request[:300]
    return draft


def handle_option(turn: Turn, option: str) -> None:
    """A button from the appointment list: `appt:<id>:move` or `appt:<id>:cancel`."""
    _kind, raw_id, action = (option.split(":") + ["", ""])[:3]
    mine = {a.id: a for a in _upcoming(turn)}
    appointment = mine.get(int(raw_id)) if raw_id.isascii() and raw_id.isdigit() else None
    if appointment is None:
        turn.say(_("That appointment isn't one of your upcoming ones any more."))
        show_upcoming(turn)
        return
    draft = _begin(turn, Action.MOVE if action == "move" else Action.CANCEL)
    draft.appointment = appointment.id
    _next(turn, draft)


def _choose(turn: Turn, draft: ManageDraft, text: str = "") -> bool:
    """Take the appointment the customer means, or list the ones to choose from; False
    (and idle) when they have none.

    A service or a day in the message narrows the list ("cancel my facial", "move friday's"):
    when one upcoming appointment is left it is taken without asking.
    """
    items = _upcoming(turn)
    if not items:
        turn.idle()
        turn.say(
            _("You have no upcoming appointments."), [Option("book", _("Book an appointment"))]
        )
        return False
    narrowed, missing = _narrow(turn, items, text)
    if missing:
        turn.say(t("I can't find {missing} among your upcoming appointments.", missing=missing))
    if len(narrowed) == 1 and not missing:
        draft.appointment = narrowed[0].id
    elif len(items) == 1 and not missing:
        draft.appointment = items[0].id
    else:
        draft.choices = [a.id for a in (narrowed if narrowed and not missing else items)]
    return True


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
    draft = _begin(turn, Action.MOVE, text)
    if not _choose(turn, draft, text):
        return
    appointment = _current(turn, draft)
    if appointment is not None and text:
        _read_move(turn, draft, appointment, text)
    _next(turn, draft)


def start_cancel(turn: Turn, text: str = "") -> None:
    """Entry point: "cancel my appointment" (or "cancel my facial": just that one)."""
    draft = _begin(turn, Action.CANCEL, text)
    if _choose(turn, draft, text):
        _next(turn, draft)


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
        return
    draft = _begin(turn, Action.MOVE if action == "move" else Action.CANCEL)
    draft.appointment = appointment.id
    if draft.action is Action.MOVE and text:
        _read_move(turn, draft, appointment, text)
    _next(turn, draft)


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


# --- filling the draft: a new time, proposed or offered ----------------------------------------


def _read_move(turn: Turn, draft: ManageDraft, appointment: Appointment, text: str) -> bool:
    """Act on the new time a message names: propose an exact one, offer from a window."""
    zone = turn.business.zone
    target = move_target(text, appointment.starts_at.astimezone(zone), turn.now.astimezone(zone))
    if target is None:
        return False
    if target.start is not None:
        _propose(turn, draft, appointment, target.start)
    elif target.window is not None:
        _offer(turn, draft, appointment, target.window)
    return True


def _propose(turn: Turn, draft: ManageDraft, appointment: Appointment, start: datetime) -> None:
    """Propose exactly `start` (asked for at move_confirm); nearby times if it is taken."""
    draft.start, draft.offered = None, []
    if start == appointment.starts_at:
        draft.lead = t(
            "That's the time you already have: {describe}. When would suit you instead?",
            describe=_describe(turn, appointment),
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
        draft.start = start
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
    _offer(turn, draft, appointment, around)


def _offer(turn: Turn, draft: ManageDraft, appointment: Appointment, when: When) -> None:
    """List the staff member's free times in `when` (the nearest ones when none are)."""
    draft.start, draft.offered = None, []
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
    draft.lead = t(
        "Here's what {staff} has {label}:", staff=appointment.staff.name.split()[0], label=label
    )
    if not slots:
        slots = nearest_slots(turn.session, query, now=turn.now, limit=limit)
        draft.lead = t("Nothing's free {label}. The nearest times:", label=label)
    if not slots:
        draft.lead = _("I'm fully booked around then. Could another day work?")
        return
    draft.offered = [
        Offer(id=f"slot:{i}", start=s.start, staff_id=s.staff_id)
        for i, s in enumerate(sorted(slots, key=lambda s: s.start))
    ]


def _fill(turn: Turn, draft: ManageDraft, text: str) -> bool:
    """At any step of a move, a message naming a new time ("friday at 2 instead", "an hour
    later") proposes or offers it; one that asks to cancel instead ("actually just cancel
    it") makes the change a cancellation."""
    appointment = _current(turn, draft)
    if draft.action is not Action.MOVE or appointment is None or not text:
        return False
    if _read_move(turn, draft, appointment, text):
        return True
    if primary_intent(text) is Intent.CANCEL:
        draft.action, draft.start, draft.offered, draft.lead = Action.CANCEL, None, [], None
        return True
    return False


# --- the steps: what each asks, what answers it -----------------------------------------------


def _ask_choice(turn: Turn, draft: ManageDraft) -> Question:
    """Which one would you like to move / cancel? (the upcoming ones as buttons)"""
    verb = "move" if draft.action is Action.MOVE else "cancel"
    return Question(
        t("Which one would you like to {verb}?", verb=verb), tuple(_choice_options(turn, draft))
    )


def _choice_options(turn: Turn, draft: ManageDraft) -> list[Option]:
    mine = {a.id: a for a in _upcoming(turn)}
    chosen = [mine[i] for i in draft.choices if i in mine]
    return [Option(f"pick:{a.id}", _describe(turn, a)) for a in chosen[:8]]


def _read_choice(turn: Turn, draft: ManageDraft, text: str, option: str | None) -> bool:
    """One of the listed appointments, by button, number, day or time; for a move, the
    request's own new time ("…to friday") is read next."""
    mine = {a.id: a for a in _upcoming(turn) if a.id in draft.choices}
    offered = [
        Offered(id=f"pick:{a.id}", label=_describe(turn, a), start=a.starts_at)
        for a in mine.values()
    ]
    picked = pick_option(text, offered, option_id=option, zone=turn.business.zone)
    if picked is None:
        return False
    appointment = mine[int(picked.id.split(":")[1])]
    draft.appointment = appointment.id
    if draft.action is Action.MOVE and draft.request:
        _read_move(turn, draft, appointment, draft.request)
    return True


def _undo_choice(turn: Turn, draft: ManageDraft) -> None:
    """The appointment chosen is forgotten: "which one?" again."""
    draft.appointment, draft.start, draft.offered = None, None, []


def _ask_when(turn: Turn, draft: ManageDraft) -> Question:
    """Moving <appointment>. When would suit you instead? (or why the last time would not do)"""
    lead, draft.lead = draft.lead, None
    appointment = _current(turn, draft)
    if lead is not None or appointment is None:
        return Question(lead or "")
    return Question(
        t(
            "Moving {describe}. When would suit you instead? Your current time stays booked until we find a new one.",
            describe=_describe(turn, appointment),
        )
    )


def _read_window(turn: Turn, draft: ManageDraft, text: str, option: str | None) -> bool:
    """A day or a window ("next week", "thursday afternoon"): its free times are listed."""
    appointment = _current(turn, draft)
    when = parse_when(text, turn.now.astimezone(turn.business.zone)) if text else None
    if appointment is None or when is None:
        return False
    _offer(turn, draft, appointment, when)
    return True


def _undo_time(turn: Turn, draft: ManageDraft) -> None:
    """The new time and the times offered are forgotten: "when instead?" again."""
    draft.start, draft.offered, draft.lead = None, [], None


def _ask_pick(turn: Turn, draft: ManageDraft) -> Question:
    """Here's what <staff> has <day or window>: (the free times as buttons)"""
    lead, draft.lead = draft.lead, None
    return Question(lead or _("Pick a time:"), tuple(_time_options(turn, draft)))


def _ask_pick_again(turn: Turn, draft: ManageDraft) -> Question:
    """Pick a time: (the same buttons)"""
    draft.lead = None
    return Question(_("Pick a time:"), tuple(_time_options(turn, draft)))


def _time_options(turn: Turn, draft: ManageDraft) -> list[Option]:
    return [Option(o.id, turn.when(o.start)) for o in draft.offered]


def _read_pick(turn: Turn, draft: ManageDraft, text: str, option: str | None) -> bool:
    """One of the times listed, by button, number or time: moved at once."""
    choices = [Offered(id=o.id, label=turn.when(o.start), start=o.start) for o in draft.offered]
    picked = pick_option(text, choices, option_id=option, zone=turn.business.zone)
    offer = draft.offer(picked.id) if picked is not None else None
    appointment = _current(turn, draft)
    if offer is None or appointment is None:
        return False
    _move(turn, draft, appointment, offer.start)
    return True


def _undo_pick(turn: Turn, draft: ManageDraft) -> None:
    """The time picked is forgotten: the same list again."""
    draft.start, draft.lead = None, None


def _ask_confirm(turn: Turn, draft: ManageDraft) -> Question:
    """Move <appointment> to <new time>? (Yes / Other times / No; a series: just this one or
    all later ones)"""
    appointment = _current(turn, draft)
    if appointment is None or draft.start is None:
        return Question("")
    return Question(
        t(
            "Move {describe} to {when}?",
            describe=_describe(turn, appointment),
            when=turn.when(draft.start),
        ),
        tuple(_confirm_options(appointment)),
    )


def _read_confirm(turn: Turn, draft: ManageDraft, text: str, option: str | None) -> bool:
    """A button, "keep it", or for a series "the rest too" (this and all later ones)."""
    appointment = _current(turn, draft)
    if appointment is None or draft.start is None:
        return False
    if option == "other":
        _undo_time(turn, draft)
        return True
    lowered = text.lower()
    if appointment.series_id is not None and (
        option == "following" or (option is None and _FOLLOWING.search(lowered))
    ):
        draft.following = True
        _move_following(turn, appointment, draft.start)
        return True
    if option == "yes":
        _move(turn, draft, appointment, draft.start)
        return True
    if option == _KEEP.id or (option is None and _KEEP_IT.search(lowered)):
        _keep(turn, appointment)
        return True
    return False


def _read_yes_no(turn: Turn, draft: ManageDraft, text: str, option: str | None) -> bool:
    """Yes moves it, no keeps it (after a new time named in the message, which is proposed)."""
    appointment = _current(turn, draft)
    answer = yes_no(text) if option is None else None
    if appointment is None or draft.start is None or answer is None:
        return False
    if answer:
        _move(turn, draft, appointment, draft.start)
    else:
        _keep(turn, appointment)
    return True


def _ask_reason(turn: Turn, draft: ManageDraft) -> Question | None:
    """Cancel <appointment>? If you like, tell me why (or too late: the cut-off, and a person)"""
    appointment = _current(turn, draft)
    if appointment is None:
        return None
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
        return None
    return Question(
        t(
            'Cancel {describe}? If you like, tell me why (or just say "yes").',
            describe=_describe(turn, appointment),
        ),
        (Option("yes", _("Yes, cancel it")), Option("keep", _("No, keep it"))),
    )


def _read_reason(turn: Turn, draft: ManageDraft, text: str, option: str | None) -> bool:
    """Yes cancels, no or "leave it" keeps it, a new time asked for ("could we do thursday
    instead?") makes it a move; anything else is the reason (and cancels)."""
    appointment = _current(turn, draft)
    if appointment is None:
        return False
    # "can't make it wednesday, cancel please" is still a cancellation: a move only when
    # the message asks for another time and not to cancel.
    if option is None and asks_to_move(text) and primary_intent(text) is not Intent.CANCEL:
        draft.action = Action.MOVE
        if not _read_move(turn, draft, appointment, text):
            _next(turn, draft)  # "could we reschedule instead?": a move, its time asked
        return True
    if option not in (None, "yes", _KEEP.id):
        return False  # a stale button of another question never cancels
    answer = True if option == "yes" else False if option == _KEEP.id else yes_no(text)
    if answer is None and option is None and "?" in text:
        return False  # a question is no reason: the cancel question is asked again
    if answer is False and option is None and _CANT_COME.search(text.lower()):
        answer = None  # "I can't make it, sorry": not a no to cancelling, the reason for it
    if answer is None and option is None and _KEEP_IT.search(text.lower()):
        answer = False
    if answer is False:
        _keep(turn, appointment)
        return True
    draft.reason = "" if answer is True or option else text.strip()[:500]
    outcome = cancel(
        turn.session, appointment.id, now=turn.now, reason=draft.reason, actor="customer"
    )
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
    return True


def _moving(turn: Turn, draft: ManageDraft) -> bool:
    return draft.action is Action.MOVE and draft.appointment is not None


def _cancelling(turn: Turn, draft: ManageDraft) -> bool:
    """The appointment to cancel is known: ask before cancelling it."""
    return draft.action is Action.CANCEL and draft.appointment is not None


def _no_time(turn: Turn, draft: ManageDraft) -> bool:
    """No new time yet, and no list of times to pick from."""
    return _moving(turn, draft) and draft.start is None and not draft.offered


def _listed(turn: Turn, draft: ManageDraft) -> bool:
    """Times are listed and none is picked."""
    return _moving(turn, draft) and draft.start is None and bool(draft.offered)


def _proposed(turn: Turn, draft: ManageDraft) -> bool:
    """A new time is proposed and not yet accepted."""
    return _moving(turn, draft) and draft.start is not None


def _choice_missing(action: Action) -> Callable[[Turn, ManageDraft], bool]:
    def missing(turn: Turn, draft: ManageDraft) -> bool:
        """Which appointment is not known yet."""
        return draft.action is action and draft.appointment is None

    return missing


# The manage dialogue, as data: step (the conversation's `step` while it waits) → question,
# what answers it, the hint when not understood, what going back to it undoes. Moving:
# choose_move → move_when → move_pick → move_confirm; cancelling: choose_cancel →
# cancel_reason. A new time named at any step of a move is read first (`_fill`).
STEPS: Steps[ManageDraft] = Steps(
    (
        Step(
            "choose_move",
            ask=_ask_choice,
            missing=_choice_missing(Action.MOVE),
            reads=_read_choice,
            hint=N_("Which one? Pick by number."),
            back=_undo_choice,
        ),
        Step(
            "choose_cancel",
            ask=_ask_choice,
            missing=_choice_missing(Action.CANCEL),
            reads=_read_choice,
            hint=N_("Which one? Pick by number."),
            back=_undo_choice,
        ),
        Step(
            "move_when",
            ask=_ask_when,
            missing=_no_time,
            reads_after=_read_window,
            hint=N_('Tell me a day and time, like "Thursday after 4" or "next week".'),
            back=_undo_time,
        ),
        Step(
            "move_pick",
            ask=_ask_pick,
            again=_ask_pick_again,
            missing=_listed,
            reads=_read_pick,
            hint=N_("Pick one of the times by number, or tell me another day."),
            back=_undo_pick,
        ),
        Step(
            "move_confirm",
            ask=_ask_confirm,
            missing=_proposed,
            reads=_read_confirm,
            reads_after=_read_yes_no,
            hint=N_("Shall I move it? Yes or no, or tell me another time."),
            back=_undo_time,
        ),
        Step("cancel_reason", ask=_ask_reason, missing=_cancelling, reads=_read_reason),
    )
)


# --- doing it -----------------------------------------------------------------------------


def _keep(turn: Turn, appointment: Appointment) -> None:
    turn.idle()
    turn.say(t("OK, {describe} stays booked.", describe=_describe(turn, appointment)))


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


def _move(turn: Turn, draft: ManageDraft, appointment: Appointment, start: datetime) -> None:
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
    _offer(turn, draft, appointment, around)


# --- the dialogue ---------------------------------------------------------------------------


def _current(turn: Turn, draft: ManageDraft) -> Appointment | None:
    return turn.session.get(Appointment, draft.appointment) if draft.appointment else None


def _next(turn: Turn, draft: ManageDraft, *, again: bool = False) -> None:
    """Ask the first question the draft leaves open (nothing when the change is done)."""
    if turn.conversation.flow == "manage":
        STEPS.advance(turn, draft, again=again)


def _lost(turn: Turn, draft: ManageDraft, step: Step[ManageDraft] | None) -> bool:
    """Whether the dialogue cannot go on (a step of no table, an appointment gone)."""
    if step is None or draft.action is None:
        return True
    return draft.appointment is not None and _current(turn, draft) is None


def reprompt(turn: Turn) -> None:
    """Ask the current question again."""
    draft = manage_draft_of(turn)
    if _lost(turn, draft, STEPS.get(turn.conversation.step)):
        show_upcoming(turn)
        return
    _next(turn, draft, again=True)


def handle(turn: Turn) -> None:
    """A message during the manage dialogue: the step's own reading, then a new time named
    at any step of a move, then the step's fallback; else its hint."""
    text = turn.inbound.text or ""
    option = turn.inbound.option_id
    draft = manage_draft_of(turn)
    step = STEPS.get(turn.conversation.step)
    if step is None or _lost(turn, draft, step):
        show_upcoming(turn)
        return
    if option is None and primary_intent(text) is Intent.BACK:
        _go_back(turn, draft)
        return
    if option is None and _aside(turn, draft, text):
        _next(turn, draft, again=True)  # answered; the question under way is asked again
        return
    taken = (
        (step.reads is not None and step.reads(turn, draft, text, option))
        or (option is None and _fill(turn, draft, text))
        or (step.reads_after is not None and step.reads_after(turn, draft, text, option))
    )
    if not taken:
        question = (step.again or step.ask)(turn, draft)
        turn.say(STEPS.hint(step.name), question.options if question else ())
        return
    _next(turn, draft)


# Where "go back" goes when nothing was asked before the current step (a proposal made
# straight from the request): the step before it in the table. From the others, the change
# is dropped and the appointment stays as it is.
BACK_TO = {"move_pick": "move_when", "move_confirm": "move_when"}


def _aside(turn: Turn, draft: ManageDraft, text: str) -> bool:
    """A question in passing ("how much is a haircut?", "is there a fee if I cancel?")
    answered, unless the message names a new time for the move."""
    appointment = _current(turn, draft)
    if appointment is not None and draft.action is Action.MOVE:
        zone = turn.business.zone
        local = appointment.starts_at.astimezone(zone)
        if move_target(text, local, turn.now.astimezone(zone)) is not None:
            return False
    return faq.answer(turn, text)


def _go_back(turn: Turn, draft: ManageDraft) -> None:
    """Back to the question asked before this one; from the first, the change is dropped."""
    previous = STEPS.back(turn, draft, BACK_TO.get(turn.conversation.step, ""))
    if STEPS.get(previous) is None:
        appointment = _current(turn, draft)
        if appointment is None:
            show_upcoming(turn)
        else:
            _keep(turn, appointment)
        return
    _next(turn, draft)

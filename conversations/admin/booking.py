"""The owner's booking and move by chat: "book Jane Doe 2125550123 haircut with Sam friday
at 3", "move #12 to friday at 4".

One typed draft, `OwnerBooking` (who, the service, the staff member, the appointment being
moved if it is a move, the time asked, the free time proposed, the free times offered
instead), that the first message and every follow-up fill, and a table of steps, `STEPS`:
which service → when → (not free: pick a free time) → "Book …?" / "Move …?" → done (a move
knows its service and staff from the appointment). Only a yes books or moves; a time that
is not free is said why, with free ones instead (conversations.admin.slots). At every step
the message is read for the step's own answer (a free time picked, yes or no), then —
unless it is another command — for a service, a staff member, an exact time, a phone or an
email (a move: only a time), and what changed is checked again before the next question.

The draft is stored once, under the admin conversation's "owner_booking" key (read once a
turn, written back by `Turn.save`). Conversations stored before it, waiting at the generic
"confirm" (pending action "book" / "move") or "choose" ("book_at" / "move_at") step, go on:
those actions stay registered and read the pending dict of before.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.names import clean_display_name
from bot.core.text import N_, _, t
from bot.customers import intake
from bot.messaging.messages import Option
from bot.scheduling.booking import Booked, book, reschedule
from conversations.admin import commands as admin
from conversations.admin import slots as owner_slots
from conversations.admin.commands import Actor
from conversations.flows.steps import Question, Step, Steps
from conversations.nlu.understand import (
    Intent,
    Offered,
    extract_phone,
    find_services,
    find_staff,
    normalise,
    pick_option,
    primary_intent,
    to_named,
    yes_no,
)
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import Appointment, Customer, Service, Staff

KEY = "owner_booking"  # where the draft is stored in the admin conversation's data


class OwnerBooking(BaseModel):
    """Everything the owner has said about the booking under way."""

    model_config = ConfigDict(extra="ignore")

    appointment: int | None = Field(None, description="the appointment moved (a move), else none")
    customer: int | None = Field(None, description="an existing customer, by phone, email or name")
    name: str | None = Field(None, description="the name as typed, for a new customer")
    phone: str | None = Field(None, description="a phone number typed")
    email: str | None = Field(None, description="an email typed")
    service: str | None = Field(None, description="the service's key")
    staff: str | None = Field(None, description="a staff key; none: whoever does it and is free")
    asked: datetime | None = Field(None, description="the time the owner said")
    start: datetime | None = Field(None, description="checked free and proposed, waiting for a yes")
    offered: list[datetime] = Field([], description="free times instead of the one asked")
    lead: str | None = Field(None, description="said as or before the next question (why not)")
    trail: list[str] = Field([], description='the steps asked, in order ("go back")')

    @classmethod
    def read(cls, data: dict[str, Any]) -> Self:
        """The draft stored in the admin conversation's data (a fresh one if none)."""
        stored = data.get(KEY)
        try:
            return cls.model_validate(stored if isinstance(stored, dict) else {})
        except ValidationError:
            return cls()

    @classmethod
    def of_pending(cls, pending: dict[str, Any]) -> Self:
        """A draft from the pending dict of before ("start" and "starts" as ISO strings)."""
        fields = {k: pending.get(k) for k in ("appointment", "customer", "name", "phone", "email")}
        fields |= {"service": pending.get("service"), "staff": pending.get("staff")}
        picked = str(pending.get("picked", "")).partition(":")[2]
        start = pending.get("start") or (pending.get("starts") or {}).get(picked)
        try:
            return cls.model_validate({**fields, "asked": start, "start": start})
        except ValidationError:
            return cls()

    def written(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` with this draft stored in it (none once the booking is done or dropped)."""
        out = dict(data)
        stored = self.model_dump(mode="json", exclude_defaults=True)
        if stored:
            out[KEY] = stored
        else:
            out.pop(KEY, None)
        return out

    def reset(self) -> None:
        """Forget everything (booked, or dropped for another command)."""
        for name, field in type(self).model_fields.items():
            setattr(self, name, field.get_default(call_default_factory=True))


def booking_of(turn: Turn) -> OwnerBooking:
    """The turn's owner booking draft: read once a turn, saved by the engine."""
    return turn.kept(KEY, OwnerBooking.read)


# --- filling the draft ------------------------------------------------------------------------


def _service(turn: Turn, draft: OwnerBooking) -> Service | None:
    return next((s for s in turn.services() if s.key == draft.service), None)


def _member(turn: Turn, draft: OwnerBooking) -> Staff | None:
    return next((s for s in admin._staff(turn) if s.key == draft.staff), None)


def _label(turn: Turn, draft: OwnerBooking) -> str:
    """Who the booking is for, as the questions name them."""
    customer = turn.session.get(Customer, draft.customer) if draft.customer else None
    if customer is not None and customer.name:
        return customer.name
    return draft.name or draft.phone or _("a walk-in")


def _fill(turn: Turn, draft: OwnerBooking, text: str) -> bool:
    """Take a service, a staff member, an exact time, a phone or an email the message
    names; True when the booking changed (the time is then checked again)."""
    changed = False
    start = _time_of(turn, draft, text)
    if start is not None and start != draft.asked:
        draft.asked, changed = start, True
    if draft.appointment is not None:  # a move: service and staff are the appointment's
        if changed:
            _check(turn, draft)
        return changed
    service = find_services(text, [to_named(s) for s in turn.services()]).item
    if service is not None and service.key != draft.service:
        draft.service, changed = service.key, True
    staff = find_staff(text, [to_named(s) for s in admin._staff(turn)]).item
    if staff is not None and staff.key != draft.staff:
        draft.staff, changed = staff.key, True
    region = intake.business_region(turn.session)
    phone = intake.phone_in(text, region) or extract_phone(text)
    email = intake.email_in(text)
    if (phone and not draft.phone) or (email and not draft.email):
        draft.phone, draft.email = draft.phone or phone, draft.email or email
        if draft.customer is None:
            found = _customer_for(turn, draft.name, draft.phone, draft.email)
            draft.customer = found.id if found else None
        changed = True
    if changed:
        _check(turn, draft)
    return changed


# A bare hour ("make it 11", "11.30?"), read as a clock time only once a time is asked.
_BARE_CLOCK = re.compile(
    r"(?<![\d:/.#$])\b((?:1[0-2]|0?[1-9])(?:[:.][0-5]\d)?(?: ?[ap]\.?m\.?)?)\b(?![\d:/.])", re.I
)
# Relative day words: "tomorrow at 2" names a day even though it moves with today.
_NAMED_DAY = re.compile(r"\b(?:today|tonight|tomorrow|tmrw?|tmr|next|week|weekend)\b")


def _time_of(turn: Turn, draft: OwnerBooking, text: str) -> datetime | None:
    """The exact time a message names. With a time already asked, a time without a day
    ("make it 5pm") keeps that day and a day without a time ("saturday instead") its time."""
    zone = turn.business.zone
    now = turn.now.astimezone(zone)
    when = parse_when(text, now)
    clock = _BARE_CLOCK.search(text) if when is None and draft.asked is not None else None
    if clock is not None:  # "make it 11" with a time on screen: 11 o'clock
        text = "at " + clock.group(1)  # parse_when reads a bare hour after "at"
        when = parse_when(text, now)
    if when is None:
        return None
    if draft.asked is not None:
        asked = draft.asked.astimezone(zone)
        # A text names no day when reading it a day later moves it by a day.
        later = parse_when(text, now + timedelta(days=1))
        moves = later is not None and later.start - when.start == timedelta(days=1)
        no_day = moves and not _NAMED_DAY.search(normalise(text))
        if when.exact and no_day:
            anchored = parse_when(text, asked.replace(hour=0, minute=0, second=0, microsecond=0))
            if anchored is not None and anchored.exact:
                return anchored.start
        local = when.start.astimezone(zone)
        whole_day = when.end - when.start == timedelta(days=1) and local.hour == local.minute == 0
        if not when.exact and not no_day and whole_day:
            return datetime.combine(local.date(), asked.timetz())
    return when.start if when.exact else None


def _name_in(turn: Turn, bare: str) -> str | None:
    """The customer's name at the head of "book Jane Doe haircut with Sam friday at 3": up to
    a comma, a digit, "for", a day or time word or a service's name."""
    head = re.split(r"[,\d+]|\bfor\b", bare, maxsplit=1)[0]
    names = "|".join(re.escape(s.name.lower()) for s in turn.services())
    stop = re.search(rf"\b(?:{_NOT_NAME}|{names})\b", head, re.IGNORECASE) if names else None
    return clean_display_name(head[: stop.start()] if stop else head)


_NOT_NAME = (
    r"with|w/|at|on|tomorrow|today|tonight|next|this"
    r"|(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?"
)


def _check(turn: Turn, draft: OwnerBooking) -> None:
    """Whether the time asked is free: proposed if so, else why not and free ones instead."""
    draft.start, draft.offered, draft.lead = None, [], None
    service = _service(turn, draft)
    if service is None or draft.asked is None:
        return
    verdict = owner_slots.check(
        turn,
        service,
        _member(turn, draft),
        draft.asked,
        customer_id=draft.customer,
        ignore=draft.appointment,
    )
    if verdict.free:
        draft.start = draft.asked
        return
    if not verdict.instead:
        draft.asked = None
        draft.lead = verdict.why + " " + _("Nothing is free near then; try another day.")
        return
    draft.offered = [s.start for s in verdict.instead]
    draft.lead = t("{why} Free instead:", why=verdict.why)


def _customer_for(
    turn: Turn, name: str | None, phone: str | None, email: str | None = None
) -> Customer | None:
    """The existing customer meant: by phone, then email, then a name only one has."""
    by_name = admin.find_customers(turn.session, name) if name and not (phone or email) else []
    return intake.match_customer(turn.session, phone=phone, email=email, candidates_by_name=by_name)


# --- the steps --------------------------------------------------------------------------------


def _no_service(turn: Turn, draft: OwnerBooking) -> bool:
    """No service said yet."""
    return draft.service is None


def _ask_service(turn: Turn, draft: OwnerBooking) -> Question:
    """Which service for <customer>? (the services as buttons)"""
    return Question(
        t("Which service for {label}?", label=_label(turn, draft)),
        tuple(Option(f"service:{s.key}", s.name) for s in turn.services()[:8]),
    )


def _read_service(turn: Turn, draft: OwnerBooking, text: str, option: str | None) -> bool:
    """A service's button."""
    kind, _sep, key = (option or "").partition(":")
    if kind != "service" or key not in {s.key for s in turn.services()}:
        return False
    draft.service = key
    _check(turn, draft)
    return True


def _undo_service(turn: Turn, draft: OwnerBooking) -> None:
    """The service is forgotten (and the time checked for it)."""
    draft.service, draft.start, draft.offered, draft.lead = None, None, [], None


def _no_time(turn: Turn, draft: OwnerBooking) -> bool:
    """No time said yet (or the one said has nothing free near it)."""
    return draft.start is None and not draft.offered


def _ask_when(turn: Turn, draft: OwnerBooking) -> Question:
    """When for <customer>'s <service>? / To when? (a move) (or why the time said cannot be had)"""
    lead, draft.lead = draft.lead, None
    service = _service(turn, draft)
    if draft.appointment is not None:
        question = t(
            'To when? For example "move #{appointment} to friday at 4".',
            appointment=draft.appointment,
        )
        return Question(f"{lead}\n{question}" if lead else question)
    question = t(
        'When for {label}\'s {service}? A day and a time, like "friday at 3".',
        label=_label(turn, draft),
        service=service.name.lower() if service else "",
    )
    return Question(f"{lead}\n{question}" if lead else question)


def _undo_time(turn: Turn, draft: OwnerBooking) -> None:
    """The time is forgotten: "when?" again."""
    draft.asked, draft.start, draft.offered, draft.lead = None, None, [], None


def _listed(turn: Turn, draft: OwnerBooking) -> bool:
    """Free times are offered instead of the one asked, and none is picked."""
    return draft.start is None and bool(draft.offered)


def _slot_options(turn: Turn, draft: OwnerBooking) -> tuple[Option, ...]:
    return tuple(Option(f"slot:{int(s.timestamp())}", turn.when(s)) for s in draft.offered)


def _ask_pick(turn: Turn, draft: OwnerBooking) -> Question:
    """<why the time is not free> Free instead: (the free times as buttons)"""
    lead, draft.lead = draft.lead, None
    return Question(lead or _("Free instead:"), _slot_options(turn, draft))


def _read_pick(turn: Turn, draft: OwnerBooking, text: str, option: str | None) -> bool:
    """A free time, by button, number or as typed ("11:15", "the second one")."""
    offered = [
        Offered(id=f"slot:{int(s.timestamp())}", label=turn.when(s), start=s) for s in draft.offered
    ]
    picked = pick_option(text, offered, option_id=option, zone=turn.business.zone, now=turn.now)
    if picked is None:
        return False
    start = datetime.fromtimestamp(int(picked.id.partition(":")[2]), UTC)
    draft.asked = draft.start = start
    draft.offered = []
    return True


def _proposed(turn: Turn, draft: OwnerBooking) -> bool:
    """A free time is proposed and not yet accepted."""
    return draft.start is not None


def _ask_confirm(turn: Turn, draft: OwnerBooking) -> Question:
    """Book <service> with <staff> for <customer>, <time>? / Move <appointment> to <time>? The
    customer will be told. (Yes / No)"""
    moved = turn.session.get(Appointment, draft.appointment) if draft.appointment else None
    if moved is not None and draft.start is not None:
        text = t(
            "Move {line} to {when}? The customer will be told.",
            line=admin._line(turn, moved, with_day=True),
            when=turn.when(draft.start),
        )
        return Question(text, (Option("yes", _("Yes")), Option("no", _("No"))))
    service, member = _service(turn, draft), _member(turn, draft)
    text = (
        t("Book {service}", service=service.name if service else "")
        + (t(" with {staff}", staff=member.name.split()[0]) if member else "")
        + t(
            " for {label}, {when}?",
            label=_label(turn, draft),
            when=turn.when(draft.start) if draft.start else "",
        )
    )
    return Question(text, (Option("yes", _("Yes")), Option("no", _("No"))))


def _read_yes_no(turn: Turn, draft: OwnerBooking, text: str, option: str | None) -> bool:
    """Yes books (or moves) it, no drops it."""
    answer = True if option == "yes" else False if option == "no" else yes_no(text)
    if answer is None:
        return False
    if answer and draft.appointment is not None:
        _do_move(turn, turn_actor(turn), draft)
    elif answer:
        _do_book(turn, turn_actor(turn), draft)
    else:
        draft.reset()
        turn.go("admin", "idle")
        turn.say(_("OK, nothing changed."))
    return True


# The owner's booking, as data: step (the admin conversation's `step` while it waits) →
# question, what answers it, the hint when not understood, what going back to it undoes.
# At every step a service, staff member, exact time, phone or email named is taken too.
STEPS: Steps[OwnerBooking] = Steps(
    (
        Step(
            "book_what",
            ask=_ask_service,
            missing=_no_service,
            reads=_read_service,
            hint=N_('Which service? Say its name, like "haircut".'),
            back=_undo_service,
        ),
        Step(
            "book_when",
            ask=_ask_when,
            missing=_no_time,
            hint=N_('When? A day and a time, like "friday at 3".'),
            back=_undo_time,
        ),
        Step(
            "book_pick",
            ask=_ask_pick,
            missing=_listed,
            reads=_read_pick,
            hint=N_("Pick one of the free times, or give another time."),
            back=_undo_time,
        ),
        Step(
            "book_confirm",
            ask=_ask_confirm,
            missing=_proposed,
            reads=_read_yes_no,
            hint=N_("Yes or no? Or give another time."),
            back=_undo_time,
        ),
    )
)
STEP_NAMES = frozenset(s.name for s in STEPS.steps)


# --- the command and its follow-ups ---------------------------------------------------------


def book_for(turn: Turn, actor: Actor, text: str) -> None:
    """Book for a customer by phone ("book Jane Doe 2125550123 haircut with sam fri at 3")."""
    turn.go("admin", "idle")  # before the draft is read: entering the admin flow clears data
    draft = booking_of(turn)
    draft.reset()
    rest = admin.strip_command(text, "book")
    region = intake.business_region(turn.session)
    phone = intake.phone_in(rest, region) or extract_phone(rest)
    email = intake.email_in(rest)
    bare = intake.without_contacts(rest, region) if (phone or email) else rest
    draft.name = _name_in(turn, bare)
    draft.phone, draft.email = phone, email
    customer = _customer_for(turn, draft.name, phone, email)
    draft.customer = customer.id if customer else None
    _fill(turn, draft, rest)
    _next(turn, draft)


def move_any(turn: Turn, actor: Actor, text: str, appointment: Appointment | None = None) -> None:
    """Move any appointment to a new time ("move #12 to friday at 4")."""
    appointment = appointment or admin._target_appointment(
        turn, actor, text, "move", ("move", "reschedule")
    )
    if appointment is None:
        return
    turn.go("admin", "idle")  # before the draft is read: entering the admin flow clears data
    draft = booking_of(turn)
    draft.reset()
    _moving(draft, appointment)
    target = re.split(r"\bto\b", text, maxsplit=1)  # "move #12 to …": the time is after "to"
    when = parse_when(target[-1], turn.now.astimezone(turn.business.zone))
    if when is not None and when.exact:
        draft.asked = when.start
        _check(turn, draft)
    _next(turn, draft)


def _moving(draft: OwnerBooking, appointment: Appointment) -> None:
    """The draft moves `appointment`: its customer, service and staff are known."""
    draft.appointment, draft.customer = appointment.id, appointment.customer_id
    draft.service, draft.staff = appointment.service.key, appointment.staff.key


def _chosen_move(
    turn: Turn, actor: Actor, appointment: Appointment | None, _c: object, pending: dict[str, Any]
) -> None:
    """The appointment picked at "Which one?" for a move: the move goes on with it."""
    if appointment is not None:
        move_any(turn, actor, str(pending.get("text") or ""), appointment)


def _do_move(turn: Turn, actor: Actor, draft: OwnerBooking) -> None:
    """Move the appointment to the time the owner said yes to (the customer is told)."""
    appointment_id, start = draft.appointment, draft.start
    draft.reset()
    if appointment_id is None or start is None:
        admin.answer(turn, [_("Sorry, that choice has lapsed. Say it again?")])
        return
    outcome = reschedule(
        turn.session,
        appointment_id,
        new_start=start,
        now=turn.now,
        actor=actor.tag,
        enforce_rules=False,
    )
    if isinstance(outcome, Booked):
        admin.audit(turn, actor, "move", appointment=appointment_id, start=start.isoformat())
        line = admin._line(turn, outcome.appointment, with_day=True)
        admin.answer(turn, [t("Moved: {line}.", line=line)])
    else:
        admin.answer(turn, [outcome.message])


def turn_actor(turn: Turn) -> Actor:
    """Who is booking (the owner: only owners reach these steps)."""
    return admin.actor_of(turn)


def _next(turn: Turn, draft: OwnerBooking) -> None:
    STEPS.advance(turn, draft)


def _a_command(turn: Turn, actor: Actor, text: str) -> bool:
    """Whether the message is another command (the agenda's loose day words excepted:
    "tomorrow at 3" answers "when?")."""
    lowered = normalise(text)
    return any(
        actor.role in roles and handler is not admin.agenda and pattern.search(lowered)
        for pattern, roles, handler in admin.COMMANDS
    )


def answer_step(turn: Turn, actor: Actor, text: str, option: str | None) -> bool:
    """A message while a booking waits at one of its steps; False when it is another command
    instead (the booking is dropped and the command runs)."""
    draft = booking_of(turn)
    step = STEPS.get(turn.conversation.step)
    if step is None:
        return False
    if option is None and primary_intent(text) is Intent.BACK:
        previous = STEPS.back(turn, draft, "")
        if STEPS.get(previous) is None:
            draft.reset()
            turn.go("admin", "idle")
            turn.say(_("OK, nothing changed."))
        else:
            STEPS.advance(turn, draft)
        return True
    if step.reads is not None and step.reads(turn, draft, text, option):
        if turn.conversation.step in STEP_NAMES:  # not booked or dropped: the next question
            STEPS.advance(turn, draft)
        return True
    if option is None and _a_command(turn, actor, text):
        draft.reset()
        turn.go("admin", "idle")
        return False
    if option is None and _fill(turn, draft, text):
        STEPS.advance(turn, draft)
        return True
    question = step.ask(turn, draft)
    turn.say(STEPS.hint(step.name), question.options if question else ())
    return True


def _do_book(turn: Turn, actor: Actor, draft: OwnerBooking) -> None:
    """Book what the owner said yes to (a new customer is made from the name and phone)."""
    customer_id = draft.customer
    if customer_id is None:
        customer = Customer(name=draft.name, phone=draft.phone, created_at=turn.now, notes="")
        customer.email = draft.email
        turn.session.add(customer)
        turn.session.flush()
        customer_id = customer.id
    service, start, staff = _service(turn, draft), draft.start, draft.staff
    draft.reset()
    if service is None or start is None:
        admin.answer(turn, [_("Sorry, that choice has lapsed. Say it again?")])
        return
    outcome = book(
        turn.session,
        customer_id=customer_id,
        service_id=service.id,
        start=start,
        staff_id=admin._staff_id(turn, staff) if staff else None,
        now=turn.now,
        actor=actor.tag,
        enforce_rules=False,
    )
    if isinstance(outcome, Booked):
        admin.audit(turn, actor, "book", appointment=outcome.appointment.id, customer=customer_id)
        line = admin._line(turn, outcome.appointment, with_day=True)
        admin.answer(turn, [t("Booked: {line}.", line=line)])
    else:
        admin.answer(turn, [t("Couldn't book it: {message}", message=outcome.message)])


# --- conversations stored before the draft ----------------------------------------------------


def _legacy_book(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    """A yes to "Book …?" asked by the code of before (pending action "book")."""
    _do_book(turn, actor, OwnerBooking.of_pending(pending))


def _legacy_move(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    """A yes to "Move …?" asked by the code of before (pending action "move")."""
    _do_move(turn, actor, OwnerBooking.of_pending(pending))


def _legacy_book_at(
    turn: Turn, actor: Actor, _a: object, _c: object, pending: dict[str, Any]
) -> None:
    """A free time picked from a list shown by the code of before ("book_at", "move_at")."""
    draft = booking_of(turn)
    draft.reset()
    for name, value in OwnerBooking.of_pending(pending).model_dump().items():
        setattr(draft, name, value)
    moved = turn.session.get(Appointment, draft.appointment) if draft.appointment else None
    if moved is not None:
        _moving(draft, moved)
    if draft.start is None:
        turn.say(_("Sorry, that choice has lapsed. Say it again?"))
        return
    STEPS.advance(turn, draft)


def register() -> None:
    """Add the owner booking's steps and the actions of before to the admin chat."""
    admin.STEP_ANSWERS.update({name: answer_step for name in STEP_NAMES})
    admin.ACTIONS["book"] = _legacy_book
    admin.ACTIONS["move"] = _legacy_move
    admin.CHOSEN["book_at"] = _legacy_book_at
    admin.CHOSEN["move_at"] = _legacy_book_at
    admin.CHOSEN["move"] = _chosen_move

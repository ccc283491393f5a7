"""The customer booking dialogue: service → staff → when → slot → details → confirm → booked.

What the customer has said is one typed draft (conversations.flows.draft.BookingDraft).
Every message is read for everything it says about the booking (a service, a staff
member, a time, a name: `absorb`), so "haircut with Sam tomorrow at 3, I'm Jane" fills
everything at once and goes straight to the confirmation question, and "actually make it a
colour" in the middle changes the service without starting over. The order (`handle`):
questions in passing, requests that belong elsewhere, corrections at the open questions,
the current step's own reading (a picked option, yes/no — a yes that also names another
day, time, staff member or service is that change, proposed again), then `absorb`. The steps are data (`STEPS`, at the end: each
one's question, whether the draft still lacks it, what answers it, its hint, what "go
back" undoes); the question asked next is the first step still missing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from enum import Enum

from sqlalchemy import func, select

from bot.billing.payments.deposits import deposit_for
from bot.core.names import clean_display_name
from bot.core.text import N_, _, t
from bot.messaging.messages import SMS, WHATSAPP, Option
from bot.messaging.outbox import CONFIRMATION, queued_in, watching_queued
from bot.scheduling.availability import Slot, SlotQuery, best_slots, nearest_slots, slot_fits
from bot.scheduling.booking import Booked, Held, book, book_hold, hold_slot, release_hold, upcoming
from bot.scheduling.waitlist import join_waitlist
from conversations.flows import consent, faq, opening, visit
from conversations.flows.draft import (
    ANYONE,
    Another,
    BookingDraft,
    Chosen,
    Offer,
    Window,
    draft_of,
)
from conversations.flows.menu import menu
from conversations.flows.payments import ask_for_deposit
from conversations.flows.steps import Question, Step, Steps
from conversations.flows.visits import (
    NOT_ON_MAP,
    field_place_known,
    has_place,
    is_field_visit,
    on_the_map,
    take_pin,
    visit_place,
    visit_point,
    when_text,
    where_text,
)
from conversations.nlu import screen
from conversations.nlu.understand import (
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
    normalise,
    pick_option,
    plain_yes,
    primary_intent,
    wants_anyone,
    yes_no,
)
from conversations.turn import Turn
from conversations.when import When, parse_when
from storage.messaging import OutboxMessage
from storage.models import AWAITING_DEPOSIT, BOOKED, Appointment, Service, Staff

NO_THANKS = Option("restart", N_("Never mind"))


# --- reading the message ------------------------------------------------------------------


def _named(items: list[Service] | list[Staff]) -> list[Named]:
    return [
        Named(key=i.key, name=i.name, aliases=tuple(getattr(i, "aliases", None) or ()))
        for i in items
    ]


def _service(turn: Turn) -> Service | None:
    key = draft_of(turn).service
    return next((s for s in turn.services() if s.key == key), None) if key else None


def _window(turn: Turn, when: Window) -> str:
    """The window's label as the customer reads days and times ("Fri, Dec 4, after 3:00 PM")."""
    return turn.window(when.label, when.start)


def _when(turn: Turn) -> Window | None:
    return draft_of(turn).when


def _settled(draft: BookingDraft) -> tuple[str | None, str | None, Window | None]:
    """What a correction is said back against: the service, staff and time before it."""
    return draft.service, draft.staff, draft.when


def looks_like_a_request(turn: Turn, text: str) -> bool:
    """Whether an idle message is a booking request in disguise ("haircut friday?")."""
    match = find_services(text, _named(turn.services()))
    local_now = turn.now.astimezone(turn.business.zone)
    return (
        match.item is not None
        or bool(match.candidates)
        or (parse_when(text, local_now) is not None and len(text.split()) > 1)
    )


def names_service_and_time(turn: Turn, text: str) -> bool:
    """Whether the text names one service and a time: a request, whatever else it asks."""
    if find_services(text, _named(turn.services())).item is None:
        return False
    return parse_when(text, turn.now.astimezone(turn.business.zone)) is not None


def absorb(turn: Turn, text: str) -> bool:
    """Take whatever the message says about the booking; True if it changed anything.

    A correction of something already settled ("actually friday", "switch to Alex") is
    said back at the next question ("Fri, Nov 20 then."), and a staff member who does not
    do the service is said so, with who does, instead of being silently replaced.
    """
    if not text.strip():
        return False
    draft = draft_of(turn)
    before = _settled(draft)
    changed = False
    services = turn.services()
    match = find_services(text, _named(services))
    together = visit.several(turn, text)  # "a cut and a beard trim after": one visit
    if together:
        if [draft.service, *draft.also] != together:
            draft.service, draft.also = together[0], together[1:]
            draft.service_choices = []
            changed = True
    elif match.item is not None and draft.also and _ONLY.search(normalise(text)):
        draft.service = match.item.key  # "actually just the haircut": one service after all
        draft.service_choices, draft.also = [], []
        changed = True
    elif match.item is not None and match.item.key != draft.service:
        draft.service = match.item.key
        draft.service_choices, draft.also = [], []
        if draft.staff not in (None, ANYONE):
            service = _service(turn)
            if service and draft.staff not in {s.key for s in turn.staff_for(service)}:
                _not_doing(turn, draft.staff, service)
                draft.staff = None
        changed = True
    elif match.item is None and match.candidates and draft.service is None:
        draft.service_choices = [c.key for c in match.candidates]
        changed = True

    changed = _take_staff(turn, text) or changed

    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    if when is not None:
        draft.when = _keep_time_of_day(turn, _on_the_day_given(turn, text, when))
        changed = True

    name = clean_display_name(extract_name(text))
    if name and not turn.customer.name:
        turn.customer.name = name
    attendee = extract_attendee(text)  # "it's for my son Leo": Leo comes, the sender books
    if attendee and attendee != draft.attendee:
        draft.attendee = attendee
    elif not attendee and not draft.attendee and visit.relation(text):
        draft.relation = visit.relation(text)  # "my son needs a trim": ask his name
    email = extract_email(text)
    if email:
        turn.customer.email = email
    if changed:
        _say_changes(turn, before)
        _drop_slot(turn)
    return changed


# A question of opinion about someone ("is jordan good with curly hair?", "has sam got
# experience with fades?") asks about them; one with these words asks for them.
_ABOUT = re.compile(r"^(?:is|are|has|was)\b")
_FOR = re.compile(
    r"\b(?:free|available|availability|working|works?|there|open|busy|off|booked|instead"
    r"|rather|prefer|switch|change|book|slot|space|room|fit|squeeze|take)\b"
)


def _asks_about_staff(turn: Turn, text: str) -> bool:
    """Whether a question names staff to ask about them, not to book with them."""
    lowered = normalise(text)
    if not _ABOUT.match(lowered) or _FOR.search(lowered) or _CHANGE_CUE.search(lowered):
        return False
    return parse_when(text, turn.now.astimezone(turn.business.zone)) is None


def _take_staff(turn: Turn, text: str) -> bool:
    """Take the staff member (or anyone) a message names; True if that changed the draft."""
    draft = draft_of(turn)
    service = _service(turn)
    staff_pool = turn.staff_for(service) if service else _all_staff(turn)
    if _asks_about_staff(turn, text):
        return False  # "is Jordan good with curly hair?": a question about them, not a choice
    if wants_anyone(text):
        if draft.staff == ANYONE:
            return False
        draft.staff, draft.staff_choices = ANYONE, []
        return True
    changed = False
    who = find_staff(text, _named(staff_pool))
    if who.item is None and service is not None:
        # Named, but not among those who do this service: say so, never swap silently.
        other = find_staff(text, _named(_every_staff(turn)))
        if other.item is not None and other.item.key != draft.staff:
            # Said so; whoever was chosen before stays chosen.
            _not_doing(turn, other.item.key, service)
            changed = True
    if who.item is not None and who.item.key != draft.staff:
        draft.staff, draft.staff_choices = who.item.key, []
        changed = True
    elif who.item is None and len(who.candidates) > 1 and draft.staff is None:
        # "pri" for Priya and Priyanka: asked about, never guessed
        draft.staff_choices = [c.key for c in who.candidates]
        changed = True
    return changed


def _every_staff(turn: Turn) -> list[Staff]:
    return list(turn.session.scalars(select(Staff).where(Staff.active.is_(True))))


def _not_doing(turn: Turn, staff_key: str, service: Service) -> None:
    """Note, for the next question, that a staff member does not do the service."""
    member = next((s for s in _every_staff(turn) if s.key == staff_key), None)
    if member is None:
        return
    doers = [s.name.split()[0] for s in turn.staff_for(service)]
    if not doers:
        who = "nobody does at the moment"
    elif len(doers) == 1:
        who = t("{who} does", who=doers[0])
    else:
        who = t("{others} or {last} do", others=", ".join(doers[:-1]), last=doers[-1])
    _lead(
        turn,
        t(
            "{member} doesn't do {plural}; {who}.",
            member=member.name.split()[0],
            plural=_plural(service),
            who=who,
        ),
    )


def _plural(service: Service) -> str:
    name = service.name.lower()
    return name if name.endswith("s") or "(" in name else name + "s"


def _lead(turn: Turn, text: str) -> None:
    """Something to say before the next question ("Friday then.")."""
    draft = draft_of(turn)
    draft.lead = f"{draft.lead} {text}" if draft.lead else text


def _say_changes(turn: Turn, before: tuple[str | None, str | None, Window | None]) -> None:
    """Say back a correction of something already settled; a first answer needs no echo."""
    draft = draft_of(turn)
    service_before, staff_before, when_before = before
    said: list[str] = []
    when = draft.when
    if when_before and when and when != when_before:
        if when.exact:
            said.append(turn.when(when.start))
        elif when.single_day(turn.business.zone) and not when.daily:
            said.append(turn.day(when.start) if when.whole_day() else _window(turn, when))
        else:
            said.append(_window(turn, when))
    if service_before and draft.service not in (None, service_before):
        service = _service(turn)
        if service is not None:
            said.append(f"a {service.name.lower()}")
    staff = draft.staff
    if staff_before and staff and staff != staff_before:
        member = next((s for s in _every_staff(turn) if s.key == staff), None)
        said.append(
            "anyone" if staff == ANYONE else f"with {member.name.split()[0]}" if member else ""
        )
    said = [p for p in said if p]
    if said:
        text = ", ".join(said)
        draft.echo = t("{said} then.", said=text[0].upper() + text[1:])


def _on_the_day_given(turn: Turn, text: str, when: When) -> Window:
    """A time that names no day ("5pm", "with jordan around 2") is on the day already
    given ("haircut friday"), never today: the bot proposes only days the customer said."""
    old = draft_of(turn).when
    zone = turn.business.zone
    if not old or not old.single_day(zone):
        return Window.of(when)
    if screen.names_a_day(text, turn.now.astimezone(zone)):
        return Window.of(when)
    day = old.day(zone)
    on_day = screen.time_on(day, text, zone, _day_opening(turn, day))
    return Window.of(on_day if on_day is not None else when)


def _keep_time_of_day(turn: Turn, new: Window) -> Window:
    """A change of day alone ("make it friday") keeps the time already settled."""
    draft = draft_of(turn)
    old, slot = draft.when, draft.slot
    zone = turn.business.zone
    if not old or not new.whole_day() or not new.single_day(zone):
        return new
    if not slot and not (old.exact or (old.single_day(zone) and not old.whole_day())):
        return new
    day = new.day(zone)
    if slot or old.exact:
        then = (slot.start if slot else old.start).astimezone(zone)
        moment = datetime.combine(day, then.time().replace(tzinfo=None), zone)
        if moment <= turn.now:
            return new
        return new.model_copy(
            update={
                "start": moment,
                "end": moment + timedelta(minutes=1),
                "target": moment,
                "exact": True,
                "label": turn.when(moment),
            }
        )
    lo, hi = old.start.astimezone(zone), old.end.astimezone(zone)
    start = max(datetime.combine(day, lo.time().replace(tzinfo=None), zone), turn.now)
    end = datetime.combine(day, hi.time().replace(tzinfo=None), zone)
    if end <= start:
        return new
    label = f"{turn.day(start)}, {_clock(turn, start)}-{_clock(turn, end)}"
    return new.model_copy(update={"start": start, "end": end, "target": start, "label": label})


def _clock(turn: Turn, moment: datetime) -> str:
    """ "3:00 PM": the time part of the usual "Sat, Dec 5, 3:00 PM"."""
    return turn.when(moment).rsplit(", ", 1)[-1]


def _all_staff(turn: Turn) -> list[Staff]:
    seen: dict[int, Staff] = {}
    for service in turn.services():
        for member in turn.staff_for(service):
            seen[member.id] = member
    return list(seen.values())


def _drop_slot(turn: Turn) -> None:
    """A change of service, staff or time makes the held slot and the offers stale."""
    draft = draft_of(turn)
    if draft.hold_id:
        release_hold(turn.session, draft.hold_id)
    draft.hold_id, draft.slot, draft.offered, draft.chain = None, None, [], []


# --- times read against what is on screen -------------------------------------------------


def _shown_starts(turn: Turn) -> list[datetime]:
    """The times the customer is looking at: the proposal, else the offered list."""
    draft = draft_of(turn)
    if draft.slot and turn.conversation.step != "offer":
        return [draft.slot.start]
    return [o.start for o in draft.offered]


def _day_opening(turn: Turn, day: date) -> tuple[time, time]:
    spans = opening.week(turn.session).get(day.weekday())
    return (spans[0][0], spans[-1][1]) if spans else (time(8), time(20))


def _screen(turn: Turn, text: str) -> tuple[list[datetime], date | None] | None:
    """The times on screen and their one day (None: several), when the text names no day
    of its own; None when nothing is on screen or the text names a day."""
    starts = _shown_starts(turn)
    if not starts or not text.strip():
        return None
    zone = turn.business.zone
    if screen.names_a_day(text, turn.now.astimezone(zone)):
        return None
    day = screen.screen_day(starts, zone)
    when = _when(turn)
    if day is None and when and when.single_day(zone):
        # Nearest times around a day asked for may spill over; the day asked for is meant.
        day = when.day(zone)
    return starts, day


def _set_when(turn: Turn, when: Window, *, echo: bool, text: str = "") -> None:
    """The time read against the screen; a staff member named with it is taken too ("is
    sam free at 2?")."""
    draft = draft_of(turn)
    before = _settled(draft)
    draft.when = when
    if text:
        _take_staff(turn, text)
    if echo:
        _say_changes(turn, before)
    _drop_slot(turn)


def _on_screen_window(turn: Turn, text: str) -> bool:
    """ "a bit later?", "anything after 2", "the afternoon?": a window of the day on screen."""
    seen = _screen(turn, text)
    if seen is None:
        return False
    starts, day = seen
    zone = turn.business.zone
    current = _when(turn)
    direction = screen.later_or_earlier(text)
    if direction is not None:
        edge = max(starts) if direction == "later" else min(starts)
        local = edge.astimezone(zone)
        if day is not None or current is None:
            day_end = screen.midnight(local.date() + timedelta(days=1), zone)
            day_start = max(screen.midnight(local.date(), zone), turn.now)
        else:
            day_end = current.end
            day_start = max(current.start, turn.now)
        if direction == "later":
            lo, hi, target = local + timedelta(minutes=1), day_end, local + timedelta(minutes=1)
            label = t("{day}, after {clock}", day=turn.day(local), clock=_clock(turn, local))
        else:
            lo, hi, target = day_start, local, local - timedelta(minutes=1)
            label = t("{day}, before {clock}", day=turn.day(local), clock=_clock(turn, local))
        if hi <= lo:
            return False
        daily = current.daily if day is None and current is not None else None
        when = Window(start=lo, end=hi, target=target, label=label, daily=daily)
        _set_when(turn, when, echo=False, text=text)
        advance(turn)
        return True
    if day is None:
        return False
    found = screen.time_on(day, text, zone, _day_opening(turn, day))
    if found is None or found.exact:
        return False
    _set_when(turn, Window.of(found), echo=False, text=text)
    advance(turn)
    return True


def _on_screen(turn: Turn, text: str, *, options: bool) -> bool:
    """A time typed with times on screen ("10:15", "what about 5", "11 instead") is a time of
    the day on screen, never of today; True if the draft now asks for it."""
    seen = _screen(turn, text)
    if seen is None:
        return False
    starts, day = seen
    zone = turn.business.zone
    first = day or min(starts).astimezone(zone).date()
    hours = _day_opening(turn, first)
    count = len(draft_of(turn).offered) if options else 0
    found = screen.time_on(first, text, zone, hours)
    number = screen.bare_number(text, count, hours) if found is None else None
    if number is not None and number.minute is not None and not (options and number.option):
        clock: tuple[int, int] | None = (number.minute, number.minute + 1)
        exact_at: datetime | None = datetime.combine(
            first, time(number.minute // 60, number.minute % 60), zone
        )
    else:
        if found is None:
            return False
        local = found.start.astimezone(zone)
        lo = local.hour * 60 + local.minute
        if found.exact:
            clock, exact_at = (lo, lo + 1), local
        elif day is None:
            end = found.end.astimezone(zone)
            clock, exact_at = (lo, end.hour * 60 + end.minute or 24 * 60), None
        else:
            return False  # a window on the day on screen: _on_screen_window's
    if day is not None and exact_at is not None:
        if exact_at <= turn.now:
            return False
        _set_when(turn, Window.at(exact_at, turn.when(exact_at)), echo=True, text=text)
        return True
    current = _when(turn)
    if current is None or clock is None:
        return False
    # Several days on screen: that time on each of them.
    target = max(current.start, turn.now)
    start_day = target.astimezone(zone).date()
    aim = datetime.combine(start_day, time(clock[0] // 60, clock[0] % 60), zone)
    label = f"{current.label}, {_clock(turn, aim)}"
    update = {"target": max(aim, target), "exact": False, "label": label, "daily": clock}
    _set_when(turn, current.model_copy(update=update), echo=False, text=text)
    return True


def _ask_number(turn: Turn, text: str) -> bool:
    """A number that can be an option and a time of the day on screen: ask which."""
    seen = _screen(turn, text)
    offered = draft_of(turn).offered
    if seen is None or seen[1] is None or not offered:
        return False
    day = seen[1]
    zone = turn.business.zone
    number = screen.bare_number(text, len(offered), _day_opening(turn, day))
    if number is None or not number.option or number.minute is None:
        return False
    as_time = datetime.combine(day, time(number.minute // 60, number.minute % 60), zone)
    as_option = offered[number.value - 1]
    if as_option.start == as_time:
        return False  # both readings agree
    at_time = [o for o in offered if o.start == as_time]
    if number.lone and not at_time:
        return False  # "2" alone, with no 2 o'clock on screen: the second option
    if as_time <= turn.now:
        return False
    time_option = (
        Option(at_time[0].id, _label(turn, at_time[0]))
        if at_time
        else Option(f"at:{as_time.isoformat()}", turn.when(as_time))
    )
    _ask(
        turn,
        "offer",
        t(
            "{clock}, or option {number} - {label}?",
            clock=_clock(turn, as_time),
            number=number.value,
            label=_label(turn, as_option),
        ),
        [
            time_option,
            Option(
                as_option.id,
                t("Option {number}: {label}", number=number.value, label=_label(turn, as_option)),
            ),
        ],
    )
    return True


# --- the steps ---------------------------------------------------------------------------


def start(turn: Turn, text: str, *, service: str | None = None, staff: str | None = None) -> None:
    """Entry point: begin a booking, using everything the first message already says
    (and a service or staff member already known, when rebooking)."""
    # The service asked about just before ("how much is a colour?" - "ok book one").
    topic = draft_of(turn).topic if turn.conversation.flow == "idle" else None
    turn.go("book", "service")
    draft = draft_of(turn)
    draft.trail = []
    draft.service = service or draft.service
    draft.staff = staff or draft.staff
    absorb(turn, text)
    if topic and draft.service is None and not draft.service_choices:
        draft.service = topic
    if (draft.attendee or draft.relation) and _AND_ME.search(normalise(text)):
        # "a haircut for my son Max and me": the sender's first, then Max's, same time asked
        draft.others.append(
            Another(
                service=draft.service,
                attendee=draft.attendee,
                relation=draft.relation,
                when=draft.when,
            )
        )
        draft.attendee = draft.relation = None
        whose = _whose(turn, draft.others[-1])
        _lead(turn, t("{whose} next, once this one is booked.", whose=whose[0].upper() + whose[1:]))
    advance(turn)


# Another person's visit asked for on the way ("can my sister get one too"), and the
# sender's own with someone else's in one request ("for my son Max and me").
_TOO = re.compile(r"\b(?:too|also|as well|another one|one for|and me|me and|both)\b")
_AND_ME = re.compile(r"\b(?:and me|and myself|me and|both of us|us both|for us)\b")


def _someone_else_too(turn: Turn, text: str) -> bool:
    """ "can my sister get a haircut too": another person's booking, made after this one
    (never a change of this one); True when taken."""
    draft = draft_of(turn)
    if draft.service is None or not _TOO.search(normalise(text)):
        return False
    attendee, relation = extract_attendee(text), visit.relation(text)
    if not (attendee or relation) or (attendee and attendee == draft.attendee):
        return False
    match = find_services(text, _named(turn.services()))
    service = match.item.key if match.item is not None else draft.service
    draft.others.append(
        Another(service=service, attendee=attendee, relation=relation, when=draft.when)
    )
    whose = _whose(turn, draft.others[-1])
    _lead(turn, t("{whose} next, once this one is booked.", whose=whose[0].upper() + whose[1:]))
    advance(turn, again=True)
    return True


def _whose(turn: Turn, other: Another) -> str:
    """ "your sister's haircut", "Max's colour"."""
    service = next((s for s in turn.services() if s.key == other.service), None)
    what = service.name.lower() if service else _("visit")
    if other.attendee:
        return t("{name}'s {service}", name=other.attendee, service=what)
    return t("your {relation}'s {service}", relation=other.relation, service=what)


# Requests that end the booking under way and go where they belong, even when they come
# as the answer to an open question (a name, an address, notes).
_ELSEWHERE = frozenset(
    {
        Intent.MY_APPOINTMENTS,
        Intent.RESCHEDULE,
        Intent.CANCEL,
        Intent.PAY,
        Intent.BALANCE,
        Intent.INVOICE,
    }
)


class _Stays(Enum):
    """What `_elsewhere` says of a message that answers the open question after all."""

    STAYS = "stays"


_STAYS = _Stays.STAYS
_CHANGE_CUE = re.compile(
    r"\b(?:actually|instead|i meant|meant|make (?:it|that)|change (?:it|that|to)|switch"
    r"|swap|rather|no wait|wait|oops|sorry|correction|not"
    r"|can (?:it|we) be|how about|what about)\b"
)
_ONLY = re.compile(r"\b(?:just|only|no .{1,20}after all|skip the|not the|without the)\b")
_DAY_WORD = re.compile(
    r"\b(?:mon|tues?|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday|rsday)?\b"
    r"|\b(?:today|tonight|tomorrow|tmrw|tmr|next week|weekend)\b"
)
_QUESTION_START = re.compile(
    r"^(?:can|could|do|does|did|is|are|will|would|what|when|where|why|how|who|which|may|should)\b"
)


def handle(turn: Turn) -> Intent | None:
    """A message while booking: questions in passing first, then requests that belong
    elsewhere, then corrections, then the current step's own reading (its `reads` in
    STEPS), then what the message says read into the draft (`absorb`).

    A request that belongs elsewhere comes back as its intent, for the router
    (conversations.flows) to answer as from idle; None when the message was handled here.
    """
    text = turn.inbound.text or ""
    step = turn.conversation.step
    option = turn.inbound.option_id
    intent = Intent.UNKNOWN if option else primary_intent(text)
    here = STEPS.get(step)
    draft = draft_of(turn)

    if take_pin(turn) and not text.strip() and option is None:
        advance(turn)  # a shared location answers "where's the visit?" at any step
        return None
    if intent is Intent.BACK or option == "back":
        _back(turn)
        return None
    if option is None and _aside(turn, text, step):
        return None
    if option is None and here is not None and here.open:
        elsewhere = _elsewhere(turn, text, intent, step)
        if elsewhere is not _STAYS:
            return elsewhere
    if intent is Intent.CANCEL:  # (at the notes, handed back as a request just above)
        abandon(turn)
        _stopped(turn)
        return None
    if option is None and step != "notes" and _someone_else_too(turn, text):
        return None
    changing = (
        option is None and here is not None and here.corrections and _reads_as_change(turn, text)
    )
    if changing and (_on_screen(turn, text, options=False) or absorb(turn, text)):
        advance(turn)
        return None
    if here is not None and here.open and step != "notes" and option is None and "?" in text:
        _pass_on(turn, text)  # a question is no name nor address ("is parking free?": above)
        return None
    if here is not None and here.open and here.reads is not None:
        here.reads(turn, draft, text, option)  # a free-text answer: the step's, whatever it is
        return None
    if option and _take_option(turn, option):
        return None
    if here is not None and here.reads is not None and here.reads(turn, draft, text, option):
        return None
    if absorb(turn, text):
        advance(turn)
        return None
    after = here.reads_after if here is not None else None
    if after is not None and after(turn, draft, text, option):
        return None
    _not_understood(turn)
    return None


def _stopped(turn: Turn) -> None:
    """Say the booking under way is stopped; with appointments already booked, offer to
    cancel those too (a "cancel" may have meant them)."""
    booked = upcoming(turn.session, turn.customer.id, now=turn.now)
    if not booked:
        turn.say(_("OK, I've stopped that booking. Anything else?"), _menu())
        return
    if len(booked) == 1:
        appointment = booked[0]
        what = f"{appointment.service.name}, {turn.when(appointment.starts_at)}"
        turn.say(
            t("OK, I've stopped that booking. Did you also want to cancel your {what}?", what=what),
            [
                Option(f"appt:{appointment.id}:cancel", _("Cancel that one too")),
                Option("keep", _("No, keep it")),
            ],
        )
        turn.set(offer_cancel=appointment.id)  # a typed "yes" answers it too
        return
    turn.say(
        _("OK, I've stopped that booking. Did you also want to cancel one you have booked?"),
        [Option("mine", _("My appointments")), Option("keep", _("No, that's all"))],
    )


def abandon(turn: Turn) -> None:
    """Drop the booking under way: its held slot goes back at once."""
    _drop_slot(turn)
    turn.idle()


def _aside(turn: Turn, text: str, step: str) -> bool:
    """A question in passing (prices, hours, who works when...): answer it, ask again."""
    here = STEPS.get(step)
    if here is not None and here.open and not _is_question(text):
        return False  # "Hope Price" is a name, "parking on the left" a note
    if not faq.answer(turn, text):
        return False
    if step == "notes":
        turn.say(_("Anything else we should know before your visit? Just reply here, or say no."))
        return True
    advance(turn, again=True)
    return True


def _elsewhere(turn: Turn, text: str, intent: Intent, step: str) -> Intent | None | _Stays:
    """At an open question, a message that reads as a request is handled as that: the
    intent to answer from idle, None when handled here, `_STAYS` when it is an answer."""
    if intent in _ELSEWHERE and not (intent is Intent.CANCEL and step != "notes"):
        abandon(turn)
        return intent
    if step != "notes":
        return _STAYS
    if intent is Intent.BOOK or looks_like_a_request(turn, text):
        turn.idle()
        start(turn, text)
        return None
    if _is_question(text):
        # A question is not a note: answer it as any message outside a booking.
        turn.idle()
        return intent
    return _STAYS


def _is_question(text: str) -> bool:
    lowered = normalise(text)
    return (
        "?" in text
        or bool(_QUESTION_START.match(lowered))
        or lowered.startswith(("whats ", "what's ", "hows ", "wheres ", "quick q", "q:"))
    )


def _reads_as_change(turn: Turn, text: str) -> bool:
    """At an open question, whether the message changes the booking rather than answers."""
    lowered = normalise(text)
    if _CHANGE_CUE.search(lowered):
        return True
    match = find_services(text, _named(turn.services()))
    if match.item is not None and match.item.key != draft_of(turn).service:
        return True
    if not (re.search(r"\d", lowered) or _DAY_WORD.search(lowered)):
        return False
    return parse_when(text, turn.now.astimezone(turn.business.zone)) is not None


def reprompt(turn: Turn) -> None:
    """Ask the current step's question again."""
    advance(turn, again=True)


def _menu() -> tuple[Option, ...]:
    return menu()


def _ask(turn: Turn, step: str, text: str, options: list[Option] | tuple[Option, ...] = ()) -> None:
    draft = draft_of(turn)
    if not draft.trail or draft.trail[-1] != step:
        draft.trail.append(step)
    turn.conversation.step = step
    lead = " ".join(p for p in (draft.echo, draft.lead) if p)
    draft.echo = draft.lead = None
    turn.say(f"{lead} {text}" if lead else text, options)


def advance(turn: Turn, again: bool = False) -> None:
    """Ask the first step of STEPS the draft still lacks: a question, the times, or the
    proposal to confirm (`again`: the current question re-asked, the times listed again)."""
    STEPS.advance(turn, draft_of(turn), again=again)


def _query(turn: Turn, service: Service, when: Window) -> SlotQuery:
    staff_key = draft_of(turn).staff
    staff_id = None
    if staff_key and staff_key != ANYONE:
        staff_id = next((s.id for s in turn.staff_for(service) if s.key == staff_key), None)
    return SlotQuery(
        service_id=service.id,
        start=when.start,
        end=when.end,
        staff_id=staff_id,
        customer_id=turn.customer.id,
        target=when.target,
        daily=when.daily,
        place=visit_point(turn, service),
    )


def _aimed(when: Window | None, start: datetime) -> Window:
    """The window (or `start` alone, when none) aimed at `start`: the nearest to it first."""
    return (when or Window.at(start, "")).model_copy(update={"target": start})


def _limit(turn: Turn) -> int:
    # SMS and WhatsApp show options as numbered text: keep the message short.
    return 3 if turn.inbound.channel in (SMS, WHATSAPP) else 5


def _offer(turn: Turn, service: Service) -> None:
    when = _when(turn)
    assert when is not None
    query = _query(turn, service, when)
    if when.exact:
        slot = _exact_fit(turn, query)
        if slot is not None and visit.chain(turn, service, slot) is not None:
            _choose(turn, slot)
            return
        if _offer_closed(turn, service, query):
            return
        near = _fit(
            turn, service, nearest_slots(turn.session, query, now=turn.now, limit=_wide(turn))
        )
        draft = draft_of(turn)
        if (draft.echo or "").startswith(turn.when(query.start)):
            draft.echo = None  # "4:30 then." and "4:30 isn't free" would say it twice
        lead = t("Sorry, {when} isn't free.", when=turn.when(query.start))
        _present(turn, near, lead + _(" The nearest times I have:"), lead)
        return
    if _offer_closed(turn, service, query):
        return
    listed = query
    if when.whole_day() and when.single_day(turn.business.zone):
        listed = replace(query, target=None)  # no time said: the list spreads over the day
    slots = _fit(turn, service, best_slots(turn.session, listed, now=turn.now, limit=_wide(turn)))
    if slots:
        _present(turn, slots, t("Here's what I have for {window}:", window=_window(turn, when)), "")
        return
    near = _fit(turn, service, nearest_slots(turn.session, query, now=turn.now, limit=_wide(turn)))
    lead = t("Nothing's free {window}.", window=_window(turn, when))
    waitlist = Option("waitlist", t("Waitlist for {window}", window=_window(turn, when))[:60])
    _present(
        turn, near, lead + _(" The nearest times I have, or join the waitlist:"), lead, [waitlist]
    )


def _wide(turn: Turn) -> int:
    """How many candidates to look at: more when the rest of a visit must fit after."""
    return _limit(turn) * (8 if draft_of(turn).also else 1)


def _fit(turn: Turn, service: Service, slots: list[Slot]) -> list[Slot]:
    return visit.fitting(turn, service, slots, _limit(turn))


def _closed(turn: Turn, query: SlotQuery) -> tuple[str, date | None] | None:
    """When the window is one day the business is closed (or the chosen staff member is
    off): why, and the next day that is open."""
    zone = turn.business.zone
    start = query.start.astimezone(zone)
    end = (query.end - timedelta(microseconds=1)).astimezone(zone)
    if start.date() != end.date():
        return None
    member = turn.session.get(Staff, query.staff_id) if query.staff_id else None
    return faq.why_closed(turn, start.date(), member)


def _offer_closed(turn: Turn, service: Service, query: SlotQuery) -> bool:
    """A closed day (or the staff member's day off) explained, with what is open instead:
    others free that day (by name), else the next open day's times, else the nearest."""
    closed = _closed(turn, query)
    if closed is None:
        return False
    why, nxt = closed
    zone = turn.business.zone
    day = query.start.astimezone(zone).date()
    whole_day = {
        "start": max(screen.midnight(day, zone), turn.now),
        "end": screen.midnight(day + timedelta(days=1), zone),
    }
    if query.staff_id is not None:
        others = SlotQuery(**{**query.__dict__, **whole_day, "staff_id": None})
        slots = best_slots(turn.session, others, now=turn.now, limit=_limit(turn))
        if slots:
            _present(turn, slots, t("{why} Others are free that day:", why=why), why)
            return True
    if nxt is not None:
        local = query.start.astimezone(zone)
        aim = datetime.combine(nxt, local.time().replace(tzinfo=None), zone)
        there = SlotQuery(
            **{
                **query.__dict__,
                "start": max(screen.midnight(nxt, zone), turn.now),
                "end": screen.midnight(nxt + timedelta(days=1), zone),
                "target": aim if query.target is not None else None,
            }
        )
        slots = best_slots(turn.session, there, now=turn.now, limit=_limit(turn))
        if slots:
            _present(
                turn,
                slots,
                t("{why} The nearest times I have, on {day}:", why=why, day=turn.day(nxt)),
                why,
            )
            return True
    near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
    _present(turn, near, why + _(" The nearest times I have:"), why)
    return True


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
            _ask(
                turn,
                "offer",
                t("{lead} I'm fully booked around then.", lead=empty_lead).strip(),
                extra,
            )
            return
        draft_of(turn).when = None
        _ask(
            turn,
            "when",
            t(
                "{lead} I'm fully booked around then. Could another day work?",
                lead=empty_lead,
            ).strip(),
        )
        return
    draft = draft_of(turn)
    if draft.hold_id:  # a new proposal: the old hold goes back at once
        release_hold(turn.session, draft.hold_id)
        draft.hold_id = None
    # Ranking chose which slots; people read times in order.
    draft.offered = [
        Offer(id=f"slot:{i}", start=s.start, staff_id=s.staff_id)
        for i, s in enumerate(sorted(slots, key=lambda s: s.start))
    ]
    _show_offers(turn, draft.offered, lead, extra)


def _staff_name(turn: Turn, staff_id: int) -> str:
    member = turn.session.get(Staff, staff_id)
    return member.name.split()[0] if member else "us"


def _label(turn: Turn, offer: Offer) -> str:
    service = _service(turn)
    start = offer.start
    when = when_text(turn, service, start) if service is not None else turn.when(start)
    return t("{when} with {staff_name}", when=when, staff_name=_staff_name(turn, offer.staff_id))


def _show_offers(
    turn: Turn, offered: list[Offer], lead: str, extra: list[Option] | None = None
) -> None:
    options = [Option(o.id, _label(turn, o)) for o in offered]
    _ask(turn, "offer", lead, [*options, *(extra or []), Option("other", _("Other times"))])


def _choose(turn: Turn, slot: Slot) -> None:
    """The customer picked (or asked for exactly) this slot: it becomes the draft's slot.
    Nothing is held yet: a slot is held only once it is proposed for confirmation."""
    draft = draft_of(turn)
    if draft.hold_id:
        release_hold(turn.session, draft.hold_id)
    draft.hold_id = None
    service = _service(turn)
    planned = visit.chain(turn, service, slot) if service else []
    if planned is None:
        draft.slot, draft.chain = None, []
        _lead(turn, _("Sorry, there isn't room for the whole visit then."))
        if service is not None and _when(turn):
            _offer(turn, service)
        return
    pinned = _named_staff_pinned(turn, service, slot.staff_id)
    draft.slot = Chosen(start=slot.start, staff_id=slot.staff_id, pinned=pinned)
    draft.chain = planned
    advance(turn)


def _hold(turn: Turn, service: Service) -> bool:
    """Hold the draft's slot for the confirmation; False (alternatives offered) if gone."""
    draft = draft_of(turn)
    assert draft.slot is not None
    start = draft.slot.start
    held = hold_slot(
        turn.session,
        customer_id=turn.customer.id,
        service_id=service.id,
        start=start,
        staff_id=draft.slot.staff_id,
        now=turn.now,
        place=visit_place(turn, service),
    )
    if not isinstance(held, Held):
        draft.slot = draft.hold_id = None
        query = _query(turn, service, _aimed(draft.when, start))
        near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
        _present(turn, near, _("Sorry, that time was just taken. The nearest I have:"), _("Sorry,"))
        return False
    pinned = _named_staff_pinned(turn, service, held.slot.staff_id)
    draft.hold_id = held.hold_id
    draft.slot = Chosen(start=held.slot.start, staff_id=held.slot.staff_id, pinned=pinned)
    return True


def _ask_confirm(turn: Turn, service: Service) -> None:
    draft = draft_of(turn)
    if not draft.hold_id and not _hold(turn, service):
        return
    assert draft.slot is not None
    start = draft.slot.start
    lines = [
        t(
            "{service} with {staff_name}",
            service=service.name,
            staff_name=_staff_name(turn, draft.slot.staff_id),
        ),
        t(
            "{when_text} ({duration_minutes} min)",
            when_text=when_text(turn, service, start),
            duration_minutes=service.duration_minutes,
        ),
        f"Price: {turn.money(service.price_minor)}",
        *visit.lines(turn, draft.chain, _staff_name),
    ]
    deposit = deposit_for(turn.session, service.id)
    if deposit:
        lines.append(t("Deposit to secure it: {amount}", amount=turn.money(deposit)))
    if service.on_site and where_text(turn):
        lines.append(f"At: {where_text(turn)}")
    if draft.attendee:
        lines.append(f"For: {draft.attendee}")
    name = turn.customer.name or ""
    lead = (
        t("{name}, shall I book this?", name=name.split()[0]) if name else _("Shall I book this?")
    )
    _ask(
        turn,
        "confirm",
        lead + "\n" + "\n".join(lines),
        [
            Option("yes", _("Yes, book it")),
            Option("other", _("Other times")),
            Option(NO_THANKS.id, _(NO_THANKS.label)),
        ],
    )


# --- taking answers ----------------------------------------------------------------------


def _take_option(turn: Turn, option: str) -> bool:
    draft = draft_of(turn)
    if option.startswith("svc:"):
        draft.service, draft.service_choices = option[4:], []
        _drop_slot(turn)
        advance(turn)
        return True
    if option.startswith("staff:"):
        draft.staff, draft.staff_choices = option[6:], []
        _drop_slot(turn)
        advance(turn)
        return True
    if option == "other":
        _drop_slot(turn)
        draft.when = None
        advance(turn)
        return True
    if option == "waitlist":
        _join_waitlist(turn)
        return True
    if option.startswith("at:"):
        try:
            moment = datetime.fromisoformat(option[3:])  # an option id, not the stored draft
        except ValueError:
            return False  # a button id we never sent: not understood, asked again
        if moment.tzinfo is None:
            return False
        _set_when(turn, Window.at(moment, turn.when(moment)), echo=False)
        advance(turn)
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
        t(
            "You're on the waitlist for a {service} {window}. If a time opens up I'll message you here, first come first served.",
            service=service.name.lower(),
            window=_window(turn, when),
        )
    )


def _take_service_choice(turn: Turn, text: str) -> bool:
    draft = draft_of(turn)
    if not draft.service_choices:
        return False
    pool = [s for s in turn.services() if s.key in draft.service_choices]
    picked = pick_option(text, [Offered(id=s.key, label=s.name) for s in pool])
    if picked is None:
        return False
    draft.service, draft.service_choices = picked.id, []
    absorb(turn, text)
    advance(turn)
    return True


def _take_pick(turn: Turn, text: str, option_id: str | None = None) -> bool:
    if option_id is None and _asks_about_staff(turn, text):
        return False  # "is sam nice?" picks none of Sam's times
    offered = draft_of(turn).offered
    choices = [Offered(id=o.id, label=_label(turn, o), start=o.start) for o in offered]
    picked = pick_option(text, choices, option_id=option_id, zone=turn.business.zone)
    if picked is None:
        return False
    chosen = next(o for o in offered if o.id == picked.id)
    start = chosen.start
    if option_id is None and not _said_clock_agrees(turn, text, start):
        return False  # "at 11" is 11:00, never the 11:45 on the list
    if option_id is None and not _said_staff_agrees(turn, text, chosen.staff_id):
        return False  # "3:30 with alex" is not Sam's 3:30 on the list

    service = _service(turn)
    assert service is not None
    # Not held yet (that waits for the proposal), but still free? Someone may have booked it.
    query = _query(turn, service, _aimed(None, start))
    slot = slot_fits(turn.session, query, chosen.staff_id, now=turn.now)
    if slot is None:
        query = _query(turn, service, _aimed(_when(turn), start))
        near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
        _present(turn, near, _("Sorry, that time was just taken. The nearest I have:"), _("Sorry,"))
        return True
    _choose(turn, slot)
    return True


def _said_staff_agrees(turn: Turn, text: str, staff_id: int) -> bool:
    """Whether a staff member typed with a pick (if any) is the picked option's."""
    who = find_staff(text, _named(_every_staff(turn)))
    if who.item is None:
        return True
    return any(s.id == staff_id and s.key == who.item.key for s in _every_staff(turn))


def _said_clock_agrees(turn: Turn, text: str, start: datetime) -> bool:
    """Whether a day and an exact time typed with a pick are the picked option's own:
    "12/31" never picks a Jan 2 option, "at 11" never the 11:45 one."""
    zone = turn.business.zone
    local_now = turn.now.astimezone(zone)
    named = parse_when(text, local_now)
    if (
        named is not None
        and screen.names_a_day(text, local_now, listed=True)
        and start.astimezone(zone).date() not in set(named.days)
    ):
        return False
    said = parse_when(text, start.astimezone(zone).replace(hour=0, minute=0))
    if said is None or not said.exact:
        return True
    clock, picked = said.start.astimezone(zone), start.astimezone(zone)
    return (clock.hour, clock.minute) == (picked.hour, picked.minute)


def _agrees_with_proposal(turn: Turn, text: str) -> bool:
    """Whether a yes says nothing against the proposal: "ok, friday then" or "sure, with
    Alex" under a Thursday proposal with Sam is a change, never a yes to the old one."""
    draft = draft_of(turn)
    slot = draft.slot
    if slot is None:
        return True
    if not _said_clock_agrees(turn, text, slot.start):
        return False
    if plain_yes(text):
        return True  # nothing in it but the yes (and no more statements for it)
    staff = _every_staff(turn)
    who = find_staff(text, _named(staff))
    if who.item is not None:
        member = next((s for s in staff if s.id == slot.staff_id), None)
        if member is None or member.key != who.item.key:
            return False
    named = find_services(text, _named(turn.services())).item
    return named is None or named.key in (draft.service, *draft.also)


def _take_yes_no(turn: Turn, text: str) -> bool:
    answer = yes_no(text)
    if answer is True and not _agrees_with_proposal(turn, text):
        # A yes with a change in it: the change is made and proposed again, never booked as was.
        if _on_screen(turn, text, options=False) or absorb(turn, text):
            advance(turn)
        else:
            _not_understood(turn)
        return True
    if answer is True:
        _book(turn)
        return True
    if answer is False and not absorb(turn, text):
        _drop_slot(turn)
        draft = draft_of(turn)
        draft.when = None
        draft.trail = [t for t in draft.trail if t != "confirm"]
        _ask(turn, "when", _("No problem. What other day or time would suit you?"))
        return True
    return False


def _take_name(turn: Turn, text: str) -> None:
    if _take_their_name(turn, text):
        return
    name = clean_display_name(extract_name(text) or clean_name(text))
    if name is None:
        turn.say(_("Sorry, what name should I put the booking under?"))
        return
    turn.customer.name = name
    advance(turn)


def _take_their_name(turn: Turn, text: str) -> bool:
    """ "her name is Ivy" at the name question of a booking for a relation: Ivy comes;
    the booker's own name is still asked."""
    draft = draft_of(turn)
    theirs = visit.their_name(text)
    if not draft.relation or draft.attendee or theirs == text.strip():
        return False
    attendee = clean_display_name(clean_name(theirs))
    if attendee is None:
        return False
    draft.attendee = attendee
    advance(turn)
    return True


def _take_attendee(turn: Turn, text: str) -> None:
    draft = draft_of(turn)
    if visit.means_myself(text):
        draft.relation = None  # "it's for me after all"
        advance(turn)
        return
    name = clean_display_name(clean_name(visit.their_name(text)))
    if name is None:
        turn.say(t("Sorry, what's your {relation}'s name?", relation=draft.relation or "guest"))
        return
    draft.attendee = name
    advance(turn)


def _take_address(turn: Turn, text: str) -> None:
    problems = address_problems(text)
    if problems:
        missing = " and ".join(problems)
        turn.say(t("I need {missing} too. What's the full address?", missing=missing))
        return
    service = _service(turn)
    if service is not None and is_field_visit(turn, service) and not on_the_map(turn, text):
        turn.say(_(NOT_ON_MAP))
        return
    turn.customer.address = text.strip()[:500]
    advance(turn)


def _take_notes(turn: Turn, text: str) -> None:
    answer = yes_no(text)
    turn.idle()
    if answer is False or not text.strip():
        turn.say(_("All set. See you then!"))
        consent.offer(turn)  # the end of a first booking: offers, asked once
        return
    if answer is True:
        turn.say(_("Go ahead, what should we know?"))
        turn.go("book", "notes")
        return
    note = text.strip()[:1000]
    turn.customer.notes = f"{turn.customer.notes}\n{note}".strip() if turn.customer.notes else note
    turn.say(_("Thanks, I've noted that for the team."))
    consent.offer(turn)


def _back(turn: Turn) -> None:
    """ "go back": the step asked before is undone (its `back` in STEPS) and asked again."""
    STEPS.back(turn, draft_of(turn), "service")
    advance(turn)


def _not_understood(turn: Turn) -> None:
    text = turn.inbound.text or ""
    if faq.answer(turn, text):
        advance(turn, again=True)
        return
    asks = "?" in text or (_is_question(text) and len(text.split()) > 2)  # "will smith": no
    if turn.inbound.option_id is None and asks:
        _pass_on(turn, text)
        return
    turn.say(_("Sorry, I didn't get that. ") + STEPS.hint(turn.conversation.step))
    advance(turn, again=True)


def _pass_on(turn: Turn, text: str) -> None:
    """A question the bot cannot answer ("is Jordan good with curly hair?"): kept for the
    team on the customer's notes, a person offered, and the step asked again."""
    note = t("Asked while booking: {question}", question=text.strip()[:500])
    notes = turn.customer.notes
    turn.customer.notes = f"{notes}\n{note}" if notes else note
    turn.say(
        _(
            "I can't answer that one myself, so I've noted it for the team. "
            "To ask a person now, tap below; or let's carry on."
        ),
        [Option("human", _("Talk to a person"))],
    )
    advance(turn, again=True)


def _book(turn: Turn) -> None:
    service = _service(turn)
    draft = draft_of(turn)
    hold_id = draft.hold_id
    if service is None or hold_id is None:
        advance(turn)
        return
    deposit = deposit_for(turn.session, service.id)
    status = AWAITING_DEPOSIT if deposit else BOOKED
    with turn.session.begin_nested() as whole_visit:  # all of the visit, or none of it
        outcome = book_hold(
            turn.session,
            hold_id,
            now=turn.now,
            status=status,
            actor="customer",
            place=visit_place(turn, service),
            staff_pinned=bool(draft.slot and draft.slot.pinned),
        )
        if isinstance(outcome, Booked) and not _book_rest(turn, outcome, status):
            whole_visit.rollback()
            outcome = None
    if not isinstance(outcome, Booked):
        draft.hold_id = None
        when = draft.when or Window.at(turn.now, "")
        when = when.model_copy(update={"target": draft.slot.start if draft.slot else None})
        draft.slot = None
        query = _query(turn, service, when)
        near = nearest_slots(turn.session, query, now=turn.now, limit=_limit(turn))
        _present(turn, near, _("Sorry, that time was just taken. The nearest I have:"), _("Sorry,"))
        return
    appointment = outcome.appointment
    if draft.attendee is not None:  # (a new row's is NULL already: no UPDATE)
        appointment.attendee = draft.attendee
    first_visit = not turn.customer.notes and _is_first_booking(turn)
    others = list(draft.others)
    turn.idle()
    staff = _staff_name(turn, appointment.staff_id)
    what = t(
        "{service} with {staff}, {when_text}",
        service=service.name,
        staff=staff,
        when_text=when_text(turn, service, appointment.starts_at),
    )
    if deposit:
        request = ask_for_deposit(turn, appointment)
        hours = round((request.due_at - turn.now).total_seconds() / 3600) if request else 24
        turn.say(
            t(
                "Almost done: {what} is held for you. Please pay the {amount} deposit within {hours} hours to confirm it; I've sent you the link.",
                what=what,
                amount=turn.money(deposit),
                hours=hours,
            )
        )
    elif not _confirmed_here(turn, appointment.id):
        # The confirmation (with its .ics) went to another channel: say so here.
        turn.say(t("You're booked: {what}. Your confirmation is on its way.", what=what))
    if others:
        _book_next(turn, others)
        return
    if first_visit:
        turn.go("book", "notes")  # the notes step: asked here, once, never as "missing"
        turn.say(_question_notes(turn, draft_of(turn)).text)


def _book_next(turn: Turn, others: list[Another]) -> None:
    """The next person's booking asked for on the way: a new draft, the same steps."""
    first, rest = others[0], others[1:]
    turn.go("book", "service")
    draft = draft_of(turn)
    draft.service, draft.attendee, draft.relation = first.service, first.attendee, first.relation
    draft.when, draft.others = first.when, list(rest)
    _lead(turn, t("Now {whose}.", whose=_whose(turn, first)))
    advance(turn)


def _named_staff_pinned(turn: Turn, service: Service | None, staff_id: int | None) -> bool:
    """Whether the customer asked for this staff member by name (the optimiser keeps it so)."""
    named = draft_of(turn).staff
    if named in (None, ANYONE) or service is None or staff_id is None:
        return False
    return any(s.id == staff_id and s.key == named for s in turn.staff_for(service))


def _book_rest(turn: Turn, first: Booked, status: str) -> bool:
    """Book the services after the first of one visit; False if one no longer fits."""
    services = {s.key: s for s in turn.services()}
    draft = draft_of(turn)
    for item in draft.chain:
        service = services.get(item.service)
        if service is None:
            return False
        outcome = book(
            turn.session,
            customer_id=turn.customer.id,
            service_id=service.id,
            start=item.start,
            staff_id=item.staff_id,
            now=turn.now,
            # Booked outright: only the first service carries a deposit invoice, and one
            # left awaiting a deposit it has none of would be released unpaid later.
            status=BOOKED,
            actor="customer",
            staff_pinned=_named_staff_pinned(turn, service, item.staff_id),
        )
        if not isinstance(outcome, Booked):
            return False
        if draft.attendee is not None:
            outcome.appointment.attendee = draft.attendee
    return True


def _confirmed_here(turn: Turn, appointment_id: int) -> bool:
    """Whether bot.messaging.notify queued the booking confirmation to this very chat."""
    if watching_queued(turn.session):  # the engine keeps what this turn queued
        return any(
            m.purpose == CONFIRMATION
            and m.ref_id == appointment_id
            and m.channel == turn.inbound.channel
            and m.address == turn.inbound.sender
            for m in queued_in(turn.session)
        )
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
    count = turn.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.customer_id == turn.customer.id)
    )
    return (count or 0) <= 1 + len(draft_of(turn).chain)


# --- the steps, as data ------------------------------------------------------------------
# Each step's question, the test of whether the draft still lacks what it asks, what answers
# it, the hint when not understood and what "go back" to it undoes. The one-line docstrings
# are the table in docs/CONVERSATIONS.md ("The draft and the steps"; a test compares).


def _lacks_service(turn: Turn, draft: BookingDraft) -> bool:
    """No service chosen."""
    return _service(turn) is None


def _question_service(turn: Turn, draft: BookingDraft) -> Question:
    """ "What would you like to book?" with the services as buttons ("Which one: ... or
    ...?" when a word matched several)."""
    services = turn.services()
    if draft.service_choices:
        pool = [s for s in services if s.key in draft.service_choices]
        names = " or ".join(s.name for s in pool)
        return Question(
            t("Which one: {names}?", names=names),
            tuple(Option(f"svc:{s.key}", s.name) for s in pool),
        )
    return Question(
        _("What would you like to book?"),
        tuple(Option(f"svc:{s.key}", s.name) for s in services[:8]),
    )


def _read_service(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """Which of the services matched, by name or number."""
    return _take_service_choice(turn, text)


def _unset_service(turn: Turn, draft: BookingDraft) -> None:
    """The service, staff and time are asked again."""
    draft.service = draft.staff = draft.when = None
    _drop_slot(turn)


def _settle_staff(turn: Turn, draft: BookingDraft) -> None:
    """A staff member who doesn't do the service is dropped, and said so (never swapped in
    silence); anyone when one person does it, or when a time is given and no name was
    ambiguous (whoever is free then, named in the proposal)."""
    service = _service(turn)
    if service is None:
        return
    staff = turn.staff_for(service)
    if draft.staff not in (None, ANYONE) and draft.staff not in {s.key for s in staff}:
        _not_doing(turn, draft.staff, service)
        draft.staff = None
    if draft.staff is None and (len(staff) <= 1 or (draft.when and not _staff_choices(turn))):
        # A time already given: whoever is free then, named in the proposal (a preference
        # said later still counts), rather than one more question first.
        draft.staff = ANYONE


def _staff_choices(turn: Turn) -> list[Staff]:
    """Those doing the service whom an ambiguous name matched ("pri": Priya, Priyanka)."""
    service = _service(turn)
    choices = draft_of(turn).staff_choices
    return [s for s in turn.staff_for(service) if s.key in choices] if service else []


def _lacks_staff(turn: Turn, draft: BookingDraft) -> bool:
    """No staff member chosen, nor anyone."""
    return draft.staff is None


def _question_staff(turn: Turn, draft: BookingDraft) -> Question:
    """ "Haircut: any preference who with?", with who does it (those an ambiguous name
    matched) and Anyone as buttons."""
    service = _service(turn)
    assert service is not None
    staff = _staff_choices(turn) or turn.staff_for(service)
    options = [Option(f"staff:{s.key}", s.name.split()[0]) for s in staff]
    return Question(
        t("{service}: any preference who with?", service=service.name),
        (*options, Option(f"staff:{ANYONE}", _("Anyone"))),
    )


def _no_preference(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """ "no" (a message saying nothing else): anyone."""
    if yes_no(text) is not False:
        return False
    draft.staff = ANYONE
    advance(turn)
    return True


def _unset_staff(turn: Turn, draft: BookingDraft) -> None:
    """The staff member is asked again."""
    draft.staff = None
    _drop_slot(turn)


def _lacks_field_place(turn: Turn, draft: BookingDraft) -> bool:
    """A field visit whose place is not known, or not on the map."""
    service = _service(turn)
    return service is not None and is_field_visit(turn, service) and not field_place_known(turn)


def _question_field_place(turn: Turn, draft: BookingDraft) -> Question:
    """ "What's the address for the visit? (street, number, town and ZIP code, or share your
    location)"."""
    return Question(
        _(
            "What's the address for the visit? (street, number, town and ZIP code, "
            "or share your location)"
        )
    )


def _read_address(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """An address with street, number and town (a field visit's found on the map); else
    what is missing is asked."""
    _take_address(turn, text)
    return True


def _lacks_when(turn: Turn, draft: BookingDraft) -> bool:
    """No day or time said."""
    return draft.when is None


def _question_when(turn: Turn, draft: BookingDraft) -> Question:
    """ "When would you like your haircut? For example "tomorrow afternoon" or "Friday
    after 3"."."""
    service = _service(turn)
    assert service is not None
    return Question(
        t(
            'When would you like your {service}? For example "tomorrow afternoon" or "Friday after 3".',
            service=service.name.lower(),
        )
    )


def _unset_when(turn: Turn, draft: BookingDraft) -> None:
    """The day and time are asked again."""
    draft.when = None
    _drop_slot(turn)


def _lacks_slot(turn: Turn, draft: BookingDraft) -> bool:
    """No time picked (or asked for exactly) that is free."""
    return draft.slot is None


def _offer_times(turn: Turn, draft: BookingDraft) -> None:
    """The free times of the window as buttons (a time asked for exactly and free: the next
    step at once); a closed day, a day off or nothing free said, with the nearest times."""
    service = _service(turn)
    assert service is not None
    _offer(turn, service)


def _offer_again(turn: Turn, draft: BookingDraft) -> None:
    """The times listed again."""
    if draft.offered:
        _show_offers(turn, draft.offered, _("Here are the times again:"))
        return
    _offer_times(turn, draft)


def _read_offer(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """A time of the list picked (button, number, or typed); "a bit later", "after 2", a
    time typed: of the day on screen; a number that can be an option and a time: asked."""
    if option is None and _on_screen_window(turn, text):
        return True
    if option is None and _ask_number(turn, text):
        return True
    if _take_pick(turn, text):
        return True
    if option is None and _on_screen(turn, text, options=False):
        advance(turn)
        return True
    return False


def _unpick(turn: Turn, draft: BookingDraft) -> None:
    """The time picked is dropped and the times looked up again."""
    _drop_slot(turn)


def _lacks_name(turn: Turn, draft: BookingDraft) -> bool:
    """The customer's name not known."""
    return not turn.customer.name


def _question_name(turn: Turn, draft: BookingDraft) -> Question:
    """ "Great: Haircut with Sam, Fri, Nov 20, 3:00 PM is free. What name should I put the
    booking under?" (without the time when a correction is said back)."""
    # The time said back with the question: a time typed against a list or a nickname is
    # seen read right before anything is held or proposed.
    service = _service(turn)
    if draft.echo or draft.slot is None or service is None:  # a correction says what changed
        return Question(_("Great. What name should I put the booking under?"))
    return Question(
        t(
            "Great: {visit}, {when} is free. What name should I put the booking under?",
            visit=_visit_said(turn, service, draft),
            when=turn.when(draft.slot.start),
        )
    )


def _visit_said(turn: Turn, service: Service, draft: BookingDraft) -> str:
    """Who does what ("Haircut with Sam, then Beard trim with Sam"): the rest of a visit too."""
    assert draft.slot is not None
    names = {s.key: s.name for s in turn.services()}
    said = t(
        "{service} with {staff_name}",
        service=service.name,
        staff_name=_staff_name(turn, draft.slot.staff_id),
    )
    for then in draft.chain:
        said = t(
            "{first}, then {service} with {staff_name}",
            first=said,
            service=names.get(then.service, then.service),
            staff_name=_staff_name(turn, then.staff_id),
        )
    return said


def _read_name(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """A name ("Jo", "it's Jo Park"); else asked again."""
    _take_name(turn, text)
    return True


def _unset_name(turn: Turn, draft: BookingDraft) -> None:
    """The name is asked again."""
    turn.customer.name = None


def _lacks_place(turn: Turn, draft: BookingDraft) -> bool:
    """An on-site visit with no address or shared location."""
    service = _service(turn)
    return service is not None and service.on_site and not has_place(turn)


def _question_place(turn: Turn, draft: BookingDraft) -> Question:
    """ "What's the address for the visit? (street, number and town)"."""
    return Question(_("What's the address for the visit? (street, number and town)"))


def _lacks_attendee(turn: Turn, draft: BookingDraft) -> bool:
    """A relation said ("my son needs a trim") without their name."""
    return bool(draft.relation) and not draft.attendee


def _question_attendee(turn: Turn, draft: BookingDraft) -> Question:
    """ "And what's your son's name, for the booking?"."""
    return Question(
        t("And what's your {relation}'s name, for the booking?", relation=draft.relation)
    )


def _read_attendee(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """Their name ("his name is Leo"), or "it's for me after all"."""
    _take_attendee(turn, text)
    return True


def _unconfirmed(turn: Turn, draft: BookingDraft) -> bool:
    """Always: nothing is booked without a yes."""
    return True


def _question_confirm(turn: Turn, draft: BookingDraft) -> None:
    """ "Jo, shall I book this?" and the summary (service, staff, "Sat, Dec 5, 3:00 PM",
    price, the rest of the visit, deposit, place, who for); the time is held now."""
    service = _service(turn)
    assert service is not None
    _ask_confirm(turn, service)


def _read_confirm(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """Yes (booked), no (another day or time asked); "a bit later", a time typed: of the
    day proposed."""
    if _take_yes_no(turn, text):
        return True
    if option is None and _on_screen_window(turn, text):
        return True
    if option is None and _on_screen(turn, text, options=False):
        advance(turn)
        return True
    return False


def _never(turn: Turn, draft: BookingDraft) -> bool:
    """Never missing: asked once, after a first booking."""
    return False


def _question_notes(turn: Turn, draft: BookingDraft) -> Question:
    """ "Anything we should know before your visit, like allergies?"."""
    return Question(
        _("Anything we should know before your visit, like allergies? Just reply here, or say no.")
    )


def _read_notes(turn: Turn, draft: BookingDraft, text: str, option: str | None) -> bool:
    """No (all set), yes (go ahead), else a note kept for the team."""
    _take_notes(turn, text)
    return True


def _say_step(turn: Turn, draft: BookingDraft, step: str, question: Question) -> None:
    _ask(turn, step, question.text, question.options)


STEPS: Steps[BookingDraft] = Steps(
    (
        Step(
            "service",
            _question_service,
            _lacks_service,
            reads=_read_service,
            hint=N_("Tell me which service, or pick one below."),
            back=_unset_service,
        ),
        Step(
            "staff",
            _question_staff,
            _lacks_staff,
            settle=_settle_staff,
            reads_after=_no_preference,
            hint=N_("Tell me who you'd like, or say anyone."),
            back=_unset_staff,
        ),
        Step(
            "address",
            _question_field_place,
            _lacks_field_place,
            reads=_read_address,
            open=True,
            corrections=True,
        ),
        Step(
            "when",
            _question_when,
            _lacks_when,
            hint=N_('Tell me a day and time, like "tomorrow at 3" or "Saturday morning".'),
            back=_unset_when,
        ),
        Step(
            "offer",
            _offer_times,
            _lacks_slot,
            reads=_read_offer,
            hint=N_("Pick one of the times by number, or say another day."),
            back=_unpick,
            again=_offer_again,
        ),
        Step(
            "name",
            _question_name,
            _lacks_name,
            reads=_read_name,
            back=_unset_name,
            open=True,
            corrections=True,
        ),
        Step(
            "address",
            _question_place,
            _lacks_place,
            reads=_read_address,
            open=True,
            corrections=True,
        ),
        Step("attendee", _question_attendee, _lacks_attendee, reads=_read_attendee, open=True),
        Step(
            "confirm",
            _question_confirm,
            _unconfirmed,
            reads=_read_confirm,
            hint=N_('Reply "yes" to book it, or tell me another time.'),
            back=_unpick,
        ),
        Step("notes", _question_notes, _never, reads=_read_notes, open=True),
    ),
    say=_say_step,
)

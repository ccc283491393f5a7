"""Staff on the job and on the road, and the event log of an appointment, by chat.

Staff: "today" / "tomorrow" / "my jobs" list each job with its address and a maps link,
access notes and client notes; a shared location pin is kept for a while; "on my way" tells
the customer an arrival time worked out from that pin or from where the staff member was
last (`bot.field.eta`); "running late 20" ("15 min late", "stuck in traffic, 10 minutes") tells
the customer the new time; "arrived" tells the customer and "arrived"/"done" are stamped
with the time and, when shared, the location. Every step is in the appointment's event log
(`bot.scheduling.timeline`), which also gives time in transit and on the job.

Owners: the agenda shows those times per job and per staff member's day; "history Jane" or
"history #12" reads an appointment's event log; "access Jane: gate code 4321" keeps how to
get in, for the staff.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote_plus

from sqlalchemy import select

from bot.core.text import _, t
from bot.field import eta
from bot.field.eta import Eta
from bot.field.places import LatLon
from bot.messaging.asking import tell_customer
from bot.messaging.messages import Reply
from bot.messaging.notify import first_name
from bot.messaging.outbox import Purpose
from bot.scheduling import timeline
from bot.scheduling.agenda import find_customers
from bot.scheduling.timeline import Kind
from conversations.admin import commands as admin
from conversations.admin import weather as admin_weather
from conversations.admin.commands import (
    AGENDA_DETAILS,
    AGENDA_SUMMARIES,
    CARD_EXTRAS,
    STAFF,
    Actor,
    answer,
    audit,
    current_job,
    strip_command,
)
from conversations.nlu.understand import normalise
from conversations.turn import Turn
from storage.models import IN_PROGRESS, Appointment, AppointmentEvent, Customer, Staff

MAPS = "https://www.google.com/maps/search/?api=1&query="
NOTE_CHARS = 160  # a note in the agenda: one SMS line's worth
HISTORY_VISITS = 3
UPCOMING = ("booked", "confirmed")

ON_MY_WAY = r"^/?(omw|on my way|on the way|enroute|en route|heading|leaving now|setting off)"
# Said at the start, or after on my way / sorry ("sorry, 10 min late"): never inside another
# command ("charge 10 late fee", "access: key is behind the pot").
LATE = (
    r"^(?!/?(charge|add|access|note|notes|took|sign|photo)\b)"
    r"/?(?:(?:omw|on my way|sorry|heads up|fyi|hi|hey)\W+)?"
    r"(?:i'?m |im |i am |we'?re |were |we are |running |got |am |been |will be |gonna be )*"
    r"(?:(?:about|around|maybe|like|roughly)\s+)?"
    r"(?:(?:\d+|half an|an|a few|few)\s*(?:hours?|hrs?|min(?:ute)?s?|m)?\s+)?"
    r"(?:late|behind|delayed|stuck|traffic|held up)\b"
)
ARRIVED = r"^/?(arrived|here|i'm here|im here|start(ed)? job)\b"
DONE = r"^/?(done|finished|complete|completed|finish)\s*$"
_WORD_MINUTES = {
    "half an hour": 30,
    "half hour": 30,
    "quarter of an hour": 15,
    "quarter hour": 15,
    "an hour": 60,
    "a few": 5,
    "five": 5,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty five": 45,
}
_HOURS = re.compile(r"\b(\d{1,2})\s*(?:h|hr|hrs|hour|hours)\b")
_NUMBER = re.compile(r"\b(\d{1,3})\b")


# ------------------------------------------------------------------------------ helpers


def maps_link(address: str) -> str:
    """A Google Maps search link for an address."""
    return MAPS + quote_plus(address.strip())


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= NOTE_CHARS else flat[: NOTE_CHARS - 1] + "…"


def _clock(turn: Turn, moment: datetime) -> str:
    return turn.when(moment).split(", ")[-1]


def _pin(turn: Turn, actor: Actor) -> LatLon | None:
    """The location in this message, else one this person shared a short while ago."""
    where = turn.inbound.location
    point = None
    if where is not None:
        try:
            point = LatLon(where.latitude, where.longitude)
        except ValueError:  # a pin that is no place on Earth is ignored
            point = None
    if point is not None:
        eta.keep_pin(
            turn.session,
            identity=actor.identity,
            channel=turn.inbound.channel,
            point=point,
            now=turn.now,
        )
        return point
    return eta.latest_pin(turn.session, actor.identity, turn.now)


def _pin_detail(pin: LatLon | None) -> dict[str, float]:
    return {"latitude": pin.lat, "longitude": pin.lon} if pin else {}


def _add_line(turn: Turn, line: str) -> None:
    """Add a line to the reply just given (one message, not two)."""
    if not turn.replies:
        turn.say(line)
        return
    last = turn.replies[-1]
    turn.replies[-1] = Reply(f"{last.text}\n{line}", last.options, last.attachments, last.kind)


def _customer_label(job: Appointment) -> str:
    return job.customer.name or _("the customer")


def _last_promise(turn: Turn, job: Appointment) -> datetime:
    """The arrival time the customer was last given (an ETA, a late notice), else the start."""
    event = turn.session.scalar(
        select(AppointmentEvent)
        .where(
            AppointmentEvent.appointment_id == job.id,
            AppointmentEvent.kind.in_((Kind.ON_THE_WAY, Kind.RUNNING_LATE)),
        )
        .order_by(AppointmentEvent.at.desc(), AppointmentEvent.id.desc())
        .limit(1)
    )
    promised = (event.detail or {}).get("eta") if event is not None else None
    return datetime.fromisoformat(promised) if promised else job.starts_at


def _already(turn: Turn, job: Appointment, kind: Kind) -> bool:
    return (
        turn.session.scalar(
            select(AppointmentEvent.id)
            .where(AppointmentEvent.appointment_id == job.id, AppointmentEvent.kind == kind)
            .limit(1)
        )
        is not None
    )


# ---------------------------------------------------------------------- agenda details


def job_lines(turn: Turn, actor: Actor, job: Appointment) -> list[str]:
    """Under each agenda entry: for staff, where and what to know; for all, the times."""
    lines: list[str] = []
    customer = job.customer
    if actor.role == STAFF:
        if job.service.on_site and customer.address:
            lines += [f"    {customer.address}", f"    {maps_link(customer.address)}"]
        if customer.access_notes:
            lines.append(t("    Access: {access}", access=_short(customer.access_notes)))
        if customer.notes:
            lines.append(t("    Notes: {notes}", notes=_short(customer.notes)))
    timing = timeline.timings(turn.session, [job.id])[job.id]
    bits = []
    if timing.transit_minutes is not None:
        bits.append(t("drive {duration}", duration=timeline.duration(timing.transit_minutes)))
    elif timing.set_off is not None and timing.arrived is None:
        bits.append(t("on the way since {clock}", clock=_clock(turn, timing.set_off)))
    if timing.job_minutes is not None:
        bits.append(t("on the job {duration}", duration=timeline.duration(timing.job_minutes)))
    elif timing.arrived is not None and job.status == IN_PROGRESS:
        bits.append(t("on the job since {clock}", clock=_clock(turn, timing.arrived)))
    if bits:
        text = ", ".join(bits)
        lines.append(f"    {text[:1].upper()}{text[1:]}")
    return lines


def day_lines(turn: Turn, actor: Actor, jobs: list[Appointment]) -> list[str]:
    """After a staff member's entries: the day's time in transit and on jobs."""
    found = timeline.timings(turn.session, [a.id for a in jobs])
    day = timeline.totals(found.values())
    if not day.transit_minutes and not day.job_minutes:
        return []
    whose = _("Your day") if actor.role == STAFF else t("{first_name}'s day", first_name=first_name(jobs[0].staff.name))
    return [
        t("  {whose}: driving {duration}, "
        "on jobs {job_duration}", whose=whose, duration=timeline.duration(day.transit_minutes), job_duration=timeline.duration(day.job_minutes))
    ]


def my_jobs(turn: Turn, actor: Actor, text: str) -> None:
    """ "my jobs": the staff member's day (the agenda, with addresses)."""
    admin.agenda(turn, actor, re.sub(r"\b(my )?jobs\b", "", text, flags=re.I))


# ------------------------------------------------------------------------ on the road


def shared_location(turn: Turn, actor: Actor, text: str) -> None:
    """A location pin on its own: kept for the next "on my way", "arrived" or "done"."""
    if turn.inbound.location is None:
        turn.go("admin", "idle")
        turn.say(_("Sorry, I didn't get that. Say help for the commands."))
        return
    _pin(turn, actor)
    audit(turn, actor, "location_shared")
    answer(turn, [_('Got your location. Say "on my way", "arrived" or "done" and I\'ll use it.')])


def on_my_way(turn: Turn, actor: Actor, text: str) -> None:
    """Tell the next customer their staff member is on the way, with an arrival time."""
    job = current_job(turn, actor, UPCOMING)
    if job is None:
        answer(turn, [_("No more appointments today.")])
        return
    who = _customer_label(job)
    if _already(turn, job, Kind.ON_THE_WAY):
        promised = _clock(turn, _last_promise(turn, job))
        answer(
            turn,
            [
                t("{who} already knows you're on the way (about {promised}, #{job}). "
                'Held up? Say "running late 15".', who=who, promised=promised, job=job.id)
            ],
        )
        return
    pin = _pin(turn, actor)
    guess: Eta | None = None
    if job.service.on_site or pin is not None:
        guess = eta.estimate(turn.session, job, now=turn.now, pin=pin, business=turn.business)
    name = first_name(job.staff.name)
    if guess is not None:
        notice = (
            t("{name} from {business} is on the way, "
            "arriving about {clock}.", name=name, business=turn.business.name, clock=_clock(turn, guess.arrive_at))
        )
    else:
        notice = (
            t("{name} from {business} is on the way for your "
            "{service} at {clock}.", name=name, business=turn.business.name, service=job.service.name.lower(), clock=_clock(turn, job.starts_at))
        )
    tell_customer(
        turn.session,
        job.customer_id,
        Reply(notice),
        purpose=Purpose.EN_ROUTE,
        now=turn.now,
        ref_id=job.id,
        dedupe_key=f"en-route:{job.id}",
    )
    timeline.record(
        turn.session,
        job,
        Kind.ON_THE_WAY,
        at=turn.now,
        actor=actor.tag,
        eta=guess.arrive_at if guess else None,
        minutes=guess.minutes if guess else None,
        origin=str(guess.origin) if guess else None,
        source=guess.source if guess else None,
        **_pin_detail(pin),
    )
    audit(
        turn,
        actor,
        "en_route",
        appointment=job.id,
        eta=guess.arrive_at.isoformat() if guess else None,
    )
    if guess is None:
        answer(turn, [t("Told {who} you're on the way (#{job}).", who=who, job=job.id)])
        return
    answer(
        turn,
        [
            t("Told {who} you're on the way, arriving about {clock} "
            "({minutes} min from {origin}, {source}) (#{job}).", who=who, clock=_clock(turn, guess.arrive_at), minutes=guess.minutes, origin=_(guess.origin), source=guess.source, job=job.id)
        ],
    )


def late_minutes(text: str) -> int | None:
    """How many minutes late a message says ("running late 20", "half an hour behind")."""
    lowered = text.lower()
    hours = _HOURS.search(lowered)
    if hours:
        return int(hours.group(1)) * 60
    number = _NUMBER.search(lowered)
    if number:
        return int(number.group(1))
    for words, minutes in _WORD_MINUTES.items():
        if re.search(rf"\b{words}\b", lowered):
            return minutes
    return None


def running_late(turn: Turn, actor: Actor, text: str) -> None:
    """Tell the next customer the staff member is late, and the new arrival time."""
    minutes = late_minutes(text)
    if minutes is None or not 1 <= minutes <= 240:
        answer(turn, [_('How late? For example "running late 15" or "20 min late".')])
        return
    job = current_job(turn, actor, UPCOMING)
    if job is None:
        answer(turn, [_("No appointment ahead today to be late for.")])
        return
    if re.search(ON_MY_WAY, normalise(text)) and not _already(turn, job, Kind.ON_THE_WAY):
        timeline.record(turn.session, job, Kind.ON_THE_WAY, at=turn.now, actor=actor.tag)
    promised = _last_promise(turn, job)
    arrive = eta.rounded_up(max(promised, turn.now) + timedelta(minutes=minutes))
    if arrive < turn.now:
        arrive = eta.rounded_up(turn.now)
    name = first_name(job.staff.name)
    count = sum(1 for e in job.events if e.kind == Kind.RUNNING_LATE)
    tell_customer(
        turn.session,
        job.customer_id,
        Reply(
            t("{name} from {business} is running about {minutes} minutes late "
            "and will be with you about {clock}. Sorry for the wait!", name=name, business=turn.business.name, minutes=minutes, clock=_clock(turn, arrive))
        ),
        purpose=Purpose.RUNNING_LATE,
        now=turn.now,
        ref_id=job.id,
        dedupe_key=f"late:{job.id}:{count + 1}",
    )
    timeline.record(
        turn.session,
        job,
        Kind.RUNNING_LATE,
        at=turn.now,
        actor=actor.tag,
        minutes=minutes,
        eta=arrive,
    )
    audit(turn, actor, "running_late", appointment=job.id, minutes=minutes)
    answer(
        turn,
        [
            t("Told {customer_label} you're running {minutes} min late: "
            "arriving about {clock} (#{job}).", customer_label=_customer_label(job), minutes=minutes, clock=_clock(turn, arrive), job=job.id)
        ],
    )


def arrived(turn: Turn, actor: Actor, text: str) -> None:
    """Start the job (stamped with the time and any shared location); tell the customer."""
    job = current_job(turn, actor, UPCOMING)
    pin = _pin(turn, actor) if job is not None else None
    admin.arrived(turn, actor, text)
    if job is None or job.status != IN_PROGRESS:
        return
    if pin is not None:
        timeline.annotate(turn.session, job.id, Kind.ARRIVED, **_pin_detail(pin))
    if job.service.on_site:
        tell_customer(
            turn.session,
            job.customer_id,
            Reply(t("{first_name} from {business} has arrived.", first_name=first_name(job.staff.name), business=turn.business.name)),
            purpose=Purpose.ARRIVED,
            now=turn.now,
            ref_id=job.id,
            dedupe_key=f"arrived:{job.id}",
        )
        _add_line(turn, t("Told {customer_label} you're here.", customer_label=_customer_label(job)))
    if pin is not None:
        _add_line(turn, _("Arrival stamped with your location."))


def done(turn: Turn, actor: Actor, text: str) -> None:
    """Finish the job (stamped with the time and any shared location)."""
    job = current_job(turn, actor, ("in_progress", *UPCOMING))
    pin = _pin(turn, actor) if job is not None else None
    admin.done(turn, actor, text)
    if job is None or pin is None or job.status != "completed":
        return
    timeline.annotate(turn.session, job.id, Kind.COMPLETED, **_pin_detail(pin))
    _add_line(turn, _("Finish stamped with your location."))


# ------------------------------------------------------------------------------ owners


def access_notes(turn: Turn, actor: Actor, text: str) -> None:
    """Keep how to get in ("access Jane: gate code 4321"); staff may say it for the job."""
    rest = strip_command(text, "access notes", "access note", "access")
    name, colon, note = rest.partition(":")
    if not colon:
        name, note = "", rest
    name, note = name.strip(), note.strip()
    customer: Customer | None = None
    if name and actor.role == STAFF:
        # Staff keep notes for the customer of the job in front of them, nobody else's.
        job = current_job(turn, actor, ("in_progress", *UPCOMING))
        customer = job.customer if job is not None else None
        if customer is not None and name.lower() not in (customer.name or "").lower():
            answer(turn, [_("You can keep access notes for your current job's customer only.")])
            return
    elif name:
        matches = find_customers(turn.session, name)
        if len(matches) > 1:
            answer(turn, [t("{count} customers match {name!r}: say their full name.", count=len(matches), name=name)])
            return
        customer = matches[0] if matches else None
    elif actor.role == STAFF:
        job = current_job(turn, actor, ("in_progress", *UPCOMING))
        customer = job.customer if job is not None else None
    if customer is None or not note:
        answer(turn, [_('Whose, and what? For example "access Jane Doe: gate code 4321".')])
        return
    customer.access_notes = note[:1000]
    audit(turn, actor, "access_notes", customer=customer.id)
    answer(turn, [t("Access notes for {customer}: {access_notes}", customer=customer.name or _('the customer'), access_notes=customer.access_notes)])


def history(turn: Turn, actor: Actor, text: str) -> None:
    """The event log of an appointment ("history #12") or a customer's last visits."""
    ref = re.search(r"#\s*(\d+)", text)
    if ref:
        job = turn.session.get(Appointment, int(ref.group(1)))
        if job is None:
            answer(turn, [t("No appointment #{ref}.", ref=ref.group(1))])
            return
        answer(turn, _log_lines(turn, job))
        return
    name = strip_command(text, "history", "log", "event log", "timeline")
    matches = find_customers(turn.session, name) if name else []
    if not matches:
        answer(turn, [_('Whose? Say "history Jane" or "history #12".')])
        return
    if len(matches) > 1:
        answer(turn, [t("{count} customers match {name!r}: say their full name.", count=len(matches), name=name)])
        return
    visits = list(
        turn.session.scalars(
            select(Appointment)
            .where(Appointment.customer_id == matches[0].id)
            .order_by(Appointment.starts_at.desc())
            .limit(HISTORY_VISITS)
        )
    )
    if not visits:
        answer(turn, [t("{name} has no appointments yet.", name=matches[0].name)])
        return
    lines = [line for job in visits for line in _log_lines(turn, job)]
    answer(turn, lines)


def _staff_names(turn: Turn) -> tuple[dict[int, str], dict[str, str]]:
    by_id = {s.id: first_name(s.name) for s in turn.session.scalars(select(Staff))}
    by_key = {s.key: first_name(s.name) for s in turn.session.scalars(select(Staff))}
    by_identity = {
        identity: by_key.get(key, key)
        for key, identities in turn.business.staff_identities.items()
        for identity in identities
    }
    return by_id, by_identity


def _log_lines(turn: Turn, job: Appointment) -> list[str]:
    by_id, by_identity = _staff_names(turn)
    found = timeline.entries(
        turn.session,
        job,
        zone=turn.business.zone,
        locale=turn.business.locale,
        staff_names=by_id,
        staff_by_identity=by_identity,
    )
    lines = [f"#{job.id} {job.service.name}, {turn.when(job.starts_at)}:"]
    for entry in found:
        by = f" ({entry.by})" if entry.by else ""
        lines.append(f"  {entry.when}: {entry.text}{by}")
    if not found:
        lines.append(_("  nothing recorded"))
    return lines


def _card_lines(turn: Turn, customer: Customer) -> list[str]:
    lines = [t("Access: {access_notes}", access_notes=customer.access_notes)] if customer.access_notes else []
    first = (customer.name or "").split(" ")[0]
    if first:
        lines.append(t('Say "history {first}" for each visit\'s event log.', first=first))
    return lines


# ----------------------------------------------------------------------------- routing

_registered: list[bool] = []


def register() -> None:
    """Add the on-the-road agenda lines and card lines, and the weather actions (once)."""
    if _registered:
        return
    _registered.append(True)
    AGENDA_DETAILS.append(job_lines)
    AGENDA_SUMMARIES.append(day_lines)
    CARD_EXTRAS.append(_card_lines)
    admin_weather.register()

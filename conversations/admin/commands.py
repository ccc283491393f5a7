"""The owner and staff chat: run the business from a conversation.

Owners and staff are recognised by the channel identities business.toml lists for them
(`owners`, each staff member's `identities`); everyone else gets the customer experience
and never sees admin data. Commands work as slash commands and in plain words
("/today", "who's in tomorrow?", "block friday 2-5pm", "mark INV-0012 paid 50 cash").
Destructive or bulk actions ask for confirmation first; an ambiguous name asks back; long
answers stop at a screenful with "more". Every action is written to the audit log.

Caller ID on SMS can be forged, so when business.toml sets `owner_pin`, the commands in
`PIN_GUARDED` arriving by SMS from an owner first ask for the PIN. The wait for it is the
conversation's "pin" step (in the database, like every step); the reply is never repeated;
a wrong PIN does nothing, and after `PIN_TRIES` wrong ones in `PIN_WINDOW` (counted from
the audit log) such commands by SMS pause until the window has passed.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.config import pin_digest
from bot.core.text import _, nt, t
from bot.customers import attachments
from bot.customers.portal import issue_link
from bot.engagement.broadcast import audience, send_promotion
from bot.messaging.asking import tell_customer
from bot.messaging.messages import SMS, Option, Reply
from bot.messaging.outbox import Purpose
from bot.scheduling.agenda import (
    appointments_between,
    block_time,
    counts_between,
    find_customers,
    identities_of,
    job_time,
    upcoming_for,
)
from bot.scheduling.booking import Changed, cancel, set_status
from conversations.nlu.understand import (
    Offered,
    find_staff,
    normalise,
    pick_option,
    to_named,
    yes_no,
)
from conversations.turn import Turn
from conversations.when import parse_when
from storage.messaging import Feedback
from storage.models import (
    COMPLETED,
    IN_PROGRESS,
    NO_SHOW,
    AdminAudit,
    Appointment,
    Customer,
    Staff,
)

OWNER = "owner"
STAFF = "staff"
CUSTOMER = "customer"
SCREEN = 12  # lines per answer before "more"
PIN_CHANNELS = (SMS,)  # where the sender's identity can be forged
PIN_TRIES = 5
PIN_WINDOW = timedelta(minutes=15)
_PIN_REPLY = re.compile(r"^[\s\d.-]{1,40}$")  # digits, as people type them ("48 21")


@dataclass(frozen=True)
class Actor:
    """Who is talking to the admin chat."""

    role: str
    identity: str
    staff_key: str | None = None

    @property
    def tag(self) -> str:
        """The actor string the booking service and notifications understand."""
        return f"{self.role}:{self.identity}"


def actor_of(turn: Turn) -> Actor:
    """The role of the sender, from the identities business.toml lists."""
    identity = turn.inbound.identity
    if identity in turn.business.owners:
        return Actor(OWNER, identity)
    for key, identities in turn.business.staff_identities.items():
        if identity in identities:
            return Actor(STAFF, identity, key)
    return Actor(CUSTOMER, identity)


def audit(turn: Turn, actor: Actor, action: str, **detail: Any) -> None:
    """Record an admin action."""
    turn.session.add(
        AdminAudit(
            actor=actor.identity,
            role=actor.role,
            channel=turn.inbound.channel,
            action=action,
            detail={k: v for k, v in detail.items() if v is not None},
            at=turn.now,
        )
    )


# --- answering ----------------------------------------------------------------------------


def answer(turn: Turn, lines: list[str], options: list[Option] | None = None) -> None:
    """Say `lines`, at most a screenful; the rest waits for "more"."""
    shown, rest = lines[:SCREEN], lines[SCREEN:]
    opts = list(options or [])
    if rest:
        turn.go("admin", "more", more=rest)
        shown.append(t("… {count} more", count=len(rest)))
        opts.append(Option("more", _("More")))
    else:
        turn.go("admin", "idle")
    turn.say("\n".join(shown), opts)


def _more(turn: Turn, actor: Actor) -> None:
    """The rest of a long answer, a screenful at a time."""
    rest = turn.data.get("more") or []
    if not rest:
        turn.say(_("That's everything."))
        return
    answer(turn, rest)


def confirm(turn: Turn, question: str, action: str, **pending: Any) -> None:
    turn.go("admin", "confirm", pending={"action": action, **pending})
    turn.say(question, [Option("yes", _("Yes")), Option("no", _("No"))])


def _choose(turn: Turn, question: str, action: str, choices: list[Option], **pending: Any) -> None:
    turn.go(
        "admin", "choose", pending={"action": action, **pending}, choices=[o.id for o in choices]
    )
    turn.say(question, choices)


# --- formatting ---------------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clock(turn: Turn, moment: datetime) -> str:
    return turn.when(moment).split(", ")[-1]


def _line(turn: Turn, a: Appointment, *, with_staff: bool = True, with_day: bool = False) -> str:
    when = turn.when(a.starts_at) if with_day else _clock(turn, a.starts_at)
    who = a.customer.name or a.customer.phone or "?"
    staff = f"{a.staff.name.split()[0]}: " if with_staff else ""
    status = "" if a.status == "booked" else f" ({a.status.replace('_', ' ')})"
    return f"{staff}{when} {a.service.name} · {who}{status} #{a.id}"


def _local_day_bounds(turn: Turn, day_offset: int, days: int = 1) -> tuple[datetime, datetime]:
    zone = turn.business.zone
    today = turn.now.astimezone(zone).date() + timedelta(days=day_offset)
    start = datetime.combine(today, time(0), tzinfo=zone)
    return start, datetime.combine(today + timedelta(days=days), time(0), tzinfo=zone)


def _period(turn: Turn, text: str) -> tuple[datetime, datetime, str]:
    """A reporting window from words: today, tomorrow, this week, a date, ..."""
    if "tomorrow" in text:
        start, end = _local_day_bounds(turn, 1)
        return start, end, turn.day(start)
    if "week" in text:
        today = turn.now.astimezone(turn.business.zone).date()
        start, end = _local_day_bounds(turn, -today.weekday(), 7)
        return start, end, t("week of {day}", day=turn.day(start))
    if "month" in text:
        local = turn.now.astimezone(turn.business.zone)
        start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=turn.business.zone)
        nxt = (start + timedelta(days=32)).replace(day=1)
        return start, nxt, f"{start:%B %Y}"
    when = parse_when(text, turn.now.astimezone(turn.business.zone))
    if when is not None and "today" not in text:
        start = datetime.combine(when.start.date(), time(0), tzinfo=turn.business.zone)
        end = datetime.combine(when.end.date(), time(0), tzinfo=turn.business.zone)
        end = max(end, start + timedelta(days=1))
        return start, end, when.label
    start, end = _local_day_bounds(turn, 0)
    return start, end, t("today, {day}", day=turn.day(start))


# --- owner commands -----------------------------------------------------------------------


def agenda(turn: Turn, actor: Actor, text: str) -> None:
    """Appointments for a day or week, grouped by staff (a staff member sees only theirs)."""
    start, end, label = _period(turn, text)
    staff_id = _staff_id(turn, actor.staff_key) if actor.role == STAFF else None
    items = appointments_between(turn.session, start, end, staff_id=staff_id)
    multi_day = end - start > timedelta(days=1)
    if not items:
        answer(turn, [t("Nothing booked for {label}.", label=label)])
        return
    lines = [nt("{period}: {n} appointment", "{period}: {n} appointments", len(items), period=_cap(label))]
    for member in sorted({a.staff.name for a in items}):
        if staff_id is None:
            lines.append(f"{member.split()[0]}:")
        theirs = [a for a in items if a.staff.name == member]
        for a in theirs:
            lines.append("  " + _line(turn, a, with_staff=False, with_day=multi_day))
            lines += [line for extra in AGENDA_DETAILS for line in extra(turn, actor, a)]
        lines += [line for extra in AGENDA_SUMMARIES for line in extra(turn, actor, theirs)]
    answer(turn, lines)


# Lines other modules add under each agenda entry, and after each staff member's entries.
AGENDA_DETAILS: list[Callable[[Turn, Actor, Appointment], list[str]]] = []
AGENDA_SUMMARIES: list[Callable[[Turn, Actor, list[Appointment]], list[str]]] = []


def _staff_id(turn: Turn, key: str | None) -> int | None:
    if key is None:
        return None
    return turn.session.scalar(select(Staff.id).where(Staff.key == key))


def strip_command(text: str, *words: str) -> str:
    pattern = r"^\s*/?(?:" + "|".join(words) + r")\b[\s:,]*"
    return re.sub(pattern, "", text, count=1, flags=re.IGNORECASE).strip()


def block(turn: Turn, actor: Actor, text: str, whole_day: bool = False) -> None:
    """Block time for everyone or one staff member ("block sam friday 2-5pm")."""
    rest = strip_command(text, "block", "close", "block off", "close on")
    when = parse_when(rest, turn.now.astimezone(turn.business.zone))
    if when is None:
        turn.say(_('When? For example "block friday 2-5pm" or "close dec 24".'))
        return
    staff = find_staff(rest, [to_named(s) for s in _staff(turn)])
    staff_key = staff.item.key if staff.item else None
    start, end = when.start, when.end
    if whole_day or when.end - when.start >= timedelta(hours=23) or when.exact:
        day = when.start.astimezone(turn.business.zone).date()
        start = datetime.combine(day, time(0), tzinfo=turn.business.zone)
        end = start + timedelta(days=1) if whole_day or not when.exact else end
    if when.exact and not whole_day:
        turn.say(_('Give me a span, like "friday 2-5pm", or "close friday" for the whole day.'))
        return
    who = staff.item.name.split()[0] if staff.item else "everyone"
    span = (
        t("{when} to {clock}", when=turn.when(start), clock=_clock(turn, end))
        if end - start < timedelta(days=1)
        else turn.day(start)
    )
    confirm(
        turn,
        t("Block {span} for {who}? Existing appointments stay; I'll list any that clash.", span=span, who=who),
        "block",
        start=start.isoformat(),
        end=end.isoformat(),
        staff=staff_key,
        reason=rest[:100],
    )


def _do_block(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    start, end = datetime.fromisoformat(pending["start"]), datetime.fromisoformat(pending["end"])
    staff_id = _staff_id(turn, pending.get("staff"))
    _, clashes = block_time(
        turn.session, start=start, end=end, staff_id=staff_id, reason=pending.get("reason", "")
    )
    audit(
        turn, actor, "block", start=pending["start"], end=pending["end"], staff=pending.get("staff")
    )
    lines = [t("Blocked. Nobody can book that time now.")]
    if clashes:
        lines.append(t("{count} appointment(s) already inside it:", count=len(clashes)))
        lines += ["  " + _line(turn, a, with_day=True) for a in clashes]
        lines.append(t('Say "move #ID to …" or "cancel #ID" to deal with them.'))
    answer(turn, lines)


def _staff(turn: Turn) -> list[Staff]:
    return list(turn.session.scalars(select(Staff).where(Staff.active.is_(True))))


def _appointment_ref(turn: Turn, text: str) -> Appointment | None:
    match = re.search(r"#\s*(\d+)", text)
    if match is None:
        return None
    return turn.session.get(Appointment, int(match.group(1)))


def _target_appointment(
    turn: Turn, actor: Actor, text: str, action: str, words: tuple[str, ...], **pending: Any
) -> Appointment | None:
    """The appointment meant by "#12" or a customer's name; asks back when ambiguous."""
    direct = _appointment_ref(turn, text)
    if direct is not None:
        return direct
    name = strip_command(text, *words)
    name = re.sub(r"'s\b.*$|\b(appointment|booking|to|at|on)\b.*$", "", name, flags=re.I).strip()
    if not name:
        turn.say(_('Whose? Say a name, or an appointment number like "#12".'))
        return None
    candidates = find_customers(turn.session, name)
    appointments = [
        a
        for c in candidates
        for a in upcoming_for(turn.session, c.id, turn.now - timedelta(hours=12))
    ]
    if not appointments:
        turn.say(t("No upcoming appointment for {name!r}.", name=name))
        return None
    if len(appointments) == 1:
        return appointments[0]
    _choose(
        turn,
        _("Which one?"),
        action,
        [Option(f"appt:{a.id}", _line(turn, a, with_day=True)) for a in appointments[:8]],
        text=text,
        **pending,
    )
    return None


def cancel_any(turn: Turn, actor: Actor, text: str, appointment: Appointment | None = None) -> None:
    """Cancel any appointment (the customer is told)."""
    reason = _REASON.search(text)
    appointment = appointment or _target_appointment(
        turn, actor, _REASON.sub("", text), "cancel", ("cancel",)
    )
    if appointment is None:
        return
    confirm(
        turn,
        t("Cancel {line}? The customer will be told", line=_line(turn, appointment, with_day=True))
        + (t(' (reason: "{reason}").', reason=reason.group(1).strip()) if reason else _("; add a reason if you like.")),
        "cancel",
        appointment=appointment.id,
        reason=reason.group(1).strip()[:200] if reason else None,
    )


# "because …", "reason: …", or whatever follows a dash or colon ("cancel #7 - Sam is ill").
_REASON = re.compile(
    r"(?:\b(?:because|reason:?|due to|as)\s+|(?:\s[-\u2013\u2014]|\s*:)\s+)(.+)$", re.IGNORECASE
)
_FILLER = re.compile(r"^(?:(?:please|pls|thanks|thank you|do it|go ahead|sure|ok|now)\s*)+$")
_YES_HEAD = re.compile(r"^\s*(?:yes|yep|yeah|ok|okay|sure|confirm)\b[\s,.:;!-]*", re.IGNORECASE)


def _cancel_reason(turn: Turn, actor: Actor, text: str, pending: dict[str, Any]) -> bool:
    """A reason typed at the cancel question ("she's ill", "yes, she's ill"): kept for the
    customer's notice. A new command instead is not a reason: False."""
    lowered = normalise(text)
    if pending.get("action") != "cancel" or not text.strip():
        return False
    if any(p.search(lowered) for p, roles, _h in COMMANDS if actor.role in roles):
        return False
    said_yes = _YES_HEAD.match(text) is not None
    reason = _YES_HEAD.sub("", text).strip()
    reason = (_REASON.search(reason).group(1) if _REASON.search(reason) else reason)[:200]  # type: ignore[union-attr]
    pending = {**pending, "reason": reason.strip(" .")}
    if said_yes:
        turn.go("admin", "idle")
        _do_cancel(turn, actor, pending)
        return True
    appointment = turn.session.get(Appointment, pending["appointment"])
    what = _line(turn, appointment, with_day=True) if appointment else f"#{pending['appointment']}"
    confirm(
        turn,
        t('Cancel {what} with the reason "{reason}"? The customer will be told.', what=what, reason=pending["reason"]),
        "cancel",
        **{k: v for k, v in pending.items() if k != "action"},
    )
    return True


def _do_cancel(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    outcome = cancel(
        turn.session,
        pending["appointment"],
        now=turn.now,
        reason=pending.get("reason") or _("cancelled by the business"),
        actor=actor.tag,
        enforce_cutoff=False,
    )
    if isinstance(outcome, Changed):
        audit(
            turn, actor, "cancel", appointment=pending["appointment"], reason=pending.get("reason")
        )
        answer(turn, [t("Cancelled #{appointment}; the customer has been told.", appointment=pending['appointment'])])
    else:
        answer(turn, [outcome.message])


def set_state(turn: Turn, actor: Actor, text: str, status: str) -> None:
    """Complete or mark no-show ("done #12", "jane didn't show")."""
    words = ("complete", "completed", "done", "finish", "no show", "noshow", "no-show", "mark")
    appointment = _target_appointment(turn, actor, text, status, words)
    if appointment is None:
        return
    if status == NO_SHOW:
        if _too_early_for_no_show(turn, appointment, text):
            return
        confirm(
            turn,
            t("Mark {line} as a no-show?", line=_line(turn, appointment, with_day=True)),
            NO_SHOW,
            appointment=appointment.id,
        )
        return
    _do_status(turn, actor, {"appointment": appointment.id, "status": status})


_ANYWAY = re.compile(r"\b(?:anyway|regardless|force|override)\b", re.IGNORECASE)


def _too_early_for_no_show(turn: Turn, appointment: Appointment, text: str) -> bool:
    """Refuse a no-show before the appointment has started, unless told "anyway"."""
    if appointment.starts_at <= turn.now or _ANYWAY.search(text):
        return False
    answer(
        turn,
        [
            t("#{appointment} hasn't started yet (it's {when}), "
            'so it can\'t be a no-show. Say "no-show #{appointment} anyway" to mark it now.', appointment=appointment.id, when=turn.when(appointment.starts_at))
        ],
    )
    return True


def _do_status(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    status = pending.get("status") or pending["action"]
    outcome = set_status(
        turn.session, pending["appointment"], status, now=turn.now, actor=actor.tag
    )
    if not isinstance(outcome, Changed):
        answer(turn, [outcome.message])
        return
    audit(turn, actor, status, appointment=pending["appointment"])
    lines = [t("#{appointment} is now {status}.", appointment=pending['appointment'], status=status.replace('_', ' '))]
    timing = job_time(turn.session, pending["appointment"]) if status == COMPLETED else None
    if timing is not None:
        lines.append(t("Time on the job: {minutes} min.", minutes=timing.minutes))
    if status == COMPLETED:
        job = turn.session.get(Appointment, pending["appointment"])
        for check in COMPLETION_NOTES:
            lines += check(turn, job)
    answer(turn, lines)


# Lines other modules add when a job is completed (a missing signature): (turn, appointment).
COMPLETION_NOTES: list[Callable[[Turn, Appointment], list[str]]] = []


def lookup(turn: Turn, actor: Actor, text: str) -> None:
    """A customer's card: contact, notes, upcoming, history."""
    name = strip_command(text, "customer", "find", "lookup", "look up", "who is")
    matches = find_customers(turn.session, name)
    if not matches:
        answer(turn, [t("No customer matches {name!r}.", name=name)])
        return
    if len(matches) > 1 and turn.inbound.option_id is None:
        _choose(
            turn,
            t("{count} customers match. Which one?", count=len(matches)),
            "lookup",
            [Option(f"cust:{c.id}", f"{c.name} {c.phone or ''}".strip()) for c in matches],
        )
        return
    answer(turn, _customer_card(turn, matches[0]))


def _customer_card(turn: Turn, customer: Customer) -> list[str]:
    lines = [f"{customer.name or _('No name')} (#{customer.id})"]
    if customer.phone:
        lines.append(t("Phone: {phone}", phone=customer.phone))
    if customer.email:
        lines.append(t("Email: {email}", email=customer.email))
    if customer.address:
        lines.append(t("Address: {address}", address=customer.address))
    if customer.notes:
        lines.append(t("Notes: {notes}", notes=customer.notes))
    channels = sorted(
        {
            i.channel + (_(" (opted out)") if i.opted_out_at else "")
            for i in identities_of(turn.session, customer.id)
        }
    )
    if channels:
        lines.append(_("Chats on: ") + ", ".join(channels))
    for extra in CARD_EXTRAS:
        lines += extra(turn, customer)
    upcoming = upcoming_for(turn.session, customer.id, turn.now)
    lines += [_("Upcoming: ") + _line(turn, a, with_day=True) for a in upcoming[:3]]
    past = turn.session.execute(
        select(Appointment.status, func.count())
        .where(Appointment.customer_id == customer.id, Appointment.starts_at < turn.now)
        .group_by(Appointment.status)
    ).all()
    if past:
        lines.append(_("History: ") + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in past))
    return lines


# Lines other modules add to a customer card (balance, saved card): (turn, customer) → lines.
CARD_EXTRAS: list[Callable[[Turn, Customer], list[str]]] = []


def broadcast(turn: Turn, actor: Actor, text: str) -> None:
    """Preview a promotion to opted-in customers, with counts, before sending."""
    body = strip_command(
        text, "broadcast", "promote", "promotion", "send a promotion", "send promotion"
    )
    if not body:
        turn.say(_('What should it say? e.g. "/broadcast 20% off colour this week!"'))
        return
    reach = audience(turn.session)
    confirm(
        turn,
        t('Preview:\n"{body}"\nReply STOP to opt out.\n\n'
        "Goes to {count} customers who opted in "
        "({opted_out} opted out and {not_opted_in} not opted in are skipped). Send it?", body=body, count=len(reach.recipients), opted_out=reach.opted_out, not_opted_in=reach.not_opted_in),
        "broadcast",
        body=body,
    )


def _do_broadcast(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    sent = send_promotion(turn.session, pending["body"], now=turn.now)
    audit(turn, actor, "broadcast", count=sent, body=pending["body"][:200])
    answer(turn, [t("Queued to {sent} customers. Quiet hours are respected.", sent=sent)])


def stats(turn: Turn, actor: Actor, text: str) -> None:
    """Numbers for a period: bookings, completions, no-show rate, feedback (and money)."""
    start, end, label = _period(
        turn, text if re.search(r"today|week|month|tomorrow|\d", text) else "month"
    )
    counts = counts_between(turn.session, start, end)
    feedback = turn.session.execute(
        select(func.avg(Feedback.score), func.count(Feedback.id)).where(
            Feedback.created_at >= start, Feedback.created_at < end
        )
    ).one()
    lines = [
        f"{_cap(label)}:",
        t("Bookings: {booked} ({completed} completed, {cancelled} cancelled)", booked=counts.booked, completed=counts.completed, cancelled=counts.cancelled),
        t("No-shows: {no_shows} ({no_show_rate:.0%})", no_shows=counts.no_shows, no_show_rate=counts.no_show_rate),
    ]
    if feedback[1]:
        lines.append(t("Feedback: {average:.1f}/5 from {count}", average=float(feedback[0]), count=feedback[1]))
    for extra in STATS_EXTRAS:
        lines += extra(turn, start, end)
    answer(turn, lines)


# Lines other modules add to stats (revenue, collected, outstanding): (turn, start, end).
STATS_EXTRAS: list[Callable[[Turn, datetime, datetime], list[str]]] = []


def admin_help(turn: Turn, actor: Actor, text: str = "") -> None:
    """What an owner or staff member can say."""
    if actor.role == STAFF:
        lines = [
            _("Staff commands:"),
            _("today / tomorrow / my jobs: your schedule, with addresses"),
            _("(share your location): used for the next step"),
            _("on my way: tell your next customer, with an ETA"),
            _("running late 15: tell them the new time"),
            _("arrived: start the job (the customer is told)"),
            _("access: gate code 4321: how to get in"),
            _("charge 15 parts: add to the job"),
            _("took 80 cash for #7: money taken on site"),
            _("(send a photo): added to the job (say before/after)"),
            _("sign / send the waiver: the customer signs on their phone"),
            _("done: finish, invoice, send the pay link"),
            _("r 3: text / done with Jane: answer a customer waiting for a person"),
        ]
    else:
        lines = [
            _("Owner commands (slash or plain words):"),
            _("today / tomorrow / week: the agenda"),
            _("book Jane 2125550123 haircut with Sam fri at 3"),
            _("move #12 to friday at 4 / cancel #12"),
            _("assign #12 to Priya / change #12 to a colour / make #12 90 minutes"),
            _("block friday 2-5pm / close dec 24"),
            _("done #12 / no show #12"),
            _("customer jane: contact, notes, history / history #12: the event log"),
            _("chats / r 3: text / reply Jane: text / done with Jane: talk to a customer"),
            _("who owes: accounts receivable"),
            _("mark INV-0012 paid 50 cash / link INV-0012 / add 15 parts to INV-0012"),
            _("book Ana haircut with Sam every other friday at 11: a series"),
            _("cancel Ana's series from next month / move Ana's series to thursdays"),
            _("estimate for Bob: colour 120, toner 25 / book EST-3 fri at 2 / invoice EST-3"),
            _("charge Bob's card for INV-0012 (or on the 30th) / scheduled charges"),
            _("merge #3 into #1: two customers into one"),
            _("access jane: gate code 4321"),
            _("optimise tuesday: plan a field team's routes (then apply / undo)"),
            _("rain wednesday: offer outdoor jobs another day"),
            _("sign #12 / send the waiver to jane / sign EST-0003: a link to sign"),
            _("statement jane"),
            _("broadcast <text>: promotion to opted-in"),
            _("promo to Sam's clients by sms: <text> (or who had a haircut in the last 60 days)"),
            _("stats / stats week / dashboard"),
        ]
    answer(turn, lines)


def dashboard(turn: Turn, actor: Actor, text: str) -> None:
    """A signed link to the owner dashboard (12 hours)."""
    url = issue_link(turn.session, customer_id=None, role=OWNER, now=turn.now)
    audit(turn, actor, "dashboard_link")
    answer(turn, [_("Your dashboard (calendar, receivables, customers), valid 12 hours:"), url])


# --- staff commands -----------------------------------------------------------------------


def current_job(turn: Turn, actor: Actor, statuses: tuple[str, ...]) -> Appointment | None:
    """The staff member's job now: the one in progress, else the next one today."""
    staff_id = _staff_id(turn, actor.staff_key)
    start, end = _local_day_bounds(turn, 0)
    today = appointments_between(turn.session, start, end, staff_id=staff_id)
    live = [a for a in today if a.status in statuses]
    in_progress = [a for a in live if a.status == IN_PROGRESS]
    if in_progress:
        return in_progress[0]
    ahead = [a for a in live if a.ends_at > turn.now]
    return ahead[0] if ahead else None


def on_my_way(turn: Turn, actor: Actor, text: str) -> None:
    """Tell the next customer their staff member is on the way."""
    job = current_job(turn, actor, ("booked", "confirmed"))
    if job is None:
        answer(turn, [_("No more appointments today.")])
        return
    name = job.staff.name.split()[0]
    tell_customer(
        turn.session,
        job.customer_id,
        Reply(
            t("{name} from {business} is on the way for your {service} at {clock}.", name=name, business=turn.business.name, service=job.service.name.lower(), clock=_clock(turn, job.starts_at))
        ),
        purpose=Purpose.EN_ROUTE,
        now=turn.now,
        ref_id=job.id,
        dedupe_key=f"en-route:{job.id}",
    )
    audit(turn, actor, "en_route", appointment=job.id)
    answer(turn, [t("Told {customer} you're on the way (#{job}).", customer=job.customer.name or _('the customer'), job=job.id)])


def arrived(turn: Turn, actor: Actor, text: str) -> None:
    """Start the job: in progress, the clock starts."""
    job = current_job(turn, actor, ("booked", "confirmed"))
    if job is None:
        answer(turn, [_("No appointment to start.")])
        return
    _do_status(turn, actor, {"appointment": job.id, "status": IN_PROGRESS})


def done(turn: Turn, actor: Actor, text: str) -> None:
    """Finish the current job (invoice and pay link follow from completion)."""
    job = current_job(turn, actor, ("in_progress", "booked", "confirmed"))
    if job is None:
        answer(turn, [_("No job to finish.")])
        return
    _do_status(turn, actor, {"appointment": job.id, "status": COMPLETED})


def photo(turn: Turn, actor: Actor, text: str) -> None:
    """Keep a photo on the current job."""
    job = current_job(turn, actor, ("in_progress", "booked", "confirmed"))
    urls = [a.url for a in turn.inbound.attachments if a.url]
    if job is None or not urls:
        answer(turn, [_("Send the photo while a job is under way.")])
        return
    job.notes = (job.notes + "\n" if job.notes else "") + "\n".join(t("Photo: {url}", url=u) for u in urls)
    kind = attachments.staff_kind(turn.session, job, text)
    for item in turn.inbound.attachments:
        if item.url:
            attachments.add(
                turn.session,
                kind=kind,
                content_type=item.content_type,
                sent_by=actor.tag,
                now=turn.now,
                customer_id=job.customer_id,
                appointment_id=job.id,
                url=item.url,
                filename=item.filename,
            )
    audit(turn, actor, "photo", appointment=job.id, urls=urls, kind=str(kind))
    answer(turn, [t("Photo added to #{job} ({kind}).", job=job.id, kind=kind)])


def close_day(turn: Turn, actor: Actor, text: str) -> None:
    """Close a whole day ("close dec 24")."""
    block(turn, actor, text, whole_day=True)


def mark_no_show(turn: Turn, actor: Actor, text: str) -> None:
    """Mark an appointment a no-show (a no-show fee may follow)."""
    set_state(turn, actor, text, NO_SHOW)


def mark_completed(turn: Turn, actor: Actor, text: str) -> None:
    """Mark an appointment completed (its invoice, or a saved-card charge, follows)."""
    set_state(turn, actor, text, COMPLETED)


# --- the owner PIN over SMS -----------------------------------------------------------------


def _needs_pin(turn: Turn, actor: Actor, handler: Handler) -> bool:
    return (
        actor.role == OWNER
        and turn.inbound.channel in PIN_CHANNELS
        and handler in PIN_GUARDED
        and bool(turn.business.owner_pin_digest)
    )


def _pin_locked(turn: Turn, actor: Actor) -> bool:
    """Whether too many wrong PINs came from this identity lately."""
    wrong = turn.session.scalar(
        select(func.count())
        .select_from(AdminAudit)
        .where(
            AdminAudit.actor == actor.identity,
            AdminAudit.action == "pin_refused",
            AdminAudit.at > turn.now - PIN_WINDOW,
        )
    )
    return int(wrong or 0) >= PIN_TRIES


def _ask_pin(turn: Turn, actor: Actor, text: str) -> None:
    if _pin_locked(turn, actor):
        turn.go("admin", "idle")
        turn.say(
            _("Too many wrong PINs: that command is paused by text for a while. Nothing changed.")
        )
        return
    turn.go("admin", "pin", pin_for=text)
    turn.say(_("Reply with your owner PIN to go on (or no to stop)."))


def _answer_pin(turn: Turn, actor: Actor, text: str) -> bool:
    """The reply to "Reply with your owner PIN": run the waiting command, or refuse.

    False when the reply is no PIN at all but something else (a new command): the waiting
    command lapses and the reply is handled as usual.
    """
    command = str(turn.data.get("pin_for") or "")
    turn.forget("pin_for")
    turn.go("admin", "idle")
    refused = yes_no(text) is False
    if not refused and not _PIN_REPLY.match(text):
        return False
    if refused:
        turn.say(_("OK, nothing changed."))
        return True
    expected = str(turn.business.owner_pin_digest or "")
    given = pin_digest("".join(text.split()))
    if _pin_locked(turn, actor) or not hmac.compare_digest(given, expected):
        audit(turn, actor, "pin_refused", command=command[:100])
        turn.say(_("That isn't the PIN, so nothing changed."))
        return True
    audit(turn, actor, "pin_accepted", command=command[:100])
    lowered = normalise(command)
    for pattern, roles, handler in COMMANDS:
        if actor.role in roles and pattern.search(lowered):
            handler(turn, actor, command)
            return True
    turn.say(_("Sorry, I didn't get that. Say help for the commands."))
    return True


# --- routing ------------------------------------------------------------------------------

Handler = Callable[[Turn, Actor, str], None]
OWNER_ONLY, EVERYONE = (OWNER,), (OWNER, STAFF)
# (pattern on the normalised text, roles, handler), first match wins: the table declared in
# conversations.admin.command_table, in its priority order (it fills these two on import).
COMMANDS: list[tuple[re.Pattern[str], tuple[str, ...], Handler]] = []
# Commands that change bookings or money, or reach many customers: by SMS they want the PIN.
PIN_GUARDED: set[Handler] = set()

# Confirmed and chosen actions: pending["action"] → what to do now.
ACTIONS: dict[str, Callable[[Turn, Actor, dict[str, Any]], None]] = {
    "block": _do_block,
    "cancel": _do_cancel,
    "broadcast": _do_broadcast,
    NO_SHOW: _do_status,
}
CHOSEN: dict[
    str, Callable[[Turn, Actor, Appointment | None, Customer | None, dict[str, Any]], None]
] = {}
# Steps of a dialogue inside the admin chat (the owner's booking: conversations.admin.booking)
# → what answers a message there; False when the message is a new command instead.
STEP_ANSWERS: dict[str, Callable[[Turn, Actor, str, str | None], bool]] = {}


def dispatch(turn: Turn, actor: Actor) -> None:
    """Handle a message from an owner or staff member."""
    turn.conversation.role = actor.role
    text = turn.inbound.text or ""
    option = turn.inbound.option_id
    step = turn.conversation.step if turn.conversation.flow == "admin" else "idle"
    if step == "confirm" and _answer_confirm(turn, actor, text, option):
        return
    if step == "choose" and _answer_choice(turn, actor, text, option):
        return
    if step == "pin" and _answer_pin(turn, actor, text):
        return
    if step in STEP_ANSWERS and STEP_ANSWERS[step](turn, actor, text, option):
        return
    if option == "more":
        _more(turn, actor)
        return
    if turn.inbound.attachments and actor.role == STAFF:
        photo(turn, actor, text)
        return
    lowered = normalise(text)
    for pattern, roles, handler in COMMANDS:
        if actor.role in roles and pattern.search(lowered):
            if _needs_pin(turn, actor, handler):
                _ask_pin(turn, actor, text)
                return
            handler(turn, actor, text)
            return
    turn.go("admin", "idle")
    turn.say(_("Sorry, I didn't get that. Say help for the commands."))


def _answer_confirm(turn: Turn, actor: Actor, text: str, option: str | None) -> bool:
    answer_ = True if option == "yes" else False if option == "no" else yes_no(text)
    pending_now = dict(turn.data.get("pending") or {})
    if answer_ is None and option is None and _cancel_reason(turn, actor, text, pending_now):
        return True
    if answer_ is None:
        turn.go("admin", "idle")
        return False  # a new command instead of an answer: the pending action lapses
    pending = dict(turn.data.get("pending") or {})
    turn.go("admin", "idle")
    if answer_ is False:
        turn.say(_("OK, nothing changed."))
        return True
    extra = _YES_HEAD.sub("", text).strip(" .") if option is None else ""
    if pending.get("action") == "cancel" and extra and not _FILLER.match(normalise(extra)):
        pending["reason"] = extra[:200]  # "yes, she's ill": the reason rides along
    ACTIONS[pending["action"]](turn, actor, pending)
    return True


def _offered(turn: Turn, choice: str) -> Offered:
    """A choice as offered: a free time ("slot:<epoch>") carries its start, so a typed
    "11:15" or "the tuesday one" picks it."""
    kind, _, raw = choice.partition(":")
    if kind == "slot" and raw.isascii() and raw.isdigit():
        start = datetime.fromtimestamp(int(raw), UTC)
        return Offered(id=choice, label=turn.when(start), start=start)
    return Offered(id=choice, label=choice)


def _answer_choice(turn: Turn, actor: Actor, text: str, option: str | None) -> bool:
    choices = turn.data.get("choices") or []
    pending = dict(turn.data.get("pending") or {})
    picked = pick_option(
        text,
        [_offered(turn, c) for c in choices],
        option_id=option,
        zone=turn.business.zone,
        now=turn.now,
    )
    if picked is None:
        turn.go("admin", "idle")
        return False
    turn.go("admin", "idle")
    kind, _, raw = picked.id.partition(":")
    pending["picked"] = picked.id
    if kind == "slot" and pending["action"] in CHOSEN:
        CHOSEN[pending["action"]](turn, actor, None, None, pending)  # a free time was picked
        return True
    if kind == "cust":
        customer = turn.session.get(Customer, int(raw))
        if customer is not None:
            answer(turn, _customer_card(turn, customer))
        return True
    appointment = turn.session.get(Appointment, int(raw))
    action = pending["action"]
    if action == "cancel":
        cancel_any(turn, actor, "", appointment)
    elif action in (NO_SHOW, COMPLETED) and appointment is not None:
        if action == NO_SHOW:
            if _too_early_for_no_show(turn, appointment, pending.get("text", "")):
                return True
            confirm(
                turn,
                t("Mark {line} as a no-show?", line=_line(turn, appointment, with_day=True)),
                NO_SHOW,
                appointment=appointment.id,
            )
        else:
            _do_status(turn, actor, {"appointment": appointment.id, "status": COMPLETED})
    elif action in CHOSEN:
        CHOSEN[action](turn, actor, appointment, None, pending)
    return True

"""Appointment edits in the owner chat: reassign, change service, length, time with staff, notes.

"assign #7 to Priya", "give Jane's 3pm to Alex", "move #7 to thursday at 2 with Priya",
"change #7 to a colour", "make #7 90 minutes", "note #7: bring the blue dye". Each asks
for confirmation first, checked against the calendar before it is offered; the change is
made by `bot.scheduling.edits` (which tells the customer and staff). Registers with conversations.admin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.core.text import _, t
from bot.messaging.messages import Option
from bot.scheduling.agenda import find_customers, upcoming_for
from bot.scheduling.booking import Refused
from bot.scheduling.edits import Edit, Edited, check_edit, edit_appointment
from conversations.admin import commands as admin
from conversations.admin.commands import Actor, answer, audit
from conversations.nlu.understand import find_services, find_staff, normalise, to_named
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import Appointment, Customer, Service, Staff

ACTION = "edit"
_REF = re.compile(r"#\s*(\d+)")
_VERBS = r"assign|reassign|give|hand|switch|swap|change|make|extend|shorten|move|reschedule"
_NOTE_VERBS = r"note|notes|add note|add a note"
_LINKS = r"to|with|into|for|as|a|an"
# The command patterns (routed by conversations.admin.command_table, which owns their priority).
NOTE_COMMAND = rf"^/?(clear\s+)?({_NOTE_VERBS})\b"
# A whole series ("change ana's series to thursday", "move all of her fridays") is the
# series commands' (conversations.admin.series), not one appointment's edit.
_NOT_SERIES = r"(?!.*\b(?:series|standing|recurring|all|every|following)\b)"
MOVE_WITH_COMMAND = rf"^{_NOT_SERIES}/?(move|reschedule)\b.*\bwith\b"
# The appointment comes right after the verb ("assign 7 ...", "give jane's 4pm ..."), so
# other "change ..." / "make ..." commands stay free for other modules.
# "hand jane back (to the bot)" ends a hand-over (conversations.flows.handover), not an edit
EDIT_COMMAND = (
    rf"^{_NOT_SERIES}(?!.*\bback\b)/?(assign|reassign|give|hand|switch|swap)\s+"
    r"(\d+\b|[\w .-]+?'s\b|[\w .-]+?\s(to|with)\b)"
    rf"|^{_NOT_SERIES}/?(change|make|extend|shorten)\s+(\d+\b|[\w-]+'s\b)"
)
_HOURS = re.compile(
    r"(?P<n>\d+(?:[.,]\d+)?)\s*(?P<u>h|hr|hrs|hour|hours|m|min|mins|minute|minutes)\b"
    r"|(?P<half>half an hour|30 mins?)|(?P<hh>an hour and a half|hour and a half|1 ?1/2 hours?)"
    r"|(?P<one>an hour|one hour)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Asked:
    """What an edit message asks for, in keys and minutes (before looking at the calendar)."""

    staff: str | None = None
    service: str | None = None
    minutes: int | None = None
    start: str | None = None  # ISO
    note: str | None = None


def duration_in(text: str) -> int | None:
    """Minutes a message gives ("90 minutes", "1.5h", "an hour and a half"), if any."""
    m = _HOURS.search(text)
    if m is None:
        return None
    if m.group("hh"):
        return 90
    if m.group("half"):
        return 30
    if m.group("one"):
        return 60
    number = float(m.group("n").replace(",", "."))
    return round(number * 60) if m.group("u").lower().startswith("h") else round(number)


def _staff_named(turn: Turn, fragment: str) -> Staff | None:
    staff = list(turn.session.scalars(select(Staff).where(Staff.active.is_(True))))
    match = find_staff(fragment, [to_named(s) for s in staff])
    if match.item is None:
        return None
    return next(s for s in staff if s.key == match.item.key)


def _service_named(turn: Turn, fragment: str) -> Service | None:
    match = find_services(fragment, [to_named(s) for s in turn.services()])
    if match.item is None:
        return None
    return next(s for s in turn.services() if s.key == match.item.key)


def _split_target(text: str) -> tuple[str, str]:
    """The words naming the appointment, and the rest ("jane's 3pm", "to alex")."""
    body = re.sub(rf"^\s*/?(?:{_VERBS})\b\s*", "", text, count=1, flags=re.I)
    body = re.sub(
        r"^(?:the\s+)?(?:service|length|staff|time)\s+(?:of|for|on)\s+", "", body, flags=re.I
    )
    ref = _REF.search(body)
    if ref is not None:
        return ref.group(0), body[: ref.start()] + " " + body[ref.end() :]
    bare = re.match(r"\s*(\d+)\b(?!\s*(?:h|min|hour|am|pm|:))", body)  # "assign 7 to Priya"
    if bare is not None:
        return f"#{bare.group(1)}", body[bare.end() :]
    parts = re.split(
        rf"\s+(?=(?:{_LINKS})\s)|\s+(?=\d+(?:[.,]\d+)?\s*(?:h|min|hour))", body, maxsplit=1
    )
    return parts[0], parts[1] if len(parts) > 1 else ""


def _find_target(turn: Turn, target: str, pending: dict[str, Any]) -> Appointment | None:
    """The appointment "#7" or "Jane's 3pm" names; asks back when several fit."""
    ref = _REF.search(target)
    if ref is not None:
        found = turn.session.get(Appointment, int(ref.group(1)))
        if found is None:
            answer(turn, [t("There's no appointment #{ref}.", ref=ref.group(1))])
        return found
    name, _, at = target.partition("'s")
    name = re.sub(r"\b(appointment|booking)\b", "", name, flags=re.I).strip()
    if not name:
        turn.say(t('Which appointment? Say its number, like "#12", or a name.'))
        return None
    customers: list[Customer] = find_customers(turn.session, name)
    found = [
        a
        for c in customers
        for a in upcoming_for(turn.session, c.id, turn.now - timedelta(hours=12))
    ]
    when = parse_when(at, turn.now.astimezone(turn.business.zone)) if at.strip() else None
    if when is not None:
        local = when.start.astimezone(turn.business.zone)
        same_clock = [
            a for a in found if a.starts_at.astimezone(turn.business.zone).time() == local.time()
        ]
        found = same_clock or found
    if not found:
        answer(turn, [t("No upcoming appointment for {name!r}.", name=name)])
        return None
    if len(found) == 1:
        return found[0]
    admin._choose(
        turn,
        t("Which one?"),
        ACTION,
        [Option(f"appt:{a.id}", admin._line(turn, a, with_day=True)) for a in found[:8]],
        **pending,
    )
    return None


def _asked(turn: Turn, verb: str, rest: str, appointment: Appointment) -> Asked | str:
    """What the rest of the message asks to change, or a question back."""
    lowered = normalise(rest)
    minutes = duration_in(rest.lower())
    staff_text = ""
    with_part = re.search(r"\bwith\s+(.+)$", lowered)
    if with_part:
        staff_text = with_part.group(1)
    elif verb in ("assign", "reassign", "give", "hand", "switch", "swap"):
        staff_text = re.sub(rf"^\s*(?:{_LINKS})\s+", "", lowered)
    staff = _staff_named(turn, staff_text) if staff_text else None
    service = None
    start = None
    if staff is None and staff_text and not with_part:  # "switch #7 to a beard trim"
        service = _service_named(turn, re.sub(r"^(?:a|an)\s+", "", staff_text))
        if service is not None:
            staff_text = ""
    if verb in ("move", "reschedule"):
        when_text = lowered[: with_part.start()] if with_part else lowered
        when = parse_when(when_text, turn.now.astimezone(turn.business.zone))
        if when is None or not when.exact:
            return t('To when? For example "move #{appointment} to friday at 2 with Priya".', appointment=appointment.id)
        start = when.start.isoformat()
    elif staff is None and minutes is None and service is None:
        target = re.sub(rf"^\s*(?:{_LINKS})\s+(?:(?:a|an)\s+)?", "", lowered)
        service = _service_named(turn, target)
        if service is None:
            staff = _staff_named(turn, target)
        if service is None and staff is None:
            return (
                t('What should change? e.g. "assign #{appointment} to Priya", '
                '"change #{appointment} to a colour" or "make #{appointment} 90 minutes".', appointment=appointment.id)
            )
    if staff_text and staff is None:
        return t("I don't know who {staff_text!r} is.", staff_text=staff_text)
    return Asked(
        staff=staff.key if staff else None,
        service=service.key if service else None,
        minutes=minutes,
        start=start,
    )


def _edit_of(turn: Turn, asked: dict[str, Any]) -> Edit:
    staff_id = (
        turn.session.scalar(select(Staff.id).where(Staff.key == asked["staff"]))
        if asked.get("staff")
        else None
    )
    service_id = next((s.id for s in turn.services() if s.key == asked.get("service")), None)
    return Edit(
        staff_id=staff_id,
        service_id=service_id,
        duration_minutes=asked.get("minutes"),
        start=datetime.fromisoformat(asked["start"]) if asked.get("start") else None,
        notes=asked.get("notes"),
    )


def _describe(turn: Turn, appointment: Appointment, asked: dict[str, Any]) -> str:
    parts = []
    if asked.get("start"):
        parts.append(t("to {when}", when=turn.when(datetime.fromisoformat(asked['start']))))
    if asked.get("staff"):
        member = turn.session.scalar(select(Staff).where(Staff.key == asked["staff"]))
        parts.append(t("with {member}", member=member.name.split()[0] if member else asked['staff']))
    if asked.get("service"):
        service = next(s for s in turn.services() if s.key == asked["service"])
        parts.append(t("as a {service}", service=service.name.lower()))
    if asked.get("minutes"):
        parts.append(t("for {minutes} min", minutes=asked['minutes']))
    return " ".join(parts)


def edit(turn: Turn, actor: Actor, text: str, appointment: Appointment | None = None) -> None:
    """Change an appointment's staff, service, length or time (and staff) together."""
    verb_match = re.match(rf"^\s*/?({_VERBS})\b", text, flags=re.I)
    verb = verb_match.group(1).lower() if verb_match else "change"
    target, rest = _split_target(text)
    if appointment is None:
        appointment = _find_target(turn, target, {"text": text})
        if appointment is None:
            return
    asked = _asked(turn, verb, rest, appointment)
    if isinstance(asked, str):
        answer(turn, [asked])
        return
    pending = {k: v for k, v in asked.__dict__.items() if v is not None}
    refused = check_edit(turn.session, appointment.id, _edit_of(turn, pending), now=turn.now)
    if refused is not None:
        answer(turn, [t("Can't: {message}", message=refused.message)])
        return
    admin.confirm(
        turn,
        t("Change {line} "
        "{describe}? The customer will be told.", line=admin._line(turn, appointment, with_day=True), describe=_describe(turn, appointment, pending)),
        ACTION,
        appointment=appointment.id,
        **pending,
    )


def note(turn: Turn, actor: Actor, text: str) -> None:
    """Add to an appointment's notes ("note #7: bring the blue dye"); "clear notes #7"."""
    ref = _REF.search(text)
    appointment = turn.session.get(Appointment, int(ref.group(1))) if ref else None
    if appointment is None:
        answer(turn, [_('Which appointment? e.g. "note #7: bring the blue dye".')])
        return
    words = re.sub(rf"^\s*/?(?:clear\s+)?(?:{_NOTE_VERBS})\b", " ", text, count=1, flags=re.I)
    words = words.replace(ref.group(0) if ref else "", " ")
    words = re.sub(r"^[\s:,-]*(?:on|to|for)?[\s:,-]*", "", words).strip()
    if re.match(r"^\s*/?clear\b", text, flags=re.I):
        notes = ""
    elif not words:
        answer(turn, [t("Notes on #{appointment}: {notes}", appointment=appointment.id, notes=appointment.notes or _('(none)'))
])
        return
    else:
        notes = f"{appointment.notes}\n{words}".strip() if appointment.notes else words
    _do_edit(turn, actor, {"appointment": appointment.id, "notes": notes})


def _do_edit(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    outcome = edit_appointment(
        turn.session, pending["appointment"], _edit_of(turn, pending), now=turn.now, actor=actor.tag
    )
    if isinstance(outcome, Refused):
        answer(turn, [t("Couldn't change it: {message}", message=outcome.message)])
        return
    assert isinstance(outcome, Edited)
    if not outcome.changes:
        answer(turn, [t("#{appointment} already is like that; nothing changed.", appointment=pending['appointment'])])
        return
    audit(
        turn,
        actor,
        ACTION,
        appointment=pending["appointment"],
        changes=[str(c) for c in outcome.changes],
    )
    told = any(c != "notes_changed" for c in outcome.changes)
    answer(
        turn,
        [
            t("Changed #{appointment}: {summary}.", appointment=pending['appointment'], summary=outcome.summary()),
            t("Now: {line}", line=admin._line(turn, outcome.appointment, with_day=True))
            + (_(" · the customer has been told.") if told else "."),
        ],
    )


def _chosen(
    turn: Turn,
    actor: Actor,
    appointment: Appointment | None,
    customer: Customer | None,
    pending: dict[str, Any],
) -> None:
    if appointment is not None:
        edit(turn, actor, str(pending.get("text") or ""), appointment)


_registered: list[bool] = []


def register() -> None:
    """Add the edit actions to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS[ACTION] = _do_edit
    admin.CHOSEN[ACTION] = _chosen

"""Bad weather by owner chat: "rain wednesday" flags that day's outdoor jobs and, once the
owner says yes, offers each customer another day in one go (`bot.field.weather`); the customer's
"move it" / "keep it" is answered in the same thread.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from bot.core.text import _, nt, t
from bot.field.weather import KIND, accept_offer, offer_another_day, outdoor_jobs
from bot.scheduling.booking import Booked
from conversations.admin import commands as admin
from conversations.admin.commands import Actor, answer, audit, confirm, strip_command
from conversations.flows import threads
from conversations.nlu.understand import yes_no
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import AwaitingReply

WORDS = ("rain", "raining", "rainy", "storm", "stormy", "snow", "snowing", "heatwave", "weather")
PATTERN = r"^/?(" + "|".join(WORDS) + r")\b"


def _reason(text: str) -> str:
    word = re.match(r"^\s*/?(\w+)", text.lower())
    found = word.group(1) if word else "weather"
    return {
        "raining": _("rain"),
        "rainy": _("rain"),
        "stormy": _("a storm"),
        "storm": _("a storm"),
        "snowing": _("snow"),
        "heatwave": _("a heatwave"),
        "weather": _("bad weather"),
    }.get(found, found)


def bad_weather(turn: Turn, actor: Actor, text: str) -> None:
    """ "rain wednesday": list the day's outdoor jobs and ask to offer them another day."""
    rest = strip_command(text, *WORDS)
    rest = re.sub(r"^(on|for)\b", "", rest.strip(), flags=re.I)
    zone = turn.business.zone
    when = parse_when(rest or "today", turn.now.astimezone(zone))
    if when is None:
        answer(turn, [_('Which day? For example "rain wednesday".')])
        return
    start = datetime.combine(when.start.astimezone(zone).date(), time(0), tzinfo=zone)
    end = start + timedelta(days=1)
    jobs = outdoor_jobs(turn.session, start, end)
    reason = _reason(text)
    day = turn.day(start)
    if not jobs:
        answer(turn, [t("No outdoor jobs on {day}.", day=day)])
        return
    lines = "\n".join("  " + admin._line(turn, a) for a in jobs)
    confirm(
        turn,
        nt("{reason} on {day}: {n} outdoor job:\n"
        "{lines}\nOffer each customer another day?", "{reason} on {day}: {n} outdoor jobs:\n"
        "{lines}\nOffer each customer another day?", len(jobs), reason=reason.capitalize(), day=day, lines=lines),
        "weather",
        start=start.isoformat(),
        reason=reason,
    )


def _do_weather(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    start = datetime.fromisoformat(pending["start"])
    jobs = outdoor_jobs(turn.session, start, start + timedelta(days=1))
    lines = []
    for job in jobs:
        offer = offer_another_day(
            turn.session, job, now=turn.now, reason=pending["reason"], actor=actor.tag
        )
        who = job.customer.name or _("A customer")
        if offer.new_start is None:
            lines.append(t("  {who} #{job}: no free day in the next week; call them.", who=who, job=job.id))
        elif not offer.told:
            lines.append(
                t("  {who} #{job}: can't be reached; {when} is free.", who=who, job=job.id, when=turn.when(offer.new_start))
            )
        else:
            lines.append(t("  {who} #{job}: offered {when}", who=who, job=job.id, when=turn.when(offer.new_start)))
    audit(turn, actor, "weather", day=pending["start"], jobs=[j.id for j in jobs])
    told = sum(1 for line in lines if "offered" in line)
    answer(turn, [t("Asked {told} of {count} customers to move:", told=told, count=len(jobs)), *lines])


def _weather_offer(turn: Turn, question: AwaitingReply, option: str | None) -> bool:
    """The customer's answer to "move it, or keep it?"."""
    text = (turn.inbound.text or "").lower()
    moving = option == "yes" or (option is None and re.search(r"\bmove\b", text) is not None)
    keeping = option == "no" or (option is None and re.search(r"\bkeep\b", text) is not None)
    if not (moving or keeping):
        said = yes_no(turn.inbound.text)
        if said is None:
            return False
        moving, keeping = said, not said
    if keeping:
        turn.say(
            _("OK, we'll keep it as it is. We'll be in touch if the weather makes it impossible.")
        )
        return True
    outcome = accept_offer(turn.session, question, turn.now)
    if isinstance(outcome, Booked):
        turn.say(t("Done: moved to {when}.", when=turn.when(outcome.appointment.starts_at)))
    else:
        turn.say(t("Sorry, that time has gone. {message}", message=outcome.message))
    return True


_registered: list[bool] = []


def register() -> None:
    """Add the weather action to the owner chat and its reply to the threads (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS["weather"] = _do_weather
    threads.HANDLERS[KIND] = _weather_offer

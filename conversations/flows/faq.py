"""Answers to the questions people ask in passing: hours, closed days, who works when,
address and parking, prices, durations, deposits and the cancellation policy.

Answered from the business's own data (opening hours, closures, staff hours, settings,
services); the dialogue then asks its current question again. A question is never taken
as a booking request: "how much is a facial?" answers the price and books nothing.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from bot.billing.payments.deposits import deposit_for
from bot.core.text import _, t
from conversations.flows import opening
from conversations.flows.draft import draft_of
from conversations.nlu.understand import Named, find_services, find_staff, normalise
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import Staff, TimeOff

_HOURS = re.compile(
    r"\b(?:opening|business|your|ur|the|store|salon|shop|what are the) hours\b|^hours$"
    r"|\b(?:when|what time|wat time)\b.{0,25}\b(?:open|close|shut)\w*"
    r"|\b(?:are|r) (?:you|u|ya|y'all|yall|they) (?:guys )?(?:open|closed|shut)\b"
    r"|\b(?:you|u) (?:guys )?(?:open|closed)\b"
    r"|\bis (?:the )?(?:salon|shop|place|it|store) (?:open|closed)\b"
    r"|\b(?:open|closed) (?:on|at|this|next|over|tomorrow|today)\b.*\?$"
    r"|\bdo (?:you|u) (?:open|close)\b"
    r"|^(?:open|closed|opened)\b|\bopen (?:late|early|till|until|til|all day)\b"
)
_CLOSED_DAYS = re.compile(
    r"\b(?:which|what) days?\b.{0,20}\b(?:closed|open|shut)\b|\bclosed days\b"
    r"|\bholidays?\b|\bdays? (?:off|closed)\b"
)
_STAFF_CUE = re.compile(
    r"\b(?:work|works|working|workin|shifts?|days? off|off on|what days|which days|schedule)\b"
    r"|\b(?:is|when's|whens|when is) \w+ (?:in|around|there|working|off)\b"
)
_ASKING = re.compile(r"\?|^(?:does|do|is|are|when|what|which|will|can|could|how)\b|\bdays?\b")
_WHERE = re.compile(
    r"\b(?:where (?:are|r|is) (?:you|u|the salon|the shop|it)|address|located|location"
    r"|directions|find you|how do i get|where is the salon|parking|park (?:my|the|a|nearby|near)"
    r"|where (?:can|do|should|could) (?:i|we) park)\b"
)
_PARKING = re.compile(r"\bparking\b|\bpark (?:my|the|a|nearby|near)\b|\bi park\b|\bwe park\b")
_DEPOSIT = re.compile(
    r"\bdeposits?\b|\bup ?front\b|\bprepay\w*|\bdown ?payment\b"
    r"|\bpay\w*\b.{0,25}\b(?:in advance|ahead|beforehand|when (?:i|we) book\w*|at booking"
    r"|to (?:book|reserve|secure))\b"
)
_POLICY = re.compile(
    r"\bcancel\w* (?:policy|fee|charge|rules?)\b|\bpolicy\b|\bno.?show (?:fee|charge)\b"
    r"|\bhow (?:late|far ahead|much notice|long before)\b.{0,30}\b(?:cancel|move|change)\w*"
    r"|\b(?:fee|charge) (?:if|for|to) (?:i )?(?:cancel|miss|don't show|dont show|no.?show)"
    r"|\bif i (?:need to |have to |must |want to )?(?:cancel|miss|don't show|dont show"
    r"|can't make it|cant make it)\b"
    r"|\bcancel\w*\b.{0,20}\b(?:for free|free of charge|without (?:a |any )?(?:fee|charge|penalty"
    r"|paying))"
)
_DURATION = re.compile(r"\bhow long\b|\bduration\b|\bhow many (?:minutes|mins|hours)\b")
_PRICE = re.compile(
    r"\b(?:how much|price|prices|pricing|cost|costs|charge|rates?|fee)\b|\bwhat'?s the damage\b"
    r"|\$\s?\d|\b\d+ ?(?:bucks|dollars|usd)\b"
)
# "who does facials?", "can alex do colour?", "does jordan do massages?"
_WHO_DOES = re.compile(
    r"\bwho(?:'s| is)? (?:does|do|can do|could do|can|offers?|is good at|is best for)\b"
    r"|\b(?:can|does|do|could|will) (?P<who>[a-z]+) (?:do|does|offer|handle)\b"
)
_NOT_A_QUESTION = re.compile(r"\b(?:instead|rather|switch|change|actually)\b")
_MENU = re.compile(r"\b(?:what services|what do you (?:do|offer)|services|menu|treatments)\b")
_PHONE = re.compile(r"\b(?:phone|call you|number to call|telephone)\b")
_WEEKDAY = re.compile(
    r"\b(?:(mon)(?:day)?|(tue)(?:s|sday|esday)?|(wed)(?:s|nesday|nsday)?|(thu)(?:r|rs|rsday|sday)?"
    r"|(fri)(?:day)?|(sat)(?:urday)?|(sun)(?:day)?)(s)?\b"
)
_HOLIDAY_WORDS = re.compile(
    r"\b(?:christmas|xmas|new ?years?|eve|thanksgiving|easter|halloween|valentines?"
    r"|independence day|july 4(?:th)?|labou?r day|memorial day|boxing day)\b"
)
_DATE_WORDS = re.compile(
    r"\b(?:today|tonight|tomorrow|tmrw|tmr|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov"
    r"|dec)\w*\b|\d{1,2}(?:st|nd|rd|th)\b|\d{1,2}/\d{1,2}"
)


def answer(turn: Turn, text: str) -> bool:
    """Answer a question about the business if the text is one; True if answered."""
    words = normalise(text)
    if not words or ("?" not in text and len(words.split()) > 12):
        return False
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    if _POLICY.search(lowered):
        _policy(turn)
        return True
    if _DEPOSIT.search(lowered):
        _deposits(turn, text)
        return True
    if _staff_days(turn, text, lowered):
        return True
    if _who_does(turn, text, lowered):
        return True
    if _DURATION.search(lowered):
        _durations(turn, text)
        return True
    if _PRICE.search(lowered):
        _prices(turn, text)
        return True
    if _CLOSED_DAYS.search(lowered) and _ASKING.search(lowered):
        _closed_days(turn)
        return True
    if _HOURS.search(lowered):
        _hours(turn, text, lowered)
        return True
    if _WHERE.search(lowered):
        _where(turn, lowered)
        return True
    if _PHONE.search(lowered) and turn.business.phone:
        turn.say(t("You can call us on {phone}.", phone=turn.business.phone))
        return True
    if _MENU.search(lowered):
        _prices(turn, "")
        return True
    return False


_SIDE = (_POLICY, _DEPOSIT, _WHERE)


def side_question(text: str) -> bool:
    """Whether the text asks about something no booking request asks (parking, the
    address, deposits, the cancellation policy): answered even when it sounds like one."""
    lowered = " ".join(text.lower().split())
    return any(p.search(lowered) for p in _SIDE)


def asks_policy(text: str) -> bool:
    """Whether the text asks about the cancellation or no-show policy."""
    return _POLICY.search(" ".join(text.lower().split())) is not None


def opening_hours(turn: Turn) -> str:
    """The business's weekly hours, compactly: "Tue-Fri 9:00-19:00, Sat 9:00-17:00"."""
    by_day = opening.week(turn.session)
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        spans = _spans(turn, by_day.get(day, [])) or "closed"
        if groups and groups[-1][2] == spans and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, spans)
        else:
            groups.append((day, day, spans))
    parts = [
        f"{opening.DAY_SHORT[a]}{'-' + opening.DAY_SHORT[b] if b != a else ''} {spans}"
        for a, b, spans in groups
        if spans != "closed"
    ]
    return "; ".join(parts) or _("by appointment")


# --- a day asked about -----------------------------------------------------------------


def _asked_day(turn: Turn, text: str, lowered: str) -> tuple[date | None, int | None]:
    """(a particular date, a weekday) the question is about; either may be None."""
    zone = turn.business.zone
    if _DATE_WORDS.search(lowered) or _HOLIDAY_WORDS.search(lowered):
        # "christmas eve" is Dec 24, whatever a closure called "Christmas Day" is
        when = parse_when(text, turn.now.astimezone(zone))
        if when is not None:
            return when.start.astimezone(zone).date(), None
    named = _closure_named(turn, lowered)
    if named is not None:
        return named, None
    m = _WEEKDAY.search(lowered)
    if m:
        weekday = next(i for i, g in enumerate(m.groups()[:7]) if g)
        if m.group(8):  # "mondays": every Monday
            return None, weekday
        today = turn.now.astimezone(zone).date()
        return today + timedelta(days=(weekday - today.weekday()) % 7), weekday
    return None, None


def _closure_named(turn: Turn, lowered: str) -> date | None:
    """The day of an upcoming closure named by its reason ("open on thanksgiving?")."""
    start = turn.now
    rows = turn.session.scalars(
        select(TimeOff)
        .where(
            TimeOff.staff_id.is_(None),
            TimeOff.resource_id.is_(None),
            TimeOff.ends_at > start,
            TimeOff.starts_at < start + timedelta(days=366),
        )
        .order_by(TimeOff.starts_at)
    ).all()
    for row in rows:
        words = [w for w in normalise(row.reason).split() if len(w) > 3 and w not in ("day",)]
        if words and any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in words):
            return row.starts_at.astimezone(turn.business.zone).date()
    return None


def closed_explanation(turn: Turn, day: date, staff: Staff | None = None) -> str | None:
    """Why nothing can be booked on `day` at all ("we're closed on Mondays"), with the
    nearest open day; None when the business (and the staff member) work that day."""
    found = why_closed(turn, day, staff, booking=False)
    return found[0] if found else None


def why_closed(
    turn: Turn, day: date, staff: Staff | None = None, *, booking: bool = True
) -> tuple[str, date | None] | None:
    """(why nothing can be booked on `day`, the next day that can), None when it can."""
    zone = turn.business.zone
    hours = opening.week(turn.session)
    shut = opening.closure(turn.session, day, zone)
    if not hours.get(day.weekday()) or shut is not None:
        reason = (
            t("We're closed on {day}", day=turn.day(day))
            + (f" ({shut.reason})" if shut.reason else "")
            if shut is not None
            else t("We're closed on {weekday}s", weekday=opening.DAY_NAMES[day.weekday()])
        )
        if booking:
            reason += ", so nothing's free then"
        nxt = opening.next_open_day(turn.session, day, zone)
        if nxt is None:
            return reason + ".", None
        spans = _spans(turn, hours.get(nxt.weekday(), []))
        return t(
            "{reason} - {day} we're open {spans}.", reason=reason, day=turn.day(nxt), spans=spans
        ), nxt
    if staff is None:
        return None
    own = opening.week(turn.session, staff.id)
    first = staff.name.split()[0]
    away = opening.closure(turn.session, day, zone, staff.id)
    if own.get(day.weekday()) and away is None:
        return None
    if away is not None:
        why = t("{first} is away on {day}", first=first, day=turn.day(day))
    else:
        why = t(
            "{first} doesn't work {weekday}s",
            first=first,
            weekday=opening.DAY_NAMES[day.weekday()],
        )
    nxt = opening.next_open_day(turn.session, day, zone, staff.id)
    when = t(" ({first} works {days_text}", first=first, days_text=opening.days_text(own))
    when += t("; next on {day})", day=turn.day(nxt)) if nxt else ")"
    return why + when + ".", nxt


def _hours(turn: Turn, text: str, lowered: str) -> None:
    day, weekday = _asked_day(turn, text, lowered)
    if day is None and weekday is None:
        turn.say(_("Our hours: ") + opening_hours(turn) + ".")
        return
    hours = opening.week(turn.session)
    if day is None:
        assert weekday is not None
        name = opening.DAY_NAMES[weekday]
        spans = hours.get(weekday)
        if spans:
            turn.say(t("Yes, on {name}s we're open {spans}.", name=name, spans=_spans(turn, spans)))
            return
        nxt = next(d for d in range(weekday + 1, weekday + 8) if hours.get(d % 7)) % 7
        turn.say(
            t(
                "We're closed on {name}s. {next_day} we're open {spans}. Our hours: {opening_hours}.",
                name=name,
                next_day=opening.DAY_NAMES[nxt],
                spans=_spans(turn, hours[nxt]),
                opening_hours=opening_hours(turn),
            )
        )
        return
    closed = closed_explanation(turn, day)
    if closed:
        turn.say(closed)
        return
    turn.say(
        t(
            "On {day} we're open {spans}.",
            day=turn.day(day),
            spans=_spans(turn, hours[day.weekday()]),
        )
    )


def _closed_days(turn: Turn) -> None:
    hours = opening.week(turn.session)
    weekly = [opening.DAY_NAMES[d] + "s" for d in opening.closed_weekdays(hours)]
    text = (
        t("We're closed on {days}", days=" and ".join(weekly))
        if weekly
        else _("We're open every day")
    )
    zone = turn.business.zone
    today = turn.now.astimezone(zone).date()
    shut: list[str] = []
    for offset in range(0, 61):
        day = today + timedelta(days=offset)
        row = opening.closure(turn.session, day, zone) if hours.get(day.weekday()) else None
        if row is not None:
            shut.append(f"{turn.day(day)}" + (f" ({row.reason})" if row.reason else ""))
    if shut:
        text += ", and on " + ", ".join(shut[:4])
    turn.say(text + t(". Our hours: {opening_hours}.", opening_hours=opening_hours(turn)))


# --- staff -------------------------------------------------------------------------------


def _all_staff(turn: Turn) -> list[Staff]:
    return list(turn.session.scalars(select(Staff).where(Staff.active.is_(True))))


def _staff_days(turn: Turn, text: str, lowered: str) -> bool:
    if not (_STAFF_CUE.search(lowered) and _ASKING.search(lowered)):
        return False
    staff = _all_staff(turn)
    named = [Named(s.key, s.name, tuple(getattr(s, "aliases", None) or ())) for s in staff]
    who = find_staff(text, named)
    if who.item is None:
        return False
    member = next(s for s in staff if s.key == who.item.key)
    first = member.name.split()[0]
    own = opening.week(turn.session, member.id)
    day, weekday = _asked_day(turn, text, lowered)
    if weekday is None and day is not None:
        weekday = day.weekday()
    if weekday is None:
        turn.say(
            t(
                "{first} works {days}.",
                first=first,
                days=opening.days_text(own) or _("by arrangement"),
            )
        )
        return True
    name = opening.DAY_NAMES[weekday]
    zone = turn.business.zone
    if own.get(weekday) and (
        day is None or opening.closure(turn.session, day, zone, member.id) is None
    ):
        when = (
            t("on {day}", day=turn.day(day))
            if day is not None and not _WEEKDAY.search(lowered)
            else f"{name}s"
        )
        turn.say(
            t(
                "Yes, {first} works {when}, {spans}.",
                first=first,
                when=when,
                spans=_spans(turn, own[weekday]),
            )
        )
        return True
    if day is not None and own.get(weekday):
        turn.say(
            t(
                "{first} is away on {day}. {first} works {days_text}.",
                first=first,
                day=turn.day(day),
                days_text=opening.days_text(own),
            )
        )
        return True
    others = [
        s.name.split()[0]
        for s in staff
        if s.id != member.id and opening.week(turn.session, s.id).get(weekday)
    ]
    also = t(" On {name}s: {others}.", name=name, others=", ".join(others)) if others else ""
    turn.say(
        t(
            "No, {first} doesn't work {name}s - {first} works {days_text}.{also}",
            first=first,
            name=name,
            days_text=opening.days_text(own),
            also=also,
        )
    )
    return True


def _who_does(turn: Turn, text: str, lowered: str) -> bool:
    """ "Who does facials?" / "can Alex do colour?": who does the service, said plainly.

    A day or time in the message makes it a request ("can Sam do a cut friday at 3"),
    and "instead" a correction: neither is answered here.
    """
    m = _WHO_DOES.search(lowered)
    if m is None or _NOT_A_QUESTION.search(lowered):
        return False
    if parse_when(text, turn.now.astimezone(turn.business.zone)) is not None:
        return False
    services = turn.services()
    match = find_services(text, [Named(s.key, s.name, tuple(s.aliases or ())) for s in services])
    service = next((s for s in services if match.item and s.key == match.item.key), None)
    if service is None:
        return False
    doers = [s.name.split()[0] for s in turn.staff_for(service)]
    plural = _plural(service)
    if not doers:
        turn.say(t("Nobody does {plural} at the moment.", plural=plural))
        return True
    who = (
        t("{who} does", who=doers[0])
        if len(doers) == 1
        else t("{others} or {last} do", others=", ".join(doers[:-1]), last=doers[-1])
    )
    member = None
    if m.group("who"):
        staff = _all_staff(turn)
        named = [Named(s.key, s.name, tuple(getattr(s, "aliases", None) or ())) for s in staff]
        found = find_staff(text, named)
        member = next((s for s in staff if found.item and s.key == found.item.key), None)
    if member is None:
        turn.say(t("{service}: {who}.", service=plural[:1].upper() + plural[1:], who=who))
        return True
    first = member.name.split()[0]
    if first in doers:
        turn.say(t("Yes, {first} does {plural}.", first=first, plural=plural))
    else:
        turn.say(t("{member} doesn't do {plural}; {who}.", member=first, plural=plural, who=who))
    return True


def _plural(service: object) -> str:
    name = str(getattr(service, "name", "")).lower()
    return name if name.endswith("s") or "(" in name else name + "s"


# --- money, time, place ------------------------------------------------------------------


def _asked_services(turn: Turn, text: str) -> list:
    services = turn.services()
    match = find_services(text, [Named(s.key, s.name, tuple(s.aliases or ())) for s in services])
    wanted = [s for s in services if match.item and s.key == match.item.key] or [
        s for s in services if any(c.key == s.key for c in match.candidates)
    ]
    if not wanted and turn.conversation.flow == "book":
        # "how long does it take?" while booking a facial: the facial.
        wanted = [s for s in services if s.key == draft_of(turn).service]
    return wanted


def _spans(turn: Turn, spans: list) -> str:
    """Opening spans in the business's own clock: "9:00 AM-7:00 PM"."""
    return opening.spans_text(spans, turn.business.locale)


def asked_service(turn: Turn, text: str) -> str | None:
    """The key of the one service a question names ("how much is a colour?"), else None."""
    wanted = _asked_services(turn, text)
    return wanted[0].key if len(wanted) == 1 else None


def _prices(turn: Turn, text: str) -> None:
    shown = _asked_services(turn, text) or turn.services()
    lines = [
        t(
            "{name}{duration}: {price}",
            name=s.name,
            duration="" if "(" in s.name else t(" ({minutes} min)", minutes=s.duration_minutes),
            price=turn.money(s.price_minor),
        )
        for s in shown
    ]
    turn.say("\n".join(lines))


def _durations(turn: Turn, text: str) -> None:
    wanted = _asked_services(turn, text)
    if len(wanted) == 1:
        s = wanted[0]
        turn.say(
            t(
                "A {service} takes {duration_minutes} min ({amount}).",
                service=s.name.lower(),
                duration_minutes=s.duration_minutes,
                amount=turn.money(s.price_minor),
            )
        )
        return
    _prices(turn, text)


def _deposits(turn: Turn, text: str) -> None:
    wanted = _asked_services(turn, text)
    pool = wanted or turn.services()
    lines = []
    for s in pool:
        amount = deposit_for(turn.session, s.id)
        if amount:
            lines.append(
                t("{name}: {amount} deposit when booking", name=s.name, amount=turn.money(amount))
            )
        elif wanted:
            lines.append(t("{name}: no deposit needed", name=s.name))
    if not lines or all(line.endswith("no deposit needed") for line in lines):
        what = t(" for a {service}", service=wanted[0].name.lower()) if len(wanted) == 1 else ""
        turn.say(t("No deposit needed{what}: you pay at your visit.", what=what))
        return
    hours = turn.business.billing.deposit_hold_hours
    rest = "" if wanted else _("\nEverything else: no deposit.")
    turn.say(
        "\n".join(lines)
        + rest
        + t("\nA deposit is paid by link within {hours} hours of booking.", hours=hours)
    )


def _policy(turn: Turn) -> None:
    hours = turn.business.rules.cancellation_cutoff_hours
    fee = turn.business.billing.no_show_fee_minor
    text = t(
        "You can cancel or move an appointment here in the chat up to {hours} hours before it. Closer to the time, please talk to the team.",
        hours=hours,
    )
    if fee:
        text += t(" A missed appointment (no-show) costs {amount}.", amount=turn.money(fee))
    turn.say(text)


def _where(turn: Turn, lowered: str) -> None:
    address = turn.business.address
    text = (
        t("We're at {address}.", address=address) if address else _("Ask the team for directions.")
    )
    if _PARKING.search(lowered):
        parking = turn.business.parking
        text += (
            f" {parking}" if parking else _(" For parking, the team can tell you what's nearby.")
        )
    turn.say(text)

"""The owner's promotions by chat: to a segment, on a channel, with an honest preview.

"/broadcast 20% off colour this week!" goes to everyone who opted in, as before; a segment
goes before a colon: "promo to customers who had a haircut in the last 60 days: ...",
"broadcast to customers not seen for 90 days: ...", "promo to Sam's clients by sms: ...".
The preview says how many it reaches and, for everyone else, why not (STOP, said no, never
opted in, outside the segment, not on that channel); it is sent only after a yes, and the
audience is worked out again at that moment (consent may have changed meanwhile).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bot.core.text import N_, _, t
from bot.engagement.broadcast import send_promotion
from bot.engagement.consent import Reach, Segment, history, opted_in, reach
from bot.messaging.messages import SMS, TELEGRAM, WEB, WHATSAPP
from conversations.admin import commands as admin
from conversations.nlu.understand import find_services, find_staff, to_named
from conversations.turn import Turn
from storage.engagement import PROMOTIONS
from storage.models import Customer, Service, Staff

COMMAND = r"^/?(broadcast|promote|promotion|promo|send a promotion|send promotion)\b"
_COMMAND_WORDS = (
    "broadcast",
    "promote",
    "promotion",
    "promo",
    "send a promotion",
    "send promotion",
)
_CHANNELS = {"sms": SMS, "whatsapp": WHATSAPP, "telegram": TELEGRAM, "web": WEB, "web chat": WEB}
_CHANNEL_NAMES = {SMS: N_("SMS"), WHATSAPP: N_("WhatsApp"), TELEGRAM: N_("Telegram"), WEB: N_("web chat")}
_CHANNEL = re.compile(
    r"\b(?:by|on|via|over|through)\s+(sms|text messages?|texts?|whatsapp|telegram|web chat|web)\b",
    re.I,
)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30}
_SPAN = r"(\d{1,4})\s+(day|week|month)s?"
_UNSEEN = re.compile(
    r"\b(?:not\s+(?:been\s+)?seen|haven'?t\s+(?:been\s+(?:in|seen)|come\s+in|visited|been)"
    r"|not\s+(?:been\s+)?in|no\s+visit|not\s+visited|away)\s+(?:in\s+|for\s+)?(?:the\s+)?"
    r"(?:last\s+|past\s+|over\s+)?" + _SPAN,
    re.I,
)
_WITHIN = re.compile(r"\b(?:in|within|over|during)\s+the\s+(?:last|past)\s+" + _SPAN, re.I)
_STAFFS = re.compile(
    r"\b(\w+)'s\s+(?:clients|customers|regulars)|\b(?:clients|customers|regulars)\s+of\s+(\w+)"
    r"|\b(?:saw|seen\s+by|with)\s+(\w+)",
    re.I,
)
_HAD = re.compile(
    r"\b(?:had|booked|got|came\s+for|for)\s+(?:an?\s+|the\s+)?(.+?)"
    r"(?=\s+(?:in|within|over|during)\s+the\s+|\s+(?:by|on|via|over)\s+|\s+with\s+|$)",
    re.I,
)
_FILLER = re.compile(r"\b(?:to|for|all|our|my|the|customers|clients|everyone|who|people)\b", re.I)
_SEGMENT_HINT = re.compile(
    r"^\s*(?:to|for|by|on|via)\b|\b(?:customers|clients|regulars|everyone|people)\b", re.I
)


def _days(match: re.Match[str]) -> int:
    return int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]


def parse_segment(turn: Turn, head: str) -> Segment | str:
    """The segment a head like "customers who had a haircut in the last 60 days" names, or
    what to ask when it names something unknown."""
    labels: list[str] = []
    channel = None
    found = _CHANNEL.search(head)
    if found:
        word = found.group(1).lower()
        channel = SMS if word.startswith("text") else _CHANNELS[word]
        head = head[: found.start()] + head[found.end() :]
    unseen = within = None
    if (match := _UNSEEN.search(head)) is not None:
        unseen = _days(match)
        head = head[: match.start()] + head[match.end() :]
    elif (match := _WITHIN.search(head)) is not None:
        within = _days(match)
        head = head[: match.start()] + head[match.end() :]
    staff_id = None
    if (match := _STAFFS.search(head)) is not None:
        name = next(g for g in match.groups() if g)
        staff = list(turn.session.scalars(select(Staff).where(Staff.active.is_(True))))
        hit = find_staff(name, [to_named(s) for s in staff])
        if hit.item is None:
            return t('Who is "{name}"? Use a staff member\'s name, like "Sam\'s clients".', name=name)
        member = next(s for s in staff if s.key == hit.item.key)
        staff_id = member.id
        labels.append(t("{member}'s clients", member=member.name.split()[0]))
        head = head[: match.start()] + head[match.end() :]
    service_id = None
    if (match := _HAD.search(head)) is not None and match.group(1).strip():
        services = list(turn.session.scalars(select(Service).where(Service.active.is_(True))))
        hit = find_services(match.group(1), [to_named(s) for s in services])
        if hit.item is None:
            return t('Which service is "{service}"? Say it as on the price list.', service=match.group(1).strip())
        service = next(s for s in services if s.key == hit.item.key)
        service_id = service.id
        labels.append(t("who had {service}", service=service.name))
    if within is not None:
        labels.append(t("in the last {within} days", within=within))
    if unseen is not None:
        labels.append(t("not seen for {unseen} days", unseen=unseen))
    noun = "customers"
    if labels and labels[0].endswith("'s clients"):
        noun = labels.pop(0)
    label = " ".join([noun, *labels])
    if channel is not None:
        label += t(", by {channel}", channel=_(_CHANNEL_NAMES[channel]))
    narrowed = any(v is not None for v in (service_id, staff_id, within, unseen, channel))
    leftover = _FILLER.sub("", head)
    if not narrowed and re.search(r"\w", leftover):
        return (
            _("I couldn't tell who that's for. Try \"promo to customers who had a haircut in "
            'the last 60 days: ...", "to customers not seen for 90 days: ..." or '
            '"to Sam\'s clients by sms: ...".')
        )
    return Segment(
        service_id=service_id,
        staff_id=staff_id,
        within_days=within,
        unseen_days=unseen,
        channel=channel,
        label=label if narrowed else _("everyone who opted in"),
    )


def _segment_data(segment: Segment) -> dict[str, Any]:
    return {
        "service_id": segment.service_id,
        "staff_id": segment.staff_id,
        "within_days": segment.within_days,
        "unseen_days": segment.unseen_days,
        "channel": segment.channel,
        "label": segment.label,
    }


def _left_out(result: Reach, segment: Segment) -> str:
    reasons = [
        (result.opted_out, _("opted out (STOP)")),
        (result.declined, _("said no to offers")),
        (result.never_asked, _("not opted in")),
        (result.outside, _("outside this group")),
        (result.off_channel, t("not on {channel}", channel=_(_CHANNEL_NAMES[segment.channel]) if segment.channel in _CHANNEL_NAMES else '')),
    ]
    said = [f"{count} {why}" for count, why in reasons if count]
    return _("Not reached: ") + ", ".join(said) + "." if said else _("Nobody is left out.")


def broadcast(turn: Turn, actor: admin.Actor, text: str) -> None:
    """Preview a promotion to a segment (or everyone opted in), with who is left out and why."""
    rest = admin.strip_command(text, *_COMMAND_WORDS)
    head, colon, tail = rest.partition(":")
    if colon and _SEGMENT_HINT.search(head) and tail.strip():
        parsed = parse_segment(turn, head)
        body = tail.strip()
    else:
        parsed, body = Segment(), rest
    if isinstance(parsed, str):
        turn.say(parsed)
        return
    if not body:
        turn.say(_('What should it say? e.g. "/broadcast 20% off colour this week!"'))
        return
    result = reach(turn.session, parsed, now=turn.now)
    admin.confirm(
        turn,
        t('Preview:\n"{body}"\nReply STOP to opt out.\n\n'
        "To: {parsed}.\n"
        "Goes to {count} customers who opted in. "
        "{left_out} Send it?", body=body, parsed=parsed.label, count=len(result.recipients), left_out=_left_out(result, parsed)),
        "segment_broadcast",
        body=body,
        segment=_segment_data(parsed),
    )


def _do_broadcast(turn: Turn, actor: admin.Actor, pending: dict[str, Any]) -> None:
    segment = Segment(**(pending.get("segment") or {}))
    recipients = reach(turn.session, segment, now=turn.now).recipients
    sent = send_promotion(turn.session, pending["body"], now=turn.now, recipients=recipients)
    admin.audit(
        turn,
        actor,
        "broadcast",
        count=sent,
        body=pending["body"][:200],
        segment=segment.label,
        channel=segment.channel,
    )
    admin.answer(turn, [t("Queued to {sent} customers. Quiet hours are respected.", sent=sent)])


def consent_line(turn: Turn, customer: Customer) -> list[str]:
    """The customer card's line about offers: the latest yes or no, where and in which words."""
    kept = [e for e in history(turn.session, customer.id) if e.topic == PROMOTIONS]
    if not kept:
        return [_("Offers: never asked") if not opted_in(turn.session, customer.id) else _("Offers: yes")]
    last = kept[-1]
    answer = _("yes") if last.granted else _("no")
    words = f' "{last.words[:40]}"' if last.words else ""
    return [t("Offers: {answer} ({channel}, {day}{words})", answer=answer, channel=last.channel, day=turn.day(last.at), words=words)]


def register() -> None:
    """Add the segment-aware broadcast's action and the consent line of a customer card."""
    admin.ACTIONS["segment_broadcast"] = _do_broadcast
    admin.CARD_EXTRAS.append(consent_line)

"""Talking to a person: the customer's side of a hand-over and the team's commands.

A customer who asks for a person ("talk to a person", "can I speak to someone") gets a
thread (`bot.messaging.handover`); while it is open the engine hands their messages here instead of
to the booking dialogue (`route`), and they go to the team as they arrive. Owners and staff
answer by replying to the notice on Telegram, or anywhere with "r 3: ..." / "reply Jane: ...",
close with "done with Jane" / "close 3", and list open threads with "chats".
"""

from __future__ import annotations

import re

from bot.core.text import _, t
from bot.messaging import handover
from conversations.admin import commands as admin
from conversations.turn import Turn
from storage.engagement import Handover

# On the raw text: "r 3: see you then", "reply to Jane Doe, sure", "answer #3 yes we can".
_REPLY = re.compile(
    r"^\s*/?(?:r|reply|answer|respond)(?:\s+to)?\s+#?(?P<target>[^:,\n]+?)\s*[:,]\s*(?P<body>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_REPLY_NUMBERED = re.compile(
    r"^\s*/?(?:r|reply|answer|respond)(?:\s+to)?\s+#?(?P<target>\d+)\s+(?P<body>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_CLOSE_WORDS = re.compile(
    r"^\s*/?(?:(?:i'?m\s+|we'?re\s+)?(?:done|finished|through)\s+with|hand\s+back"
    r"|(?:close|end)(?:\s+the)?(?:\s+(?:chat|thread|handover|hand-over|conversation))?"
    r"(?:\s+with)?)\s*",
    re.IGNORECASE,
)
# The customer ends the thread themselves.
_BACK_TO_BOT = re.compile(
    r"^\s*(?:(?:take\s+me\s+|go\s+)?back\s+to\s+the\s+bot|(?:talk|speak)\s+to\s+the\s+bot"
    r"|bot\s+please|i'?ll\s+use\s+the\s+bot)[\s.!]*$",
    re.IGNORECASE,
)
_BARE_CLOSE = re.compile(
    r"^\s*/?(?:done|close|closed|finished|all done|that'?s all|end|close it)[\s.!]*$", re.I
)
_CLOSE_TAIL = re.compile(r"\s*(?:back\s+to\s+the\s+bot|back|now|thanks?|please)?[\s.!]*$", re.I)

# Patterns on the normalised text, for the admin COMMANDS table.
REPLY_COMMAND = r"^/?(r|reply|answer|respond)( to)? \S+"
CLOSE_COMMAND = (
    r"^/?((i m |im |we re )?(done|finished|through) with \S"
    r"|(close|end)( the)? (chat|thread|handover|hand over|conversation)\b"
    r"|(close|end) \d+$|hand \S+ back\b)"
)
LIST_COMMAND = r"^/?(chats|handovers|hand overs|open chats|who s waiting|whos waiting)\b"


def wants_person(turn: Turn) -> None:
    """The customer asked for a person: open (or keep) a thread and reassure them."""
    existing = handover.open_for(turn.session, turn.customer.id)
    text = "" if turn.inbound.option_id else (turn.inbound.text or "")
    handover.open_thread(
        turn.session,
        turn.customer,
        turn.inbound.channel,
        turn.inbound.sender,
        text,
        now=turn.now,
    )
    turn.idle()
    turn.say(handover.Said.STILL_OPEN if existing else handover.Said.OPENED)


def route(turn: Turn) -> bool:
    """A customer with an open thread: their message goes to the team (True), not the bot."""
    if admin.actor_of(turn).role != admin.CUSTOMER:
        return False
    thread = handover.open_for(turn.session, turn.customer.id)
    if thread is None:
        return False
    text = turn.inbound.text or ""
    if _BACK_TO_BOT.match(text):
        by = f"customer:{turn.inbound.identity}"
        handover.close(turn.session, thread, by=by, now=turn.now, tell=False)
        handover.tell_team(
            turn.session,
            thread,
            t(
                "[#{id}] {label} went back to the bot.",
                id=thread.id,
                label=handover.label(turn.customer),
            ),
            now=turn.now,
        )
        turn.idle()
        turn.say(handover.Said.CLOSED)
        return True
    if turn.inbound.option_id and not text:
        text = t("(pressed {option_id})", option_id=turn.inbound.option_id)
    for attachment in turn.inbound.attachments:
        text += f"\n{attachment.url or attachment.filename or attachment.content_type}"
    handover.forward(
        turn.session, thread, turn.inbound.channel, turn.inbound.sender, text, now=turn.now
    )
    turn.idle()
    return True


# --- the team's side -----------------------------------------------------------------------


def _threads_named(turn: Turn, target: str) -> list[Handover]:
    """Threads meant by "3", "#3" or a customer's name (open ones first)."""
    target = target.strip().lstrip("#").strip()
    if target.isascii() and target.isdigit():
        found = turn.session.get(Handover, int(target))
        return [found] if found is not None else []
    wanted = target.casefold()
    threads = handover.recent_threads(turn.session, limit=50)
    named = [
        t
        for t in threads
        if wanted
        and (
            (t.customer.name or "").casefold().startswith(wanted)
            or wanted in (t.customer.name or "").casefold().split()
            or (t.customer.phone or "").endswith(wanted)
        )
    ]
    open_ones = [t for t in named if t.closed_at is None]
    return open_ones or named[:1]


def _one(turn: Turn, target: str) -> Handover | None:
    threads = _threads_named(turn, target)
    if not threads:
        admin.answer(
            turn,
            [t('No chat with "{target}". Say "chats" for the open ones.', target=target.strip())],
        )
        return None
    if len(threads) > 1:
        admin.answer(
            turn,
            [t('More than one chat for "{target}": use its number.', target=target.strip())]
            + [_summary(t) for t in threads],
        )
        return None
    return threads[0]


def _summary(thread: Handover) -> str:
    state = "open" if thread.closed_at is None else "closed"
    last = thread.messages[-1].text[:60] if thread.messages else ""
    return f"#{thread.id} {handover.label(thread.customer)} ({state}): {last}"


def send_answer(turn: Turn, actor: admin.Actor, thread: Handover, body: str) -> None:
    """Deliver a team member's answer; a closed thread opens again, so replies come back."""
    reopened = thread.closed_at is not None
    if reopened:
        other = handover.open_for(turn.session, thread.customer_id)
        if other is not None:
            thread = other
            reopened = False
        else:
            thread.closed_at = None
            thread.closed_by = None
    handover.answer(turn.session, thread, body, actor=actor.tag, now=turn.now)
    admin.audit(turn, actor, "handover_reply", thread=thread.id)
    who = handover.label(thread.customer)
    note = " (the chat is open again)" if reopened else ""
    admin.answer(
        turn,
        [
            t(
                "Sent to {who} on {channel}{note}. #{id}",
                who=who,
                channel=thread.channel,
                note=note,
                id=thread.id,
            )
        ],
    )


def reply(turn: Turn, actor: admin.Actor, text: str) -> None:
    """ "r 3: on our way" / "reply Jane: yes, 4pm works": answer a customer's thread."""
    match = _REPLY_NUMBERED.match(text) or _REPLY.match(text)
    body = match.group("body").strip().lstrip(":,-").strip() if match else ""
    if match is None or not body:
        admin.answer(turn, [_('Say who and what, e.g. "r 3: yes, 4pm works" or "reply Jane: ..."')])
        return
    thread = _one(turn, match.group("target"))
    if thread is not None:
        send_answer(turn, actor, thread, body)


def close(turn: Turn, actor: admin.Actor, text: str) -> None:
    """ "done with Jane" / "close 3": the bot takes the customer back."""
    target = _CLOSE_TAIL.sub("", _CLOSE_WORDS.sub("", text, count=1)).strip()
    if not target:
        threads = handover.open_threads(turn.session)
        if len(threads) != 1:
            admin.answer(turn, [_('Which chat? e.g. "close 3" or "done with Jane".')])
            return
        thread: Handover | None = threads[0]
    else:
        thread = _one(turn, target)
    if thread is None:
        return
    who = handover.label(thread.customer)
    if thread.closed_at is not None:
        admin.answer(
            turn, [t("The chat with {who} (#{id}) is already closed.", who=who, id=thread.id)]
        )
        return
    handover.close(turn.session, thread, by=actor.tag, now=turn.now)
    admin.audit(turn, actor, "handover_close", thread=thread.id)
    admin.answer(
        turn,
        [t("Closed #{id}: the bot answers {who} again, and told them so.", id=thread.id, who=who)],
    )


def list_chats(turn: Turn, actor: admin.Actor, text: str) -> None:
    """The open threads, with the last thing said in each."""
    threads = handover.open_threads(turn.session)
    if not threads:
        admin.answer(turn, [_("No customer is waiting for a person.")])
        return
    admin.answer(turn, [t("{count} open:", count=len(threads))] + [_summary(t) for t in threads])


def answer_reply_to(turn: Turn, actor: admin.Actor) -> bool:
    """A team member's Telegram reply to a hand-over notice answers that thread (True)."""
    quoted = turn.inbound.reply_to
    body = (turn.inbound.text or "").strip()
    if not quoted or not body or actor.role == admin.CUSTOMER:
        return False
    thread_id = handover.thread_of_notice(
        turn.session, turn.inbound.channel, turn.inbound.sender, quoted
    )
    thread = turn.session.get(Handover, thread_id) if thread_id is not None else None
    if thread is None:
        return False
    if _BARE_CLOSE.match(body):
        close(turn, actor, f"close {thread.id}")  # a bare "done" in reply to the notice
        return True
    send_answer(turn, actor, thread, body)
    return True

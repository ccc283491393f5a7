"""The dashboard's hand-over pages: customers talking to a person, and answering them.

/dashboard/<token>/chats                        open threads first, then recent closed ones
/dashboard/<token>/chats/<id>                   one thread's messages, with a reply box
POST /dashboard/<token>/chats/<id>/reply        send an answer (to the customer's channel)
POST /dashboard/<token>/chats/<id>/close        hand the customer back to the bot

The routes join the dashboard's blueprint (its link checks, headers and rate limits); the
answers go through `bot.messaging.handover`, as the chat's "r 3: ..." does, and each is audited.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request
from flask.typing import ResponseReturnValue

from bot.core.clock import utcnow
from bot.messaging import handover
from storage.engagement import FROM_CUSTOMER, FROM_TEAM, Handover
from webhooks.context import current_db
from webhooks.dashboard import ACTOR, NOTICES, _audit, _open, _page, bp
from webhooks.portal import Formats, formats, message_page, not_found, require_form

NOTICES.update(
    {
        "answered": "Sent. The customer gets it on the channel they wrote from.",
        "closed": "Closed: the bot answers this customer again, and told them so.",
    }
)
MAX_ANSWER = 1000


def _item(thread: Handover, fmt: Formats) -> dict[str, Any]:
    last = thread.messages[-1] if thread.messages else None
    return {
        "id": thread.id,
        "customer": handover.label(thread.customer),
        "customer_id": thread.customer_id,
        "channel": thread.channel,
        "open": thread.closed_at is None,
        "opened": fmt.when(thread.opened_at),
        "last": last.text[:80] if last else "",
        "last_at": fmt.when(thread.last_activity_at),
    }


@bp.get("/dashboard/<token>/chats")
def chats(token: str) -> ResponseReturnValue:
    """Customers who asked for a person: open threads first."""
    with current_db().read() as session:
        check = _open(session, token)
        fmt = formats(session)
        rows = [_item(t, fmt) for t in handover.recent_threads(session, limit=50)]
        return _page("dashboard/chats.html", token, "chats", session, check, rows=rows)


@bp.get("/dashboard/<token>/chats/<int:thread_id>")
def chat(token: str, thread_id: int) -> ResponseReturnValue:
    """One thread, message by message, with a reply box while it is open."""
    with current_db().read() as session:
        check = _open(session, token)
        thread = session.get(Handover, thread_id)
        if thread is None:
            not_found()
        fmt = formats(session)
        side = {FROM_CUSTOMER: "them", FROM_TEAM: "us"}
        messages = [
            {
                "side": side.get(m.author, "bot"),
                "who": handover.label(thread.customer)
                if m.author == FROM_CUSTOMER
                else ("Bot" if m.author not in side else "Team"),
                "when": fmt.when(m.at),
                "text": m.text,
            }
            for m in thread.messages
        ]
        return _page(
            "dashboard/chat.html",
            token,
            "chats",
            session,
            check,
            thread=_item(thread, fmt),
            messages=messages,
        )


@bp.post("/dashboard/<token>/chats/<int:thread_id>/reply")
def chat_reply(token: str, thread_id: int) -> ResponseReturnValue:
    """Send the owner's answer to the customer."""
    now = utcnow()
    text = request.form.get("text", "").strip()[:MAX_ANSWER]
    back = (f"/dashboard/{token}/chats/{thread_id}", "Back to the chat")
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        thread = session.get(Handover, thread_id)
        if thread is None:
            not_found()
        if not text:
            return message_page("Nothing to send", "Write an answer first.", status=400, back=back)
        if thread.closed_at is not None:
            thread.closed_at, thread.closed_by = None, None  # answering opens it again
        handover.answer(session, thread, text, actor=ACTOR, now=now)
        _audit(session, check, "handover_reply", now, thread=thread_id)
    return redirect(f"/dashboard/{token}/chats/{thread_id}?notice=answered", code=303)


@bp.post("/dashboard/<token>/chats/<int:thread_id>/close")
def chat_close(token: str, thread_id: int) -> ResponseReturnValue:
    """Close the thread: the bot takes the customer back."""
    now = utcnow()
    with current_db().write() as session:
        check = _open(session, token)
        require_form(session, check)
        thread = session.get(Handover, thread_id)
        if thread is None:
            not_found()
        handover.close(session, thread, by=ACTOR, now=now)
        _audit(session, check, "handover_close", now, thread=thread_id)
    return redirect(f"/dashboard/{token}/chats/{thread_id}?notice=closed", code=303)

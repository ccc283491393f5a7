"""The web chat: the page at `/` and the JSON API behind it, which any client can drive.

`POST /api/chat` takes `{"session", "text" | "option_id", "message_id"?}` and answers with
every message for that session since `after` — the replies to this message and anything
queued for the session meanwhile (a confirmation with its .ics, a reminder). `GET
/api/chat/messages` polls for the same. The session is a random id the page keeps in local
storage; `message_id` lets a client retry a POST without the message being handled twice.
"""

from __future__ import annotations

import base64
import hmac
import re
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bot.inline import take_since
from bot.messages import WEB, Inbound, Reply
from conversations.engine import Engine
from storage.models import Conversation
from webhooks.context import current_config, current_db
from webhooks.limits import MAX_ROW_ID, engine_replies_per_minute, new_session_allowed

bp = Blueprint("webchat", __name__)

_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
OWNER_ADDRESS = "owner"
MAX_TEXT = 4000
MAX_AFTER = MAX_ROW_ID  # `after` is a message id: beyond it the database would overflow


@bp.get("/")
def page() -> ResponseReturnValue:
    """The chat page."""
    business = current_config()
    return render_template("webchat.html", business=business)


def _address(payload: dict[str, Any]) -> str:
    """The web-chat address: the browser's session id, or "owner" with the owner key."""
    owner_key = payload.get("owner_key")
    expected = current_config().owner_key
    if owner_key:
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        given = str(owner_key).encode("utf-8", "surrogatepass")
        if not expected or not hmac.compare_digest(given, expected.encode()):
            abort(403, description="wrong owner key")
        return OWNER_ADDRESS
    session = payload.get("session")
    if not isinstance(session, str) or not _SESSION.match(session):
        abort(400, description="session must be 8-64 letters, digits, - or _")
    return session


def _after(raw: Any) -> int:
    """`after` as a message id: a whole number (or digits) up to MAX_AFTER; else 400."""
    if raw is None or raw == "":
        return 0
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # 12.0 from a JavaScript client; inf and nan are not
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().lstrip("-").isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or raw > MAX_AFTER:
        abort(400, description="after must be a whole number (a message id)")
    return max(0, raw)


def _is_new_session(address: str) -> bool:
    if address == OWNER_ADDRESS:
        return False
    with current_db().read() as session:
        found = session.scalar(
            select(Conversation.id).where(
                Conversation.channel == WEB, Conversation.address == address
            )
        )
    return found is None


@bp.post("/api/chat")
def chat() -> ResponseReturnValue:
    """Handle one message from the web chat; return the messages since `after`."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400, description="expected a JSON object")
    address = _address(payload)
    text = payload.get("text") or ""
    option_id = payload.get("option_id")
    message_id = payload.get("message_id")
    if not isinstance(text, str) or (option_id is not None and not isinstance(option_id, str)):
        abort(400, description="text and option_id must be strings")
    if message_id is not None and (
        not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id)
    ):
        abort(400, description="message_id must be 1-100 letters, digits or -_.:")
    # Everything is checked before the message is handled: a refused request changes nothing,
    # and a client retrying it does not get its message handled twice.
    after = _after(payload.get("after"))
    if _is_new_session(address) and not new_session_allowed():
        abort(429, description="too many new chat sessions from this address")
    inbound = Inbound(
        channel=WEB,
        sender=address,
        text=text[:MAX_TEXT],
        option_id=option_id[:64] if option_id else None,
        provider_id=f"{address}:{message_id}" if message_id else None,
    )
    Engine(current_db(), replies_per_minute=engine_replies_per_minute()).handle(inbound)
    return jsonify(_messages_since(address, after))


@bp.get("/api/chat/messages")
def poll() -> ResponseReturnValue:
    """Messages for a session since `after` (for reminders and notices sent later)."""
    address = _address(
        {"session": request.args.get("session"), "owner_key": request.args.get("owner_key")}
    )
    return jsonify(_messages_since(address, _after(request.args.get("after"))))


def _messages_since(address: str, after: int) -> dict[str, Any]:
    messages = take_since(current_db(), WEB, address, after)
    return {
        "messages": [_render(i, reply) for i, reply in messages],
        "after": messages[-1][0] if messages else after,
    }


def _render(message_id: int, reply: Reply) -> dict[str, Any]:
    attachments = []
    for item in reply.attachments:
        href = item.url
        if href is None and item.data is not None:
            href = f"data:{item.content_type};base64,{base64.b64encode(item.data).decode()}"
        attachments.append({"filename": item.filename or "file", "href": href})
    return {
        "id": message_id,
        "text": reply.text,
        "options": [{"id": o.id, "label": o.label} for o in reply.options],
        "attachments": attachments,
    }

"""The web chat: the page at `/` and the JSON API behind it, which any client can drive.

`POST /api/chat` takes `{"session", "text" | "option_id", "message_id"?}` and answers with
every message for that session since `after` — the replies to this message and anything
queued for the session meanwhile (a confirmation with its .ics, a reminder). `GET
/api/chat/messages` polls for the same. The session is a random id the page keeps in local
storage; `message_id` lets a client retry a POST without the message being handled twice.

The owner chats as the address "owner". An API client proves it with the owner key in the
`X-Slotbot-Owner-Key` header or as `owner_key` in the POST body; the page signs in once at
`/owner` (a form POSTing the key) and then holds a signed HttpOnly, SameSite=Strict cookie,
and says `"as": "owner"`. The key never travels in a URL: `/?owner=KEY` is not read (it
sends the browser to the sign-in form) and `owner_key` in a query string is refused (400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from bot.messaging.inline import take_since
from bot.messaging.messages import WEB, Inbound, Reply
from conversations.engine import Engine
from storage.models import Conversation
from webhooks.channels import setting
from webhooks.context import current_config, current_db
from webhooks.exposure import Exposure
from webhooks.limits import MAX_ROW_ID, engine_replies_per_minute, new_session_allowed

log = logging.getLogger(__name__)
bp = Blueprint("webchat", __name__)

_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
OWNER_ADDRESS = "owner"
MAX_TEXT = 4000
MAX_AFTER = MAX_ROW_ID  # `after` is a message id: beyond it the database would overflow
OWNER_HEADER = "X-Slotbot-Owner-Key"
OWNER_COOKIE = "slotbot_owner"
OWNER_SESSION_SECONDS = 7 * 24 * 3600
_COOKIE_SALT = "slotbot-owner-session"


# ------------------------------------------------------------------ the owner's session


def _exposure() -> Exposure:
    return current_app.extensions["slotbot.exposure"]


def _fingerprint(key: str) -> str:
    """What the session cookie holds of a key: changing the key ends the sessions."""
    return hashlib.sha256(f"slotbot-owner:{key}".encode()).hexdigest()[:32]


def _matching_key(candidate: Any) -> str | None:
    """The accepted owner key `candidate` equals, if any."""
    if not isinstance(candidate, str) or not candidate:
        return None
    # surrogatepass: a lone surrogate in hostile JSON is a wrong key, not an encoding error.
    given, found = candidate.encode("utf-8", "surrogatepass"), None
    for key in _exposure().owner_keys:  # every key compared, each in constant time
        if hmac.compare_digest(given, key.encode()):
            found = key
    return found


def owner_key_ok(candidate: Any) -> bool:
    """Whether `candidate` is one of the owner keys this server accepts."""
    return _matching_key(candidate) is not None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_COOKIE_SALT)


def owner_signed_in() -> bool:
    """Whether this request carries a valid owner session cookie for a current key."""
    raw = request.cookies.get(OWNER_COOKIE)
    if not raw:
        return False
    try:
        held = _serializer().loads(raw, max_age=OWNER_SESSION_SECONDS)
    except BadSignature:
        return False
    if not isinstance(held, str) or not held.isascii():
        return False
    current = [_fingerprint(key) for key in _exposure().owner_keys]
    return any(hmac.compare_digest(held, print_) for print_ in current)


def _secure_cookie() -> bool:
    return request.is_secure or (setting("SLOTBOT_PUBLIC_URL") or "").startswith("https://")


@bp.get("/owner")
def owner_sign_in_page() -> ResponseReturnValue:
    """The owner's one-time sign-in form (the key is typed, never put in a link)."""
    if owner_signed_in():
        return redirect("/", code=303)
    moved = request.args.get("moved") == "1"
    return render_template(
        "owner_sign_in.html", business=current_config(), wrong=False, moved=moved
    )


@bp.post("/owner")
def owner_sign_in() -> ResponseReturnValue:
    """Check the key from the form; on success keep a signed session cookie and go to chat."""
    key = _matching_key(request.form.get("key", ""))
    if key is None:
        html = render_template(
            "owner_sign_in.html", business=current_config(), wrong=True, moved=False
        )
        return html, 403
    response = redirect("/", code=303)
    response.set_cookie(
        OWNER_COOKIE,
        _serializer().dumps(_fingerprint(key)),
        max_age=OWNER_SESSION_SECONDS,
        httponly=True,
        samesite="Strict",
        secure=_secure_cookie(),
        path="/",
    )
    return response


@bp.post("/owner/sign-out")
def owner_sign_out() -> ResponseReturnValue:
    """End the owner's session on this browser."""
    response: Response = redirect("/", code=303)  # type: ignore[assignment]
    response.delete_cookie(OWNER_COOKIE, path="/", httponly=True, samesite="Strict")
    return response


# --------------------------------------------------------------------------- the chat


@bp.get("/")
def page() -> ResponseReturnValue:
    """The chat page (as the owner when signed in)."""
    if "owner" in request.args:
        # The old `/?owner=KEY` link: the key is not read; sign in with the form instead.
        log.warning("refused an owner key in a URL (/?owner=…): the page signs in at /owner")
        return redirect("/owner?moved=1", code=303)
    business = current_config()
    return render_template("webchat.html", business=business, owner=owner_signed_in())


def _address(payload: dict[str, Any]) -> str:
    """The web-chat address: the browser's session id, or "owner" for the proven owner."""
    owner_key = request.headers.get(OWNER_HEADER) or payload.get("owner_key")
    if owner_key:
        if not owner_key_ok(owner_key):
            abort(403, description="wrong owner key")
        return OWNER_ADDRESS
    if payload.get("as") == OWNER_ADDRESS:
        if not owner_signed_in():
            abort(403, description="sign in as the owner at /owner first")
        return OWNER_ADDRESS
    session = payload.get("session")
    if not isinstance(session, str) or not _SESSION.match(session):
        abort(400, description="session must be 8-64 letters, digits, - or _")
    return session


def trusted_request() -> bool:
    """Whether a chat request speaks for the owner or a staff member (not rate limited).

    A wrong key is not trusted: guesses stay under the per-session limit.
    """
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    owner_key = request.headers.get(OWNER_HEADER) or payload.get("owner_key")
    if owner_key:
        return owner_key_ok(owner_key)
    if payload.get("as") == OWNER_ADDRESS:
        return owner_signed_in()
    session = payload.get("session")
    if not isinstance(session, str) or not _SESSION.match(session):
        return False
    identity = f"{WEB}:{session}"
    return any(identity in member.identities for member in current_config().staff)


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
    if "owner_key" in request.args:
        abort(400, description=f"owner_key in a URL is refused: send the {OWNER_HEADER} header")
    address = _address({"session": request.args.get("session"), "as": request.args.get("as")})
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

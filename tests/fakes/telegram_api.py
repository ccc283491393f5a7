"""A fake Telegram Bot API: an HTTP/1.1 server in a thread that python-telegram-bot talks to.

It answers `POST /bot<token>/<method>` for the methods slotbot uses — getMe, sendMessage,
sendDocument, sendPhoto, answerCallbackQuery, getUpdates (long polling over a queue the
test fills with `push`), setWebhook, deleteWebhook, getFile — with Bot-API-shaped JSON,
parses form and multipart bodies the way PTB sends them, and records every call
(thread-safe, with its arrival time). It speaks HTTP/1.1 with keep-alive, like the real
API: an HTTP/1.0 fake would hide a client bound to a dead event loop.

It refuses what the real Bot API refuses (https://core.telegram.org/bots/api), with the
real descriptions:

- a `getUpdates` that arrives while another long poll is waiting terminates the older one:
  409 "Conflict: terminated by other getUpdates request; make sure that only one bot
  instance is running" (a poll whose client hung up is let go without a 409);
- `getUpdates` while a webhook is set: 409 "Conflict: can't use getUpdates method while
  webhook is active; use deleteWebhook to delete the webhook first";
- `sendMessage` with empty text (400 "Bad Request: message text is empty") or text over
  4,096 characters (counted in UTF-16 code units, as Telegram counts; 400 "Bad Request:
  message is too long"); a caption over 1,024 (400 "Bad Request: message caption is too
  long"); an inline button whose callback_data is not 1-64 bytes (400 "Bad Request:
  BUTTON_DATA_INVALID");
- `setWebhook` with a URL that is not HTTPS on port 443, 80, 88 or 8443 (400 "Bad Request:
  bad webhook: ..."), or a secret_token outside `A-Z a-z 0-9 _ -` or over 256 characters.

Every 409 it answers is kept in `conflicts`, so a test can count them.

Misbehaving, one rule at a time, first match wins:

    fake.fail(429, retry_after=3)          # flood control → RetryAfter
    fake.fail(403)                         # "bot was blocked by the user" → Forbidden
    fake.fail(500, times=None)             # every call until fake.clear_rules()
    fake.slow(2.0)                         # answer late and drop the connection (timeouts)
    fake.migrate(-100, to=-1001234)        # the group became a supergroup: ChatMigrated

The builders (`text_update`, `callback_update`, `contact_update`, `photo_update`,
`location_update`) make updates shaped exactly as Telegram sends them.
"""

from __future__ import annotations

import itertools
import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "123456:TEST-fake-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Maple Bot", "username": "maple_bot"}
_JSON_FIELDS = ("reply_markup", "allowed_updates", "entities", "caption_entities")
_ERRORS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_MESSAGE_METHODS = ("sendMessage", "sendDocument", "sendPhoto")
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
EMPTY_TEXT = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
CHAT_UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
WEBHOOK_NOT_HTTPS = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
WEBHOOK_BAD_PORT = (
    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
)
SECRET_UNALLOWED = "Bad Request: secret token contains unallowed characters"
SECRET_TOO_LONG = "Bad Request: secret token is too long"
MAX_TEXT = 4096
MAX_CAPTION = 1024
WEBHOOK_PORTS = (443, 80, 88, 8443)
_SECRET = re.compile(r"[A-Za-z0-9_-]+")


def utf16_length(text: str) -> int:
    """The length Telegram measures: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def message_problem(method: str, params: dict[str, Any]) -> str | None:
    """Why the real Bot API would refuse this send (a 400 description), or None."""
    if method == "sendMessage":
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return EMPTY_TEXT
        if utf16_length(text) > MAX_TEXT:
            return TEXT_TOO_LONG
    elif utf16_length(str(params.get("caption") or "")) > MAX_CAPTION:
        return CAPTION_TOO_LONG
    rows = (params.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return BUTTON_DATA_INVALID
    return None


def webhook_problem(params: dict[str, Any]) -> str | None:
    """Why the real Bot API would refuse this setWebhook (a 400 description), or None."""
    url = str(params.get("url") or "")
    if url:  # an empty URL removes the webhook
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            return WEBHOOK_NOT_HTTPS
        try:
            port = parts.port or 443
        except ValueError:
            return WEBHOOK_BAD_PORT
        if port not in WEBHOOK_PORTS:
            return WEBHOOK_BAD_PORT
    secret = params.get("secret_token")
    if secret:
        if not _SECRET.fullmatch(str(secret)):
            return SECRET_UNALLOWED
        if len(str(secret)) > 256:
            return SECRET_TOO_LONG
    return None


@dataclass
class Rule:
    """One way to misbehave, for `times` matching calls (None: until cleared)."""

    status: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    method: str | None = None
    chat_id: str | None = None
    times: int | None = 1

    def matches(self, method: str, chat_id: str | None) -> bool:
        """Whether the rule applies to this call (and has uses left)."""
        return (
            (self.times is None or self.times > 0)
            and self.method in (None, method)
            and self.chat_id in (None, chat_id)
        )


@dataclass
class FakeTelegram:
    """The server's state: calls received, queued updates, rules for misbehaving."""

    token: str = TOKEN
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    webhook_url: str | None = None  # set by setWebhook, cleared by deleteWebhook
    webhook_secret: str | None = None
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # every 409 answered
    refused: list[dict[str, Any]] = field(default_factory=list)  # every 400 for a bad call
    migrated: dict[str, int] = field(default_factory=dict)  # chat id → its supergroup's id
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _poll_generation: int = 0  # bumped by every getUpdates; a waiting older one sees it
    _polls_waiting: int = 0

    # --- telling it what to do -----------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        retry_after: int | None = None,
        times: int | None = 1,
        method: str | None = None,
        chat_id: str | int | None = None,
    ) -> None:
        """Answer the next `times` matching calls with an error."""
        with self._cond:
            self.rules.append(
                Rule(
                    status=status,
                    retry_after=retry_after,
                    times=times,
                    method=method,
                    chat_id=None if chat_id is None else str(chat_id),
                )
            )

    def slow(self, seconds: float, *, times: int | None = 1, then: str = "drop") -> None:
        """Wait `seconds` before answering message sends; then "drop" or "process"."""
        with self._cond:
            self.rules.append(
                Rule(delay=seconds, drop=then == "drop", times=times, method="sendMessage")
            )

    def migrate(self, chat_id: int | str, *, to: int) -> None:
        """From now on `chat_id` is a group upgraded to the supergroup `to`."""
        with self._cond:
            self.migrated[str(chat_id)] = to

    def clear_rules(self) -> None:
        """Behave again."""
        with self._cond:
            self.rules.clear()

    def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for getUpdates (long polling)."""
        with self._cond:
            self.updates.extend(updates)
            self._cond.notify_all()

    # --- what it received ----------------------------------------------------------------

    def received(self, method: str | None = None) -> list[dict[str, Any]]:
        """Calls accepted so far (of one method, if given), in arrival order."""
        with self._cond:
            return [c for c in self.calls if method is None or c["method"] == method]

    def messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Accepted sendMessage/sendDocument/sendPhoto calls (to one chat, if given)."""
        return [
            c
            for c in self.received()
            if c["method"] in _MESSAGE_METHODS and (chat_id is None or c["chat_id"] == str(chat_id))
        ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """The text (or caption) of every accepted message."""
        return [m.get("text") or m.get("caption") or "" for m in self.messages(chat_id)]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Wait until `predicate(self)` holds; whether it did in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.02)
        return bool(predicate(self))

    # --- the server's side ---------------------------------------------------------------

    def _rule_for(self, method: str, chat_id: str | None) -> Rule | None:
        with self._cond:
            for rule in self.rules:
                if rule.matches(method, chat_id):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        record = {"method": method, "at": time.monotonic(), **params}
        with self._cond:
            self.calls.append(record)
        return record

    def _message(self, record: dict[str, Any]) -> dict[str, Any]:
        chat_id = record.get("chat_id") or "0"
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": BOT_USER,
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 0, "type": "private"},
            "date": int(time.time()),
        }
        if record["method"] == "sendMessage":
            message["text"] = record.get("text", "")
        else:
            message["caption"] = record.get("caption") or ""
            kind = "document" if record["method"] == "sendDocument" else "photo"
            file_id = f"FILE{message['message_id']}"
            ref = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
            message[kind] = ref if kind == "document" else [{**ref, "width": 1, "height": 1}]
        if "reply_markup" in record:
            message["reply_markup"] = record["reply_markup"]
        return message

    def _conflict(self, method: str, description: str) -> str:
        with self._cond:
            self.conflicts.append({"method": method, "at": time.monotonic(), "why": description})
        return description

    def _updates(
        self, params: dict[str, Any], hung_up: Any = lambda: False
    ) -> list[dict[str, Any]] | str | None:
        """A long poll: the updates; a 409 description; or None when the client left."""
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 5.0)
        deadline = time.monotonic() + wait
        with self._cond:
            if self.webhook_url:
                return self._conflict("getUpdates", WEBHOOK_CONFLICT)
            # A new long poll terminates the one still waiting (Telegram's "terminated by
            # other getUpdates request" goes to the older request).
            self._poll_generation += 1
            mine = self._poll_generation
            self._cond.notify_all()
            # Asking from `offset` confirms every update before it, as Telegram does.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self._polls_waiting += 1
            try:
                while True:
                    if self._poll_generation != mine:
                        return self._conflict("getUpdates", POLL_CONFLICT)
                    left = deadline - time.monotonic()
                    if self.updates or left <= 0:
                        return list(self.updates[:100])
                    self._cond.wait(min(left, 0.05))
                    if hung_up():  # the poller went away (killed, or cancelled its call)
                        return None
            finally:
                self._polls_waiting -= 1


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if content_type.startswith("multipart/form-data"):
        parsed = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            data = part.get_payload(decode=True) or b""
            if filename:
                params[str(name)] = {"filename": filename, "data": data}
            else:
                params[str(name)] = data.decode()
    elif body:
        if content_type.startswith("application/json"):
            params = json.loads(body)
        else:
            params = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    if "chat_id" in params:
        params["chat_id"] = str(params["chat_id"])
    return params


def _handler(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _ok(self, result: Any) -> None:
            self._reply(200, {"ok": True, "result": result})

        def _error(
            self,
            status: int,
            retry_after: int | None = None,
            *,
            description: str | None = None,
            parameters: dict[str, Any] | None = None,
        ) -> None:
            payload: dict[str, Any] = {
                "ok": False,
                "error_code": status,
                "description": description
                or _ERRORS.get(status, "Error").format(retry_after=retry_after),
            }
            if retry_after is not None:
                parameters = {**(parameters or {}), "retry_after": retry_after}
            if parameters:
                payload["parameters"] = parameters
            self._reply(status, payload)

        def _refuse(self, method: str, params: dict[str, Any], description: str) -> None:
            with fake._cond:
                fake.refused.append({"method": method, "why": description, **params})
            self._error(400, description=description)

        def _hung_up(self) -> bool:
            """Whether the client closed the connection (a readable socket with no data)."""
            sock = self.connection
            try:
                readable, _, _ = select.select([sock], [], [], 0)
                return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
            except (OSError, ValueError):
                return True

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            prefix, _, method = self.path.split("?")[0].lstrip("/").partition("/")
            if prefix != f"bot{fake.token}":
                self._error(401)
                return
            params = _parse_body(self.headers.get("Content-Type", ""), body)
            rule = fake._rule_for(method, params.get("chat_id"))
            if rule is not None and rule.delay:
                time.sleep(rule.delay)
            if rule is not None and rule.drop:
                self.close_connection = True
                return
            if rule is not None and rule.status is not None:
                self._error(rule.status, rule.retry_after)
                return
            self._dispatch(method, params)

        def _dispatch(self, method: str, params: dict[str, Any]) -> None:
            if method == "getMe":
                self._ok(BOT_USER)
            elif method in _MESSAGE_METHODS:
                moved_to = fake.migrated.get(str(params.get("chat_id")))
                if moved_to is not None:
                    self._error(
                        400,
                        description=CHAT_UPGRADED,
                        parameters={"migrate_to_chat_id": moved_to},
                    )
                    return
                problem = message_problem(method, params)
                if problem is not None:
                    self._refuse(method, params, problem)
                    return
                self._ok(fake._message(fake._record(method, params)))
            elif method == "setWebhook":
                problem = webhook_problem(params)
                if problem is not None:
                    self._refuse(method, params, problem)
                    return
                fake._record(method, params)
                with fake._cond:
                    fake.webhook_url = str(params.get("url") or "") or None
                    fake.webhook_secret = params.get("secret_token") or None
                    fake._cond.notify_all()
                self._ok(True)
            elif method == "deleteWebhook":
                fake._record(method, params)
                with fake._cond:
                    fake.webhook_url = fake.webhook_secret = None
                self._ok(True)
            elif method == "answerCallbackQuery":
                fake._record(method, params)
                self._ok(True)
            elif method == "getUpdates":
                fake._record(method, params)
                result = fake._updates(params, self._hung_up)
                if result is None:
                    self.close_connection = True
                elif isinstance(result, str):
                    self._error(409, description=result)
                else:
                    self._ok(result)
            elif method == "getFile":
                file_id = params.get("file_id", "")
                path = f"photos/{file_id}.jpg"
                self._ok({"file_id": file_id, "file_unique_id": "u" + file_id, "file_path": path})
            else:
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 overflows when many clients connect at once, and a dropped
    # SYN is retried a whole second later: that would look like a slow API.
    request_queue_size = 128
    daemon_threads = True


@contextmanager
def make_fake_telegram() -> Iterator[FakeTelegram]:
    """Run a fake Bot API on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeTelegram()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="fake-telegram",
        daemon=True,
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def telegram_env(fake: FakeTelegram, **extra: str) -> dict[str, str]:
    """Environment variables that point slotbot's Telegram client at `fake`."""
    return {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE": fake.url, **extra}


# ------------------------------------------------------------------ updates, as sent

_update_ids = itertools.count(500_000_001)
_message_ids = itertools.count(1)


def _user(user_id: int, first_name: str = "Jane", last_name: str | None = "Doe") -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
    if last_name:
        user["last_name"] = last_name
    return user


def _chat(chat_id: int, first_name: str = "Jane", last_name: str | None = "Doe") -> dict[str, Any]:
    chat = {"id": chat_id, "first_name": first_name, "type": "private"}
    if last_name:
        chat["last_name"] = last_name
    return chat


def message_update(chat_id: int, update_id: int | None = None, **content: Any) -> dict[str, Any]:
    """An update carrying a message from user `chat_id` in their private chat."""
    first_name = content.pop("first_name", "Jane")
    last_name = content.pop("last_name", "Doe")
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": _user(chat_id, first_name, last_name),
            "chat": _chat(chat_id, first_name, last_name),
            "date": int(time.time()),
            **content,
        },
    }


def text_update(chat_id: int, text: str, update_id: int | None = None, **extra: Any) -> dict:
    """A text message; a leading /command gets its bot_command entity, as Telegram adds."""
    content: dict[str, Any] = {"text": text, **extra}
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0])
        content["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return message_update(chat_id, update_id, **content)


def callback_update(
    chat_id: int, data: str, update_id: int | None = None, text: str = "Pick one"
) -> dict[str, Any]:
    """A press of an inline button with `data` under one of the bot's messages."""
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "callback_query": {
            "id": f"{chat_id}{next(_message_ids)}",
            "from": _user(chat_id),
            "message": {
                "message_id": next(_message_ids),
                "from": BOT_USER,
                "chat": _chat(chat_id),
                "date": int(time.time()),
                "text": text,
                "reply_markup": {"inline_keyboard": [[{"text": "it", "callback_data": data}]]},
            },
            "chat_instance": "-4242424242",
            "data": data,
        },
    }


def contact_update(
    chat_id: int, phone: str, user_id: int | None = None, update_id: int | None = None
) -> dict[str, Any]:
    """A shared contact card (the sender's own unless `user_id` says otherwise)."""
    contact = {
        "phone_number": phone,
        "first_name": "Jane",
        "last_name": "Doe",
        "user_id": chat_id if user_id is None else user_id,
    }
    return message_update(chat_id, update_id, contact=contact)


def photo_update(
    chat_id: int, caption: str | None = None, update_id: int | None = None
) -> dict[str, Any]:
    """A photo, in the three sizes Telegram sends (the largest last)."""
    sizes = [
        {"file_id": "AgAD-s", "file_unique_id": "s", "file_size": 1200, "width": 90, "height": 67},
        {
            "file_id": "AgAD-m",
            "file_unique_id": "m",
            "file_size": 18000,
            "width": 320,
            "height": 240,
        },
        {
            "file_id": "AgAD-L",
            "file_unique_id": "L",
            "file_size": 91000,
            "width": 1280,
            "height": 960,
        },
    ]
    extra = {"caption": caption} if caption else {}
    return message_update(chat_id, update_id, photo=sizes, **extra)


def location_update(
    chat_id: int, latitude: float, longitude: float, update_id: int | None = None
) -> dict[str, Any]:
    """A shared map pin."""
    return message_update(
        chat_id, update_id, location={"latitude": latitude, "longitude": longitude}
    )

"""Telegram through the Bot API, with python-telegram-bot on one long-lived event loop.

PTB is asyncio-only and its HTTP client belongs to the event loop that first used it: a
`Bot` reused across `asyncio.run` calls fails with "Event loop is closed". So every process
keeps ONE `TelegramClient` (`shared_client`): a `Bot` plus an event loop running forever in
a daemon thread. The dispatcher's threads, the Flask request threads and the long-polling
loop all hand it coroutines with `run_coroutine_threadsafe`.

`TelegramSender` renders a `Reply` with an inline keyboard (callback_data = the option id,
or a short alias `#o:<outbox id>:<index>` when the id is empty or longer than Telegram's 64
bytes), sends .ics/PDF attachments as documents, keeps to Telegram's flood limits (one
message a second per chat, 30 a second overall: `FloodGate`) and classifies errors:
`RetryAfter`, timeouts and network errors are retried; `Forbidden` (the person blocked the
bot) is final and opts the identity out; other bad requests are final. It never sends what
Telegram refuses: empty text becomes "-", text over 4,096 characters (UTF-16 code units, as
Telegram counts) goes as several messages split at paragraph, line or word breaks, with the
buttons under the last. A group that became a supergroup (`ChatMigrated`) is followed: the
message goes once more, to the new chat id, and the result says `moved_to` so the outbox
moves the address.

`webhook_problems` says, one line each, why Telegram would refuse TELEGRAM_WEBHOOK_URL /
TELEGRAM_WEBHOOK_SECRET (HTTPS on 443/80/88/8443; a secret of 1-256 of A-Z a-z 0-9 _ -).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.messaging.messages import TELEGRAM, Attachment, Option
from bot.messaging.senders.base import Outgoing, Sender, SendResult

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_BASE = "https://api.telegram.org"
MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
MAX_TEXT = 4096
MAX_CAPTION = 1024
ALIAS_PREFIX = "#o:"  # callback_data standing for option <index> of outbox message <id>
FILE_SCHEME = "telegram-file:"  # an attachment Telegram already holds, by file_id
EMPTY_TEXT = "-"  # what goes instead of no text (Telegram refuses an empty message)
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to
MAX_SECRET = 256
_SECRET = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class TelegramSettings:
    """Bot token, API base and webhook settings, from the environment."""

    token: str
    api_base: str = DEFAULT_API_BASE
    webhook_url: str | None = None  # set: Telegram pushes to us; unset: we long-poll
    webhook_secret: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    poll_timeout: int = 25  # seconds a getUpdates call waits for news
    per_second: float = 30.0  # overall messages a second (Telegram: about 30)
    chat_interval: float = 1.0  # seconds between messages to one chat (Telegram: about 1)
    # Only one getUpdates may run per bot: the worker holding this database lease polls.
    poller_lease: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings | None:
        """Settings from TELEGRAM_* variables; None without a bot token."""
        token = env.get("TELEGRAM_BOT_TOKEN")
        if not token:
            return None
        return cls(
            token=token,
            api_base=(env.get("TELEGRAM_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            connect_timeout=float(env.get("TELEGRAM_CONNECT_TIMEOUT") or 5),
            read_timeout=float(env.get("TELEGRAM_READ_TIMEOUT") or 10),
            poll_timeout=int(env.get("TELEGRAM_POLL_TIMEOUT") or 25),
            # A long poll (at least 1 s) must fit well inside the lease: 2 s at the least.
            poller_lease=max(2.0, float(env.get("TELEGRAM_POLLER_LEASE") or 30)),
        )


def webhook_problems(settings: TelegramSettings) -> list[str]:
    """Why Telegram would refuse this webhook setup, one line each (empty: none)."""
    problems = []
    url = settings.webhook_url
    if url:
        parts = urlsplit(url)
        try:
            port = parts.port or 443
        except ValueError:
            port = -1
        if parts.scheme != "https" or not parts.hostname:
            problems.append(f"TELEGRAM_WEBHOOK_URL must be an https:// URL, not {url!r}")
        elif port not in WEBHOOK_PORTS:
            problems.append(
                f"TELEGRAM_WEBHOOK_URL must use port 443, 80, 88 or 8443 "
                f"(Telegram delivers to no other), not {parts.netloc!r}"
            )
        if not settings.webhook_secret:
            problems.append("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET to be set")
    secret = settings.webhook_secret
    if secret and not _SECRET.fullmatch(secret):
        problems.append("TELEGRAM_WEBHOOK_SECRET may only use A-Z a-z 0-9 _ and -")
    elif secret and len(secret) > MAX_SECRET:
        problems.append(f"TELEGRAM_WEBHOOK_SECRET is longer than {MAX_SECRET} characters")
    return problems


# ------------------------------------------------------------------------- the client


class TelegramClient:
    """A PTB `Bot` and the one event loop it lives on, in a daemon thread."""

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="telegram-loop", daemon=True
        )
        self._thread.start()
        timeouts = {
            "connect_timeout": settings.connect_timeout,
            "read_timeout": settings.read_timeout,
            "write_timeout": settings.read_timeout,
            # Waiting for a free connection is not a network failure: be patient.
            "pool_timeout": 30.0,
        }
        self.bot = Bot(
            settings.token,
            base_url=f"{settings.api_base}/bot",
            base_file_url=f"{settings.api_base}/file/bot",
            request=HTTPXRequest(connection_pool_size=16, **timeouts),
            # getUpdates has its own single connection, so a long poll never holds up sends.
            get_updates_request=HTTPXRequest(connection_pool_size=1, **timeouts),
        )
        self.gate = FloodGate(settings.per_second, settings.chat_interval)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the client's loop from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the client's loop and wait for its result (from any other thread)."""
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Close the HTTP clients and stop the loop."""
        if self.loop.is_closed():
            return
        try:
            self.run(self.bot.shutdown(), timeout=5)
        except Exception:  # closing is best effort
            log.debug("telegram client shutdown failed", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


_CLIENTS: dict[tuple[int, str, str], TelegramClient] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(settings: TelegramSettings) -> TelegramClient:
    """This process's client for this bot (one loop per process, made on first use).

    Keyed by process id too: a forked child must never use its parent's loop thread,
    which does not exist in the child.
    """
    key = (os.getpid(), settings.token, settings.api_base)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None or client.loop.is_closed():
            client = _CLIENTS[key] = TelegramClient(settings)
        return client


# --------------------------------------------------------------------- flood control


class FloodGate:
    """Telegram's flood limits as a schedule: when may the next message to a chat go?

    At most `per_second` messages in any rolling second overall, and `chat_interval`
    seconds between two messages to one chat. Slots are booked in advance (a sender that
    must wait knows for how long); used only from the client's event loop, so no lock.
    """

    def __init__(
        self,
        per_second: float = 30.0,
        chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = max(1, int(per_second))
        self.chat_interval = chat_interval
        self.clock = clock
        self._recent: deque[float] = deque(maxlen=self.capacity)  # the last booked slots
        self._chat_next: dict[str, float] = {}

    def reserve(self, chat: str, max_wait: float) -> float | None:
        """Book a slot for one message to `chat`: seconds to wait first, or None (and
        nothing booked) if that would be longer than `max_wait`."""
        now = self.clock()
        at = max(now, self._chat_next.get(chat, 0.0))
        if len(self._recent) == self.capacity:
            # The slot `capacity` messages back must be a full second before this one.
            at = max(at, self._recent[0] + 1.0)
        if at - now > max_wait:
            return None
        self._recent.append(at)  # slots are booked in increasing order, except per chat:
        if len(self._recent) > 1 and self._recent[-2] > at:
            self._recent = deque(sorted(self._recent), maxlen=self.capacity)
        self._chat_next[chat] = at + self.chat_interval
        if len(self._chat_next) > 10_000:  # forget chats that are long free again
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return at - now

    def pause(self, chat: str, seconds: float) -> None:
        """Telegram said to wait: nothing more to `chat` for `seconds`."""
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), self.clock() + seconds)

    async def wait(self, chat: str, max_wait: float) -> bool:
        """Wait for a slot for `chat`; False if the wait would exceed `max_wait`."""
        delay = self.reserve(chat, max_wait)
        if delay is None:
            return False
        if delay > 0:
            await asyncio.sleep(delay)
        return True


class _Busy(Exception):
    """The flood gate would make us wait too long: hand the message back for later."""


# ------------------------------------------------------------------------- rendering


def callback_data(message_id: int, index: int, option: Option) -> str:
    """The callback_data for one button: the option id, or an alias if it does not fit
    Telegram's 1-64 bytes."""
    size = len(option.id.encode())
    if 1 <= size <= MAX_CALLBACK_BYTES and not option.id.startswith(ALIAS_PREFIX):
        return option.id
    return f"{ALIAS_PREFIX}{message_id}:{index}"


def text_length(text: str) -> int:
    """A text's length as Telegram measures it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in parts Telegram accepts (each 1..`limit` UTF-16 units), cut at the last
    paragraph, line or word break that fits; never an empty part."""
    text = text.strip()
    parts: list[str] = []
    while text_length(text) > limit:
        cut = _fitting(text, limit)
        head = text[:cut]
        for sep in ("\n\n", "\n", " "):
            at = head.rfind(sep)
            if at > cut // 2:  # a break in the second half: keep parts reasonably full
                head = head[:at]
                break
        parts.append(head.rstrip())
        text = text[len(head) :].lstrip()
    if text:
        parts.append(text)
    return parts or [EMPTY_TEXT]


def _fitting(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def parse_alias(data: str) -> tuple[int, int] | None:
    """(outbox message id, option index) an alias stands for; None if `data` is no alias."""
    if not data.startswith(ALIAS_PREFIX):
        return None
    message_id, _, index = data[len(ALIAS_PREFIX) :].partition(":")
    if not (message_id.isdigit() and index.isdigit()):
        return None
    return int(message_id), int(index)


def keyboard(message_id: int, options: Sequence[Option]) -> InlineKeyboardMarkup | None:
    """One button per row (slot labels are long), or None without options."""
    if not options:
        return None
    rows = [
        [InlineKeyboardButton(option.label, callback_data=callback_data(message_id, i, option))]
        for i, option in enumerate(options)
    ]
    return InlineKeyboardMarkup(rows)


def _chat_id(address: str) -> int | str:
    return int(address) if address.lstrip("-").isdigit() else address


def _is_image(attachment: Attachment) -> bool:
    return attachment.content_type.startswith("image/")


def _file_input(attachment: Attachment) -> InputFile | str:
    """What PTB takes for a file: its bytes, a Telegram file_id, or a URL Telegram fetches."""
    if attachment.data is not None:
        return InputFile(attachment.data, filename=attachment.filename or "file")
    url = attachment.url or ""
    return url.removeprefix(FILE_SCHEME)


def _seconds(value: int | float | timedelta | None) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value or 0)


# ---------------------------------------------------------------------------- sender


class TelegramSender:
    """Sends the telegram channel through the process's shared `TelegramClient`."""

    def __init__(
        self,
        settings: TelegramSettings,
        client: TelegramClient | None = None,
        *,
        max_wait: float = 5.0,
        send_timeout: float = 15.0,
    ) -> None:
        self.settings = settings
        self.client = client or shared_client(settings)
        self.max_wait = max_wait  # longest flood-control wait inside one send
        # A send never outlives this, so it always ends well inside the dispatcher's lease
        # (which keeps 20 s in hand): no other dispatcher can claim a row still being sent.
        self.send_timeout = send_timeout

    def send(self, message: Outgoing) -> SendResult:
        """Send once and classify the outcome; safe to call from any thread."""
        try:
            return self.client.run(self._send(message), timeout=self.send_timeout)
        except concurrent.futures.TimeoutError:
            return SendResult.retry("timeout talking to Telegram")

    async def _send(self, message: Outgoing, *, follow: bool = True) -> SendResult:
        chat = message.address
        try:
            first = await self._deliver(message)
        except _Busy:
            return SendResult.retry(
                "flood control: too many messages queued for this chat", retry_after=self.max_wait
            )
        except RetryAfter as exc:
            wait = _seconds(getattr(exc, "_retry_after", None))
            self.client.gate.pause(chat, wait)
            return SendResult.retry(f"Telegram flood control: {exc.message}", retry_after=wait)
        except Forbidden as exc:
            # The person blocked the bot (or deleted their account): stop writing to them.
            return SendResult.final(f"Telegram: {exc.message}", opted_out=True)
        except ChatMigrated as exc:
            if not follow:  # moved again at once: something is wrong, do not chase it
                return SendResult.final(f"Telegram: the chat moved again, to {exc.new_chat_id}")
            return await self._follow(message, str(exc.new_chat_id))
        except InvalidToken as exc:
            # Our setup, not the message: retried until a person fixes the token.
            return SendResult.retry(f"Telegram rejected the bot token: {exc.message}")
        except TimedOut:
            return SendResult.retry("timeout talking to Telegram")
        except BadRequest as exc:
            return SendResult.final(f"Telegram: {exc.message}")
        except NetworkError as exc:
            return SendResult.retry(f"Telegram network error: {exc.message}")
        except TelegramError as exc:
            return SendResult.retry(f"Telegram error: {exc.message}")
        return SendResult.sent(str(first.message_id))

    async def _follow(self, message: Outgoing, new_chat: str) -> SendResult:
        """The group became a supergroup: send once more, to its new id."""
        moved = dataclasses.replace(message, address=new_chat)
        log.info("telegram: chat %s moved to %s; sending there", message.address, new_chat)
        result = await self._send(moved, follow=False)
        return dataclasses.replace(result, moved_to=new_chat)

    async def _call(self, chat: str, api: Callable[[], Coroutine[Any, Any, Message]]) -> Message:
        if not await self.client.gate.wait(chat, self.max_wait):
            raise _Busy
        return await api()

    async def _deliver(self, message: Outgoing) -> Message:
        """Send the text (with its keyboard) and files; returns the first message sent."""
        bot = self.client.bot
        chat, chat_id = message.address, _chat_id(message.address)
        reply = message.reply
        markup = keyboard(message.id, reply.options)
        text = reply.text.strip()
        files = list(reply.attachments)
        if len(files) == 1 and text_length(text) <= MAX_CAPTION:
            # One call carries both, so a retry can never repeat half of the message.
            return await self._call(
                chat, lambda: self._send_file(chat_id, files[0], caption=text, markup=markup)
            )
        parts = split_text(text)
        first = await self._call(
            chat,
            lambda: bot.send_message(
                chat_id, parts[0], reply_markup=markup if len(parts) == 1 else None
            ),
        )
        for number, part in enumerate(parts[1:], start=2):
            last = number == len(parts)
            try:
                await self._call(
                    chat,
                    lambda p=part, m=markup if last else None: bot.send_message(
                        chat_id, p, reply_markup=m
                    ),
                )
            except (TelegramError, _Busy) as exc:
                # The first part has gone: retrying the whole message would send it twice.
                log.warning("telegram: part %d of a message not sent to %s: %s", number, chat, exc)
        for attachment in files:
            try:
                await self._call(chat, lambda a=attachment: self._send_file(chat_id, a))
            except (TelegramError, _Busy) as exc:
                # The text has gone: retrying the whole message would send it twice.
                log.warning("telegram: %s not sent to %s: %s", attachment.filename, chat, exc)
        return first

    async def _send_file(
        self,
        chat_id: int | str,
        attachment: Attachment,
        *,
        caption: str | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message:
        bot = self.client.bot
        source = _file_input(attachment)
        if _is_image(attachment) and attachment.data is None:
            return await bot.send_photo(
                chat_id, source, caption=caption or None, reply_markup=markup
            )
        return await bot.send_document(
            chat_id, source, caption=caption or None, reply_markup=markup
        )


def telegram_senders(env: Mapping[str, str]) -> dict[str, Sender]:
    """A sender for telegram when TELEGRAM_BOT_TOKEN is set."""
    settings = TelegramSettings.from_env(env)
    if settings is None:
        return {}
    return {TELEGRAM: TelegramSender(settings)}

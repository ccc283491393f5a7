"""Telegram ingress: the webhook `POST /telegram/webhook`, and long polling for shops
without a public URL (the default: `slotbot worker` polls when TELEGRAM_BOT_TOKEN is set
and TELEGRAM_WEBHOOK_URL is not).

Both hand every update to `receive_update`: parsed with `Update.de_json`, turned into an
`Inbound` (text and commands, inline-button presses, a shared contact, a location, a photo
or file) and recorded in the inbox under the update_id as dedupe key; the worker's inbox
processor handles it and sends the replies. Button presses are answered at once
(answerCallbackQuery), or the button keeps spinning. A shared contact is trusted only when it is the sender's own: it
links the chat to the customer with that phone number (e.g. the one who booked by SMS).

The webhook is refused with 403 unless X-Telegram-Bot-Api-Secret-Token matches
TELEGRAM_WEBHOOK_SECRET (compared in constant time), and answers 503 while Telegram is not
configured. The poller advances its offset only after an update was recorded; a restart
re-reads unconfirmed updates and the dedupe drops the ones already recorded.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError

from bot.clock import utcnow
from bot.identity import default_region, normalise_phone
from bot.inbox import record
from bot.messages import TELEGRAM, Attachment, Inbound, Location
from bot.names import clean_display_name
from bot.senders.telegram_sender import (
    FILE_SCHEME,
    TelegramClient,
    TelegramSettings,
    parse_alias,
    shared_client,
)
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import Business, CustomerIdentity
from webhooks.channels import channel_env, clock, phone_region
from webhooks.context import current_db
from webhooks.limits import MAX_ROW_ID

log = logging.getLogger(__name__)
bp = Blueprint("telegram", __name__)

ALLOWED_UPDATES = ["message", "callback_query"]
MAX_ID = 2**63 - 1  # Telegram's ids fit in 64 bits; anything bigger is not from Telegram
# What a malformed update can raise anywhere from Update.de_json to the Inbound built from it.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError)


class MalformedUpdate(ValueError):
    """An update whose fields do not have the types Telegram's API gives them."""


def _text(value: object) -> str:
    """A text field as Telegram sends it (a string), or "" for anything else."""
    return value if isinstance(value, str) else ""


def _chat_id(value: object) -> str:
    """A chat or user id: a whole number within 64 bits, as the string we key on."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
        raise MalformedUpdate(f"not a Telegram id: {value!r}")
    return str(value)


def _person(user: object) -> str | None:
    """The name a Telegram user goes by (first + last name, else the username), cleaned."""
    if user is None:
        return None
    parts = [getattr(user, "first_name", None), getattr(user, "last_name", None)]
    name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    return clean_display_name(name) or clean_display_name(getattr(user, "username", None))


# --------------------------------------------------------------------------- parsing


def _command(text: str, opted_out: bool) -> str:
    """A bot command as the engine understands it: "/help@MyBot" → "help".

    /start greets (Telegram sends it on first contact and when a person unblocks the bot,
    so from someone who had blocked us it means "start again" — an opt-in).
    """
    head, _, rest = text[1:].partition(" ")
    command = head.split("@", 1)[0].lower()
    if command == "start":
        return "start" if opted_out else "hi"
    return f"{command} {rest}".strip()


def _opted_out(db: Database, chat: str) -> bool:
    with db.read() as session:
        return (
            session.scalar(
                select(CustomerIdentity.opted_out_at).where(
                    CustomerIdentity.channel == TELEGRAM, CustomerIdentity.address == chat
                )
            )
            is not None
        )


def _resolve_option(db: Database, chat: str, data: str) -> str:
    """The option id a button's callback_data stands for (aliases of long ids resolved)."""
    alias = parse_alias(data)
    if alias is None:
        return data
    message_id, index = alias
    if message_id > MAX_ROW_ID:
        return data  # not one of ours
    with db.read() as session:
        body = session.scalar(
            select(OutboxMessage.body).where(
                OutboxMessage.id == message_id,
                OutboxMessage.channel == TELEGRAM,
                OutboxMessage.address == chat,  # only the buttons we sent to this chat
            )
        )
    options = (body or {}).get("options") or []
    return str(options[index]["id"]) if index < len(options) else data


def _from_callback(db: Database, update: Update, query: CallbackQuery, now: datetime) -> Inbound:
    chat = _chat_id(query.message.chat.id if query.message else query.from_user.id)
    return Inbound(
        channel=TELEGRAM,
        sender=chat,
        option_id=_resolve_option(db, chat, _text(query.data)[:64]),
        provider_id=str(update.update_id),
        received_at=now,
        display_name=_person(query.from_user),
    )


def _from_message(
    db: Database, update: Update, message: Message, region: str, now: datetime
) -> Inbound:
    chat = _chat_id(message.chat.id)
    user = message.from_user
    text = _text(message.text) or _text(message.caption)
    if text.startswith("/"):
        text = _command(text, _opted_out(db, chat))
    contact_phone = None
    if message.contact is not None:
        # Only a person's own contact card proves their number; anyone can forward another's.
        if user is not None and message.contact.user_id == user.id:
            contact_phone = normalise_phone(
                _text(message.contact.phone_number), region, international=True
            )
        else:
            log.info("ignored a contact card from chat %s that is not their own", chat)
    location = None
    if message.venue is not None:
        where = message.venue.location
        location = Location(where.latitude, where.longitude, message.venue.title)
    elif message.location is not None:
        location = Location(message.location.latitude, message.location.longitude)
    attachments = []
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        # The file_id, not a download URL: Telegram's file URLs carry the bot token.
        attachments.append(Attachment("image/jpeg", url=f"{FILE_SCHEME}{largest.file_id}"))
    if message.document is not None:
        document = message.document
        attachments.append(
            Attachment(
                document.mime_type or "application/octet-stream",
                filename=document.file_name,
                url=f"{FILE_SCHEME}{document.file_id}",
            )
        )
    return Inbound(
        channel=TELEGRAM,
        sender=chat,
        text=text[:4000],
        attachments=tuple(attachments),
        location=location,
        provider_id=str(update.update_id),
        received_at=now,
        contact_phone=contact_phone,
        display_name=_person(user),
    )


def inbound_from_update(db: Database, update: Update, region: str, now: datetime) -> Inbound | None:
    """The `Inbound` an update carries; None for kinds slotbot does not handle (edits, …)."""
    if update.callback_query is not None:
        return _from_callback(db, update, update.callback_query, now)
    if update.message is not None:
        return _from_message(db, update, update.message, region, now)
    return None


# -------------------------------------------------------------------------- handling


def _answer(client: TelegramClient, query: CallbackQuery) -> None:
    """Answer a button press (stops the spinner); fire and forget, failures logged."""

    def done(future: object) -> None:
        error = future.exception()  # type: ignore[attr-defined]
        if error is not None:
            log.warning("could not answer callback query %s: %s", query.id, error)

    client.submit(client.bot.answer_callback_query(query.id)).add_done_callback(done)


def receive_update(
    db: Database, client: TelegramClient, update: Update, *, region: str, now: datetime
) -> Inbound | None:
    """Answer a button press, record the update in the inbox; its `Inbound` (None: ignored).

    Raises MalformedUpdate, before anything is answered or recorded, when the update's
    fields are not of the types Telegram sends.
    """
    try:
        inbound = inbound_from_update(db, update, region, now)
    except MALFORMED as exc:
        raise MalformedUpdate(f"update {update.update_id}: {exc!r}") from exc
    if update.callback_query is not None:
        _answer(client, update.callback_query)
    if inbound is None:
        return None
    record(db, inbound)
    return inbound


# --------------------------------------------------------------------------- webhook


def _settings() -> TelegramSettings | None:
    return TelegramSettings.from_env(channel_env(current_app))


@bp.post("/telegram/webhook")
def webhook() -> ResponseReturnValue:
    """An update pushed by Telegram: check the secret token, record it, answer 200."""
    settings = _settings()
    if settings is None or not settings.webhook_secret:
        abort(503, description="Telegram webhook is not configured (TELEGRAM_WEBHOOK_SECRET)")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), settings.webhook_secret.encode()):
        log.warning("refused a Telegram webhook: wrong secret token")
        abort(403, description="wrong secret token")
    data = request.get_json(silent=True)
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if (
        isinstance(update_id, bool)
        or not isinstance(update_id, int)
        or not 0 <= update_id <= MAX_ID
    ):
        abort(400, description="expected a Telegram Update")
    client = shared_client(settings)
    # Not something Telegram sends, and it would redeliver a refused update forever: such an
    # update is logged and let go (200), never a 500.
    try:
        update = Update.de_json(data, client.bot)
    except MALFORMED:
        log.exception("could not parse Telegram update %s; ignored", update_id)
        return "", 200
    try:
        receive_update(current_db(), client, update, region=phone_region(), now=clock()())
    except MalformedUpdate:
        log.exception("malformed Telegram update %s; ignored", update_id)
    return "", 200


# --------------------------------------------------------------------------- polling


class TelegramPoller:
    """Long polling: getUpdates in a loop, each update recorded before the offset moves on."""

    def __init__(
        self,
        db: Database,
        client: TelegramClient,
        *,
        region: str = "US",
        clock: Callable[[], datetime] = utcnow,
        on_recorded: Callable[[], None] | None = None,
        max_failures: int = 3,
    ) -> None:
        self.db = db
        self.client = client
        self.region = region
        self.clock = clock
        self.on_recorded = on_recorded
        self.max_failures = max_failures
        self.offset: int | None = None
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self, timeout: int | None = None) -> int:
        """One getUpdates call (waiting up to `timeout` s for news); updates recorded."""
        wait = self.client.settings.poll_timeout if timeout is None else timeout
        updates = self.client.run(
            self.client.bot.get_updates(
                offset=self.offset, timeout=wait, allowed_updates=ALLOWED_UPDATES
            ),
            timeout=wait + self.client.settings.read_timeout + 5,
        )
        handled = 0
        for update in updates:
            try:
                receive_update(self.db, self.client, update, region=self.region, now=self.clock())
            except Exception:
                self._failures += 1
                if self._failures < self.max_failures:
                    log.exception("update %s failed; will fetch it again", update.update_id)
                    return handled  # the offset stays: Telegram hands it over again
                log.exception(
                    "update %s failed %d times; skipped", update.update_id, self._failures
                )
            self._failures = 0
            self.offset = update.update_id + 1
            handled += 1
        if handled and self.on_recorded is not None:
            self.on_recorded()
        return handled

    def run(self) -> None:
        """Poll until `stop()`; network trouble waits and tries again."""
        delay = 1.0
        try:
            # A webhook left set from before makes getUpdates fail with Conflict.
            self.client.run(self.client.bot.delete_webhook(), timeout=30)
        except (TelegramError, TimeoutError) as exc:
            log.warning("could not delete the Telegram webhook: %s", exc)
        while not self._stop.is_set():
            try:
                self.poll_once()
                delay = 1.0
            except Exception as exc:  # the network, Telegram, a bad token: wait, go again
                log.warning("telegram polling failed (%s); again in %.0f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 60.0)

    def start(self) -> TelegramPoller:
        """Run the poller in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="telegram-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current getUpdates call (it is cut short by `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def _business_region(db: Database) -> str:
    with db.read() as session:
        business = session.get(Business, 1)
        if business is None:
            return default_region()
        return default_region((business.settings or {}).get("phone"), business.locale)


def start_telegram(
    db: Database,
    env: Mapping[str, str] | None = None,
    on_recorded: Callable[[], None] | None = None,
) -> TelegramPoller | None:
    """In the worker: long-poll (no public URL needed), or register the webhook.

    `on_recorded` is called after a poll recorded updates (the inbox processor's wake-up).
    Returns the running poller, or None when Telegram is not configured or uses a webhook.
    """
    env = dict(os.environ) if env is None else env
    settings = TelegramSettings.from_env(env)
    if settings is None:
        return None
    client = shared_client(settings)
    if settings.webhook_url:
        if not settings.webhook_secret:
            log.error("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET; webhook not set")
            return None
        try:
            client.run(
                client.bot.set_webhook(
                    settings.webhook_url,
                    secret_token=settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                ),
                timeout=30,
            )
            log.info("telegram webhook set to %s", settings.webhook_url)
        except (TelegramError, TimeoutError) as exc:
            log.error("could not set the Telegram webhook: %s", exc)
        return None
    poller = TelegramPoller(db, client, region=_business_region(db), on_recorded=on_recorded)
    log.info("telegram long polling started")
    return poller.start()

"""Telegram ingress: the webhook `POST /telegram/webhook`, and long polling for shops
without a public URL (the default: `slotbot worker` polls when TELEGRAM_BOT_TOKEN is set
and TELEGRAM_WEBHOOK_URL is not).

Telegram allows one getUpdates at a time per bot (a second is answered 409 Conflict), and
every `slotbot worker` starts a poller: so only the worker holding the database lease
"telegram-poller" (`storage.leases`, TELEGRAM_POLLER_LEASE seconds, 30 by default) polls.
It renews the lease every cycle (a long poll waits at most a third of the lease) and
releases it on a clean stop; the others check every third of a lease and take over once
it lapses. A 409 all the same (another bot instance outside this database, or a webhook
someone set) makes the holder back off, 1 s doubling to a minute, instead of looping.

At start the webhook settings are checked (`webhook_problems`): each problem is one ERROR
line, and the worker long-polls instead of setting a webhook Telegram would refuse — a
small shop's bot keeps answering while the owner fixes the setting.

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

While the database refuses an update (reading what it needs, or recording it), the raw update
is kept in the spool (`bot.messaging.spool`) and counts as recorded: the webhook answers 200 and the
poller moves on; the worker parses and records it once the database is back. Only when the
disk refuses it too does the webhook answer 503 (Telegram redelivers) and the poller stay on
that offset.
"""

from __future__ import annotations

import concurrent.futures
import hmac
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, Conflict, TelegramError

from bot.config import process
from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.core.logcontext import delivery
from bot.core.names import clean_display_name
from bot.customers.identity import default_region, normalise_phone
from bot.messaging.inbox import Keeping, behind_elders, record, spool_or_lose
from bot.messaging.messages import TELEGRAM, Attachment, Inbound, Location
from bot.messaging.senders.telegram_sender import (
    FILE_SCHEME,
    TelegramClient,
    TelegramSettings,
    parse_alias,
    shared_client,
    webhook_problems,
)
from bot.messaging.spool import DATABASE_ERRORS, Spool, SpoolKind
from storage.db import Database
from storage.leases import acquire, release
from storage.messaging import OutboxMessage
from storage.models import CustomerIdentity
from webhooks.channels import channel_env, clock, phone_region
from webhooks.context import current_db
from webhooks.limits import MAX_ROW_ID
from webhooks.spooling import app_spool

log = logging.getLogger(__name__)
bp = Blueprint("telegram", __name__)

ALLOWED_UPDATES = ["message", "callback_query"]
POLLER_LEASE = "telegram-poller"  # the worker_lease row of the one poller
MAX_BACKOFF = 60.0
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
        reply_to=str(message.reply_to_message.message_id) if message.reply_to_message else None,
    )


def inbound_from_update(db: Database, update: Update, region: str, now: datetime) -> Inbound | None:
    """The `Inbound` an update carries; None for kinds slotbot does not handle (edits, …)."""
    if update.callback_query is not None:
        return _from_callback(db, update, update.callback_query, now)
    if update.message is not None:
        if update.message.migrate_to_chat_id or update.message.migrate_from_chat_id:
            return None  # Telegram's note that a group became a supergroup: the sender follows
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


class NotKept(Exception):
    """Neither the database nor the spool would take an update: it must come again."""


def receive_update(
    db: Database,
    client: TelegramClient,
    update: Update,
    *,
    region: str,
    now: datetime,
    spool: Spool | None = None,
) -> Inbound | None:
    """Answer a button press, record the update in the inbox; its `Inbound` (None: ignored).

    With a spool, an update the database refuses is kept there (and None returned); NotKept
    when the spool refuses it too. Raises MalformedUpdate, before anything is answered or
    recorded, when the update's fields are not of the types Telegram sends.
    """
    with delivery(str(update.update_id)):
        if spool is not None and spool.holds_elders():
            data = {"update": update.to_dict(), "received_at": now.isoformat()}
            if behind_elders(spool, SpoolKind.TELEGRAM, str(update.update_id), data):
                if update.callback_query is not None:
                    _answer(client, update.callback_query)
                log.info("telegram spooled behind earlier deliveries")
                return None
        try:
            inbound = inbound_from_update(db, update, region, now)
            if inbound is not None:
                new = record(db, inbound)
        except DATABASE_ERRORS as exc:
            return _spool_refused(client, update, now, spool, exc)
        except MALFORMED as exc:
            raise MalformedUpdate(f"update {update.update_id}: {exc!r}") from exc
        if update.callback_query is not None:
            _answer(client, update.callback_query)
        if inbound is None:
            log.info("telegram update ignored: nothing to answer")
            return None
        log.info("telegram %s", "recorded" if new else "redelivered: already recorded")
        return inbound


def _spool_refused(
    client: TelegramClient, update: Update, now: datetime, spool: Spool | None, exc: Exception
) -> None:
    """Keep an update the database refused in the spool; NotKept when the spool refuses too."""
    if spool is None:
        raise exc
    data = {"update": update.to_dict(), "received_at": now.isoformat()}
    if spool_or_lose(spool, SpoolKind.TELEGRAM, str(update.update_id), data, exc) is Keeping.LOST:
        raise NotKept(f"update {update.update_id}") from exc
    if update.callback_query is not None:
        _answer(client, update.callback_query)
    return None


def drain_update(db: Database, region: str) -> Callable[[dict[str, Any]], object]:
    """The spool's handler for kept updates: parse and record each as it came in."""

    def handler(data: dict[str, Any]) -> object:
        update = Update.de_json(data["update"], None)
        received_at = datetime.fromisoformat(data["received_at"])
        inbound = inbound_from_update(db, update, region, received_at)
        return record(db, inbound) if inbound is not None else None

    return handler


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
        receive_update(
            current_db(), client, update, region=phone_region(), now=clock()(), spool=app_spool()
        )
    except NotKept:
        abort(503, description="the update could not be stored")
    except MalformedUpdate:
        log.exception("malformed Telegram update %s; ignored", update_id)
    return "", 200


# --------------------------------------------------------------------------- polling


class TelegramPoller:
    """Long polling: getUpdates in a loop, each update recorded before the offset moves on,
    by whichever worker holds the poller lease."""

    def __init__(
        self,
        db: Database,
        client: TelegramClient,
        *,
        region: str = "US",
        clock: Callable[[], datetime] = utcnow,
        on_recorded: Callable[[], None] | None = None,
        max_failures: int = 3,
        lease_seconds: float | None = None,
        lease_clock: Callable[[], datetime] = utcnow,
        spool: Spool | None = None,
    ) -> None:
        self.db = db
        self.spool = spool
        self.client = client
        self.region = region
        self.clock = clock
        self.on_recorded = on_recorded
        self.max_failures = max_failures
        self.lease_seconds = lease_seconds or client.settings.poller_lease
        self.lease_clock = lease_clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.holding = False
        self.conflicts = 0  # 409s seen (each one backed off)
        self.offset: int | None = None
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._in_flight: concurrent.futures.Future[Any] | None = None

    @property
    def poll_wait(self) -> int:
        """Seconds one getUpdates waits for news: short enough to renew the lease in time."""
        return max(1, min(self.client.settings.poll_timeout, int(self.lease_seconds / 3)))

    def poll_once(self, timeout: int | None = None) -> int:
        """One getUpdates call (waiting up to `timeout` s for news); updates recorded."""
        wait = self.client.settings.poll_timeout if timeout is None else timeout
        future = self.client.submit(
            self.client.bot.get_updates(
                offset=self.offset, timeout=wait, allowed_updates=ALLOWED_UPDATES
            )
        )
        self._in_flight = future
        try:
            updates = future.result(wait + self.client.settings.read_timeout + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise
        finally:
            self._in_flight = None
        handled = 0
        for update in updates:
            try:
                receive_update(
                    self.db,
                    self.client,
                    update,
                    region=self.region,
                    now=self.clock(),
                    spool=self.spool,
                )
            except NotKept:
                log.critical("update %s kept nowhere; will fetch it again", update.update_id)
                return handled  # never skipped: Telegram hands it over again
            except MalformedUpdate:
                log.exception("malformed Telegram update %s; skipped", update.update_id)
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

    def hold(self) -> bool:
        """Take or renew the poller lease; whether this poller may poll now."""
        try:
            held = acquire(
                self.db,
                POLLER_LEASE,
                self.holder,
                now=self.lease_clock(),
                seconds=self.lease_seconds,
            )
        except Exception as exc:  # the database is away: not holding, so not polling
            log.warning("telegram: could not renew the poller lease (%s)", exc)
            held = False
        if held and not self.holding:
            log.info("telegram: this worker polls now (lease %s)", self.holder)
            self._took_over()
        elif self.holding and not held:
            log.info("telegram: another worker polls now; this one waits")
        self.holding = held
        return held

    def _took_over(self) -> None:
        # A webhook left set from before makes getUpdates fail with Conflict.
        try:
            self.client.run(self.client.bot.delete_webhook(), timeout=30)
        except (TelegramError, TimeoutError) as exc:
            log.warning("could not delete the Telegram webhook: %s", exc)

    def _pause(self, seconds: float) -> None:
        """Wait `seconds` (or until stopped), keeping the lease while we wait."""
        step = max(0.2, self.lease_seconds / 3)
        left = seconds
        while left > 0 and not self._stop.is_set():
            self._stop.wait(min(step, left))
            left -= step
            if self.holding:
                self.hold()

    def run(self) -> None:
        """Poll while holding the lease, until `stop()`; trouble waits and tries again."""
        delay = 1.0
        try:
            while not self._stop.is_set():
                if not self.hold():
                    self._stop.wait(max(0.2, self.lease_seconds / 3))
                    continue
                try:
                    self.poll_once(self.poll_wait)
                    delay = 1.0
                except Conflict as exc:
                    if self._stop.is_set():
                        break
                    # Another poller, or a webhook: looping on it would only fight it.
                    self.conflicts += 1
                    log.warning(
                        "telegram polling conflict (%s); again in %.0f s", exc.message, delay
                    )
                    self._pause(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
                except concurrent.futures.CancelledError:
                    if self._stop.is_set():
                        break  # stop() cut the long poll short
                    # Cancelled by something else (the client's loop): poll again, don't
                    # leave this worker silently deaf.
                    log.warning("telegram long poll cancelled; again in %.0f s", delay)
                    self._pause(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
                except Exception as exc:  # the network, Telegram, a bad token: wait, go again
                    if self._stop.is_set():
                        break
                    log.warning("telegram polling failed (%s); again in %.0f s", exc, delay)
                    self._pause(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
        finally:
            if self.holding:
                self._release()

    def _release(self) -> None:
        try:
            release(self.db, POLLER_LEASE, self.holder)
            log.info("telegram: poller lease released")
        except Exception as exc:  # it lapses on its own
            log.warning("telegram: could not release the poller lease (%s)", exc)
        self.holding = False

    def start(self) -> TelegramPoller:
        """Run the poller in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="telegram-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop now: the long poll in flight is cut short and the lease released."""
        self._stop.set()
        future = self._in_flight
        if future is not None:
            future.cancel()
        if self._thread is not None:
            self._thread.join(timeout)


def business_region(db: Database) -> str:
    """The region national phone numbers are read in, from the business's settings."""
    with db.read() as session:
        business = business_context(session, required=False)  # unconfigured: "US"
        return default_region(business.phone, business.locale)


def start_telegram(
    db: Database,
    env: Mapping[str, str] | None = None,
    on_recorded: Callable[[], None] | None = None,
    spool: Spool | None = None,
) -> TelegramPoller | None:
    """In the worker: long-poll (no public URL needed), or register the webhook.

    Webhook settings Telegram would refuse (checked here, or refused by setWebhook) are
    logged, one ERROR line each, and the worker long-polls instead.
    `on_recorded` is called after a poll recorded updates (the inbox processor's wake-up).
    Returns the running poller, or None when Telegram is not configured or uses a webhook.
    """
    env = process.current().as_env() if env is None else env
    settings = TelegramSettings.from_env(env)
    if settings is None:
        return None
    client = shared_client(settings)
    problems = webhook_problems(settings)
    for problem in problems:
        log.error("telegram: %s; long polling instead of the webhook", problem)
    if settings.webhook_url and not problems:
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
            return None
        except BadRequest as exc:  # refused (say, a host Telegram cannot resolve): poll
            log.error("telegram refused the webhook (%s); long polling instead", exc.message)
        except (TelegramError, TimeoutError) as exc:
            log.error("could not set the Telegram webhook: %s", exc)
            return None
    poller = TelegramPoller(
        db, client, region=business_region(db), on_recorded=on_recorded, spool=spool
    )
    log.info("telegram long polling started (one worker at a time polls)")
    return poller.start()

"""What the messaging webhooks share: settings, the public URL, the clock, the photos a
customer sends, and sending a webhook's replies at once (the kick after the commit).

Settings are read from the app's config first (tests and embedders pass them to
`create_app`), then the environment. Replies are always written to the outbox by the
engine; the `Courier` then asks the dispatcher to send that person's due messages on a
small background pool, so the webhook answers its provider without waiting for a send
(Twilio gives up after 15 s). Anything the kick misses, the scheduler's tick sends.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from flask import Flask, current_app, request
from sqlalchemy import or_, select, tuple_

from bot.clock import utcnow
from bot.identity import default_region
from bot.messages import Inbound
from bot.outbox import kick, owner_identities
from bot.senders import Sender, build_senders
from storage.db import Database
from storage.messaging import PENDING, OutboxMessage
from storage.models import IN_PROGRESS, UPCOMING_STATUSES, Appointment, Business, CustomerIdentity

log = logging.getLogger(__name__)

# Settings a blueprint may read; the app's config wins over the environment.
_PREFIXES = ("TWILIO_", "TELEGRAM_", "SMTP_", "SLOTBOT_")
KICK_BATCH = 20


def setting(name: str) -> str | None:
    """A channel setting: app.config[name], else $name, else None."""
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name)
    return str(value) if value not in (None, "") else None


def channel_env(app: Flask) -> dict[str, str]:
    """The environment with the app's channel settings laid over it (for the senders)."""
    env = dict(os.environ)
    for key, value in app.config.items():
        if key.startswith(_PREFIXES) and value is not None:
            env[key] = str(value)
    return env


def public_url() -> str:
    """The URL the provider called: $SLOTBOT_PUBLIC_URL + path (+ query), not request.url.

    Behind a proxy or a tunnel the app sees its own host and scheme, while the provider
    signed the public one. Without SLOTBOT_PUBLIC_URL, the request's own URL stands in.
    """
    base = setting("SLOTBOT_PUBLIC_URL")
    if not base:
        return request.url
    query = request.query_string.decode()
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def clock() -> Callable[[], datetime]:
    """The app's clock: app.config["CLOCK"] (tests fix it), else the real time."""
    fixed = current_app.config.get("CLOCK")
    return fixed if callable(fixed) else utcnow


def phone_region() -> str:
    """The region national phone numbers are read in, from business.toml (cached)."""
    region = current_app.extensions.get("slotbot.phone_region")
    if region is None:
        config = current_app.extensions["slotbot.config"]
        region = default_region(config.phone, config.locale)
        current_app.extensions["slotbot.phone_region"] = region
    return str(region)


# ---------------------------------------------------------------------------- photos


def _is_staff(settings: Mapping[str, object] | None, channel: str, address: str) -> bool:
    if (channel, address) in owner_identities(settings):
        return True
    staff = (settings or {}).get("staff_identities") or {}
    wanted = f"{channel}:{address}"
    return isinstance(staff, dict) and any(wanted in ids for ids in staff.values())


def attach_media(db: Database, inbound: Inbound, now: datetime) -> int | None:
    """Note the files a customer sent on their current or next appointment; its id.

    A repair shop's "send us a photo of the damage" ends up where staff look. Idempotent
    (a redelivered message adds nothing); staff photos are the admin chat's business.
    """
    files = [a for a in inbound.attachments if a.url]
    if not files:
        return None
    with db.write() as session:
        business = session.get(Business, 1)
        if _is_staff(business.settings if business else None, inbound.channel, inbound.sender):
            return None
        customer_id = session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.channel == inbound.channel,
                CustomerIdentity.address == inbound.sender,
            )
        )
        if customer_id is None:
            return None
        appointment = session.scalar(
            select(Appointment)
            .where(
                Appointment.customer_id == customer_id,
                Appointment.status.in_(UPCOMING_STATUSES),
                or_(Appointment.ends_at > now, Appointment.status == IN_PROGRESS),
            )
            .order_by((Appointment.status == IN_PROGRESS).desc(), Appointment.starts_at)
            .limit(1)
        )
        if appointment is None:
            return None
        lines = [
            f"{'Photo' if a.content_type.startswith('image/') else 'File'} from customer: {a.url}"
            for a in files
            if a.url and a.url not in appointment.notes
        ]
        if lines:
            notes = appointment.notes.rstrip()
            appointment.notes = "\n".join([notes, *lines] if notes else lines)
        return appointment.id


# --------------------------------------------------------------------------- sending


class Courier:
    """Sends people's freshly queued replies right after the webhook's commit.

    Kicks run on a small pool, off the request thread. Under load they batch themselves: a
    kick takes every address waiting at that moment, so a burst of messages costs a few
    claims and sends, not one claim per message (on SQLite every claim is a write).
    """

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        fixed_clock: Callable[[], datetime] | None = None,
        enabled: bool = True,
        workers: int = 2,
    ) -> None:
        self.db = db
        self.senders = senders
        self.fixed_clock = fixed_clock
        self.enabled = enabled
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slotbot-kick")
        self._idle = threading.Condition()
        self._waiting: set[tuple[str, str]] = set()
        self._active = 0

    def after_commit(self, channel: str, address: str) -> None:
        """Send what is due for `channel:address` soon, in the background."""
        if not self.enabled:
            return
        with self._idle:
            self._waiting.add((channel, address))
            if self._active >= self.workers:
                return  # a running kick takes this address on its next round
            self._active += 1
        self._pool.submit(self._run)

    def _run(self) -> None:
        while True:
            with self._idle:
                if not self._waiting:
                    self._active -= 1
                    self._idle.notify_all()
                    return
                keys, self._waiting = self._waiting, set()
            self._kick(sorted(keys))

    def _kick(self, keys: list[tuple[str, str]]) -> None:
        now = self.fixed_clock() if self.fixed_clock else None
        try:
            for start in range(0, len(keys), KICK_BATCH):
                chunk = keys[start : start + KICK_BATCH]
                with self.db.read() as session:
                    ids = list(
                        session.scalars(
                            select(OutboxMessage.id)
                            .where(
                                tuple_(OutboxMessage.channel, OutboxMessage.address).in_(chunk),
                                OutboxMessage.status == PENDING,
                                OutboxMessage.send_at <= (now or utcnow()),
                            )
                            .order_by(OutboxMessage.id)
                            .limit(KICK_BATCH * 5)
                        )
                    )
                kick(self.db, self.senders, ids, now=now)
        except Exception:  # the scheduler's tick sends whatever a failed kick left
            log.exception("kick for %d addresses failed", len(keys))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every kick asked for so far has finished (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def close(self) -> None:
        """Finish queued kicks and stop the pool."""
        self._pool.shutdown(wait=True)


_COURIER_LOCK = threading.Lock()


def courier(app: Flask | None = None) -> Courier:
    """The app's courier, built on first use (after gunicorn's fork, never before)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("slotbot.courier")
    if found is not None:
        return found
    with _COURIER_LOCK:
        found = app.extensions.get("slotbot.courier")
        if found is None:
            env = channel_env(app)
            fixed = app.config.get("CLOCK")
            found = Courier(
                app.extensions["slotbot.db"],
                app.extensions.get("slotbot.senders") or build_senders(env),
                fixed_clock=fixed if callable(fixed) else None,
                enabled=(env.get("SLOTBOT_KICK") or "1").lower() not in ("0", "false", "no"),
            )
            app.extensions["slotbot.courier"] = found
        return found

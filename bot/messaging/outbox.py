"""The durable outbox: queue a message in the caller's transaction; dispatchers send it.

`enqueue` is the only way anything in slotbot sends a message. It never talks to a provider:
it writes a row that commits (or rolls back) with the change that caused it.

`dispatch_due` sends what is due, in three short steps per batch:

1. claim: one write transaction picks due rows (pending and due, or "sending" with a lapsed
   lease), marks them sending with a lease and a token, and withdraws the ones that must not
   go any more (the appointment moved, started or was cancelled; the person opted out). On
   PostgreSQL `FOR UPDATE SKIP LOCKED` lets several dispatchers claim disjoint rows at once;
   on SQLite `BEGIN IMMEDIATE` serialises the claims and `UPDATE … RETURNING` does the rest.
2. send, outside any transaction, one row at a time through the channel's sender; a row is
   only started while its lease has comfortably more time left than a send can take.
3. record, in short transactions of a few rows: sent (with the provider's id), retry later
   (exponential backoff with jitter, never sooner than a Retry-After), or failed for good
   (and the owners told). A result is recorded only while the lease token is still ours.
   If the database refuses the record (a blip: SQLite read-only for a moment, PostgreSQL's
   connections cut), it is tried again with backoff for as long as the lease lasts: a row
   the provider accepted must not lapse back into the queue and go out twice.

A dispatcher that dies between sending and recording leaves rows "sending"; after the lease
they are claimed again and may be sent twice. docs/OUTBOX.md describes that window.
"""

from __future__ import annotations

import logging
import random
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, tuple_, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from bot.config import MessagingConfig
from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.core.logcontext import current_delivery, delivery
from bot.core.metrics import SENDS, provider_of
from bot.core.text import t
from bot.messaging.address_moves import follow_move
from bot.messaging.messages import PROMOTIONAL, SMS, WHATSAPP, Reply
from bot.messaging.senders.base import RETRY, SENT, Outgoing, Sender, SendResult
from storage.db import Database
from storage.messaging import CANCELLED, FAILED, PENDING, SENDING, OutboxMessage
from storage.messaging import SENT as SENT_STATUS
from storage.models import (
    BOOKED,
    CONFIRMED,
    Appointment,
    Customer,
    CustomerIdentity,
    SlotHold,
)
from storage.types import StoredEnum, UTCDateTime

log = logging.getLogger(__name__)


class Purpose(StoredEnum):
    """What a message is for (`outbox_message.purpose`); the dispatcher checks some before
    sending (see `_withdraw_reason`)."""

    REPLY = "reply"
    CONFIRMATION = "confirmation"
    CHANGE_NOTICE = "change_notice"
    CANCEL_NOTICE = "cancel_notice"
    REMINDER = "reminder"
    UNCONFIRMED_ALERT = "unconfirmed_alert"
    OWNER_NOTICE = "owner_notice"
    STAFF_NOTICE = "staff_notice"
    DELIVERY_FAILED = "delivery_failed"
    WAITLIST_OFFER = "waitlist_offer"
    FEEDBACK_REQUEST = "feedback_request"
    FEEDBACK_ALERT = "feedback_alert"
    REVIEW_REQUEST = "review_request"
    REBOOK_NUDGE = "rebook_nudge"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    SLOW_DOWN = "slow_down"
    HANDOVER_NOTICE = "handover_notice"  # to the team: a customer's words
    HANDOVER_REPLY = "handover_reply"  # to the customer: a person's answer, or the bot's note
    PROMOTION = "promotion"
    WEATHER_OFFER = "weather_offer"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    RUNNING_LATE = "running_late"
    SIGNATURE = "signature"
    ESTIMATE = "estimate"
    INVOICE = "invoice"
    STATEMENT = "statement"
    RECEIPT = "receipt"
    PAY_LINK = "pay_link"
    PAYMENT_FAILED = "payment_failed"
    DEPOSIT = "deposit"
    FINANCE_CHARGE = "finance_charge"
    NO_SHOW_FEE = "no_show_fee"


# The members under the names the code has always imported.
REPLY = Purpose.REPLY
CONFIRMATION = Purpose.CONFIRMATION
CHANGE_NOTICE = Purpose.CHANGE_NOTICE
CANCEL_NOTICE = Purpose.CANCEL_NOTICE
REMINDER = Purpose.REMINDER
UNCONFIRMED_ALERT = Purpose.UNCONFIRMED_ALERT
OWNER_NOTICE = Purpose.OWNER_NOTICE
STAFF_NOTICE = Purpose.STAFF_NOTICE
DELIVERY_FAILED = Purpose.DELIVERY_FAILED
WAITLIST_OFFER = Purpose.WAITLIST_OFFER
FEEDBACK_REQUEST = Purpose.FEEDBACK_REQUEST
FEEDBACK_ALERT = Purpose.FEEDBACK_ALERT
REVIEW_REQUEST = Purpose.REVIEW_REQUEST
REBOOK_NUDGE = Purpose.REBOOK_NUDGE
OPT_OUT_CONFIRMATION = Purpose.OPT_OUT_CONFIRMATION
# Messages to the owners and staff: a failure to deliver one never raises another note.
STAFF_FACING = frozenset(
    {OWNER_NOTICE, STAFF_NOTICE, UNCONFIRMED_ALERT, DELIVERY_FAILED, FEEDBACK_ALERT}
)
# Messages that must still match their appointment (ref_id, ref_starts_at) when sent.
APPOINTMENT_BOUND = frozenset({REMINDER, UNCONFIRMED_ALERT})

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
# Recording a result the database refused: first wait, and the longest wait between tries.
RECORD_RETRY_FIRST = 0.05
RECORD_RETRY_CAP = 2.0

_TABLE = OutboxMessage.__table__
_QUEUED = "slotbot_outbox_queued"  # Session.info key: the OutboxMessage rows enqueued
_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.lease_token == bindparam("b_token"))
    .values(
        status=SENT_STATUS,
        provider_id=bindparam("b_provider"),
        sent_at=bindparam("b_at", type_=UTCDateTime()),
        last_error=None,
        leased_until=None,
        lease_token=None,
    )
)
_MARK_RETRY = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.lease_token == bindparam("b_token"))
    .values(
        status=PENDING,
        send_at=bindparam("b_send_at", type_=UTCDateTime()),
        last_error=bindparam("b_error"),
        leased_until=None,
        lease_token=None,
    )
)
_WITHDRAW = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(
        status=CANCELLED,
        last_error=bindparam("b_error"),
        attempts=_TABLE.c.attempts - 1,  # claimed, never attempted
        leased_until=None,
        lease_token=None,
    )
)


@dataclass
class DispatchReport:
    """What one dispatch did, by outcome."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0  # withdrawn at claim time (stale, opted out)
    released: int = 0  # claimed but handed back unsent (the lease was running out)
    provider_ids: dict[int, str] = field(default_factory=dict)


def enqueue(
    session: Session,
    *,
    channel: str,
    address: str,
    reply: Reply,
    purpose: str = REPLY,
    customer_id: int | None = None,
    ref_id: int | None = None,
    send_at: datetime | None = None,
    dedupe_key: str | None = None,
    status: str = PENDING,
    now: datetime | None = None,
    ref_starts_at: datetime | None = None,
    in_reply_to: str | None = None,
    flush: bool = True,
) -> OutboxMessage | None:
    """Queue `reply` for `channel:address`; None if `dedupe_key` was queued before.

    `flush=False` (only without a `dedupe_key`) leaves the row pending, for a caller queueing
    several at once that flushes them together (one flush); until then it has no id and
    `queued_in` leaves it out.

    `ref_starts_at` ties a message about appointment `ref_id` to the start it mentions: if
    the appointment has moved by the time it is due, it is withdrawn rather than sent.
    `in_reply_to` is the provider id of the delivery this answers; by default the one being
    handled (`bot.core.logcontext`), so a turn's confirmation and owner notices carry it too.
    """
    now = now or utcnow()
    in_reply_to = in_reply_to or current_delivery()
    if dedupe_key is not None and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    message = OutboxMessage(
        channel=channel,
        address=address,
        customer_id=customer_id,
        body=reply.to_json(),
        kind=reply.kind,
        purpose=purpose,
        ref_id=ref_id,
        ref_starts_at=ref_starts_at,
        dedupe_key=dedupe_key,
        status=status,
        send_at=send_at or now,
        created_at=now,
        sent_at=now if status != PENDING else None,
        in_reply_to=in_reply_to[:128] if in_reply_to else None,
    )
    if dedupe_key is None:
        # Nothing here can collide with another transaction's row: no savepoint needed.
        session.add(message)
        if flush:
            session.flush()
    else:
        try:
            # begin_nested flushes what is pending first: a rollback here drops only this row.
            with session.begin_nested():
                session.add(message)
                session.flush()
        except IntegrityError:
            # A concurrent transaction queued the same dedupe_key first (PostgreSQL).
            return None
    watched = session.info.get(_QUEUED)
    if watched is not None:
        watched.append(message)
    return message


def watch_queued(session: Session) -> None:
    """From now on, keep what `enqueue` queues in this session (see `queued_in`)."""
    session.info[_QUEUED] = []


def watching_queued(session: Session) -> bool:
    """Whether `watch_queued` was called for this session."""
    return _QUEUED in session.info


def queued_in(session: Session) -> list[OutboxMessage]:
    """The messages queued in this session since `watch_queued`, in order.

    One whose savepoint was rolled back since is left out: it was never queued.
    """
    return [m for m in session.info.get(_QUEUED, ()) if sa_inspect(m).persistent]


def withdraw_pending(session: Session, *, ref_id: int, purposes: Iterable[str], reason: str) -> int:
    """Cancel queued, unsent messages of these purposes about `ref_id`; how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.ref_id == ref_id,
            OutboxMessage.purpose.in_(list(purposes)),
            OutboxMessage.status == PENDING,
        )
        .values(status=CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def backoff_seconds(
    attempt: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Delay before retry number `attempt`: 30 s, 1, 2, 4 … minutes up to an hour, jittered.

    The jitter (the upper half of each step is random) keeps a crowd of messages that
    failed together from all retrying in the same second.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + (rng or random).random() * ceiling / 2


# ----------------------------------------------------------------------------- claim


@dataclass
class _Claim:
    token: str
    count: int  # rows claimed, withdrawn ones included
    messages: list[Outgoing]
    settings: MessagingConfig
    owners: list[tuple[str, str]]
    withdrawn: int = 0
    answers: dict[int, str] = field(default_factory=dict)  # row id → delivery it answers
    lease_ends: float = float("inf")  # time.monotonic() when the lease lapses


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.send_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.leased_until <= now),
    )


def _withdraw_reason(
    row: Any,
    identity: Any | None,
    appointment: Any | None,
    hold_exists: bool,
    now: datetime,
) -> str | None:
    """Why a claimed row must not be sent any more, or None to send it."""
    opted_out = identity is not None and identity.opted_out_at is not None
    if opted_out and row.purpose != OPT_OUT_CONFIRMATION:
        return "recipient opted out"
    if row.kind == PROMOTIONAL and (identity is None or not identity.promotions_opt_in):
        return "recipient has not opted in to promotions"
    if row.purpose in APPOINTMENT_BOUND and row.ref_id is not None:
        wanted = (BOOKED,) if row.purpose == UNCONFIRMED_ALERT else (BOOKED, CONFIRMED)
        if appointment is None or appointment.status not in wanted:
            return "appointment no longer awaits this message"
        if appointment.starts_at <= now:
            return "appointment already started"
        if row.ref_starts_at is not None and appointment.starts_at != row.ref_starts_at:
            return "appointment moved since this was queued"
    if row.purpose == WAITLIST_OFFER and row.ref_id is not None and not hold_exists:
        return "the offered slot is no longer held"
    return None


def _claim(
    db: Database,
    channels: Sequence[str],
    *,
    now: datetime,
    batch: int,
    lease_seconds: float,
    ids: Sequence[int] | None,
) -> _Claim:
    token = secrets.token_hex(16)
    # Taken before the claim's transaction starts, so it errs on the early side.
    lease_ends = time.monotonic() + lease_seconds
    with db.write() as session:
        pick = (
            select(OutboxMessage.id)
            .where(_due(now), OutboxMessage.channel.in_(list(channels)))
            .order_by(OutboxMessage.send_at, OutboxMessage.id)
            .limit(batch)
        )
        if ids is not None:
            pick = pick.where(OutboxMessage.id.in_(list(ids)))
        if db.is_postgres:
            pick = pick.with_for_update(skip_locked=True)
        claim = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(pick.scalar_subquery()))
            .values(
                status=SENDING,
                leased_until=now + timedelta(seconds=lease_seconds),
                lease_token=token,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(
                OutboxMessage.id,
                OutboxMessage.channel,
                OutboxMessage.address,
                OutboxMessage.customer_id,
                OutboxMessage.body,
                OutboxMessage.kind,
                OutboxMessage.purpose,
                OutboxMessage.ref_id,
                OutboxMessage.ref_starts_at,
                OutboxMessage.attempts,
                OutboxMessage.send_at,
                OutboxMessage.in_reply_to,
            )
            .execution_options(synchronize_session=False)
        )
        rows = sorted(session.execute(claim).all(), key=lambda r: (r.send_at, r.id))
        business = business_context(session, required=False)
        result = _Claim(
            token,
            len(rows),
            [],
            business.messaging,
            list(business.owner_addresses),
            lease_ends=lease_ends,
        )
        if not rows:
            return result
        pairs = {(r.channel, r.address) for r in rows}
        pairs |= {(SMS, r.address) for r in rows if r.channel == WHATSAPP}
        identities = {
            (i.channel, i.address): i
            for i in session.execute(
                select(
                    CustomerIdentity.channel,
                    CustomerIdentity.address,
                    CustomerIdentity.opted_out_at,
                    CustomerIdentity.promotions_opt_in,
                    CustomerIdentity.last_inbound_at,
                ).where(
                    tuple_(CustomerIdentity.channel, CustomerIdentity.address).in_(sorted(pairs))
                )
            )
        }
        appointment_ids = {r.ref_id for r in rows if r.purpose in APPOINTMENT_BOUND and r.ref_id}
        appointments = {
            a.id: a
            for a in session.execute(
                select(Appointment.id, Appointment.status, Appointment.starts_at).where(
                    Appointment.id.in_(sorted(appointment_ids))
                )
            )
        }
        hold_ids = {r.ref_id for r in rows if r.purpose == WAITLIST_OFFER and r.ref_id}
        holds = set(session.scalars(select(SlotHold.id).where(SlotHold.id.in_(sorted(hold_ids)))))
        withdrawn: list[dict[str, Any]] = []
        for row in rows:
            identity = identities.get((row.channel, row.address))
            reason = _withdraw_reason(
                row, identity, appointments.get(row.ref_id or 0), row.ref_id in holds, now
            )
            if reason is not None:
                withdrawn.append({"b_id": row.id, "b_error": reason})
                continue
            if row.in_reply_to:
                result.answers[row.id] = row.in_reply_to
            sms_identity = identities.get((SMS, row.address))
            result.messages.append(
                Outgoing(
                    id=row.id,
                    channel=row.channel,
                    address=row.address,
                    reply=Reply.from_json(row.body),
                    purpose=row.purpose,
                    customer_id=row.customer_id,
                    attempt=row.attempts,
                    last_inbound_at=identity.last_inbound_at if identity else None,
                    sms_fallback_allowed=sms_identity is None or sms_identity.opted_out_at is None,
                    whatsapp_outside_window=result.settings.whatsapp_outside_window,
                    whatsapp_template=result.settings.whatsapp_template,
                    now=now,
                )
            )
        if withdrawn:
            session.execute(_WITHDRAW, withdrawn)
            result.withdrawn = len(withdrawn)
    return result


def _release(db: Database, token: str, ids: Sequence[int]) -> None:
    """Hand claimed, unsent rows back so any dispatcher can take them at once."""
    with db.write() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.lease_token == token)
            .values(
                status=PENDING,
                leased_until=None,
                lease_token=None,
                attempts=OutboxMessage.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )


# ---------------------------------------------------------------------------- record


def _failure_note(session: Session, message: Outgoing, error: str) -> str:
    who = message.address
    if message.customer_id is not None:
        customer = session.get(Customer, message.customer_id)
        if customer is not None and customer.name:
            who = f"{customer.name} ({message.address})"
    what = message.purpose.replace("_", " ")
    text = message.reply.text if len(message.reply.text) <= 80 else message.reply.text[:77] + "..."
    return t('Couldn\'t send a {what} to {who} by {channel}: {error}. It said: "{text}"', what=what, who=who, channel=message.channel, error=error, text=text)


def _record_final(
    session: Session, claim: _Claim, message: Outgoing, result: SendResult, now: datetime
) -> bool:
    """Mark one row failed; mark the identity opted out and tell the owners as needed."""
    error = result.error or "failed"
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.lease_token == claim.token)
        .values(status=FAILED, last_error=error, leased_until=None, lease_token=None)
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:
        return False  # no longer ours: another dispatcher owns the row now
    if result.opted_out:
        session.execute(
            update(CustomerIdentity)
            .where(
                CustomerIdentity.channel == message.channel,
                CustomerIdentity.address == message.address,
                CustomerIdentity.opted_out_at.is_(None),
            )
            .values(opted_out_at=now)
            .execution_options(synchronize_session=False)
        )
    # Never a note about a note: that is how outboxes fill themselves up.
    if message.purpose in STAFF_FACING or (message.channel, message.address) in claim.owners:
        return True
    text = _failure_note(session, message, error)
    for channel, address in claim.owners:
        enqueue(
            session,
            channel=channel,
            address=address,
            reply=Reply(text),
            purpose=DELIVERY_FAILED,
            ref_id=message.id,
            now=now,
        )
    return True


def _record(
    db: Database,
    claim: _Claim,
    outcomes: Sequence[tuple[Outgoing, SendResult]],
    now: datetime,
    report: DispatchReport,
) -> None:
    """Write the outcomes of a few sends in one short transaction."""
    sent: list[dict[str, Any]] = []
    retry: list[dict[str, Any]] = []
    final: list[tuple[Outgoing, SendResult]] = []
    for message, result in outcomes:
        if result.outcome == SENT:
            sent.append(
                {
                    "b_id": message.id,
                    "b_token": claim.token,
                    "b_provider": result.provider_id,
                    "b_at": now,
                }
            )
            report.provider_ids[message.id] = result.provider_id or ""
        elif result.outcome == RETRY and message.attempt < claim.settings.max_attempts:
            delay = max(backoff_seconds(message.attempt), result.retry_after or 0.0)
            retry.append(
                {
                    "b_id": message.id,
                    "b_token": claim.token,
                    "b_send_at": now + timedelta(seconds=delay),
                    "b_error": result.error,
                }
            )
        elif result.outcome == RETRY:
            final.append(
                (
                    message,
                    SendResult.final(f"gave up after {message.attempt} attempts: {result.error}"),
                )
            )
        else:
            final.append((message, result))
    failed = _write_outcomes(db, claim, sent, retry, final, now, outcomes)
    report.sent += len(sent)
    report.retried += len(retry)
    report.failed += failed
    for message, result in final:
        log.warning("outbox #%s failed for good: %s", message.id, result.error)


def _write_outcomes(
    db: Database,
    claim: _Claim,
    sent: list[dict[str, Any]],
    retry: list[dict[str, Any]],
    final: list[tuple[Outgoing, SendResult]],
    now: datetime,
    outcomes: Sequence[tuple[Outgoing, SendResult]],
) -> int:
    """Write the outcomes, trying again while the database refuses and the lease lasts.

    Each try is the whole transaction again; the lease-token guard makes a try that did
    commit (the connection died on the way back) a no-op the second time. Gives up (raises)
    only when the next try would start too near the end of the lease, when another
    dispatcher may take the rows over.
    """
    margin = min(5.0, max(0.0, claim.lease_ends - time.monotonic()) / 10)
    delay, tries = RECORD_RETRY_FIRST, 0
    while True:
        tries += 1
        try:
            with db.write() as session:
                if sent:
                    session.execute(_MARK_SENT, sent)
                if retry:
                    session.execute(_MARK_RETRY, retry)
                failed = sum(_record_final(session, claim, m, r, now) for m, r in final)
                for message, result in outcomes:
                    if result.moved_to:  # e.g. a Telegram group that became a supergroup
                        follow_move(
                            session,
                            message.channel,
                            message.address,
                            result.moved_to,
                            message_id=message.id,
                        )
                return failed
        except IntegrityError:
            raise  # not a blip: trying again would meet the same row
        except (DBAPIError, sqlite3.Error, OSError) as exc:
            if time.monotonic() + delay + margin >= claim.lease_ends:
                log.error(
                    "could not record %d sends in %d tries (%s); after the lease they may "
                    "be sent again",
                    len(sent) + len(retry) + len(final),
                    tries,
                    exc,
                )
                raise
            log.warning(
                "recording %d outcomes failed (%s: %s); again in %.2f s",
                len(sent) + len(retry) + len(final),
                type(exc).__name__,
                exc,
                delay,
            )
        time.sleep(delay)
        delay = min(delay * 2, RECORD_RETRY_CAP)


# -------------------------------------------------------------------------- dispatch


def _send_one(
    senders: Mapping[str, Sender], message: Outgoing, max_attempts: int, answers: str | None = None
) -> SendResult:
    """Send one row, counted and logged as part of the delivery it answers."""
    with delivery(answers):
        result = _try_send(senders, message, max_attempts)
        provider = provider_of(senders.get(message.channel))
        SENDS.labels(provider, message.channel, result.outcome).inc()
        log.info(
            "outbox #%s %s via %s: %s",
            message.id,
            message.purpose,
            provider,
            result.outcome if result.outcome == SENT else f"{result.outcome} ({result.error})",
            extra={"outbox_id": message.id, "sent_as": result.provider_id},
        )
    return result


def _try_send(senders: Mapping[str, Sender], message: Outgoing, max_attempts: int) -> SendResult:
    if message.attempt > max_attempts:
        # Claimed again and again by dispatchers that died before recording: stop here.
        return SendResult.final(f"gave up after {message.attempt - 1} unfinished attempts")
    try:
        return senders[message.channel].send(message)
    except Exception as exc:  # a sender bug must not strand the rest of the batch
        log.exception("sender for %s raised on outbox #%s", message.channel, message.id)
        return SendResult.retry(f"sender error: {type(exc).__name__}: {exc}")


def _send_claimed(
    db: Database,
    senders: Mapping[str, Sender],
    claim: _Claim,
    *,
    clock: Callable[[], datetime],
    lease_seconds: float,
    record_every: int,
    report: DispatchReport,
) -> None:
    # Start a send only while the lease outlives the slowest send (Twilio timeouts are 5 s +
    # 10 s): a row must never be claimed by another dispatcher while we are still sending it.
    margin = min(20.0, lease_seconds / 3)
    deadline = time.monotonic() + lease_seconds - margin
    pending: list[tuple[Outgoing, SendResult]] = []
    flushed_at = time.monotonic()
    for index, message in enumerate(claim.messages):
        if time.monotonic() > deadline:
            rest = [m.id for m in claim.messages[index:]]
            _release(db, claim.token, rest)
            report.released += len(rest)
            break
        result = _send_one(
            senders, message, claim.settings.max_attempts, claim.answers.get(message.id)
        )
        pending.append((message, result))
        if len(pending) >= record_every or time.monotonic() - flushed_at > 1.0:
            _record(db, claim, pending, clock(), report)
            pending, flushed_at = [], time.monotonic()
    if pending:
        _record(db, claim, pending, clock(), report)


def dispatch_due(
    db: Database,
    senders: Mapping[str, Sender],
    *,
    now: datetime | None = None,
    batch: int = 100,
    lease_seconds: float = 60,
    record_every: int = 20,
    time_budget: float = 30.0,
    ids: Sequence[int] | None = None,
) -> DispatchReport:
    """Send every due message on the channels in `senders`, batch after batch.

    Stops when a claim comes back short (nothing more is due) or after `time_budget`
    seconds.

    `now` fixes the clock (tests); by default each step reads the real time. Results are
    recorded every `record_every` sends: that many delivered-but-unrecorded rows per
    dispatcher is the most a crash can cause to be sent twice.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = DispatchReport()
    channels = sorted(senders)
    started = time.monotonic()
    while True:
        claim = _claim(db, channels, now=clock(), batch=batch, lease_seconds=lease_seconds, ids=ids)
        report.claimed += claim.count
        report.cancelled += claim.withdrawn
        _send_claimed(
            db,
            senders,
            claim,
            clock=clock,
            lease_seconds=lease_seconds,
            record_every=max(1, record_every),
            report=report,
        )
        if claim.count < batch or time.monotonic() - started > time_budget:
            return report


def kick(
    db: Database,
    senders: Mapping[str, Sender],
    ids: Iterable[int],
    *,
    now: datetime | None = None,
) -> DispatchReport:
    """Send these freshly committed messages now (a webhook's own replies), if still due.

    The scheduled dispatcher would send them within seconds anyway; this only cuts the wait.
    Rows another dispatcher already took are skipped.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return DispatchReport()
    return dispatch_due(db, senders, now=now, batch=len(wanted), ids=wanted)

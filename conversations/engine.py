"""The conversation engine: `Engine.handle(inbound) -> replies`, for every channel.

One inbound message is one write transaction: the delivery is stamped handled (a row the
inbox recorded is claimed; a message that arrives inline is recorded now; one handled before
is a no-op), the person's conversation row is locked (so two messages from one sender are
handled one after the other, in order), the dialogue moves on, and every reply goes into the
outbox — all committed together. State lives only in the database, so any worker can take
any message and a restart resumes where the dialogue was.

If handling fails unexpectedly, the transaction rolls back (the dialogue stays where it was)
and the person still gets an apology, recorded as handled: never a 500, never silence.

A sender who floods (more than `replies_per_minute` messages in a minute — each one a paid
SMS reply) gets one polite "slow down" and then silence until they calm down; every message
is still recorded in `inbound_message`. The count is read from the database, not kept in
memory, since any worker may take any message.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, joinedload

from bot.bootstrap import bootstrap
from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.core.logcontext import delivery
from bot.core.metrics import INBOUND, TURN_SECONDS, TURNS
from bot.core.names import clean_display_name
from bot.core.text import N_, _, t
from bot.customers.identity import link_phone
from bot.messaging.handover import close as close_handover
from bot.messaging.handover import open_for as open_handover
from bot.messaging.inbox import row_values
from bot.messaging.messages import SMS, Inbound, Reply
from bot.messaging.outbox import Purpose, enqueue, queued_in, watch_queued
from conversations.admin import commands as admin
from conversations.flows import consent, handover
from conversations.flows import routing as flows
from conversations.nlu.understand import is_opt_in_keyword, is_opt_out_keyword
from conversations.turn import Turn
from storage.db import Database
from storage.engagement import Handover
from storage.messaging import PENDING, SENT, OutboxMessage
from storage.models import (
    AwaitingReply,
    Conversation,
    Customer,
    CustomerIdentity,
    InboundMessage,
)

log = logging.getLogger(__name__)

APOLOGY = N_(
    "Sorry, something went wrong on our side. Please try again in a moment, "
    "or reply HELP to see what I can do."
)
# Channels whose replies travel back in the HTTP response itself.
INLINE_CHANNELS = ("web", "terminal")
OFFERED = "_offered"  # conversation data key: the option ids last offered, in order
SLOW_DOWN = N_(
    "You're sending messages faster than I can answer them. I've kept them all; "
    "give me a minute and then send your question again."
)
SLOW_DOWN_PURPOSE = Purpose.SLOW_DOWN
REPLIES_PER_MINUTE = 20  # the default per-sender throttle
FLOOD_WINDOW = timedelta(minutes=1)
# One "slow down" per sender in this long, however long the flood lasts.
SLOW_DOWN_QUIET = timedelta(minutes=10)


# The statements every turn runs, built once: building a select and its cache key on each
# turn costs more than SQLite takes to run it.
_INBOUND = InboundMessage.__table__
_RECORD = insert(_INBOUND)
_RECENT = (
    select(func.count())
    .select_from(_INBOUND)
    .where(
        _INBOUND.c.channel == bindparam("channel"),
        _INBOUND.c.address == bindparam("address"),
        _INBOUND.c.received_at > bindparam("since"),
    )
)
_RECENT_UP_TO = _RECENT.where(_INBOUND.c.id <= bindparam("up_to"))
_HANDOVER = Handover.__table__
_QUESTION = AwaitingReply.__table__


# A customer's turn asks three things before the dialogue moves: their messages in the last
# minute (the throttle), an open hand-over, a question waiting for their reply. Mostly the
# answers are "few", "none", "none": one round trip says so, and only a "yes" is then read
# in full (by conversations.flows.handover and Turn.open_question).
_OPEN_HANDOVER = (
    select(_HANDOVER.c.id)
    .where(_HANDOVER.c.customer_id == bindparam("customer"), _HANDOVER.c.closed_at.is_(None))
    .limit(1)
    .scalar_subquery()
    .label("handover")
)
_OPEN_QUESTION = (
    select(_QUESTION.c.id)
    .where(
        _QUESTION.c.channel == bindparam("channel"),
        _QUESTION.c.address == bindparam("address"),
        _QUESTION.c.answered_at.is_(None),
        _QUESTION.c.expires_at > bindparam("now"),
    )
    .limit(1)
    .scalar_subquery()
    .label("question")
)


def _checks_after(recent: Select[tuple[int]]) -> Select[tuple[int, int | None, int | None]]:
    return select(
        recent.scalar_subquery().label("recent"),
        _OPEN_HANDOVER,
        _OPEN_QUESTION,
    )


_CUSTOMER_CHECKS = _checks_after(_RECENT)  # this message was recorded just now, as the newest
_CUSTOMER_CHECKS_UP_TO = _checks_after(_RECENT_UP_TO)  # … or has an inbox row of its own
_CONVERSATION = (
    select(Conversation)
    .where(
        Conversation.channel == bindparam("channel"), Conversation.address == bindparam("address")
    )
    .with_for_update()
)
_IDENTITY = (
    select(CustomerIdentity)
    .where(
        CustomerIdentity.channel == bindparam("channel"),
        CustomerIdentity.address == bindparam("address"),
    )
    .options(joinedload(CustomerIdentity.customer))  # one query for both
)


class Outcome(Enum):
    """What became of a recorded delivery handed to the engine."""

    HANDLED = "handled"  # the dialogue moved on (or the person got an apology)
    DUPLICATE = "duplicate"  # it was handled before: nothing happened
    LATER = "later"  # an earlier message from the same person still waits: that one first
    UNAVAILABLE = "unavailable"  # the database keeps failing: it waits in the inbox, unanswered


class TurnResult(StrEnum):
    """How a turn ended, as the logs and the metrics say it."""

    HANDLED = "handled"
    APOLOGY = "apology"  # handling failed: rolled back, the person got an apology
    DUPLICATE = "duplicate"
    LATER = "later"
    UNAVAILABLE = "unavailable"  # the database keeps failing: the delivery waits in the inbox


_OUTCOMES = {
    TurnResult.HANDLED: Outcome.HANDLED,
    TurnResult.APOLOGY: Outcome.HANDLED,
    TurnResult.DUPLICATE: Outcome.DUPLICATE,
    TurnResult.LATER: Outcome.LATER,
    TurnResult.UNAVAILABLE: Outcome.UNAVAILABLE,
}


class Flood(StrEnum):
    """How fast one sender is writing, as the per-sender throttle sees it."""

    CALM = "calm"  # answer as usual
    STARTED = "started"  # just went over the limit: one "slow down"
    ONGOING = "ongoing"  # still over it, and told already: silence


class _Duplicate(Exception):
    """This delivery was handled before."""


class _NotYet(Exception):
    """An earlier message from the same person still waits in the inbox: it goes first."""


class Engine:
    """Handles inbound messages; holds nothing but the database handle, a clock and limits.

    `replies_per_minute`: the most messages from one sender answered in any minute (0: no
    limit).
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = utcnow,
        *,
        replies_per_minute: int = REPLIES_PER_MINUTE,
    ) -> None:
        bootstrap()  # a turn's bookings and payments publish events: their subscribers first
        self.db = db
        self.clock = clock
        self.replies_per_minute = replies_per_minute

    def handle(self, inbound: Inbound) -> list[Reply]:
        """Handle one message and return the replies (already queued in the outbox)."""
        outcome, replies = self._timed(inbound)
        if outcome is Outcome.HANDLED:
            INBOUND.labels(inbound.channel).inc()  # recorded and handled in one go
        return replies

    def handle_recorded(self, inbound: Inbound) -> Outcome:
        """Handle a delivery the inbox recorded (its replies go out through the outbox)."""
        return self._timed(inbound, recorded=True)[0]

    def _timed(self, inbound: Inbound, recorded: bool = False) -> tuple[Outcome, list[Reply]]:
        """One turn, logged and measured as part of its delivery."""
        # An id made up here is new by construction: no earlier row can hold it.
        fresh = inbound.provider_id is None
        if fresh:
            inbound = _with_id(inbound)
        with delivery(inbound.provider_id):
            started = time.perf_counter()
            result, replies = self._attempt(inbound, recorded, fresh)
            seconds = time.perf_counter() - started
            outcome = _OUTCOMES[result]
            TURNS.labels(inbound.channel, result.value).inc()
            if outcome is Outcome.HANDLED:
                TURN_SECONDS.labels(inbound.channel).observe(seconds)
            log.info(
                "turn on %s: %s in %.1f ms, %d replies",
                inbound.channel,
                result.value,
                seconds * 1000,
                len(replies),
            )
        return outcome, replies

    def _attempt(
        self, inbound: Inbound, recorded: bool, fresh: bool = False
    ) -> tuple[TurnResult, list[Reply]]:
        for attempt in range(6):
            try:
                with self.db.write() as session:
                    return TurnResult.HANDLED, self._handle(session, inbound, fresh)
            except _Duplicate:
                return TurnResult.DUPLICATE, []
            except _NotYet:
                return TurnResult.LATER, []
            except (IntegrityError, OperationalError, InterfaceError) as exc:
                # Two first messages from one new sender raced to create the same rows, or
                # the database was busy: the loser simply goes again (the dedupe row went too).
                log.info("retrying message %s after %s", inbound.provider_id, exc)
                if attempt == 4 and recorded and not isinstance(exc, IntegrityError):
                    if not self._database_answers():
                        # The database is failing, not this turn: the delivery stays in the
                        # inbox and gets its real answer once the database is back.
                        log.warning("database unavailable for message %s", inbound.provider_id)
                        return TurnResult.UNAVAILABLE, []
                    continue  # it answers: once more, then this message is the problem
                if attempt >= 4:
                    # A message that fails while the database answers (a statement timeout,
                    # a value the driver refuses) gets the apology: it must not hold up the
                    # inbox for everyone behind it.
                    log.exception("giving up on message %s", inbound.provider_id)
                    break
            except Exception:
                log.exception("failed to handle message %s", inbound.provider_id)
                break
        replies, stored = self._apologise(inbound)
        if recorded and not stored:
            # Not even the apology could be written: the delivery stays in the inbox.
            return TurnResult.UNAVAILABLE, []
        return TurnResult.APOLOGY, replies

    # --- the transaction ---------------------------------------------------------------

    def _handle(self, session: Session, inbound: Inbound, fresh: bool = False) -> list[Reply]:
        now = self.clock()
        recorded = _claim_delivery(session, inbound, now, fresh=fresh)
        conversation = _lock_conversation(session, inbound, now)
        if recorded is not None and _earlier_waiting(session, inbound, recorded):
            raise _NotYet
        # Everything queued to this person from here on is this turn's answer, including
        # what bot.messaging.notify or bot.billing queue along the way (a confirmation with
        # its .ics): bot.messaging.outbox keeps the rows this transaction queues from here.
        watch_queued(session)
        identity, customer = _identify(session, inbound, now)
        conversation.customer_id = customer.id
        if conversation.id is None:
            # A new conversation is inserted with its customer (one INSERT, no UPDATE after);
            # a concurrent twin fails here on the unique key and retries.
            session.add(conversation)
            session.flush()
        inbound = _numbered_choice(inbound, conversation)
        turn = Turn(
            session=session,
            inbound=inbound,
            conversation=conversation,
            identity=identity,
            customer=customer,
            business=business_context(session),
            now=now,
        )
        purpose = "reply"
        flood = Flood.CALM
        checks = None
        if is_opt_out_keyword(inbound.text):
            purpose = _opt_out(turn)
        elif is_opt_in_keyword(inbound.text):
            _opt_in(turn)
        elif identity.opted_out_at is not None:
            pass  # deliberate silence: they asked us to stop
        elif (
            admin.actor_of(turn).role == admin.CUSTOMER  # owners and staff run the business
            and (checks := _customer_checks(turn, recorded)) is not None
            and (flood := self._flood(session, inbound, now, checks.recent)) is not Flood.CALM
        ):
            if flood is Flood.STARTED:
                turn.say(_(SLOW_DOWN))
                purpose = SLOW_DOWN_PURPOSE
            # Ongoing: deliberate silence; the message itself is recorded all the same.
        elif (checks is None or checks.handover is not None) and handover.route(turn):
            pass  # an open hand-over: a person answers this customer, not the dialogue
        else:
            _expire_if_stale(turn)
            flows.dispatch(turn)
        turn.save()  # the flow's draft, read once this turn, written back once
        if flood is Flood.CALM:
            # Remember what was offered, in order: on SMS and WhatsApp the options are a
            # numbered list, and "2" must mean the second of them at any step.
            offered = [o.id for reply in turn.replies for o in reply.options]
            conversation.data = {**conversation.data, OFFERED: offered}
        conversation.version += 1
        conversation.updated_at = now
        _queue(turn, purpose)
        return _queued_since(session, inbound)

    def _database_answers(self) -> bool:
        """Whether the database takes a write at all right now (one that changes nothing)."""
        try:
            with self.db.write() as session:
                session.execute(
                    update(InboundMessage)
                    .where(InboundMessage.id == 0)
                    .values(handled_at=InboundMessage.handled_at)
                )
        except Exception:  # whatever it raises, it is not answering
            return False
        return True

    def _flood(self, session: Session, inbound: Inbound, now: datetime, recent: int) -> Flood:
        """Whether this sender is over the limit: `recent`, their messages in the minute up
        to this one (`_customer_checks`), against the limit.
        """
        limit = self.replies_per_minute
        if limit <= 0:
            return Flood.CALM
        if (recent or 0) <= limit:
            return Flood.CALM
        warned = session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.channel == inbound.channel,
                OutboxMessage.address == inbound.sender,
                OutboxMessage.purpose == SLOW_DOWN_PURPOSE,
                OutboxMessage.created_at > now - SLOW_DOWN_QUIET,
            )
            .limit(1)
        )
        return Flood.STARTED if warned is None else Flood.ONGOING

    def _apologise(self, inbound: Inbound) -> tuple[list[Reply], bool]:
        """Record the message as handled and queue an apology, in a fresh transaction.

        The replies, and whether that transaction committed.
        """
        reply = Reply(_(APOLOGY))
        try:
            with self.db.write() as session:
                now = self.clock()
                _claim_delivery(session, inbound, now)
                identity = session.scalar(
                    select(CustomerIdentity).where(
                        CustomerIdentity.channel == inbound.channel,
                        CustomerIdentity.address == inbound.sender,
                    )
                )
                if identity is not None and identity.opted_out_at is not None:
                    return [], True
                enqueue(
                    session,
                    channel=inbound.channel,
                    address=inbound.sender,
                    reply=reply,
                    status=SENT if inbound.channel in INLINE_CHANNELS else PENDING,
                    now=now,
                )
        except _Duplicate:
            return [], True
        except Exception:
            # The database itself is failing: still answer the person who is waiting.
            log.exception("could not record apology for %s", inbound.provider_id)
            return [reply], False
        return [reply], True


@dataclass(frozen=True)
class _Checks:
    recent: int  # the sender's messages in the flood window, up to this one
    handover: int | None  # an open hand-over's id
    question: int | None  # an open question's id


def _customer_checks(turn: Turn, recorded: int | None) -> _Checks:
    """The throttle count, and whether a hand-over or a question is open, in one query.

    `recorded` is this message's inbox row (None when it was recorded just now, as the
    newest): messages that arrived after it do not count against it.
    """
    inbound = turn.inbound
    params = {
        "channel": inbound.channel,
        "address": inbound.sender,
        "since": inbound.received_at - FLOOD_WINDOW,
        "customer": turn.customer.id,
        "now": turn.now,
    }
    if recorded is None:
        row = turn.session.execute(_CUSTOMER_CHECKS, params).one()
    else:
        row = turn.session.execute(_CUSTOMER_CHECKS_UP_TO, {**params, "up_to": recorded}).one()
    if row.question is None:
        turn.no_open_question = True  # Turn.open_question() need not look
    return _Checks(row.recent or 0, row.handover, row.question)


def _with_id(inbound: Inbound) -> Inbound:
    return replace(inbound, provider_id=f"local-{uuid.uuid4().hex}")


def _numbered_choice(inbound: Inbound, conversation: Conversation) -> Inbound:
    """A bare number answering a numbered list of options becomes that option's id."""
    text = inbound.text.strip().rstrip(".")
    offered = (conversation.data or {}).get(OFFERED) or []
    # ASCII digits only: "²".isdigit() is true, and int("²") raises.
    if (
        inbound.option_id is None
        and text.isascii()
        and text.isdigit()
        and 1 <= int(text) <= len(offered)
    ):
        return replace(inbound, option_id=offered[int(text) - 1])
    return inbound


def _claim_delivery(
    session: Session, inbound: Inbound, now: datetime, *, fresh: bool = False
) -> int | None:
    """Stamp this delivery handled: claim the inbox's row (its id), or record it now (None).

    Raises _Duplicate when it was handled before. The claim is a conditional UPDATE, so of two
    workers reaching the same row only one gets it (PostgreSQL re-checks after the row lock).
    `fresh`: the provider id was made up for this message, so there is nothing to claim.
    """
    if fresh:
        session.execute(_RECORD, row_values(inbound, handled_at=now))
        return None
    key = (InboundMessage.channel == inbound.channel) & (
        InboundMessage.provider_id == inbound.provider_id
    )
    claimed = session.scalar(
        update(InboundMessage)
        .where(key, InboundMessage.handled_at.is_(None))
        .values(handled_at=now)
        .returning(InboundMessage.id)
        .execution_options(synchronize_session=False)
    )
    if claimed is not None:
        return int(claimed)
    if session.scalar(select(InboundMessage.id).where(key)) is not None:
        raise _Duplicate
    session.execute(insert(InboundMessage).values(**row_values(inbound, handled_at=now)))
    return None


def _earlier_waiting(session: Session, inbound: Inbound, message_id: int) -> bool:
    """Whether this person has an older message still in the inbox (another worker's)."""
    return (
        session.scalar(
            select(InboundMessage.id)
            .where(
                InboundMessage.channel == inbound.channel,
                InboundMessage.address == inbound.sender,
                InboundMessage.handled_at.is_(None),
                InboundMessage.id < message_id,
            )
            .limit(1)
        )
        is not None
    )


def _lock_conversation(session: Session, inbound: Inbound, now: datetime) -> Conversation:
    """The sender's conversation row, locked for this transaction.

    A new one is not added to the session yet (its id is None): the caller adds it once it
    knows the customer, so it is written in one INSERT.
    """
    conversation = session.scalar(
        _CONVERSATION, {"channel": inbound.channel, "address": inbound.sender}
    )
    if conversation is None:
        conversation = Conversation(
            channel=inbound.channel,
            address=inbound.sender,
            flow="idle",
            step="start",
            data={},
            version=0,
            updated_at=now,
        )
    return conversation


def _identify(
    session: Session, inbound: Inbound, now: datetime
) -> tuple[CustomerIdentity, Customer]:
    """Find the customer behind this channel address, or create them."""
    identity = session.scalar(_IDENTITY, {"channel": inbound.channel, "address": inbound.sender})
    if identity is None:
        customer = None
        phone = inbound.sender if inbound.channel in (SMS, "whatsapp") else inbound.contact_phone
        if phone:
            # One customer across channels: the same phone number is the same person.
            customer = session.scalar(select(Customer).where(Customer.phone == phone).limit(1))
        if customer is None:
            customer = Customer(phone=phone, created_at=now, notes="")
            if inbound.display_name:
                customer.name = clean_display_name(inbound.display_name)
            session.add(customer)  # flushed with its identity: one flush for both rows
        identity = CustomerIdentity(
            customer=customer,
            channel=inbound.channel,
            address=inbound.sender,
            created_at=now,
            last_inbound_at=now,
        )
        session.add(identity)
        session.flush()
    identity.last_inbound_at = now
    if inbound.contact_phone:
        # A number shared later (a Telegram contact) joins this chat to its customer.
        link_phone(session, identity, inbound.contact_phone)
    customer = identity.customer
    return identity, customer


def _opt_out(turn: Turn) -> str:
    turn.identity.opted_out_at = turn.now
    turn.identity.promotions_opt_in = False
    consent.on_opt_out(turn)  # kept: when, where and in which words
    # An open hand-over ends with STOP: nothing more is forwarded, and nothing is sent back.
    thread = open_handover(turn.session, turn.customer.id) if turn.customer else None
    if thread is not None:
        close_handover(turn.session, thread, by="customer:stop", now=turn.now, tell=False)
    turn.idle()
    if turn.inbound.channel != SMS:
        # Carriers answer STOP on SMS themselves; elsewhere the confirmation is ours to send.
        turn.say(
            _("You're unsubscribed and won't get any more messages from us. Reply START to undo.")
        )
    return "opt_out_confirmation"


def _opt_in(turn: Turn) -> None:
    turn.identity.opted_out_at = None
    turn.idle()
    if consent.on_opt_in(turn):  # "subscribe": offers too, and said so
        return
    turn.say(
        t(
            "Welcome back! You'll get messages from {business} again. What can I do for you?",
            business=turn.business.name,
        ),
        flows.menu(),
    )


def _expire_if_stale(turn: Turn) -> None:
    conversation = turn.conversation
    if conversation.flow == "idle":
        return
    timeout = timedelta(minutes=turn.business.rules.conversation_timeout_minutes)
    if turn.now - conversation.updated_at > timeout:
        turn.idle()
        turn.set(expired=True)


def _queued_since(session: Session, inbound: Inbound) -> list[Reply]:
    """What this transaction queued to the sender since `watch_queued`, in order."""
    rows = [
        message
        for message in queued_in(session)
        if message.channel == inbound.channel and message.address == inbound.sender
    ]
    return [Reply.from_json(message.body) for message in sorted(rows, key=lambda m: m.id)]


def _queue(turn: Turn, purpose: str) -> None:
    inline = turn.inbound.channel in INLINE_CHANNELS
    for reply in turn.replies:
        enqueue(
            turn.session,
            channel=turn.inbound.channel,
            address=turn.inbound.sender,
            reply=reply,
            purpose=purpose,
            customer_id=turn.customer.id,
            status=SENT if inline else PENDING,
            now=turn.now,
            in_reply_to=turn.inbound.provider_id,
            flush=False,
        )
    # The replies and the conversation's update in one flush (`_queued_since` reads ids).
    turn.session.flush()

"""Telegram: the webhook (secret token, updates as Telegram sends them), long polling, and
the sender — python-telegram-bot on one long-lived event loop — against a fake Bot API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.messaging.courier import Courier
from bot.messaging.messages import Attachment, Option, Reply
from bot.messaging.outbox import dispatch_due, enqueue
from bot.messaging.senders import Outgoing, build_senders
from bot.messaging.senders.telegram_sender import (
    FloodGate,
    TelegramSender,
    TelegramSettings,
    shared_client,
)
from conversations.inbox import InboxProcessor
from storage.db import Database
from storage.messaging import FAILED, PENDING, OutboxMessage
from storage.models import Appointment, Customer, CustomerIdentity, InboundMessage
from tests.conftest import DEMO_CONFIG, process_inbox
from tests.factories import local
from tests.fakes.telegram_api import (
    FakeTelegram,
    callback_update,
    contact_update,
    location_update,
    make_fake_telegram,
    photo_update,
    telegram_env,
    text_update,
)
from webhooks.app import create_app
from webhooks.telegram import TelegramPoller, start_telegram

NOW = local("2026-11-16 10:00")
SECRET = "webhook-secret-1"
CHAT = 777001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with make_fake_telegram() as server:
        yield server
        shared_client(TelegramSettings.from_env(telegram_env(server))).close()


@pytest.fixture
def app(sqlite_url: str, fake: FakeTelegram) -> Iterator[Flask]:
    """The app on SQLite with Telegram pointed at the fake and the clock fixed."""
    application = create_app(
        {
            "DATABASE_URL": sqlite_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "TESTING": True,
            "CLOCK": lambda: NOW,
            **telegram_env(fake, TELEGRAM_WEBHOOK_SECRET=SECRET),
        }
    )
    yield application
    if "slotbot.courier" in application.extensions:
        application.extensions["slotbot.courier"].close()
    application.extensions["slotbot.db"].dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def post(client: FlaskClient, update: dict, secret: str | None = SECRET):
    """Deliver an update as Telegram does; then the worker's part, and its sends."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    response = client.post("/telegram/webhook", json=update, headers=headers)
    process_inbox(client.application)
    return response


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def buttons(call: dict) -> dict[str, str]:
    """label → callback_data of a sent message's inline keyboard."""
    rows = (call.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


# ------------------------------------------------------------------------------- webhook


@pytest.mark.parametrize("secret", [None, "", "webhook-secret-2", SECRET + "x"])
def test_a_webhook_without_the_right_secret_token_is_refused_and_nothing_stored(
    client, db, fake, secret
):
    response = post(client, text_update(CHAT, "hi"), secret=secret)
    assert response.status_code == 403
    assert count(db, InboundMessage) == 0 and count(db, OutboxMessage) == 0
    assert fake.received() == []


def test_without_a_webhook_secret_the_endpoint_is_not_configured(app, client, db):
    app.config["TELEGRAM_WEBHOOK_SECRET"] = ""
    assert post(client, text_update(CHAT, "hi"), secret="").status_code == 503
    assert count(db, InboundMessage) == 0


def test_start_greets_with_the_menu_as_inline_buttons(client, fake):
    assert post(client, text_update(CHAT, "/start")).status_code == 200
    [greeting] = fake.messages(CHAT)
    assert greeting["text"].startswith("Hi Jane! I'm the booking assistant for Maple & Mane")
    assert buttons(greeting) == {
        "Book an appointment": "book",
        "My appointments": "mine",
        "Talk to a person": "human",
    }


def test_a_button_press_is_answered_and_acts_as_the_option(client, fake, db):
    post(client, text_update(CHAT, "/start"))
    post(client, callback_update(CHAT, "book"))
    fake.wait_for(lambda f: f.received("answerCallbackQuery"))
    [answer] = fake.received("answerCallbackQuery")
    assert answer["callback_query_id"].startswith(str(CHAT))
    assert "What would you like to book?" in fake.texts(CHAT)[-1]
    with db.read() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        payloads = [m.payload for m in rows]
    assert payloads[-1]["option_id"] == "book"


def test_the_same_update_delivered_three_times_is_handled_once(client, fake, db):
    update = text_update(CHAT, "hi", update_id=900001)
    for _ in range(3):
        assert post(client, update).status_code == 200
    assert count(db, InboundMessage) == 1
    assert len(fake.messages(CHAT)) == 1
    with db.read() as session:
        assert session.scalar(select(InboundMessage.provider_id)) == "900001"


def test_a_press_of_an_old_button_delivered_twice_is_answered_twice_but_handled_once(
    client, fake, db
):
    update = callback_update(CHAT, "mine", update_id=900002)
    post(client, update)
    post(client, update)
    fake.wait_for(lambda f: len(f.received("answerCallbackQuery")) == 2)
    assert len(fake.received("answerCallbackQuery")) == 2  # every press stops its spinner
    assert count(db, InboundMessage) == 1 and len(fake.messages(CHAT)) == 1


def test_a_shared_contact_links_the_chat_to_the_customer_who_booked_by_sms(client, fake, db):
    from tests.dialogue import Chat

    sms = Chat(db, NOW, channel="sms", sender="+15551230001")
    sms.say("haircut with Sam friday at 4, I'm Jane")
    sms.say("yes")
    post(client, text_update(CHAT, "/start"))
    post(client, contact_update(CHAT, "15551230001"))  # Telegram leaves out the "+"
    post(client, text_update(CHAT, "my appointments"))
    assert "Haircut with Sam" in fake.texts(CHAT)[-1]
    with db.read() as session:
        owners = {
            i.channel: i.customer_id
            for i in session.scalars(select(CustomerIdentity))
            if i.address in (str(CHAT), "+15551230001")
        }
        booked = session.scalar(select(Appointment.customer_id))
    assert owners == {"sms": booked, "telegram": booked}


def test_someone_elses_contact_card_links_nothing(client, fake, db):
    post(client, contact_update(CHAT, "+12125550123", user_id=424242))
    with db.read() as session:
        customer = session.scalar(
            select(Customer).join(CustomerIdentity).where(CustomerIdentity.address == str(CHAT))
        )
    assert customer.phone is None


def test_a_photo_is_kept_by_file_id_on_the_upcoming_appointment(client, fake, db):
    post(client, text_update(CHAT, "haircut with Sam friday at 4, I'm Jane"))
    post(client, callback_update(CHAT, buttons(fake.messages(CHAT)[-1])["Yes, book it"]))
    post(client, photo_update(CHAT, caption="this is the look I want"))
    with db.read() as session:
        notes = session.scalar(select(Appointment.notes))
        payload = session.scalars(
            select(InboundMessage.payload).order_by(InboundMessage.id.desc())
        ).first()
    assert "Photo from customer: telegram-file:AgAD-L" in notes  # the largest size
    assert payload["attachments"][0]["url"] == "telegram-file:AgAD-L"


def test_a_location_is_recorded_with_the_message(client, db):
    post(client, location_update(CHAT, 40.7191, -73.9973))
    with db.read() as session:
        assert session.scalar(select(InboundMessage.payload))["location"][:2] == [40.7191, -73.9973]


def test_an_option_id_too_long_for_callback_data_travels_as_an_alias(client, fake, db):
    long_id = "slot:" + "x" * 80
    with db.write() as session:
        queued = enqueue(
            session,
            channel="telegram",
            address=str(CHAT),
            reply=Reply("Pick", (Option("short", "Short"), Option(long_id, "Long"))),
            now=NOW,
        )
    dispatch_due(db, build_senders(telegram_env(fake)), now=NOW)
    data = buttons(fake.messages(CHAT)[0])
    assert data == {"Short": "short", "Long": f"#o:{queued.id}:1"}
    assert all(len(d.encode()) <= 64 for d in data.values())
    post(client, callback_update(CHAT, data["Long"]))
    post(client, callback_update(CHAT + 1, data["Long"]))  # not their button: no lookup
    with db.read() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        options = [m.payload["option_id"] for m in rows]
    assert options == [long_id, data["Long"]]


# ------------------------------------------------------------------------------- polling


def test_long_polling_handles_each_update_and_moves_the_offset_on(app, db, fake):
    first, second = text_update(CHAT, "/start"), text_update(CHAT + 1, "hi")
    fake.push(first, second)
    client = shared_client(TelegramSettings.from_env(telegram_env(fake)))
    poller = TelegramPoller(db, client, clock=lambda: NOW)
    assert poller.poll_once(timeout=0) == 2
    assert poller.offset == second["update_id"] + 1
    assert poller.poll_once(timeout=0) == 0  # empty: and the two are confirmed
    offsets = [call.get("offset") for call in fake.received("getUpdates")]
    assert offsets == [None, str(second["update_id"] + 1)]
    assert fake.updates == []
    assert count(db, InboundMessage) == 2


def test_a_restarted_poller_reading_old_updates_again_handles_them_once(app, db, fake):
    fake.push(text_update(CHAT, "hi"))
    client = shared_client(TelegramSettings.from_env(telegram_env(fake)))
    TelegramPoller(db, client, clock=lambda: NOW).poll_once(timeout=0)
    # Died before confirming: the next process starts without an offset.
    TelegramPoller(db, client, clock=lambda: NOW).poll_once(timeout=0)
    assert count(db, InboundMessage) == 1
    assert process_inbox(app) == 1
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_worker_polls_by_default_and_replies_arrive(app, db, fake):
    env = telegram_env(fake, TELEGRAM_POLL_TIMEOUT="1")
    courier = Courier(db, build_senders(env))
    # As `slotbot worker` wires them: the poller records, the inbox processor answers.
    inbox = InboxProcessor(db, courier, poll=60.0).start()  # only the wake-up can be in time
    poller = start_telegram(db, env, on_recorded=inbox.wake)
    try:
        fake.push(text_update(CHAT, "/start"))
        assert fake.wait_for(lambda f: f.messages(CHAT), timeout=15)
    finally:
        poller.stop()
        inbox.stop()
        courier.close()
    assert fake.received("deleteWebhook")
    assert "booking assistant" in fake.texts(CHAT)[0]


def test_with_a_webhook_url_the_worker_sets_the_webhook_with_its_secret(db, fake):
    env = telegram_env(
        fake,
        TELEGRAM_WEBHOOK_URL="https://bot.example/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    assert start_telegram(db, env) is None
    [call] = fake.received("setWebhook")
    assert call["url"] == "https://bot.example/telegram/webhook"
    assert call["secret_token"] == SECRET
    assert fake.received("getUpdates") == []


# -------------------------------------------------------------------------------- sender


def outgoing(reply: Reply, chat: int = CHAT, message_id: int = 7) -> Outgoing:
    return Outgoing(id=message_id, channel="telegram", address=str(chat), reply=reply, now=NOW)


def sender(fake: FakeTelegram, **env: str) -> TelegramSender:
    chosen = build_senders(telegram_env(fake, **env))["telegram"]
    assert isinstance(chosen, TelegramSender)
    return chosen


def test_a_confirmation_with_an_ics_goes_as_one_document_with_caption_and_buttons(fake):
    ics = Attachment("text/calendar", "appointment-7.ics", data=b"BEGIN:VCALENDAR\r\n")
    reply = Reply("You're booked!", (Option("mine", "My appointments"),), attachments=(ics,))
    result = sender(fake).send(outgoing(reply))
    [call] = fake.messages(CHAT)
    assert result.outcome == "sent" and call["method"] == "sendDocument"
    assert call["caption"] == "You're booked!" and buttons(call) == {"My appointments": "mine"}
    assert call["document"] == {"filename": "appointment-7.ics", "data": b"BEGIN:VCALENDAR\r\n"}


def test_200_sends_from_eight_threads_all_arrive_within_the_flood_limits(fake):
    chosen = sender(fake)
    results, errors = [], []
    # The limits are checked on the slots the flood gate booked, not on arrival times: a busy
    # machine can bunch arrivals up whatever the sender did, but never make one early.
    booked: list[tuple[str, float]] = []
    gate = chosen.client.gate
    reserve, clock = gate.reserve, gate.clock
    read: list[float] = []

    def reading() -> float:  # the gate's own "now" (it runs on one event loop: no race)
        read.append(clock())
        return read[-1]

    def booking(chat: str, max_wait: float) -> float | None:
        delay = reserve(chat, max_wait)
        if delay is not None:
            booked.append((chat, read[-1] + delay))
        return delay

    gate.clock = reading
    gate.reserve = booking  # type: ignore[method-assign]

    def work(thread: int) -> None:
        for n in range(25):
            chat = 5000 + (thread * 25 + n) % 40  # 40 chats, 5 messages each
            try:
                results.append(chosen.send(outgoing(Reply(f"m{thread}-{n}"), chat=chat)))
            except Exception as exc:  # pragma: no cover - the assertion reports it
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 200
    assert {r.outcome for r in results} == {"sent"}
    calls = fake.messages()
    assert sorted(c["text"] for c in calls) == sorted(
        f"m{t}-{n}" for t in range(8) for n in range(25)
    )
    assert len(booked) == 200
    slots = sorted(at for _, at in booked)
    # At most 30 in any second: each slot a full second after the one 30 before it.
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(slots, slots[30:], strict=False))
    arrivals = sorted(c["at"] for c in calls)
    assert all(arrived >= slot for arrived, slot in zip(arrivals, slots, strict=True))
    for chat in range(5000, 5040):
        mine = sorted(at for c, at in booked if c == str(chat))
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(mine, mine[1:], strict=False))
        came = sorted(c["at"] for c in calls if c["chat_id"] == str(chat))
        assert all(arrived >= slot for arrived, slot in zip(came, mine, strict=True))
    assert chosen.client.loop.is_running()  # the one loop is still serving


def test_the_flood_gate_spaces_one_chat_and_caps_the_whole_bot():
    now = [100.0]
    gate = FloodGate(per_second=3, chat_interval=1.0, clock=lambda: now[0])
    assert [gate.reserve("a", 10), gate.reserve("b", 10), gate.reserve("c", 10)] == [0, 0, 0]
    assert gate.reserve("d", 10) == pytest.approx(1.0)  # the fourth in one second waits
    assert gate.reserve("a", 10) == pytest.approx(1.0)
    assert gate.reserve("a", 0.5) is None  # too long a wait: nothing booked
    gate.pause("e", 30)
    assert gate.reserve("e", 60) == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("status", "outcome", "opted_out"),
    [(429, "retry", False), (500, "retry", False), (502, "retry", False), (403, "final", True)],
)
def test_provider_errors_are_classified(fake, status, outcome, opted_out):
    fake.fail(status, retry_after=7 if status == 429 else None)
    result = sender(fake).send(outgoing(Reply("hi")))
    assert (result.outcome, result.opted_out) == (outcome, opted_out)
    assert result.retry_after == (7 if status == 429 else None)
    assert fake.messages() == []


def test_a_timeout_is_worth_a_retry(fake):
    fake.slow(1.5)
    result = sender(fake, TELEGRAM_READ_TIMEOUT="0.5").send(outgoing(Reply("hi")))
    assert result.outcome == "retry" and "timeout" in result.error


def test_through_the_outbox_flood_control_waits_and_nothing_is_lost_or_doubled(db, fake):
    senders = build_senders(telegram_env(fake))
    with db.write() as session:
        row = enqueue(session, channel="telegram", address=str(CHAT), reply=Reply("hi"), now=NOW)
    fake.fail(429, retry_after=1)
    assert dispatch_due(db, senders, now=NOW).retried == 1
    with db.read() as session:
        waiting = session.get(OutboxMessage, row.id)
    assert waiting.status == PENDING and waiting.send_at >= NOW + timedelta(seconds=1)
    assert waiting.last_error.startswith("Telegram flood control")
    later = NOW + timedelta(hours=1)
    assert dispatch_due(db, senders, now=later).sent == 1  # after the chat's pause
    assert dispatch_due(db, senders, now=later).claimed == 0
    assert fake.texts(CHAT) == ["hi"]


def test_a_blocked_bot_fails_the_message_and_opts_the_chat_out(client, db, fake):
    post(client, text_update(CHAT, "hi"))
    senders = build_senders(telegram_env(fake))
    with db.write() as session:
        first = enqueue(session, channel="telegram", address=str(CHAT), reply=Reply("a"), now=NOW)
    fake.fail(403, chat_id=CHAT)
    assert dispatch_due(db, senders, now=NOW).failed == 1
    with db.write() as session:
        later = enqueue(session, channel="telegram", address=str(CHAT), reply=Reply("b"), now=NOW)
    assert dispatch_due(db, senders, now=NOW).cancelled == 1  # withdrawn, never sent
    with db.read() as session:
        identity = session.scalar(
            select(CustomerIdentity).where(CustomerIdentity.channel == "telegram")
        )
        status = {i: session.get(OutboxMessage, i).status for i in (first.id, later.id)}
    assert identity.opted_out_at is not None
    assert status == {first.id: FAILED, later.id: "cancelled"}
    assert len(fake.messages(CHAT)) == 1  # only the greeting
    # Unblocking the bot sends /start: that is asking to hear from us again.
    post(client, text_update(CHAT, "/start"))
    assert "Welcome back" in fake.texts(CHAT)[-1]

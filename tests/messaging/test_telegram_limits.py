"""Telegram's refusals: the fake Bot API answers what the real one answers (409 to a second
long poll or to polling under a webhook, 400 to empty or over-long text, bad callback_data,
bad webhooks, and `migrate_to_chat_id`), and slotbot's code never runs into them: it splits
long text, never sends empty text, aliases callback_data, follows a migrated chat once,
checks the webhook settings at start, and backs off on a 409 instead of looping."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Conflict

from bot.config import apply_config, load_config
from bot.core.clock import utcnow
from bot.messaging.messages import Option, Reply
from bot.messaging.outbox import dispatch_due, enqueue
from bot.messaging.senders import Outgoing, build_senders
from bot.messaging.senders.telegram_sender import (
    TelegramClient,
    TelegramSender,
    TelegramSettings,
    shared_client,
    split_text,
    text_length,
    webhook_problems,
)
from storage.db import Database
from storage.leases import acquire, holder_of, release
from storage.messaging import PENDING, SENT, OutboxMessage
from storage.models import Business, Conversation, Customer, CustomerIdentity, InboundMessage
from tests.conftest import DEMO_CONFIG
from tests.factories import local
from tests.fakes.telegram_api import (
    BUTTON_DATA_INVALID,
    POLL_CONFLICT,
    WEBHOOK_CONFLICT,
    FakeTelegram,
    make_fake_telegram,
    message_update,
    telegram_env,
    text_update,
)
from webhooks.telegram import POLLER_LEASE, TelegramPoller, start_telegram

NOW = local("2026-11-16 10:00")
CHAT = 777001
SECRET = "webhook-secret-1"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with make_fake_telegram() as server:
        yield server
        shared_client(TelegramSettings.from_env(telegram_env(server))).close()


@pytest.fixture
def bot_client(fake: FakeTelegram) -> Iterator[TelegramClient]:
    """A PTB client of its own (not the shared one), for calling the fake directly."""
    client = TelegramClient(TelegramSettings.from_env(telegram_env(fake)))
    yield client
    client.close()


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def outgoing(reply: Reply, chat: int | str = CHAT, message_id: int = 7) -> Outgoing:
    return Outgoing(id=message_id, channel="telegram", address=str(chat), reply=reply, now=NOW)


def sender(fake: FakeTelegram) -> TelegramSender:
    chosen = build_senders(telegram_env(fake))["telegram"]
    assert isinstance(chosen, TelegramSender)
    return chosen


def buttons(call: dict) -> dict[str, str]:
    rows = (call.get("reply_markup") or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


# --------------------------------------------------- the fake refuses what Telegram refuses


def test_a_second_long_poll_terminates_the_first_with_409_conflict(fake, bot_client):
    other = TelegramClient(TelegramSettings.from_env(telegram_env(fake)))
    try:
        first = bot_client.submit(bot_client.bot.get_updates(timeout=5))
        assert fake.wait_for(lambda f: f._polls_waiting == 1)
        assert other.run(other.bot.get_updates(timeout=0), timeout=10) == ()
        with pytest.raises(Conflict) as refused:
            first.result(10)
    finally:
        other.close()
    assert "terminated by other getUpdates request" in refused.value.message
    assert [c["why"] for c in fake.conflicts] == [POLL_CONFLICT]


def test_a_long_poll_whose_client_hung_up_is_let_go_without_a_conflict(fake, bot_client):
    first = bot_client.submit(bot_client.bot.get_updates(timeout=5))
    assert fake.wait_for(lambda f: f._polls_waiting == 1)
    first.cancel()  # as a stopped or killed poller: its connection closes
    assert fake.wait_for(lambda f: f._polls_waiting == 0)
    assert bot_client.run(bot_client.bot.get_updates(timeout=0), timeout=10) == ()
    assert fake.conflicts == []


def test_get_updates_while_a_webhook_is_set_is_refused_with_409(fake, bot_client):
    bot_client.run(bot_client.bot.set_webhook("https://bot.example/telegram/webhook"), 10)
    with pytest.raises(Conflict) as refused:
        bot_client.run(bot_client.bot.get_updates(timeout=0), timeout=10)
    assert "can't use getUpdates method while webhook is active" in refused.value.message
    assert [c["why"] for c in fake.conflicts] == [WEBHOOK_CONFLICT]
    bot_client.run(bot_client.bot.delete_webhook(), 10)
    assert bot_client.run(bot_client.bot.get_updates(timeout=0), timeout=10) == ()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://bot.example/telegram/webhook", "An HTTPS URL must be provided"),
        ("https://bot.example:8000/telegram/webhook", "only on ports 80, 88, 443 or 8443"),
        ("https://bot.example:5000/telegram/webhook", "only on ports 80, 88, 443 or 8443"),
        ("bot.example/telegram/webhook", "An HTTPS URL must be provided"),
    ],
)
def test_set_webhook_refuses_a_url_that_is_not_https_on_telegrams_ports(fake, bot_client, url, why):
    with pytest.raises(BadRequest) as refused:
        bot_client.run(bot_client.bot.set_webhook(url, secret_token=SECRET), 10)
    said = refused.value.message.lower()
    assert said.startswith("bad webhook") and why.lower() in said
    assert fake.webhook_url is None and fake.received("setWebhook") == []


@pytest.mark.parametrize("url", ["https://bot.example/hook", "https://bot.example:8443/hook"])
def test_set_webhook_accepts_https_on_telegrams_ports(fake, bot_client, url):
    assert bot_client.run(bot_client.bot.set_webhook(url, secret_token=SECRET), 10)
    assert fake.webhook_url == url and fake.webhook_secret == SECRET


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("has space", "unallowed characters"),
        ("123456:ABC-bot-token", "unallowed characters"),
        ("naïve", "unallowed characters"),
        ("x" * 257, "too long"),
    ],
)
def test_set_webhook_refuses_a_secret_telegram_does_not_allow(fake, bot_client, secret, why):
    with pytest.raises(BadRequest) as refused:
        bot_client.run(bot_client.bot.set_webhook("https://bot.example/h", secret_token=secret), 10)
    assert why in refused.value.message.lower() and fake.webhook_url is None


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_text_is_refused_with_400(fake, bot_client, text):
    with pytest.raises(BadRequest) as refused:
        bot_client.run(bot_client.bot.send_message(CHAT, text), 10)
    assert refused.value.message == "Message text is empty"
    assert fake.messages() == []


@pytest.mark.parametrize(
    ("text", "accepted"),
    [("x" * 4096, True), ("x" * 4097, False), ("😀" * 2048, True), ("😀" * 2049, False)],
)
def test_text_over_4096_characters_is_refused_with_400(fake, bot_client, text, accepted):
    call = bot_client.bot.send_message(CHAT, text)
    if accepted:
        assert bot_client.run(call, 10).text == text
        return
    with pytest.raises(BadRequest) as refused:
        bot_client.run(call, 10)
    assert refused.value.message == "Message is too long" and fake.messages() == []


@pytest.mark.parametrize(
    ("data", "accepted"), [("x" * 64, True), ("x" * 65, False), ("é" * 33, False)]
)
def test_callback_data_over_64_bytes_is_refused_with_400(fake, bot_client, data, accepted):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Pick", callback_data=data)]])
    call = bot_client.bot.send_message(CHAT, "Pick one", reply_markup=markup)
    if accepted:
        bot_client.run(call, 10)
        assert len(fake.messages(CHAT)) == 1
        return
    with pytest.raises(BadRequest) as refused:
        bot_client.run(call, 10)
    assert refused.value.message.lower() == BUTTON_DATA_INVALID.lower().removeprefix(
        "bad request: "
    )
    assert fake.messages() == []


def test_a_group_upgraded_to_a_supergroup_answers_with_its_new_chat_id(fake, bot_client):
    fake.migrate(-4001, to=-1004001)
    with pytest.raises(ChatMigrated) as moved:
        bot_client.run(bot_client.bot.send_message(-4001, "hi"), 10)
    assert moved.value.new_chat_id == -1004001
    bot_client.run(bot_client.bot.send_message(-1004001, "hi"), 10)
    assert fake.texts(-1004001) == ["hi"] and fake.texts(-4001) == []


# ------------------------------------------------------- the sender stays inside the limits


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_the_sender_never_sends_empty_text(fake, text):
    reply = Reply(text, (Option("book", "Book an appointment"),))
    assert sender(fake).send(outgoing(reply)).outcome == "sent"
    [call] = fake.messages(CHAT)
    assert call["text"] == "-" and buttons(call) == {"Book an appointment": "book"}
    assert fake.refused == []


def test_a_text_over_4096_characters_goes_in_parts_with_the_buttons_under_the_last(fake):
    paragraphs = [f"Line {n}: " + " ".join(["lorem ipsum dolor sit amet"] * 12) for n in range(40)]
    text = "\n\n".join(paragraphs)  # about 13,000 characters
    reply = Reply(text, (Option("mine", "My appointments"),))
    result = sender(fake).send(outgoing(reply))
    calls = fake.messages(CHAT)
    assert result.outcome == "sent" and result.provider_id
    assert len(calls) == 4 and fake.refused == []
    assert all(text_length(c["text"]) <= 4096 for c in calls)
    assert [buttons(c) for c in calls] == [{}, {}, {}, {"My appointments": "mine"}]
    # Cut between paragraphs: nothing lost, no paragraph split in two.
    assert [p for c in calls for p in c["text"].split("\n\n")] == paragraphs


def test_long_text_is_split_by_telegrams_count_of_utf16_code_units():
    text = "😀" * 5000  # 10,000 UTF-16 units, no break anywhere
    parts = split_text(text)
    assert [text_length(p) for p in parts] == [4096, 4096, 1808]
    assert "".join(parts) == text
    assert split_text("   ") == ["-"]


def test_an_empty_option_id_travels_as_an_alias_telegram_accepts(fake):
    reply = Reply("Pick", (Option("", "Nothing"), Option("ok", "OK")))
    assert sender(fake).send(outgoing(reply, message_id=41)).outcome == "sent"
    assert buttons(fake.messages(CHAT)[0]) == {"Nothing": "#o:41:0", "OK": "ok"}


def test_a_customer_chat_upgraded_to_a_supergroup_is_followed_and_remembered(salon, fake):
    old, new = "-4002", "-1004002"
    with salon.write() as session:
        customer = Customer(name="Book Club", created_at=NOW)
        session.add(customer)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=customer.id, channel="telegram", address=old, created_at=NOW
            )
        )
        session.add(
            Conversation(channel="telegram", address=old, customer_id=customer.id, updated_at=NOW)
        )
        first = enqueue(session, channel="telegram", address=old, reply=Reply("one"), now=NOW)
        later = enqueue(
            session,
            channel="telegram",
            address=old,
            reply=Reply("two"),
            send_at=NOW + timedelta(hours=1),
            now=NOW,
        )
    fake.migrate(old, to=int(new))
    senders = build_senders(telegram_env(fake))
    assert dispatch_due(salon, senders, now=NOW).sent == 1
    assert fake.texts(new) == ["one"] and fake.texts(old) == []
    with salon.read() as session:
        identity = session.scalar(
            select(CustomerIdentity.address).where(CustomerIdentity.customer_id == customer.id)
        )
        conversation = session.scalar(
            select(Conversation.address).where(Conversation.customer_id == customer.id)
        )
        rows = {r.id: (r.address, r.status) for r in session.scalars(select(OutboxMessage))}
    assert identity == new and conversation == new
    assert rows[first.id] == (new, SENT) and rows[later.id] == (new, PENDING)
    assert dispatch_due(salon, senders, now=NOW + timedelta(hours=2)).sent == 1
    assert fake.texts(new) == ["one", "two"]
    # Followed once per send: only the old id ever answered migrate_to_chat_id.
    assert [c["chat_id"] for c in fake.messages()] == [new, new]


def test_an_owner_chat_upgraded_to_a_supergroup_moves_in_the_owner_list(salon, fake, caplog):
    new = "-1001000"
    with salon.write() as session:
        enqueue(session, channel="telegram", address="1000", reply=Reply("new booking"), now=NOW)
    fake.migrate(1000, to=int(new))
    with caplog.at_level(logging.WARNING, logger="bot.messaging.address_moves"):
        assert dispatch_due(salon, build_senders(telegram_env(fake)), now=NOW).sent == 1
    with salon.read() as session:
        owners = session.get(Business, 1).settings["owners"]
    assert f"telegram:{new}" in owners and "telegram:1000" not in owners
    assert fake.texts(new) == ["new booking"]
    assert "change it in business.toml" in caplog.text


def test_a_chat_that_moves_again_at_once_is_not_chased(salon, fake):
    with salon.write() as session:
        row = enqueue(session, channel="telegram", address="-4003", reply=Reply("hi"), now=NOW)
    fake.migrate(-4003, to=-1004003)
    fake.migrate(-1004003, to=-1005003)
    assert dispatch_due(salon, build_senders(telegram_env(fake)), now=NOW).failed == 1
    with salon.read() as session:
        failed = session.get(OutboxMessage, row.id)
    assert "moved again" in failed.last_error and fake.messages() == []


def test_telegrams_note_that_a_group_was_upgraded_gets_deliberate_silence(salon, fake):
    client = shared_client(TelegramSettings.from_env(telegram_env(fake)))
    fake.push(
        message_update(-4004, migrate_to_chat_id=-1004004),
        message_update(-1004004, migrate_from_chat_id=-4004),
    )
    poller = TelegramPoller(salon, client, clock=lambda: NOW)
    assert poller.poll_once(timeout=0) == 2  # both confirmed, neither recorded
    with salon.read() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0


# ------------------------------------------------------------- webhook settings at start


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        (
            {"TELEGRAM_WEBHOOK_URL": "http://bot.example/telegram/webhook"},
            "must be an https:// URL",
        ),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://bot.example:8000/telegram/webhook"},
            "port 443, 80, 88 or 8443",
        ),
        ({"TELEGRAM_WEBHOOK_SECRET": "not allowed!"}, "may only use A-Z a-z 0-9 _ and -"),
        ({"TELEGRAM_WEBHOOK_SECRET": "x" * 257}, "longer than 256"),
        ({"TELEGRAM_WEBHOOK_SECRET": ""}, "needs TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_a_bad_webhook_setting_is_one_clear_line_and_the_worker_polls_instead(
    sqlite_url, fake, caplog, env, problem
):
    db = Database(sqlite_url)
    settings = {
        "TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        **env,
    }
    full = telegram_env(fake, TELEGRAM_POLL_TIMEOUT="1", **settings)
    [line] = webhook_problems(TelegramSettings.from_env(full))
    assert problem in line
    with caplog.at_level(logging.ERROR, logger="webhooks.telegram"):
        poller = start_telegram(db, full)
    try:
        assert poller is not None
        assert fake.wait_for(lambda f: f.received("getUpdates"))
    finally:
        poller.stop()
        db.dispose()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"telegram: {line}; long polling instead of the webhook"]
    assert fake.received("setWebhook") == [] and fake.refused == []


def test_a_webhook_telegram_refuses_all_the_same_falls_back_to_polling(sqlite_url, fake, caplog):
    db = Database(sqlite_url)
    env = telegram_env(
        fake,
        TELEGRAM_POLL_TIMEOUT="1",
        TELEGRAM_WEBHOOK_URL="https://bot.example/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    fake.fail(400, method="setWebhook")
    with caplog.at_level(logging.ERROR, logger="webhooks.telegram"):
        poller = start_telegram(db, env)
    try:
        assert poller is not None
        assert fake.wait_for(lambda f: f.received("getUpdates"))
    finally:
        poller.stop()
        db.dispose()
    assert "telegram refused the webhook" in caplog.text and fake.webhook_url is None


def test_good_webhook_settings_have_no_problems(fake):
    env = telegram_env(
        fake,
        TELEGRAM_WEBHOOK_URL="https://bot.example:8443/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET="A-z_0-9" * 36,
    )
    assert webhook_problems(TelegramSettings.from_env(env)) == []


# --------------------------------------------------------------------- the poller's lease


def test_the_poller_lease_has_one_holder_until_it_lapses_or_is_released(db):
    now = utcnow()
    assert acquire(db, POLLER_LEASE, "a", now=now, seconds=30)
    assert not acquire(db, POLLER_LEASE, "b", now=now + timedelta(seconds=29), seconds=30)
    assert acquire(db, POLLER_LEASE, "a", now=now + timedelta(seconds=29), seconds=30)  # renewed
    assert not acquire(db, POLLER_LEASE, "b", now=now + timedelta(seconds=58), seconds=30)
    assert acquire(db, POLLER_LEASE, "b", now=now + timedelta(seconds=60), seconds=30)  # lapsed
    assert holder_of(db, POLLER_LEASE, now=now + timedelta(seconds=60)) == "b"
    assert not release(db, POLLER_LEASE, "a")  # not a's to give back any more
    assert release(db, POLLER_LEASE, "b")
    assert holder_of(db, POLLER_LEASE, now=now + timedelta(seconds=60)) is None
    assert acquire(db, POLLER_LEASE, "a", now=now + timedelta(seconds=61), seconds=30)


def test_racing_for_a_new_lease_has_exactly_one_winner(db):
    now = utcnow()
    won: list[str] = []
    start = threading.Barrier(6)

    def race(name: str) -> None:
        other = Database(db.url)
        try:
            start.wait()
            if acquire(other, "race", name, now=now, seconds=30):
                won.append(name)
        finally:
            other.dispose()

    threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1 and holder_of(db, "race", now=now) == won[0]


def test_only_the_lease_holder_polls_and_the_other_takes_over_when_it_stops(sqlite_url, fake):
    db = Database(sqlite_url)
    client = shared_client(TelegramSettings.from_env(telegram_env(fake)))
    first = TelegramPoller(db, client, lease_seconds=3).start()
    assert fake.wait_for(lambda f: f.received("getUpdates"))
    second = TelegramPoller(db, client, lease_seconds=3).start()
    try:
        fake.push(text_update(CHAT, "/start"))
        assert fake.wait_for(lambda f: f.updates == [] and len(f.received("getUpdates")) > 3)
        assert first.holding and not second.holding
        first.stop()
        assert not first.holding
        assert fake.wait_for(lambda _: second.holding, timeout=20)
        fake.push(text_update(CHAT + 1, "/start"))
        assert fake.wait_for(lambda f: f.updates == [], timeout=20)
    finally:
        first.stop()
        second.stop()
        db.dispose()
    assert fake.conflicts == []
    assert first.conflicts == 0 and second.conflicts == 0


def test_a_409_backs_off_doubling_instead_of_looping(sqlite_url, fake):
    db = Database(sqlite_url)
    client = shared_client(TelegramSettings.from_env(telegram_env(fake)))
    poller = TelegramPoller(db, client, lease_seconds=3)
    pauses: list[float] = []
    pause = poller._pause
    poller._pause = lambda seconds: (pauses.append(seconds), pause(seconds))  # type: ignore[method-assign]
    poller.start()
    try:
        assert fake.wait_for(lambda f: f.received("getUpdates"))
        fake.webhook_url = "https://elsewhere.example/hook"  # set by someone else meanwhile
        assert fake.wait_for(lambda _: len(pauses) >= 3, timeout=30)
    finally:
        poller.stop()
        db.dispose()
    assert pauses[:3] == [1.0, 2.0, 4.0]
    # One getUpdates per pause, not a loop: every 409 the fake gave was backed off.
    assert len(fake.conflicts) == poller.conflicts == len(pauses)

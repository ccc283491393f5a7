"""Talking to a person: a customer asks, the team answers through the bot, and the bot
takes over again — on the web chat and Telegram (owner), SQLite and PostgreSQL.

Tuesday 17 Nov 2026, 11:00 in New York: the salon is open and Sam is working.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config, parse_config
from bot.messaging.handover import HANDOVER_NOTICE, HANDOVER_REPLY, QUIET_CLOSER, close_quiet
from storage.db import Database
from storage.engagement import FROM_CUSTOMER, FROM_TEAM, Handover, HandoverMessage
from storage.messaging import OutboxMessage
from storage.models import AdminAudit, Appointment, Conversation, SlotHold
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-17 11:00")
OWNERS = {("web", "owner"), ("telegram", "1000"), ("sms", "+12125550199")}
OWNER_CHANNELS = [("web", "owner"), ("telegram", "1000")]
ASKS = ["talk to a person", "can I speak to someone?", "human please", "I want a real person"]


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture
def jane(salon: Database) -> Chat:
    chat = Chat(salon, NOW, channel="web", sender="visitor-jane")
    chat.say("hi, I'm Jane Doe")
    return chat


@pytest.fixture(params=OWNER_CHANNELS, ids=["web", "telegram"])
def owner(request: pytest.FixtureRequest, salon: Database) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def threads(db: Database) -> list[Handover]:
    with db.read() as session:
        rows = list(session.scalars(select(Handover).order_by(Handover.id)))
        for row in rows:
            _ = (row.customer.name, row.messages)
        return rows


def outbox(db: Database, purpose: str) -> list[OutboxMessage]:
    with db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == purpose)
                .order_by(OutboxMessage.id)
            )
        )


@pytest.mark.parametrize("ask", ASKS)
def test_a_customer_who_asks_for_a_person_gets_a_thread_and_every_owner_hears(jane, salon, ask):
    jane.say(ask)
    jane.expect("a person from the team will answer you here")
    [thread] = threads(salon)
    assert thread.closed_at is None and thread.customer.name == "Jane Doe"
    assert (thread.channel, thread.address) == ("web", "visitor-jane")
    notices = outbox(salon, HANDOVER_NOTICE)
    assert {(n.channel, n.address) for n in notices} >= OWNERS
    assert all(n.ref_id == thread.id for n in notices)
    assert all("Jane Doe" in n.body["text"] and ask in n.body["text"] for n in notices)


def test_the_talk_to_a_person_button_opens_a_thread_too(jane, salon):
    jane.press("Talk to a person")
    jane.expect("a person from the team will answer you here")
    assert len(threads(salon)) == 1


def test_staff_on_duty_hear_it_and_staff_off_duty_do_not(salon):
    # The demo lists Sam as sms:+12125550101; he works Tuesdays from 9 to 7.
    chat = Chat(salon, NOW, channel="web", sender="visitor-9")
    chat.say("let me talk to a human")
    addresses = {(n.channel, n.address) for n in outbox(salon, HANDOVER_NOTICE)}
    assert ("sms", "+12125550101") in addresses  # Sam works Tuesdays from 9
    later = Chat(salon, local("2026-11-17 22:30"), channel="web", sender="visitor-10")
    later.say("i need to speak to someone")
    late = [n for n in outbox(salon, HANDOVER_NOTICE) if n.ref_id == threads(salon)[-1].id]
    assert ("sms", "+12125550101") not in {(n.channel, n.address) for n in late}
    assert ("telegram", "1000") in {(n.channel, n.address) for n in late}  # owners always


@pytest.mark.parametrize(
    "message", ["haircut with Sam tomorrow at 3", "cancel my appointment", "yes", "3"]
)
def test_while_a_thread_is_open_messages_go_to_the_team_not_the_booking_dialogue(
    jane, salon, message
):
    jane.say("talk to a person please")
    before = len(outbox(salon, HANDOVER_NOTICE))
    jane.say(message)
    assert jane.replies == []  # the bot keeps quiet: a person answers
    forwarded = outbox(salon, HANDOVER_NOTICE)[before:]
    assert {(n.channel, n.address) for n in forwarded} >= OWNERS
    assert all(n.body["text"] == f"[#1] Jane Doe: {message}" for n in forwarded)
    with salon.read() as session:
        assert session.scalars(select(SlotHold)).all() == []
        assert session.scalars(select(Appointment)).all() == []
        conversation = session.scalar(
            select(Conversation).where(Conversation.address == "visitor-jane")
        )
        assert conversation.flow == "idle"
    [thread] = threads(salon)
    assert [m.text for m in thread.messages if m.author == FROM_CUSTOMER][-1] == message


@pytest.mark.parametrize(
    "command",
    [
        "r 1: Yes, we can fit you in at 4",
        "reply Jane: Yes, we can fit you in at 4",
        "answer #1 Yes, we can fit you in at 4",
        "reply to jane doe, Yes, we can fit you in at 4",
    ],
)
def test_an_owner_answers_and_the_customer_gets_it_on_their_channel(jane, owner, salon, command):
    jane.say("can I speak to someone? it's about a wedding")
    owner.say(command)
    owner.expect("Sent to Jane Doe on web", "#1")
    [sent] = outbox(salon, HANDOVER_REPLY)
    assert (sent.channel, sent.address) == ("web", "visitor-jane")
    assert sent.body["text"] == "Yes, we can fit you in at 4"
    assert sent.customer_id == threads(salon)[0].customer_id
    [thread] = threads(salon)
    assert [(m.author, m.text) for m in thread.messages][-1] == (
        FROM_TEAM,
        "Yes, we can fit you in at 4",
    )
    with salon.read() as session:
        actions = list(session.scalars(select(AdminAudit.action)))
    assert "handover_reply" in actions


@pytest.mark.parametrize("command", ["done with Jane", "close 1", "finished with jane doe"])
def test_an_owner_closes_the_thread_and_the_bot_takes_over_saying_so(jane, owner, salon, command):
    jane.say("human please")
    owner.say(command)
    owner.expect("Closed #1", "Jane Doe")
    [thread] = threads(salon)
    assert thread.closed_at == NOW and thread.closed_by == f"owner:{owner.channel}:{owner.sender}"
    told = outbox(salon, HANDOVER_REPLY)[-1]
    assert "I'm back" in told.body["text"] and told.address == "visitor-jane"
    jane.say("haircut with Sam tomorrow at 3")
    jane.expect("Haircut", "Sam")  # the booking dialogue reads her again


def test_owners_list_open_chats_and_a_second_request_keeps_one_thread(jane, owner, salon):
    owner.say("chats")
    owner.expect("No customer is waiting")
    jane.say("talk to a person")
    jane.say("i'd like to talk to a real person")
    jane.expect_not("a person from the team will answer you here")  # said once: forwarded
    assert len(threads(salon)) == 1
    owner.say("chats")
    owner.expect("1 open", "#1 Jane Doe (open)")


def test_a_reply_to_a_closed_thread_opens_it_again(jane, owner, salon):
    jane.say("talk to a person")
    owner.say("close 1")
    owner.say("r 1: sorry, one more thing: bring your voucher")
    owner.expect("open again")
    assert threads(salon)[0].closed_at is None
    jane.say("will do")
    assert jane.replies == []


def test_an_unknown_thread_is_said_so(owner):
    owner.say("reply Zed: hello")
    owner.expect('No chat with "Zed"')
    owner.say("close 42")
    owner.expect('No chat with "42"')


def test_closing_a_day_and_finishing_a_job_still_work_beside_the_chat_commands(owner, salon):
    owner.say("close dec 24")
    owner.expect("Block Thu, Dec 24 for everyone?")


def test_a_quiet_thread_closes_by_itself_after_the_default_half_hour(jane, salon):
    jane.say("talk to a person")
    jane.wait(minutes=10)
    jane.say("are you there?")
    assert close_quiet(salon, NOW + timedelta(minutes=39)) == 0  # 29 minutes since her last
    assert close_quiet(salon, NOW + timedelta(minutes=41)) == 1
    [thread] = threads(salon)
    assert thread.closed_by == QUIET_CLOSER
    assert "I'm back" in outbox(salon, HANDOVER_REPLY)[-1].body["text"]
    assert any("quiet minutes" in n.body["text"] for n in outbox(salon, HANDOVER_NOTICE))
    assert close_quiet(salon, NOW + timedelta(hours=5)) == 0  # closed once


def test_the_quiet_time_is_configurable(salon):
    apply_config(salon, parse_config(DEMO_CONFIG.read_text() + "\n[handover]\nquiet_minutes = 5\n"))
    chat = Chat(salon, NOW, channel="web", sender="visitor-2")
    chat.say("talk to a person")
    assert close_quiet(salon, NOW + timedelta(minutes=4)) == 0
    assert close_quiet(salon, NOW + timedelta(minutes=6)) == 1


def test_a_mistyped_handover_key_is_refused():
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="quiet_minutes"):
        parse_config(DEMO_CONFIG.read_text() + "\n[handover]\nquiet_minute = 5\n")


def test_stop_still_works_during_a_thread(salon):
    chat = Chat(salon, NOW, channel="sms", sender="+15551230009")
    chat.say("talk to a person")
    before = len(outbox(salon, HANDOVER_NOTICE))
    chat.say("STOP")
    assert len(outbox(salon, HANDOVER_NOTICE)) == before  # opting out is not forwarded
    with salon.read() as session:
        kept = session.scalars(select(HandoverMessage.text)).all()
    assert "STOP" not in kept
    with salon.read() as session:  # the thread is over: after START the bot answers again
        assert session.scalars(select(Handover.closed_by)).all() == ["customer:stop"]
    chat.say("START")
    chat.say("haircut with alex thursday at 4pm, I'm Nia Ross")
    chat.expect("shall I book")


@pytest.mark.parametrize("words", ["back to the bot", "talk to the bot", "bot please"])
def test_the_customer_can_go_back_to_the_bot_themselves(jane, salon, words):
    jane.say("talk to a person")
    jane.say(words)
    jane.expect("I'm back")
    [thread] = threads(salon)
    assert thread.closed_by == "customer:web:visitor-jane"
    assert "went back to the bot" in outbox(salon, HANDOVER_NOTICE)[-1].body["text"]
    jane.say("haircut with Sam tomorrow at 3")
    jane.expect("Haircut", "Sam")

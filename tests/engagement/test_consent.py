"""Consent to promotions: asked once after a first booking, said in a chat, ticked in the
portal, STOP and START kept — each with its time, channel and words — and the owner's
promotions to a segment with a preview that says who is left out and why. Both backends.

Tuesday 17 Nov 2026, 11:00 in New York.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config, parse_config
from bot.scheduling.booking import book
from storage.db import Database
from storage.engagement import MESSAGES, PROMOTIONS, ConsentEvent
from storage.messaging import OutboxMessage
from storage.models import Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id

NOW = local("2026-11-17 11:00")
REQUEST = "haircut with Sam friday at 4, I'm Jane Doe"
OWNER_CHANNELS = [("web", "owner"), ("telegram", "1000")]


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture(params=OWNER_CHANNELS, ids=["web", "telegram"])
def owner(request: pytest.FixtureRequest, salon: Database) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def first_booking(chat: Chat, notes: str = "no", request: str = REQUEST) -> None:
    chat.say(request)
    chat.expect("shall I book")
    chat.say("yes")
    chat.expect("Anything we should know")
    chat.say(notes)


def events(db: Database) -> list[ConsentEvent]:
    with db.read() as session:
        return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def identity(db: Database, channel: str, address: str) -> CustomerIdentity:
    with db.read() as session:
        return session.scalars(
            select(CustomerIdentity).where(
                CustomerIdentity.channel == channel, CustomerIdentity.address == address
            )
        ).one()


@pytest.mark.parametrize("yes", ["yes", "yes please", "sure", "[Yes, send me offers]", "1"])
def test_the_first_booking_ends_with_the_question_and_a_yes_opts_in(salon, yes):
    chat = Chat(salon, NOW, channel="sms", sender="+15551230001")
    first_booking(chat)
    chat.expect("All set", "would you like to hear about our offers")
    if yes.startswith("["):
        chat.press("Yes, send me offers")
    else:
        chat.say(yes)
    chat.expect("You're subscribed")
    assert identity(salon, "sms", "+15551230001").promotions_opt_in is True
    [event] = events(salon)
    assert (event.topic, event.granted, event.channel, event.source) == (
        PROMOTIONS,
        True,
        "sms",
        "booking",
    )
    assert event.address == "+15551230001" and event.at == NOW
    assert event.words == ("Yes, send me offers" if yes.startswith("[") else yes)


@pytest.mark.parametrize("no", ["no", "no thanks", "nope", "[No thanks]"])
def test_a_no_is_kept_too_and_nothing_is_sent(salon, no):
    chat = Chat(salon, NOW, channel="web", sender="visitor-1")
    first_booking(chat, notes="I'm allergic to latex")
    chat.expect("noted that", "would you like to hear about our offers")
    if no.startswith("["):
        chat.press("No thanks")
    else:
        chat.say(no)
    chat.expect("No problem, no offers")
    assert identity(salon, "web", "visitor-1").promotions_opt_in is False
    [event] = events(salon)
    assert (event.topic, event.granted, event.source) == (PROMOTIONS, False, "booking")


def test_the_question_is_asked_once_only(salon):
    chat = Chat(salon, NOW, channel="web", sender="visitor-1")
    first_booking(chat)
    chat.say("no")
    chat.say("haircut with Sam saturday at 10")
    chat.expect("shall I book")
    chat.say("yes")
    chat.expect("You're booked: Haircut with Sam, Sat, Nov 21")
    chat.expect_not("offers")
    with salon.read() as session:
        asked = session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == "visitor-1")
        ).all()
    assert sum("hear about our offers" in m.body["text"] for m in asked) == 1


def test_an_ignored_question_lapses_and_a_later_yes_is_not_taken_for_consent(salon):
    chat = Chat(salon, NOW, channel="web", sender="visitor-5")
    first_booking(chat)
    chat.expect("hear about our offers")
    chat.say("what time do you open on saturday?")
    chat.say("yes")
    chat.expect_not("You're subscribed")
    assert identity(salon, "web", "visitor-5").promotions_opt_in is False
    assert events(salon) == []
    chat.say(option="consent:yes")  # the button, pressed later, is still a clear yes
    chat.expect("You're subscribed")
    assert identity(salon, "web", "visitor-5").promotions_opt_in is True


def test_the_question_can_be_reworded_or_turned_off(salon):
    custom = '\n[promotions]\nconsent_question = "Fancy hearing about deals? YES or NO"\n'
    apply_config(salon, parse_config(DEMO_CONFIG.read_text() + custom))
    chat = Chat(salon, NOW, channel="web", sender="visitor-2")
    first_booking(chat)
    chat.expect("Fancy hearing about deals? YES or NO")
    off = "\n[promotions]\nask_after_first_booking = false\n"
    apply_config(salon, parse_config(DEMO_CONFIG.read_text() + off))
    other = Chat(salon, NOW, channel="web", sender="visitor-3")
    first_booking(other, request="colour with Alex saturday at 10, I'm Bo Chan")
    other.expect("All set")
    other.expect_not("offers", "deals")


@pytest.mark.parametrize(
    "words",
    ["send me offers", "subscribe me to your promotions", "sign me up for deals", "subscribe"],
)
def test_a_customer_opts_in_in_their_own_words(salon, words):
    chat = Chat(salon, NOW, channel="telegram", sender="55501")
    chat.say(words)
    chat.expect("You're subscribed")
    assert identity(salon, "telegram", "55501").promotions_opt_in is True
    kept = [e for e in events(salon) if e.topic == PROMOTIONS]
    assert [(e.granted, e.words, e.channel) for e in kept] == [(True, words, "telegram")]


@pytest.mark.parametrize(
    "words", ["no more offers", "unsubscribe me from promotions", "stop sending me promos"]
)
def test_a_customer_leaves_the_offers_but_keeps_their_reminders(salon, words):
    chat = Chat(salon, NOW, channel="web", sender="visitor-4")
    chat.say("send me offers")
    chat.say(words)
    chat.expect("no more offers", "still get your confirmations and reminders")
    row = identity(salon, "web", "visitor-4")
    assert row.promotions_opt_in is False and row.opted_out_at is None
    assert [(e.granted, e.words) for e in events(salon)][-1] == (False, words)


def test_stop_and_start_keep_their_meaning_and_are_kept_as_events(salon):
    chat = Chat(salon, NOW, channel="sms", sender="+15551230007")
    chat.say("send me offers")
    chat.say("STOP")
    assert chat.replies == []  # the carrier answers STOP on SMS
    row = identity(salon, "sms", "+15551230007")
    assert row.opted_out_at == NOW and row.promotions_opt_in is False
    chat.say("haircut tomorrow")
    assert chat.replies == []  # silence until START
    chat.wait(minutes=5)
    chat.say("START")
    chat.expect("Welcome back")
    row = identity(salon, "sms", "+15551230007")
    assert row.opted_out_at is None and row.promotions_opt_in is False  # offers stay off
    kept = [(e.topic, e.granted, e.words) for e in events(salon)]
    assert kept == [
        (PROMOTIONS, True, "send me offers"),
        (MESSAGES, False, "STOP"),
        (MESSAGES, True, "START"),
    ]


# ------------------------------------------------------------------ the owner's segments


def _customer(
    db: Database,
    name: str,
    channel: str,
    address: str,
    *,
    opt_in: bool = False,
    stopped: bool = False,
    declined: bool = False,
) -> int:
    with db.write() as session:
        row = Customer(name=name, created_at=NOW - timedelta(days=400), notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=row.id,
                channel=channel,
                address=address,
                created_at=NOW,
                promotions_opt_in=opt_in,
                opted_out_at=NOW if stopped else None,
            )
        )
        if declined:
            session.add(
                ConsentEvent(
                    customer_id=row.id,
                    topic=PROMOTIONS,
                    granted=False,
                    channel=channel,
                    address=address,
                    words="no",
                    source="booking",
                    at=NOW,
                )
            )
        return row.id


def _visit(db: Database, who: int, at: datetime, service: str, staff: str) -> None:
    with db.write() as session:
        book(
            session,
            customer_id=who,
            service_id=service_id(session, service),
            start=at,
            staff_id=staff_id(session, staff),
            now=at - timedelta(days=1),
            enforce_rules=False,
        )


@pytest.fixture
def clientele(salon: Database) -> dict[str, int]:
    """Ana: haircut with Sam a month ago (SMS, opted in); Bo: massage with Priya 100 days
    ago (Telegram, opted in); Cy: haircut 10 days ago, never asked; Di said no; Ed said STOP."""
    people = {
        "ana": _customer(salon, "Ana Lee", "sms", "+15550000001", opt_in=True),
        "bo": _customer(salon, "Bo Chan", "telegram", "7001", opt_in=True),
        "cy": _customer(salon, "Cy Ray", "sms", "+15550000003"),
        "di": _customer(salon, "Di Fox", "sms", "+15550000004", declined=True),
        "ed": _customer(salon, "Ed Ko", "sms", "+15550000005", opt_in=True, stopped=True),
    }
    _visit(salon, people["ana"], local("2026-10-17 10:00"), "haircut", "sam")
    _visit(salon, people["bo"], local("2026-08-09 11:00"), "massage-60", "priya")
    _visit(salon, people["cy"], local("2026-11-07 10:00"), "haircut", "sam")
    _visit(salon, people["ed"], local("2026-11-01 10:00"), "haircut", "sam")
    return people


def promotions_to(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(
            session.scalars(
                select(OutboxMessage.address).where(OutboxMessage.purpose == "promotion")
            )
        )


def test_a_plain_broadcast_previews_who_is_left_out_and_why(owner, clientele, salon):
    owner.say("/broadcast 20% off colour this week!")
    owner.expect(
        "To: everyone who opted in",
        "Goes to 2 customers",
        "1 opted out (STOP)",
        "1 said no to offers",
        "1 not opted in",
        "Send it?",
    )
    owner.say("yes")
    owner.expect("Queued to 2")
    assert promotions_to(salon) == ["+15550000001", "7001"]


@pytest.mark.parametrize(
    "command",
    [
        "promo to customers who had a haircut in the last 60 days: 10% off your next cut",
        "broadcast to clients who got a haircut within the past 2 months: 10% off your next cut",
    ],
)
def test_a_promotion_to_customers_who_had_a_service_lately(owner, clientele, salon, command):
    owner.say(command)
    owner.expect(
        "customers who had Haircut in the last 60 days",
        "Goes to 1 customers",
        "1 outside this group",
        "1 opted out (STOP)",
    )
    owner.say("yes")
    assert promotions_to(salon) == ["+15550000001"]
    with salon.read() as session:
        [row] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "promotion")
        ).all()
    assert row.body["text"].startswith("10% off your next cut") and row.kind == "promotional"


@pytest.mark.parametrize(
    "command",
    [
        "promo to customers not seen for 90 days: we miss you! 15% off",
        "broadcast to customers who haven't been in for 3 months: we miss you! 15% off",
    ],
)
def test_a_promotion_to_customers_not_seen_for_a_while(owner, clientele, salon, command):
    owner.say(command)
    owner.expect("not seen for 90 days", "Goes to 1 customers")
    owner.say("yes")
    assert promotions_to(salon) == ["7001"]


@pytest.mark.parametrize(
    "command, reached",
    [
        ("promo to Priya's clients: new oils in", ["7001"]),
        ("promo to Sam's clients: Sam is back from holiday", ["+15550000001"]),
        ("promo to customers who saw Sam by sms: Sam is back", ["+15550000001"]),
    ],
)
def test_a_promotion_to_a_staff_members_clients(owner, clientele, salon, command, reached):
    owner.say(command)
    owner.expect("clients" if "'s" in command else "by SMS", f"Goes to {len(reached)} customers")
    owner.say("yes")
    assert promotions_to(salon) == reached


def test_the_owner_chooses_the_channel_and_hears_who_is_not_on_it(owner, clientele, salon):
    owner.say("promo to Sam's clients by telegram: Sam is back")
    owner.expect("by Telegram", "Goes to 0 customers", "1 not on Telegram")
    owner.say("no")
    owner.expect("nothing changed")
    assert promotions_to(salon) == []


def test_an_unknown_segment_is_asked_about_not_guessed(owner, clientele):
    owner.say("promo to Zed's clients: hello")
    owner.expect('Who is "Zed"')
    owner.say("promo to customers who had a tattoo in the last 30 days: hello")
    owner.expect('Which service is "tattoo"')


def test_a_segment_broadcast_by_sms_still_needs_the_pin(salon):
    text = DEMO_CONFIG.read_text().replace('# owner_pin = "4821"', 'owner_pin = "4821"')
    apply_config(salon, parse_config(text))
    owner = Chat(salon, NOW, channel="sms", sender="+12125550199")
    owner.say("promo to Sam's clients: Sam is back")
    owner.expect("Reply with your owner PIN")
    owner.say("4821")
    owner.expect("Preview", "Sam is back", "Send it?")


def test_the_owner_sees_a_customers_latest_answer_on_their_card(salon, owner):
    chat = Chat(salon, NOW, channel="sms", sender="+15551230008")
    chat.say("hi, I'm Mia Wong")
    chat.say("sign me up for deals")
    owner.say("customer mia")
    owner.expect('Offers: yes (sms, Tue, Nov 17 "sign me up for deals")')


@pytest.mark.parametrize(
    "words",
    [
        "ok see you then",
        "great",
        "perfect, thanks",
        "cool",
        "👍",
        "yes please book another on friday",
    ],
)
def test_an_acknowledgement_after_the_question_is_not_consent_to_offers(salon, words):
    chat = Chat(salon, NOW, channel="web", sender="visitor-ack")
    first_booking(chat)
    chat.expect("hear about our offers")
    chat.say(words)
    chat.expect_not("You're subscribed")
    assert identity(salon, "web", "visitor-ack").promotions_opt_in is False
    assert events(salon) == []

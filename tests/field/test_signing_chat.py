"""Asking for signatures from the admin chat, and "done" warning while the after-job form is
unsigned: staff by SMS, owners on the web chat and Telegram, in several phrasings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.billing.documents.estimates import create_estimate
from bot.billing.documents.signing import complete
from bot.billing.ledger.invoices import LineSpec
from storage.db import Database
from storage.files import SignatureRequest
from storage.messaging import OutboxMessage
from storage.models import AdminAudit
from tests.dialogue import Chat
from tests.factories import local
from tests.files_factories import SAM_SMS, booked, customer, salon_with_disclaimers

NOW = local("2026-11-17 09:30")
ANA = "+12125550301"


@pytest.fixture
def salon(db: Database) -> Database:
    return salon_with_disclaimers(db)


@pytest.fixture
def job(salon: Database) -> int:
    return booked(salon, customer(salon, "Ana Lee", ANA, at=NOW), "2026-11-17 10:00", now=NOW)


def sam(db: Database, at: str = "2026-11-17 09:30") -> Chat:
    return Chat(db, local(at), channel="sms", sender=SAM_SMS)


def links_sent(db: Database) -> list[tuple[str, str]]:
    """(address, text) of every signing link queued to a customer."""
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.purpose == "signature")
            .order_by(OutboxMessage.id)
        )
        return [(row.address, row.body["text"]) for row in rows]


def requests(db: Database) -> list[tuple[str, int | None]]:
    with db.read() as session:
        return [
            (r.kind, r.appointment_id)
            for r in session.scalars(select(SignatureRequest).order_by(SignatureRequest.id))
        ]


@pytest.mark.parametrize("words", ["sign", "get signature", "send the waiver", "/sign"])
def test_staff_send_the_before_job_form_to_their_customer(
    salon: Database, job: int, words: str
) -> None:
    chat = sam(salon)
    chat.say(words)
    chat.expect("Sent Ana Lee the link", "Home visit haircut: before the job", f"#{job}")
    [(address, text)] = links_sent(salon)
    assert address == ANA and "/sign/" in text and "before the job" in text
    assert requests(salon) == [("before", job)]
    with salon.read() as session:
        audit = session.scalars(select(AdminAudit)).one()
        assert audit.action == "signature_request" and audit.detail["appointment"] == job


def test_after_the_before_form_is_signed_sign_asks_for_the_after_form(
    salon: Database, job: int
) -> None:
    chat = sam(salon)
    chat.say("sign")
    with salon.write() as session:
        complete(session, session.scalars(select(SignatureRequest)).one(), name="Ana", now=NOW)
    chat.say("arrived")
    chat.say("get a signature please")
    chat.expect("after the job")
    assert [kind for kind, _ in requests(salon)] == ["before", "after"]


def test_staff_can_name_which_form(salon: Database, job: int) -> None:
    chat = sam(salon)
    chat.say("send the waiver for after the job")
    chat.expect("after the job")
    chat.say("sign before")
    chat.expect("before the job")
    assert [kind for kind, _ in requests(salon)] == ["after", "before"]


def test_done_warns_while_the_after_job_form_is_unsigned(salon: Database, job: int) -> None:
    later = customer(salon, "Bob Stone", "+12125550302", at=NOW)
    booked(salon, later, "2026-11-17 15:00", now=NOW)  # Sam's next job, later today
    chat = sam(salon, "2026-11-17 10:00")
    chat.say("arrived")
    chat.wait(minutes=55)
    chat.say("done")
    chat.expect("completed", "hasn't signed the after-job form", 'Say "sign"')
    # The job is still completed (the warning does not hold the invoice back) …
    chat.say("sign")
    chat.expect("Ana Lee", "after the job")  # … and "sign" after it asks for that form,
    assert requests(salon)[-1] == ("after", job)  # not for the next job's
    [(address, _)] = links_sent(salon)
    assert address == ANA


def test_staff_ask_for_signatures_on_their_own_jobs_only(salon: Database, job: int) -> None:
    priya = Chat(salon, NOW, channel="sms", sender="+12125550103")
    priya.say(f"sign #{job}")
    priya.expect("No job of yours")
    assert requests(salon) == []


def test_done_says_nothing_of_signatures_once_signed_or_when_none_is_wanted(
    salon: Database, job: int
) -> None:
    chat = sam(salon, "2026-11-17 10:00")
    chat.say("arrived")
    chat.say("sign after")
    with salon.write() as session:
        complete(session, session.scalars(select(SignatureRequest)).one(), name="Ana", now=NOW)
    chat.wait(minutes=50)
    chat.say("done")
    chat.expect("completed")
    chat.expect_not("hasn't signed")
    bob = customer(salon, "Bob Stone", "+12125550302", at=NOW)
    booked(salon, bob, "2026-11-17 14:00", service="haircut", now=NOW)
    later = sam(salon, "2026-11-17 14:00")
    later.say("arrived")
    later.say("done")
    later.expect("completed")
    later.expect_not("hasn't signed")
    later.say("sign")
    later.expect("Nothing to sign")


@pytest.mark.parametrize(
    ("channel", "sender"), [("web", "owner"), ("telegram", "1000")], ids=["web", "telegram"]
)
def test_the_owner_sends_a_form_by_number_or_by_name(
    salon: Database, job: int, channel: str, sender: str
) -> None:
    owner = Chat(salon, NOW, channel=channel, sender=sender)
    owner.say(f"sign #{job}")
    owner.expect("Sent Ana Lee the link")
    owner.say("send the waiver to Ana Lee")
    owner.expect("Sent Ana Lee the link")
    owner.say("send the waiver to Nobody Known")
    owner.expect("Which job?")
    assert [a for a, _ in links_sent(salon)] == [ANA, ANA]


def test_the_owner_asks_for_an_estimate_to_be_signed(salon: Database) -> None:
    ana = customer(salon, "Ana Lee", ANA, at=NOW)
    with salon.write() as session:
        create_estimate(
            session, customer_id=ana, lines=[LineSpec("labour", "Balayage", 18000)], now=NOW
        )
    owner = Chat(salon, NOW, channel="web", sender="owner")
    owner.say("get EST-0001 signed")
    owner.expect('Sent Ana Lee the link to sign "Estimate EST-0001"')
    owner.say("sign est 1")
    owner.expect("Estimate EST-0001")
    assert [kind for kind, _ in requests(salon)] == ["estimate", "estimate"]
    assert len(links_sent(salon)) == 2


def test_a_customer_saying_sign_gets_no_admin_answer(salon: Database, job: int) -> None:
    ana = Chat(salon, NOW, channel="sms", sender=ANA)
    ana.say("sign")
    ana.expect_not("Sent", "link to sign")
    assert requests(salon) == []

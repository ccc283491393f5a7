"""Email: the real smtplib against a local aiosmtpd server — the MIME it receives (subject,
plain and HTML parts, attachments), login, and how refusals and outages are classified."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.messaging.messages import Attachment, Option, Reply
from bot.messaging.outbox import dispatch_due, enqueue
from bot.messaging.senders import Outgoing, build_senders
from bot.messaging.senders.email_sender import EmailSender, EmailSettings, subject_for
from storage.messaging import FAILED, PENDING, SENT, OutboxMessage
from tests.fakes.smtp import FROM, FakeSMTP, make_fake_smtp, smtp_env

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
CUSTOMER = "jane@example.com"
ICS = Attachment("text/calendar", "appointment-7.ics", data=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
PDF = Attachment("application/pdf", "INV-0001.pdf", data=b"%PDF-1.4 fake invoice")


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    with make_fake_smtp() as server:
        yield server


def sender(smtp: FakeSMTP, **env: str) -> EmailSender:
    chosen = build_senders(smtp_env(smtp, **env))["email"]
    assert isinstance(chosen, EmailSender)
    return chosen


def outgoing(reply: Reply, address: str = CUSTOMER) -> Outgoing:
    return Outgoing(id=7, channel="email", address=address, reply=reply, now=NOW)


CONFIRMATION = Reply(
    "You're booked: Haircut with Sam, Fri Nov 20, 4:00 PM.\n\n"
    "See you at 214 Grand St. Reply <here> if anything changes & we'll sort it.",
    attachments=(ICS, PDF),
)


def test_a_confirmation_arrives_with_a_subject_both_parts_and_its_files(smtp):
    result = sender(smtp).send(outgoing(CONFIRMATION))
    assert result.outcome == "sent" and result.provider_id.startswith("<slotbot.7.")
    [received] = smtp.messages
    mail = received.message
    assert received.rcpt_tos == [CUSTOMER] and received.mail_from == "hello@maplemane.example"
    assert mail["Subject"] == "You're booked: Haircut with Sam, Fri Nov 20, 4:00 PM."
    assert mail["From"] == FROM and mail["To"] == CUSTOMER
    assert mail["Message-ID"].strip() == result.provider_id
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Reply <here> if anything changes & we'll sort it." in plain
    assert "Reply &lt;here&gt; if anything changes &amp; we&#x27;ll sort it." in html
    assert html.count("<p>") == 2
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(files) == {"appointment-7.ics", "INV-0001.pdf"}
    assert files["appointment-7.ics"].get_content_type() == "text/calendar"
    assert files["INV-0001.pdf"].get_content() == b"%PDF-1.4 fake invoice"


def test_hosted_files_travel_as_links_and_buttons_are_left_out(smtp):
    photo = Attachment("image/jpeg", "cut.jpg", url="https://cdn.example/cut.jpg")
    reply = Reply("Your new look", (Option("yes", "Yes"),), attachments=(photo,))
    sender(smtp).send(outgoing(reply))
    mail = smtp.messages[0].message
    plain = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert plain == "Your new look\n\nhttps://cdn.example/cut.jpg\n"
    assert list(mail.iter_attachments()) == []


def test_the_sender_logs_in_when_credentials_are_set():
    with make_fake_smtp(user="mailer", password="s3cret") as smtp:
        assert sender(smtp).send(outgoing(Reply("hello"))).outcome == "sent"
        assert smtp.logins == ["mailer"] and len(smtp.messages) == 1


def test_a_refused_login_is_retried_until_someone_fixes_it():
    with make_fake_smtp(user="mailer", password="s3cret") as smtp:
        result = sender(smtp, SMTP_PASSWORD="wrong").send(outgoing(Reply("hello")))
    assert result.outcome == "retry" and "login refused" in result.error
    assert smtp.messages == []


def test_a_recipient_refused_with_550_is_final(smtp):
    smtp.refuse(CUSTOMER, 550)
    result = sender(smtp).send(outgoing(Reply("hello")))
    assert result.outcome == "final" and "550" in result.error and not result.opted_out


def test_a_recipient_deferred_with_451_is_retried(smtp):
    smtp.refuse(CUSTOMER, 451, "4.7.1 Greylisted, try again later")
    result = sender(smtp).send(outgoing(Reply("hello")))
    assert result.outcome == "retry" and "451" in result.error


def test_an_unreachable_server_is_retried():
    settings = EmailSettings(host="127.0.0.1", port=9, sender=FROM, starttls=False, timeout=2)
    result = EmailSender(settings).send(outgoing(Reply("hello")))
    assert result.outcome == "retry" and "connection" in result.error


def test_a_malformed_address_is_final_without_a_connection(smtp):
    result = sender(smtp).send(outgoing(Reply("hello"), address="not an address"))
    assert result.outcome == "final" and smtp.messages == []


def test_the_subject_is_the_first_line_cut_at_a_word():
    long = "Your invoice INV-0042 for the boiler service on Tuesday is ready " + "x" * 40
    subject = subject_for(long + "\nmore")
    assert len(subject) <= 78 and subject.endswith("...") and "\n" not in subject
    assert subject_for("\n\n  Hi there  \nsecond") == "Hi there"


def test_without_smtp_settings_email_falls_back_to_the_log():
    from bot.messaging.senders import LogSender

    assert isinstance(build_senders({"SMTP_HOST": "mail.example"})["email"], LogSender)


def test_the_outbox_sends_email_once_and_records_failures(db, smtp):
    senders = build_senders(smtp_env(smtp))
    smtp.refuse("gone@example.com", 550)
    with db.write() as session:
        ok = enqueue(session, channel="email", address=CUSTOMER, reply=CONFIRMATION, now=NOW).id
        bad = enqueue(
            session, channel="email", address="gone@example.com", reply=Reply("x"), now=NOW
        ).id
    report = dispatch_due(db, senders, now=NOW)
    assert (report.sent, report.failed) == (1, 1)
    assert dispatch_due(db, senders, now=NOW).claimed == 0
    with db.read() as session:
        statuses = {r.id: r.status for r in session.query(OutboxMessage)}
    assert statuses[ok] == SENT and statuses[bad] == FAILED and PENDING not in statuses.values()
    assert len(smtp.messages) == 1

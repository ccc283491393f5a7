"""Senders: rendering for SMS and WhatsApp, the real Twilio SDK against the fake API, the
WhatsApp 24-hour window, attachments, error classification, and the sender registry."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.messaging.messages import Attachment, Option, Reply
from bot.messaging.senders import LogSender, Outgoing, TwilioSender, WebSender, build_senders
from bot.messaging.senders.render import (
    attachment_token,
    compose,
    gsm7_length,
    options_text,
    read_attachment_token,
    reply_map,
    shorten,
    sms_segments,
    to_gsm7,
)
from bot.messaging.senders.twilio_sender import SlotbotTwilioHttpClient, retry_after_seconds
from tests.fakes.twilio_api import SMS_FROM, WHATSAPP_FROM, FakeTwilio, make_fake_twilio, twilio_env

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
PHONE = "+15551230001"
TEMPLATE = "HX" + "a" * 32
ICS = Attachment("text/calendar", "appointment-7.ics", data=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


def sender(fake: FakeTwilio, channel: str = "sms", **env: str) -> TwilioSender:
    senders = build_senders(twilio_env(fake, **env))
    chosen = senders[channel]
    assert isinstance(chosen, TwilioSender)
    return chosen


def outgoing(reply: Reply, channel: str = "sms", **kw) -> Outgoing:
    return Outgoing(id=7, channel=channel, address=PHONE, reply=reply, now=NOW, **kw)


# ----------------------------------------------------------------------------- rendering


def test_sms_text_is_forced_into_gsm7():
    text = (
        "It\u2019s \u201cbooked\u201d \u2014 see you soon\u2026 "
        "\U0001f487\u200d\u2640\ufe0f Caf\u00e7a"
    )
    assert to_gsm7(text) == 'It\'s "booked" - see you soon... Cafca'
    assert all(gsm7_length(c) == 1 for c in to_gsm7(text))


def test_one_emoji_would_have_cost_a_whole_sms_part():
    plain = "x" * 150
    assert sms_segments(to_gsm7(plain + " \U0001f600")) == 1
    assert sms_segments("x" * 161) == 2 and sms_segments("x" * 306) == 2


def test_options_become_numbered_lines():
    options = (Option("yes", "Yes, book it"), Option("no", "No thanks"))
    assert options_text(options) == "1. Yes, book it\n2. No thanks\nReply 1 or 2"
    assert reply_map(options) == {"1": "yes", "yes, book it": "yes", "2": "no", "no thanks": "no"}


def test_reminder_answers_get_the_letters_c_r_and_x():
    options = (
        Option("confirm", "Confirm"),
        Option("reschedule", "Reschedule"),
        Option("cancel", "Cancel"),
    )
    assert options_text(options) == "C. Confirm\nR. Reschedule\nX. Cancel\nReply C, R or X"
    assert reply_map(options)["x"] == "cancel"


def test_score_options_are_left_to_the_text_that_asks_for_them():
    scores = tuple(Option(str(n), str(n)) for n in range(1, 6))
    assert options_text(scores) == ""
    assert compose("How was it? Reply 1-5.", scores) == "How was it? Reply 1-5."


def test_a_long_text_is_cut_at_a_word_with_an_ellipsis():
    cut = shorten("word " * 200, 100)
    assert cut.endswith("...") and gsm7_length(cut) <= 100 and "wor..." not in cut


def test_attachment_tokens_are_signed():
    token = attachment_token("secret", 7, 0)
    assert read_attachment_token("secret", token) == (7, 0)
    assert read_attachment_token("other", token) is None
    assert read_attachment_token("secret", token[:-2] + "xx") is None


# ------------------------------------------------------------------- SMS through the SDK


def test_an_sms_goes_through_the_sdk_as_gsm7_with_numbered_options(fake):
    reply = Reply(
        "Pick one \u2014 quick \U0001f600", (Option("a", "Morning"), Option("b", "Evening"))
    )
    result = sender(fake).send(outgoing(reply))
    assert result.outcome == "sent" and result.provider_id.startswith("SM")
    [message] = fake.received()
    assert (message["to"], message["from"]) == (PHONE, SMS_FROM)
    assert message["body"] == "Pick one - quick\n1. Morning\n2. Evening\nReply 1 or 2"
    assert message["status_callback"] is None


def test_the_status_callback_points_at_the_public_url(fake):
    sender(fake, SLOTBOT_PUBLIC_URL="https://bot.example/").send(outgoing(Reply("hi")))
    assert fake.received()[0]["status_callback"] == "https://bot.example/twilio/status"


def test_a_messaging_service_can_stand_in_for_a_from_number(fake):
    env = twilio_env(fake, TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
    del env["TWILIO_SMS_FROM"]
    build_senders(env)["sms"].send(outgoing(Reply("hi")))
    [message] = fake.received()
    assert message["from"] is None and message["messaging_service_sid"] == "MG" + "1" * 32


def test_an_inline_file_becomes_a_signed_link_when_there_is_a_public_url(fake):
    env = {"SLOTBOT_PUBLIC_URL": "https://bot.example", "SLOTBOT_SECRET_KEY": "s3cret"}
    sender(fake, **env).send(outgoing(Reply("Booked!", attachments=(ICS,))))
    body = fake.received()[0]["body"]
    first, link = body.split("\n")
    assert first == "Booked!" and link.startswith(
        "Add to calendar: https://bot.example/outbox/files/"
    )
    token = link.split("/outbox/files/")[1].split("/")[0]
    assert read_attachment_token("s3cret", token) == (7, 0)
    assert link.endswith("/appointment-7.ics")


def test_an_inline_file_is_left_out_without_a_public_url_and_the_text_stays(fake):
    sender(fake).send(outgoing(Reply("Booked!", attachments=(ICS,))))
    [message] = fake.received()
    assert message["body"] == "Booked!" and message["media_url"] == []


def test_a_hosted_file_travels_as_media(fake):
    photo = Attachment("image/jpeg", "cut.jpg", url="https://cdn.example/cut.jpg")
    sender(fake).send(outgoing(Reply("Your new look", attachments=(photo,))))
    assert fake.received()[0]["media_url"] == ["https://cdn.example/cut.jpg"]


# ------------------------------------------------------------------------------ WhatsApp


def test_whatsapp_inside_the_window_is_free_form_and_keeps_emoji(fake):
    message = outgoing(
        Reply("See you soon \U0001f487", (Option("confirm", "Confirm"),)),
        "whatsapp",
        last_inbound_at=NOW - timedelta(hours=3),
    )
    assert sender(fake, "whatsapp").send(message).outcome == "sent"
    [sent] = fake.received()
    assert (sent["to"], sent["from"]) == (f"whatsapp:{PHONE}", f"whatsapp:{WHATSAPP_FROM}")
    assert sent["body"] == "See you soon \U0001f487\nC. Confirm\nReply C"


def test_whatsapp_outside_the_window_uses_the_approved_template(fake):
    message = outgoing(
        Reply("Reminder: Haircut\ntomorrow"),
        "whatsapp",
        last_inbound_at=NOW - timedelta(hours=30),
        whatsapp_outside_window="template",
        whatsapp_template=TEMPLATE,
    )
    sender(fake, "whatsapp").send(message)
    [sent] = fake.received()
    assert sent["content_sid"] == TEMPLATE and sent["body"] == ""
    assert json.loads(sent["content_variables"]) == {"1": "Reminder: Haircut tomorrow"}
    assert sent["to"] == f"whatsapp:{PHONE}"


def test_whatsapp_outside_the_window_falls_back_to_sms_to_the_same_number(fake):
    message = outgoing(Reply("Reminder \U0001f487"), "whatsapp", last_inbound_at=None)
    sender(fake, "whatsapp").send(message)
    [sent] = fake.received()
    assert (sent["to"], sent["from"], sent["body"]) == (PHONE, SMS_FROM, "Reminder")


def test_no_sms_fallback_to_a_number_that_opted_out_of_sms(fake):
    message = outgoing(Reply("Reminder"), "whatsapp", sms_fallback_allowed=False)
    result = sender(fake, "whatsapp").send(message)
    assert result.outcome == "final" and "opted out" in result.error
    assert fake.received() == []


# -------------------------------------------------------------------- errors and the client


@pytest.mark.parametrize(
    ("status", "code", "outcome", "opted_out"),
    [
        (500, None, "retry", False),
        (503, None, "retry", False),
        (429, None, "retry", False),
        (401, 20003, "retry", False),  # our credentials: fixable, so retried until given up
        (400, 21610, "final", True),
        (400, 21211, "final", False),
        (400, 63016, "final", False),
    ],
)
def test_provider_errors_are_classified(fake, status, code, outcome, opted_out):
    fake.fail(status, code=code)
    result = sender(fake).send(outgoing(Reply("hi")))
    assert (result.outcome, result.opted_out) == (outcome, opted_out)
    assert str(status) in result.error


def test_a_refused_connection_is_worth_a_retry():
    env = twilio_env(FakeTwilio(url="http://127.0.0.1:9"))
    result = build_senders(env)["sms"].send(outgoing(Reply("hi")))
    assert result.outcome == "retry" and "connection" in result.error


def test_retry_after_may_be_seconds_or_a_date():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Mon, 16 Nov 2026 15:02:00 GMT", now=NOW) == 120
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_the_http_client_has_explicit_timeouts_and_a_movable_base():
    client = SlotbotTwilioHttpClient(api_base="http://127.0.0.1:5000/", read_timeout=3)
    assert client.timeout == (5.0, 3)
    assert (
        client._rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1")
        == "http://127.0.0.1:5000/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert (
        SlotbotTwilioHttpClient()._rebase("https://api.twilio.com/a") == "https://api.twilio.com/a"
    )


# ------------------------------------------------------------------------------ registry


def test_without_credentials_every_channel_still_has_a_sender(caplog):
    senders = build_senders({})
    assert isinstance(senders["web"], WebSender)
    assert all(isinstance(senders[c], LogSender) for c in ("sms", "whatsapp", "telegram", "email"))
    with caplog.at_level(logging.INFO, logger="bot.messaging.senders.local"):
        result = senders["sms"].send(outgoing(Reply("Hello (demo)")))
    assert (result.outcome, result.provider_id) == ("sent", "log")
    assert "NOT SENT" in caplog.text and "Hello (demo)" in caplog.text


def test_with_credentials_sms_and_whatsapp_go_to_twilio(fake):
    senders = build_senders(twilio_env(fake))
    assert isinstance(senders["sms"], TwilioSender) and isinstance(
        senders["whatsapp"], TwilioSender
    )
    assert isinstance(senders["terminal"], WebSender)


def test_another_channels_factory_plugs_into_the_registry():
    class Telegram:
        def send(self, message: Outgoing):
            raise AssertionError("not called")

    def telegram_senders(env):
        return {"telegram": Telegram()} if env.get("TELEGRAM_BOT_TOKEN") else {}

    senders = build_senders({"TELEGRAM_BOT_TOKEN": "x"}, factories=(telegram_senders,))
    assert isinstance(senders["telegram"], Telegram) and isinstance(senders["sms"], LogSender)

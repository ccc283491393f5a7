"""Twilio's limits: the fake refuses what Twilio refuses (checked against Twilio's published
OpenAPI description of Messages create), and the sender keeps within them — at most ten
media with the rest as links, a body within 1,600 characters with its links kept, From and
To on the same channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.messaging.messages import Attachment, Option, Reply
from bot.messaging.senders import Outgoing, TwilioSender, build_senders
from bot.messaging.senders.render import fit, gsm7_length
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BODY_REQUIRED,
    BODY_TOO_LONG,
    CHANNEL_MISMATCH,
    FROM_REQUIRED,
    INVALID_MEDIA_URL,
    INVALID_PARAMETER,
    INVALID_STATUS_CALLBACK,
    INVALID_TO,
    SMS_FROM,
    TO_REQUIRED,
    TOO_MANY_MEDIA,
    WHATSAPP_FROM,
    FakeTwilio,
    make_fake_twilio,
    messages_create_schema,
    twilio_env,
)

NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
PHONE = "+15551230001"
PHOTOS = tuple(
    Attachment("image/jpeg", f"photo-{n}.jpg", url=f"https://cdn.example/photo-{n}.jpg")
    for n in range(12)
)


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


def _client(fake: FakeTwilio) -> Client:
    sender = build_senders(twilio_env(fake))["sms"]
    assert isinstance(sender, TwilioSender)
    return sender.client


def _refused(fake: FakeTwilio, **params) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        _client(fake).messages.create(**params)
    assert fake.received() == []
    return caught.value


def _post(fake: FakeTwilio, form: dict[str, str | list[str]]) -> requests.Response:
    return requests.post(
        f"{fake.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data=form,
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )


def _sender(fake: FakeTwilio, channel: str = "sms", **env: str) -> TwilioSender:
    chosen = build_senders(twilio_env(fake, **env))[channel]
    assert isinstance(chosen, TwilioSender)
    return chosen


def _outgoing(reply: Reply, channel: str = "sms", **kw) -> Outgoing:
    return Outgoing(id=7, channel=channel, address=PHONE, reply=reply, now=NOW, **kw)


# ----------------------------------------------------------- the fake refuses like Twilio


def test_the_fake_reads_twilios_own_description_of_messages_create():
    schema = messages_create_schema()
    assert schema["required"] == ["To"]
    assert {"To", "From", "Body", "MediaUrl", "ContentSid", "MessagingServiceSid"} <= set(
        schema["properties"]
    )
    assert schema["properties"]["ContentRetention"]["enum"] == ["retain", "discard"]


def test_eleven_media_on_one_message_are_refused_with_21623(fake):
    urls = [f"https://cdn.example/{n}.jpg" for n in range(11)]
    error = _refused(fake, to=PHONE, from_=SMS_FROM, body="photos", media_url=urls)
    assert (error.status, error.code) == (400, TOO_MANY_MEDIA)
    ten = _client(fake).messages.create(to=PHONE, from_=SMS_FROM, media_url=urls[:10])
    assert ten.sid.startswith("SM")


def test_a_body_over_1600_characters_is_refused_with_21617(fake):
    error = _refused(fake, to=PHONE, from_=SMS_FROM, body="x" * 1601)
    assert (error.status, error.code) == (400, BODY_TOO_LONG)
    assert _client(fake).messages.create(to=PHONE, from_=SMS_FROM, body="x" * 1600).sid


def test_whatsapp_from_with_an_sms_to_and_the_reverse_are_refused_with_21910(fake):
    one = _refused(fake, to=PHONE, from_=f"whatsapp:{WHATSAPP_FROM}", body="hi")
    other = _refused(fake, to=f"whatsapp:{PHONE}", from_=SMS_FROM, body="hi")
    assert (one.code, other.code) == (CHANNEL_MISMATCH, CHANNEL_MISMATCH)


def test_missing_to_sender_or_content_are_each_refused_with_twilios_code(fake):
    assert _refused(fake, to="", from_=SMS_FROM, body="hi").code == TO_REQUIRED
    assert _refused(fake, to=PHONE, body="hi").code == FROM_REQUIRED
    assert _refused(fake, to=PHONE, from_=SMS_FROM).code == BODY_REQUIRED


def test_addresses_urls_and_sids_in_the_wrong_format_are_refused(fake):
    assert _refused(fake, to="5551230001", from_=SMS_FROM, body="hi").code == INVALID_TO
    assert (
        _refused(fake, to=PHONE, from_=SMS_FROM, body="hi", status_callback="/twilio/status").code
        == INVALID_STATUS_CALLBACK
    )
    assert (
        _refused(fake, to=PHONE, from_=SMS_FROM, media_url=["photo.jpg"]).code == INVALID_MEDIA_URL
    )
    assert _refused(fake, to=PHONE, content_sid="HX123", from_=SMS_FROM).code == INVALID_PARAMETER
    assert (
        _refused(fake, to=PHONE, body="hi", messaging_service_sid="MG1").code == INVALID_PARAMETER
    )


def test_a_parameter_twilio_does_not_describe_is_refused_in_twilios_error_shape(fake):
    answer = _post(fake, {"To": PHONE, "From": SMS_FROM, "Body": "hi", "MediaUrls": "x"})
    assert answer.status_code == 400
    error = answer.json()
    assert set(error) == {"code", "message", "more_info", "status"}
    assert error["code"] == INVALID_PARAMETER and "MediaUrls" in error["message"]
    assert error["status"] == 400 and error["more_info"].endswith(str(INVALID_PARAMETER))
    wrong_type = _post(fake, {"To": PHONE, "From": SMS_FROM, "Body": "hi", "ValidityPeriod": "x"})
    assert wrong_type.status_code == 400 and [r.code for r in fake.refused()] == [
        INVALID_PARAMETER,
        INVALID_PARAMETER,
    ]


def test_an_opted_out_number_is_still_answered_21610(fake):
    fake.fail(400, code=21610, to=PHONE)
    error = _refused(fake, to=PHONE, from_=SMS_FROM, body="hi")
    assert (error.status, error.code) == (400, 21610)


# ------------------------------------------------------------- the sender keeps the limits


def test_an_sms_with_twelve_attachments_goes_as_ten_media_and_two_links(fake):
    result = _sender(fake).send(_outgoing(Reply("Your photos", attachments=PHOTOS)))
    assert result.outcome == "sent"
    [message] = fake.received()
    assert message["media_url"] == [p.url for p in PHOTOS[:10]]
    lines = message["body"].split("\n")
    assert lines == ["Your photos", PHOTOS[10].url, PHOTOS[11].url]
    assert fake.refused() == []


def test_whatsapp_carries_one_media_and_the_rest_as_links(fake):
    message = _outgoing(
        Reply("Your photos", attachments=PHOTOS[:3]),
        "whatsapp",
        last_inbound_at=NOW - timedelta(hours=1),
    )
    assert _sender(fake, "whatsapp").send(message).outcome == "sent"
    [sent] = fake.received()
    assert sent["media_url"] == [PHOTOS[0].url]
    assert sent["body"].split("\n")[1:] == [PHOTOS[1].url, PHOTOS[2].url]


def test_a_long_whatsapp_text_is_cut_to_1600_and_keeps_its_links_and_options(fake):
    message = _outgoing(
        Reply("word " * 600, (Option("confirm", "Confirm"),), attachments=PHOTOS[:3]),
        "whatsapp",
        last_inbound_at=NOW - timedelta(hours=1),
    )
    assert _sender(fake, "whatsapp").send(message).outcome == "sent"
    [sent] = fake.received()
    body = sent["body"]
    assert len(body) <= 1600 and "..." in body
    assert body.endswith(f"{PHOTOS[1].url}\n{PHOTOS[2].url}\nC. Confirm\nReply C")


def test_a_long_sms_with_many_links_keeps_the_text_and_counts_the_links_left_out(fake):
    many = tuple(
        Attachment("image/jpeg", f"p{n}.jpg", url=f"https://cdn.example/{'x' * 60}/{n}.jpg")
        for n in range(30)
    )
    result = _sender(fake).send(_outgoing(Reply("Here is the job " * 20, attachments=many)))
    assert result.outcome == "sent"
    [message] = fake.received()
    body = message["body"]
    assert len(message["media_url"]) == 10 and len(body) <= 1600
    assert body.startswith("Here is the job") and "more links not shown)" in body
    assert gsm7_length(body) <= 4 * 153


def test_a_template_outside_the_window_carries_the_links_within_its_variable_limit(fake):
    message = _outgoing(
        Reply("Reminder " * 200, attachments=PHOTOS[:2]),
        "whatsapp",
        last_inbound_at=NOW - timedelta(hours=30),
        whatsapp_outside_window="template",
        whatsapp_template="HX" + "a" * 32,
    )
    assert _sender(fake, "whatsapp").send(message).outcome == "sent"
    [sent] = fake.received()
    variable = json.loads(sent["content_variables"])["1"]
    assert len(variable) <= 1024 and variable.endswith(f"{PHOTOS[0].url} {PHOTOS[1].url}")


def test_fit_leaves_a_text_that_fits_alone_and_never_exceeds_the_limit():
    assert fit("Booked!", (), ["https://a.example/1"], 160, gsm=True) == (
        "Booked!\nhttps://a.example/1"
    )
    for limit in (10, 45, 160, 612):
        text = fit(
            "word " * 400, (Option("a", "Yes"),), ["https://a.example/" + "y" * 50], limit, gsm=True
        )
        assert gsm7_length(text) <= limit

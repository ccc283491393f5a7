"""Photos and files as first-class rows: staff photos by SMS become before/after attachments,
customers' media by SMS and uploads in the web chat are kept with their appointment, limits
are enforced, and the dashboard, the portal and their file links show them to the right
people only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.billing.documents.signing import complete
from bot.customers import attachments
from bot.customers.attachments import MAX_BYTES, UploadRefused, check_upload
from bot.customers.media import attach_media
from bot.customers.portal import issue_link
from bot.field.signatures import Kind, request_for_appointment
from bot.messaging.messages import Attachment as Media
from bot.messaging.messages import Inbound
from conversations.engine import Engine
from storage.db import Database
from storage.files import Attachment
from storage.messaging import OutboxMessage
from storage.models import Appointment
from tests.factories import local
from tests.files_factories import (
    SAM_SMS,
    booked,
    customer,
    drawn_signature,
    field_app,
    photo,
    salon_with_disclaimers,
    web_customer,
)
from webhooks.files import UPLOAD_BODY

NOW = local("2026-11-17 09:30")
ANA = "+12125550301"
SESSION = "ana-session-0001"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def rows(db: Database) -> list[Attachment]:
    with db.read() as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


# ------------------------------------------------------------------------- by chat


@pytest.fixture
def salon(db: Database) -> Database:
    return salon_with_disclaimers(db)


def _staff_photo(db: Database, at: str, text: str, *urls: str) -> None:
    engine = Engine(db, clock=lambda: local(at))
    engine.handle(
        Inbound(
            channel="sms",
            sender=SAM_SMS,
            text=text,
            attachments=tuple(Media("image/jpeg", url=url) for url in urls),
            provider_id=f"mms-{at}-{urls[0]}",
            received_at=local(at),
        )
    )


def test_staff_photos_are_kept_on_the_job_as_before_then_after(salon: Database) -> None:
    ana = customer(salon, "Ana Lee", ANA, at=NOW)
    job = booked(salon, ana, "2026-11-17 10:00", now=NOW)
    base = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/"
    _staff_photo(salon, "2026-11-17 10:05", "", base + "ME1", base + "ME2")
    _staff_photo(salon, "2026-11-17 10:50", "", base + "ME3")
    _staff_photo(salon, "2026-11-17 10:51", "before shot I forgot", base + "ME4")
    kept = rows(salon)
    assert [(r.kind, r.url.rsplit("/", 1)[1]) for r in kept] == [
        ("before", "ME1"),
        ("before", "ME2"),
        ("after", "ME3"),
        ("before", "ME4"),
    ]
    assert all(r.appointment_id == job and r.customer_id == ana for r in kept)
    assert all(r.sent_by == f"staff:sms:{SAM_SMS}" for r in kept)
    with salon.read() as session:
        assert "Photo: " + base + "ME1" in session.get(Appointment, job).notes  # as before


def test_a_customers_mms_is_kept_once_with_their_next_appointment(salon: Database) -> None:
    ana = customer(salon, "Ana Lee", ANA, at=NOW)
    job = booked(salon, ana, "2026-11-18 10:00", now=NOW)
    message = Inbound(
        channel="sms",
        sender=ANA,
        text="here's the sink",
        attachments=(Media("image/png", url="https://media.example/sink.png"),),
    )
    assert attach_media(salon, message, NOW) == job
    assert attach_media(salon, message, NOW) == job  # redelivered: nothing new
    [kept] = rows(salon)
    assert (kept.kind, kept.appointment_id, kept.customer_id) == ("customer", job, ana)
    assert kept.data is None and kept.url == "https://media.example/sink.png"


def test_a_staff_members_upload_goes_on_their_job_and_a_strangers_nowhere(
    salon: Database,
) -> None:
    ana = customer(salon, "Ana Lee", ANA, at=NOW)
    job = booked(salon, ana, "2026-11-17 10:00", now=NOW)
    staff_identities = {"sam": ["web:sam-tablet-01"]}
    with salon.write() as session:
        stored = attachments.receive_upload(
            session,
            channel="web",
            address="sam-tablet-01",
            staff_identities=staff_identities,
            files=[(photo((5, 5, 5), "done"), "done.jpg")],
            text="after",
            now=local("2026-11-17 10:40"),
        )
        assert stored.appointment_id == job and stored.customer_id == ana
        with pytest.raises(LookupError):
            attachments.receive_upload(
                session,
                channel="web",
                address="nobody-at-all",
                staff_identities=staff_identities,
                files=[(PDF, "x.pdf")],
                text="",
                now=NOW,
            )
    [kept] = rows(salon)
    assert (kept.kind, kept.sent_by) == ("after", "staff:web:sam-tablet-01")


# --------------------------------------------------------------------------- limits


def test_uploads_are_checked_by_their_bytes_not_their_names() -> None:
    assert check_upload(photo((1, 2, 3), "x")) == "image/jpeg"
    assert check_upload(photo((1, 2, 3), "x", kind="PNG")) == "image/png"
    assert check_upload(PDF) == "application/pdf"
    for bad, words in (
        (b"", "empty"),
        (b"<html><script>alert(1)</script>", "Only photos"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Only photos"),
        (b"\xff\xd8\xff" + b"\0" * 64, "could not be read"),
        (b"%PDF-" + b"a" * MAX_BYTES, "too big"),
    ):
        with pytest.raises(UploadRefused, match=words):
            check_upload(bad)


# ------------------------------------------------------------------------- the web


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = field_app(db_url, tmp_path)
    yield application
    application.extensions["slotbot.db"].dispose()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def _upload(client: FlaskClient, *files: tuple[bytes, str], session: str = SESSION, **form):
    return client.post(
        "/api/chat/upload",
        data={"session": session, **form, "file": [(BytesIO(d), n) for d, n in files]},
        content_type="multipart/form-data",
    )


def test_a_web_chat_customer_uploads_photos_onto_their_next_appointment(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    db = _db(app)
    ana = web_customer(db, "Ana Lee", SESSION, at=NOW)
    job = booked(db, ana, "2026-11-18 10:00", service="haircut", now=NOW)
    leak = photo((200, 40, 40), "leak")
    response = _upload(client, (leak, "leak.jpg"), (PDF, "quote.pdf"))
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["ok"] and answer["appointment_id"] == job
    assert answer["message"] == f"Thanks, we've got your files: kept with your appointment #{job}."
    kept = rows(db)
    assert [(r.kind, r.content_type, r.filename, r.size) for r in kept] == [
        ("customer", "image/jpeg", "leak.jpg", len(leak)),
        ("customer", "application/pdf", "quote.pdf", len(PDF)),
    ]
    assert kept[0].data == leak and kept[0].appointment_id == job


def test_a_customer_with_no_appointment_keeps_the_file_on_their_account(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    ana = web_customer(_db(app), "Ana Lee", SESSION, at=NOW)
    answer = _upload(client, (photo((1, 1, 1), "x"), "x.jpg")).get_json()
    assert answer["appointment_id"] is None and "on your account" in answer["message"]
    assert [r.customer_id for r in rows(_db(app))] == [ana]


def test_uploads_that_break_the_limits_are_refused_and_nothing_is_kept(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    web_customer(_db(app), "Ana Lee", SESSION, at=NOW)
    good = (photo((1, 1, 1), "x"), "x.jpg")
    html = _upload(client, good, (b"<html><body>hi</body></html>", "cute.png"))
    assert html.status_code == 415 and "Only photos" in html.get_json()["error"]
    assert _upload(client, *[good] * 6).status_code == 400
    assert _upload(client).status_code == 400  # no file at all
    assert _upload(client, good, session="bad id!").status_code == 400
    stranger = _upload(client, good, session="never-said-hello")
    assert stranger.status_code == 409
    huge = _upload(client, (b"%PDF-" + b"0" * (MAX_BYTES + 10), "huge.pdf"))
    assert huge.status_code == 415 and "too big" in huge.get_json()["error"]
    beyond = _upload(client, (b"%PDF-" + b"0" * UPLOAD_BODY, "beyond.pdf"))
    assert beyond.status_code == 413  # refused before it is read
    assert rows(_db(app)) == []


def test_the_json_chat_api_is_unchanged(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    response = client.post("/api/chat", json={"session": SESSION, "text": "hi"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"messages", "after"} and body["messages"]


def test_the_web_chat_page_has_an_upload_button(app: Flask, client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'type="file"' in html and "/api/chat/upload" in html


def _photographed_job(app: Flask) -> tuple[int, int, str, str]:
    """Ana's home visit with a before and an after photo and a signed before-job form."""
    db = _db(app)
    ana = customer(db, "Ana Lee", ANA, at=NOW)
    bob = customer(db, "Bob Stone", "+12125550302", at=NOW)
    job = booked(db, ana, "2026-11-17 10:00", now=NOW)
    with db.write() as session:
        for kind, colour in (("before", (150, 90, 60)), ("after", (60, 120, 170))):
            attachments.add(
                session,
                kind=attachments.Kind(kind),
                content_type="image/jpeg",
                sent_by="staff:sms:" + SAM_SMS,
                now=NOW,
                customer_id=ana,
                appointment_id=job,
                data=photo(colour, kind),
                filename=f"{kind}.jpg",
            )
        attachments.add(
            session,
            kind=attachments.Kind.CUSTOMER,
            content_type="application/pdf",
            sent_by="customer:web:x",
            now=NOW,
            customer_id=bob,
            data=PDF,
            filename="bob.pdf",
        )
        request = request_for_appointment(
            session, session.get(Appointment, job), Kind.BEFORE, requested_by="owner", now=NOW
        )
        complete(session, request, name="Ana Lee", now=NOW, image_png=drawn_signature())
        owner = issue_link(session, customer_id=None, role="owner", now=NOW)
        portal = issue_link(session, customer_id=ana, role="customer", now=NOW)
    return job, bob, "/" + owner.split("/", 3)[3], "/" + portal.split("/", 3)[3]


def test_the_appointment_page_shows_photos_and_signatures_to_the_owner(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    job, _, dashboard, _ = _photographed_job(app)
    page = client.get(f"{dashboard}/appointments/{job}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'<img src="([^"]+)" alt="(Before|After) photo', html)
    assert [alt for _, alt in sources] == ["Before", "After"]
    picture = client.get(sources[0][0])
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    assert "Signed by <strong>Ana Lee</strong>" in html
    assert "After-job signature: not signed yet." in html
    assert client.get(f"/dashboard/nonsense/appointments/{job}").status_code == 403


def test_the_owner_sees_every_customers_files(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    _, _, dashboard, _ = _photographed_job(app)
    html = client.get(f"{dashboard}/files").get_data(as_text=True)
    assert "bob.pdf" in html and "before.jpg" in html and "Bob Stone" in html
    link = re.search(r'href="([^"]+)">bob.pdf', html).group(1)
    download = client.get(link)
    assert download.mimetype == "application/pdf" and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]


def test_the_portal_shows_a_customer_their_own_photos_only(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    _, _, _, portal = _photographed_job(app)
    html = client.get(portal).get_data(as_text=True)
    assert "Photos and files" in html
    own = re.findall(rf'<img src="({re.escape(portal)}/files/(\d+))"', html)
    assert len(own) == 2
    assert client.get(own[0][0]).status_code == 200
    with _db(app).read() as session:
        bobs = session.scalars(select(Attachment.id).where(Attachment.filename == "bob.pdf")).one()
    assert client.get(f"{portal}/files/{bobs}").status_code == 404
    clock.move_to(NOW + timedelta(days=8))
    assert client.get(own[0][0]).status_code == 410  # the portal link has expired


def test_the_owner_sends_the_missing_form_from_the_appointment_page(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    job, _, dashboard, _ = _photographed_job(app)
    page = client.get(f"{dashboard}/appointments/{job}").get_data(as_text=True)
    assert "Send the after-job form to sign" in page
    assert "Send the before-job form to sign" not in page  # that one is signed
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    url = f"{dashboard}/appointments/{job}/sign"
    assert client.post(url, data={"kind": "after"}).status_code == 403  # no form token
    sent = client.post(url, data={"kind": "after", "csrf": csrf})
    assert sent.status_code == 303
    after = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "The link to sign is on its way to the customer." in after
    with _db(app).read() as session:
        [message] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "signature")
        ).all()
        assert message.address == ANA and "/sign/" in message.body["text"]


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims an enormous image (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_a_photo_claiming_a_huge_size_is_refused_not_a_crash():
    from bot.customers.attachments import UploadRefused, check_upload
    from bot.field.signatures import SigningRefused, check_png

    bomb = _png_header_claiming(20000, 10000)
    with pytest.raises(UploadRefused):
        check_upload(bomb)
    with pytest.raises(SigningRefused):
        check_png(bomb)

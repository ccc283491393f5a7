"""Signatures and photos in real headless Chromium: a customer signs on the canvas pad (and,
without JavaScript, by typing their name), the owner opens an appointment with its photos
and signature, a customer sends a photo from the web chat, and the invoice PDF they download
carries the thumbnails and the signature. Screenshots go to tests/artifacts."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from bot.billing.documents.signing import complete
from bot.customers import attachments
from bot.customers.portal import issue_link
from bot.field.signatures import Kind, link_for, request_for_appointment
from bot.scheduling.booking import set_status
from storage.billing import Invoice
from storage.db import Database
from storage.files import Attachment, Signature
from storage.models import COMPLETED, IN_PROGRESS, Appointment
from tests.browser import chromium_page, live_server
from tests.factories import local
from tests.files_factories import (
    SAM_SMS,
    booked,
    customer,
    drawn_signature,
    field_app,
    photo,
    web_customer,
)

NOW = local("2026-11-17 09:00")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = field_app(db_url, tmp_path)
    yield application
    application.extensions["slotbot.db"].dispose()


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    with time_machine.travel(NOW, tick=True), live_server(app) as base:
        yield base


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _job(app: Flask) -> tuple[int, int]:
    db = _db(app)
    ana = customer(db, "Ana Lee", "+12125550301", at=NOW)
    return ana, booked(db, ana, "2026-11-17 10:00", now=NOW)


def _sign_link(app: Flask, job: int, kind: Kind) -> str:
    with _db(app).write() as session:
        request = request_for_appointment(
            session, session.get(Appointment, job), kind, requested_by="staff", now=NOW
        )
        return _path(link_for(session, request))


def _draw(page) -> None:
    box = page.locator("#pad").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [
        [(0.08, 0.7), (0.15, 0.25), (0.22, 0.75), (0.3, 0.3), (0.38, 0.7)],
        [(0.42, 0.55), (0.5, 0.35), (0.58, 0.65), (0.66, 0.4), (0.74, 0.6), (0.9, 0.45)],
    ]
    for stroke in strokes:
        page.mouse.move(x + stroke[0][0] * w, y + stroke[0][1] * h)
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x + fx * w, y + fy * h, steps=8)
        page.mouse.up()


def test_a_customer_signs_the_disclaimer_on_the_canvas_pad(
    app: Flask, live: str, artifacts: Path
) -> None:
    _, job = _job(app)
    path = _sign_link(app, job, Kind.BEFORE)
    problems: list[str] = []
    with chromium_page(viewport=PHONE) as page:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(live + path)
        page.get_by_role("heading", name="Home visit haircut: before the job").wait_for()
        page.get_by_role("button", name="Sign", exact=True).click()
        assert page.locator("#pad-error").is_visible()  # nothing drawn yet
        _draw(page)
        assert not page.locator("#pad-error").is_visible()
        page.screenshot(path=str(artifacts / "sign-pad-phone.png"), full_page=True)
        page.get_by_role("button", name="Sign", exact=True).click()
        page.get_by_role("heading", name="Thank you, it's signed").wait_for()
        assert page.get_by_test_id("signature").evaluate("img => img.naturalWidth") > 0
        page.screenshot(path=str(artifacts / "sign-done-phone.png"), full_page=True)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    with _db(app).read() as session:
        kept = session.scalars(select(Signature)).one()
        assert kept.method == "drawn" and kept.signer_name == "Ana Lee"
        assert kept.image_png.startswith(b"\x89PNG") and kept.ip == "127.0.0.1"


def test_without_javascript_the_customer_signs_by_typing_their_name(
    app: Flask, live: str, artifacts: Path
) -> None:
    _, job = _job(app)
    path = _sign_link(app, job, Kind.AFTER)
    with chromium_page(viewport=PHONE) as page:
        context = page.context.browser.new_context(java_script_enabled=False, viewport=PHONE)
        plain = context.new_page()
        plain.goto(live + path)
        assert not plain.locator("#pad").is_visible()
        assert plain.get_by_text("Your typed name will be your signature.").is_visible()
        plain.get_by_label("Your full name").fill("Ana M. Lee")
        plain.screenshot(path=str(artifacts / "sign-no-js-phone.png"), full_page=True)
        plain.get_by_role("button", name="Sign", exact=True).click()
        plain.get_by_role("heading", name="Thank you, it's signed").wait_for()
        context.close()
    with _db(app).read() as session:
        kept = session.scalars(select(Signature)).one()
        assert (kept.method, kept.signer_name, kept.kind) == ("typed", "Ana M. Lee", "after")


def _photographed_and_signed(app: Flask, job: int) -> None:
    with _db(app).write() as session:
        appointment = session.get(Appointment, job)
        for kind, colour, name in (
            ("before", (150, 90, 60), "before-sink.jpg"),
            ("before", (120, 120, 80), "before-floor.jpg"),
            ("after", (60, 120, 170), "after-sink.jpg"),
        ):
            attachments.add(
                session,
                kind=attachments.Kind(kind),
                content_type="image/jpeg",
                sent_by="staff:sms:" + SAM_SMS,
                now=NOW,
                customer_id=appointment.customer_id,
                appointment_id=job,
                data=photo(colour, name),
                filename=name,
            )
        set_status(session, job, IN_PROGRESS, now=local("2026-11-17 10:00"))
        for kind, at in ((Kind.BEFORE, "10:01"), (Kind.AFTER, "10:57")):
            request = request_for_appointment(
                session, appointment, kind, requested_by="staff", now=local(f"2026-11-17 {at}")
            )
            complete(
                session,
                request,
                name="Ana Lee",
                now=local(f"2026-11-17 {at}"),
                image_png=drawn_signature(),
                ip="203.0.113.9",
            )
        set_status(session, job, COMPLETED, now=local("2026-11-17 11:00"))


def test_the_owner_opens_an_appointment_with_its_photos_and_signatures(
    app: Flask, live: str, artifacts: Path
) -> None:
    _, job = _job(app)
    _photographed_and_signed(app, job)
    with _db(app).write() as session:
        dashboard = _path(issue_link(session, customer_id=None, role="owner", now=NOW))
    with chromium_page(viewport=DESKTOP) as page:
        page.goto(f"{live}{dashboard}/appointments/{job}")
        page.get_by_role("heading", name="Photos and files").wait_for()
        thumbs = page.get_by_test_id("thumb")
        assert thumbs.count() == 3
        for i in range(3):
            assert thumbs.nth(i).locator("img").evaluate("img => img.naturalWidth") > 0
        assert page.get_by_test_id("signature").count() == 2
        page.screenshot(path=str(artifacts / "dashboard-appointment-photos.png"), full_page=True)
        page.get_by_role("link", name="Files").click()
        page.get_by_role("heading", name="Customers' photos and files").wait_for()
        page.screenshot(path=str(artifacts / "dashboard-files.png"), full_page=True)


def test_the_invoice_pdf_from_the_portal_has_the_photos_and_signature(
    app: Flask, live: str, artifacts: Path, tmp_path: Path
) -> None:
    ana, job = _job(app)
    _photographed_and_signed(app, job)
    with _db(app).write() as session:
        portal = _path(issue_link(session, customer_id=ana, role="customer", now=NOW))
        invoice = session.scalars(select(Invoice).where(Invoice.appointment_id == job)).one()
        number = invoice.number
    with chromium_page(viewport=PHONE) as page:
        page.goto(live + portal)
        page.get_by_role("heading", name="Photos and files").wait_for()
        page.screenshot(path=str(artifacts / "portal-photos-phone.png"), full_page=True)
        with page.expect_download() as download_info:
            page.locator(f"a[href$='/invoices/{invoice.id}.pdf']").first.click()
        target = tmp_path / f"{number}.pdf"
        download_info.value.save_as(target)
    text = subprocess.run(
        ["pdftotext", str(target), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Photos" in text and "Signed by Ana Lee" in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", str(target), str(artifacts / "invoice-photos-signed")],
        check=True,
    )
    assert sorted(artifacts.glob("invoice-photos-signed-*.png"))


def test_a_customer_sends_a_photo_from_the_web_chat(
    app: Flask, live: str, artifacts: Path, tmp_path: Path
) -> None:
    session_id = "browser-session-0001"
    ana = web_customer(_db(app), "Ana Lee", session_id, at=NOW)
    job = booked(_db(app), ana, "2026-11-18 10:00", service="haircut", now=NOW)
    picture = tmp_path / "leak.jpg"
    picture.write_bytes(photo((200, 60, 40), "leak under the sink"))
    with chromium_page(viewport=PHONE) as page:
        page.goto(live + "/")
        page.evaluate(f"localStorage.setItem('slotbot-session', '{session_id}')")
        page.goto(live + "/")
        page.locator(".msg.bot").first.wait_for()
        page.locator("#file").set_input_files(str(picture))
        page.get_by_text(f"kept with your appointment #{job}").wait_for()
        page.screenshot(path=str(artifacts / "webchat-upload-phone.png"))
    with _db(app).read() as session:
        kept = session.scalars(select(Attachment)).one()
        assert (kept.appointment_id, kept.filename, kept.kind) == (job, "leak.jpg", "customer")

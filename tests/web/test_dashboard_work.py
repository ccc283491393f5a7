"""Estimates and series on the pages: the owner writes an estimate from a form, follows it
from estimate to appointment to invoice (pages and PDFs), sees every series; the customer
sees their standing bookings and declines an estimate in the portal. One Chromium run
photographs an estimate converted to a job."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.billing.documents.delivery import invoice_pdf
from bot.billing.documents.estimates import estimate_pdf
from bot.customers.portal import issue_link
from bot.messaging.messages import Reply
from storage.billing import DECLINED, ESTIMATE_SENT, Estimate, Invoice
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AdminAudit, Appointment, Customer, CustomerIdentity
from tests.admin.test_admin import NOW
from tests.browser import chromium_page, live_server
from tests.customers.test_portal import path_of
from tests.dialogue import Chat

BOB = "+12125550402"


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _bob(db: Database) -> int:
    with db.write() as session:
        row = Customer(name="Bob Stone", phone=BOB, created_at=NOW, notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="sms", address=BOB, created_at=NOW)
        )
        return row.id


def _owner_path(db: Database) -> str:
    with db.write() as session:
        url = issue_link(session, customer_id=None, role="owner", now=NOW, ttl=timedelta(days=30))
    return path_of(url)


def _portal_path(db: Database, customer_id: int) -> str:
    with db.write() as session:
        url = issue_link(session, customer_id=customer_id, role="customer", now=NOW)
    return path_of(url)


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _pdf_text(data: bytes, folder: Path, name: str) -> str:
    path = folder / f"{name}.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _converted(db: Database) -> tuple[int, int]:
    """Bob's estimate approved by text, booked by the owner and done: (estimate, appointment)."""
    _bob(db)
    owner = Chat(db, NOW, channel="telegram", sender="1000")
    owner.say("estimate for Bob Stone: colour 120, toner 25")
    owner.say("yes")
    Chat(db, NOW, channel="sms", sender=BOB).say("approve")
    owner.say("book EST-1 friday at 11 with sam")
    owner.say("yes")
    with db.read() as session:
        estimate = session.scalars(select(Estimate)).one()
        appointment_id = estimate.appointment_id
        estimate_id = estimate.id
    owner.now = NOW + timedelta(days=3, hours=5)  # Friday after the job
    owner.say(f"done #{appointment_id}")
    owner.expect("completed")
    return estimate_id, appointment_id


@pytest.mark.parametrize("items", ["colour 120, toner 25", "Colour $120; toner 25.00"])
def test_an_owner_writes_and_sends_an_estimate_from_the_dashboard(
    app: Flask, client: FlaskClient, frozen: None, items: str
) -> None:
    bob = _bob(_db(app))
    base = _owner_path(_db(app))
    page = client.get(f"{base}/estimates")
    html = _text(page)
    assert page.status_code == 200 and "New estimate" in html and "Bob Stone" in html
    done = client.post(
        f"{base}/estimates",
        data={"csrf": _csrf(html), "customer": bob, "items": items, "valid": "14", "send": "on"},
    )
    assert done.status_code == 303
    with _db(app).read() as session:
        estimate = session.scalars(select(Estimate)).one()
        assert estimate.status == ESTIMATE_SENT
        assert estimate.valid_until == NOW + timedelta(days=14)
        assert [ln.unit_price_minor for ln in estimate.lines] == [12000, 2500]
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "estimate")
        ).one()
        assert sent.address == BOB and "EST-0001" in Reply.from_json(sent.body).text
        [audit] = session.scalars(select(AdminAudit)).all()
        assert (audit.actor, audit.action) == ("dashboard", "estimate_create")
    shown = _text(client.get(done.headers["Location"]))
    assert "Estimate EST-0001" in shown and "$157.87" in shown and "Not booked yet" in shown


def test_a_form_without_prices_creates_nothing(
    app: Flask, client: FlaskClient, frozen: None
) -> None:
    bob = _bob(_db(app))
    base = _owner_path(_db(app))
    html = _text(client.get(f"{base}/estimates"))
    done = client.post(
        f"{base}/estimates", data={"csrf": _csrf(html), "customer": bob, "items": "colour"}
    )
    assert "error=" in done.headers["Location"]
    with _db(app).read() as session:
        assert session.scalars(select(Estimate)).all() == []


def test_the_chain_shows_on_the_estimate_page_and_on_both_pdfs(
    app: Flask, client: FlaskClient, frozen: None, artifacts: Path
) -> None:
    estimate_id, appointment_id = _converted(_db(app))
    base = _owner_path(_db(app))
    html = re.sub(r"<[^>]+>", "", _text(client.get(f"{base}/estimates/{estimate_id}")))
    assert f"Appointment #{appointment_id}" in html and "Colour with Sam Rivera" in html
    assert "Invoice INV-0001" in html and "Approved" in html
    listing = _text(client.get(f"{base}/estimates"))
    assert f"#{appointment_id}" in listing and "INV-0001" in listing
    with _db(app).read() as session:
        estimate = session.get(Estimate, estimate_id)
        invoice = session.scalars(select(Invoice)).one()
        est_text = _pdf_text(estimate_pdf(session, estimate), artifacts, "estimate-chain")
        inv_text = _pdf_text(invoice_pdf(session, invoice, now=NOW), artifacts, "invoice-chain")
    assert f"#{appointment_id}" in est_text and "INV-0001" in est_text
    assert "EST-0001" in inv_text and f"#{appointment_id}" in inv_text
    pdf = client.get(f"{base}/estimates/{estimate_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_series_show_on_the_dashboard_and_in_the_customers_portal(
    app: Flask, client: FlaskClient, frozen: None
) -> None:
    bob = _bob(_db(app))
    owner = Chat(_db(app), NOW, channel="telegram", sender="1000")
    owner.say("book Bob Stone haircut with Sam every other friday at 11, 4 times")
    owner.say("yes")
    owner.expect("Booked 4")
    dashboard = _text(client.get(f"{_owner_path(_db(app))}/series"))
    assert "Bob Stone" in dashboard and "every other Friday, 4 times" in dashboard
    assert "Fri, Nov 20, 11:00 AM" in dashboard and "Sam Rivera" in dashboard
    portal = _text(client.get(_portal_path(_db(app), bob)))
    assert "Standing bookings" in portal
    assert "Haircut with Sam Rivera, every other Friday, 4 times" in portal
    assert "4 still ahead" in portal


def test_a_customer_declines_an_estimate_in_the_portal(
    app: Flask, client: FlaskClient, frozen: None
) -> None:
    bob = _bob(_db(app))
    owner = Chat(_db(app), NOW, channel="telegram", sender="1000")
    owner.say("estimate for Bob Stone: colour 120")
    owner.say("yes")
    path = _portal_path(_db(app), bob)
    html = _text(client.get(path))
    assert "Decline" in html
    with _db(app).read() as session:
        estimate_id = session.scalars(select(Estimate.id)).one()
    done = client.post(f"{path}/estimates/{estimate_id}/decline", data={"csrf": _csrf(html)})
    assert done.status_code == 303
    with _db(app).read() as session:
        estimate = session.get(Estimate, estimate_id)
        assert estimate.status == DECLINED and estimate.answer_channel == "web"


def test_an_estimate_converted_to_a_job_in_chromium(app: Flask, artifacts: Path) -> None:
    estimate_id, appointment_id = _converted(_db(app))
    base_path = _owner_path(_db(app))
    with (
        time_machine.travel(NOW, tick=True),
        live_server(app) as base,
        chromium_page(viewport={"width": 1280, "height": 900}) as page,
    ):
        page.goto(f"{base}{base_path}/estimates/{estimate_id}")
        page.get_by_role("heading", name="Estimate EST-0001").wait_for()
        chain = page.get_by_test_id("chain").inner_text()
        assert f"Appointment #{appointment_id}" in chain and "Invoice INV-0001" in chain
        page.screenshot(path=str(artifacts / "estimate-converted.png"), full_page=True)
        page.get_by_role("link", name="All estimates").click()
        page.get_by_role("heading", name="Estimates").wait_for()
        page.screenshot(path=str(artifacts / "estimates-list.png"), full_page=True)


def test_the_dashboard_refuses_a_no_show_before_the_start(
    app: Flask, client: FlaskClient, frozen: None
) -> None:
    bob = _bob(_db(app))
    owner = Chat(_db(app), NOW, channel="telegram", sender="1000")
    owner.say("book Bob Stone haircut with sam friday at 11")
    owner.say("yes")
    with _db(app).read() as session:
        appointment = session.scalars(select(Appointment.id)).one()
    base = _owner_path(_db(app))
    csrf = _csrf(_text(client.get(f"{base}/estimates")))
    early = client.post(
        f"{base}/appointments/{appointment}/status", data={"status": "no_show", "csrf": csrf}
    )
    assert early.status_code == 409 and "hasn't started yet" in _text(early)
    with _db(app).read() as session:
        assert session.get(Appointment, appointment).status == "booked"
        assert session.get(Customer, bob) is not None

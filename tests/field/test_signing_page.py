"""The signing page over HTTP: what it shows and the policy it is served under, signing with
the pad (a PNG) or without JavaScript (the typed name), and the links and forms it refuses."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.billing.documents.estimates import create_estimate, get_estimate, send_estimate
from bot.billing.documents.signing import request_for_estimate
from bot.billing.ledger.invoices import LineSpec
from bot.customers.portal import issue_link
from bot.field.signatures import Kind, link_for, request_for_appointment
from storage.billing import APPROVED
from storage.db import Database
from storage.files import Signature
from storage.models import Appointment
from tests.factories import local
from tests.files_factories import BEFORE_TEXT, booked, customer, drawn_signature, field_app

NOW = local("2026-11-17 08:00")


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with the demo business plus disclaimers on the home visit haircut."""
    application = field_app(db_url, tmp_path)
    yield application
    application.extensions["slotbot.db"].dispose()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW + timedelta(hours=2), tick=False) as traveller:
        yield traveller


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def _link(app: Flask, kind: Kind = Kind.BEFORE) -> str:
    db = _db(app)
    ana = customer(db, "Ana Lee", "+12125550301", at=NOW)
    job = booked(db, ana, "2026-11-17 10:00", now=NOW)
    with db.write() as session:
        request = request_for_appointment(
            session, session.get(Appointment, job), kind, requested_by="owner", now=NOW
        )
        return "/" + link_for(session, request).split("/", 3)[3]


def _form(client: FlaskClient, path: str) -> dict[str, str]:
    html = client.get(path).get_data(as_text=True)
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', html).group(1)}


def _signatures(app: Flask) -> list[Signature]:
    with _db(app).read() as session:
        return list(session.scalars(select(Signature)))


def test_the_page_shows_the_text_and_runs_only_its_own_nonced_script(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    response = client.get(path)
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert BEFORE_TEXT in html and "Home visit haircut: before the job" in html
    assert '<canvas id="pad"' in html and 'name="name"' in html
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy).group(1)
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert "src=" not in "".join(scripts)  # nothing loaded from anywhere
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_without_javascript_the_typed_name_is_the_signature(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    response = client.post(path, data={**_form(client, path), "name": "Ana Lee"})
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    receipt = unescape(client.get(path).get_data(as_text=True))
    assert "Thank you, it's signed" in receipt and "signed by Ana Lee" in receipt
    [kept] = _signatures(app)
    assert kept.method == "typed" and kept.image_png is None
    assert kept.ip == "127.0.0.1" and kept.signed_at == NOW + timedelta(hours=2)


def test_the_pad_sends_a_png_that_is_kept_and_shown_back(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    png = drawn_signature()
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    client.post(path, data={**_form(client, path), "name": "Ana Lee", "signature": data_url})
    [kept] = _signatures(app)
    assert kept.method == "drawn" and kept.image_png == png
    receipt = client.get(path).get_data(as_text=True)
    assert data_url in receipt and kept.text_sha256 in receipt


@pytest.mark.parametrize(
    "bad",
    ["data:image/png;base64,!!!notbase64", "data:image/svg+xml;base64,PHN2Zz4=", "javascript:1"],
    ids=["not-base64", "svg", "script"],
)
def test_a_broken_drawing_is_refused_in_words_and_nothing_is_kept(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates, bad: str
) -> None:
    path = _link(app)
    response = client.post(path, data={**_form(client, path), "name": "Ana", "signature": bad})
    assert response.status_code == 400
    assert "could not be read" in response.get_data(as_text=True)
    assert _signatures(app) == []


def test_a_tampered_link_is_refused_without_showing_the_text(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    for bad in (path[:-3] + "xyz", path + "A", "/sign/nonsense"):
        response = client.get(bad)
        assert response.status_code == 403
        assert BEFORE_TEXT not in unescape(response.get_data(as_text=True))
        assert client.post(bad, data={"name": "Mallory"}).status_code == 403
    assert _signatures(app) == []


def test_an_expired_link_is_gone_and_cannot_be_signed(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    form = _form(client, path)
    clock.move_to(NOW + timedelta(days=3, minutes=1))
    response = client.get(path)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert client.post(path, data={**form, "name": "Ana Lee"}).status_code == 410
    assert _signatures(app) == []


def test_a_post_without_the_form_token_changes_nothing(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    assert client.post(path, data={"name": "Ana Lee"}).status_code == 403
    assert client.post(path, data={"name": "Ana Lee", "csrf": "0" * 64}).status_code == 403
    assert _signatures(app) == []


def test_a_signed_link_shows_the_receipt_and_is_not_signed_twice(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    path = _link(app)
    form = _form(client, path)
    client.post(path, data={**form, "name": "Ana Lee"})
    again = client.post(path, data={**form, "name": "Someone Else"})
    assert again.status_code == 303
    assert [s.signer_name for s in _signatures(app)] == ["Ana Lee"]


def test_signing_an_estimate_on_the_page_approves_it(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    db = _db(app)
    ana = customer(db, "Ana Lee", "+12125550301", at=NOW)
    with db.write() as session:
        estimate = create_estimate(
            session, customer_id=ana, lines=[LineSpec("labour", "Balayage", 18000)], now=NOW
        )
        request = request_for_estimate(session, estimate.id, requested_by="owner", now=NOW)
        path = "/" + link_for(session, request).split("/", 3)[3]
        estimate_id = estimate.id
    page = unescape(client.get(path).get_data(as_text=True))
    assert "I approve estimate EST-0001" in page and "Balayage" in page
    client.post(path, data={**_form(client, path), "name": "Ana Lee"})
    with db.read() as session:
        assert get_estimate(session, estimate_id).status == APPROVED
        assert session.scalar(select(func.count()).select_from(Signature)) == 1


def test_a_customer_signs_an_estimate_from_the_portal(
    app: Flask, client: FlaskClient, clock: time_machine.Coordinates
) -> None:
    db = _db(app)
    ana = customer(db, "Ana Lee", "+12125550301", at=NOW)
    with db.write() as session:
        estimate = create_estimate(
            session, customer_id=ana, lines=[LineSpec("labour", "Balayage", 18000)], now=NOW
        )
        send_estimate(session, estimate.id, now=NOW)
        estimate_id = estimate.id
        portal = (
            "/" + issue_link(session, customer_id=ana, role="customer", now=NOW).split("/", 3)[3]
        )
    home = client.get(portal).get_data(as_text=True)
    assert "Sign to approve" in home
    csrf = re.search(r'name="csrf" value="([^"]+)"', home).group(1)
    url = f"{portal}/estimates/{estimate_id}/sign"
    assert client.post(url).status_code == 403  # no form token
    opened = client.post(url, data={"csrf": csrf})
    assert opened.status_code == 303 and opened.headers["Location"].startswith("/sign/")
    path = opened.headers["Location"]
    client.post(path, data={**_form(client, path), "name": "Ana Lee"})
    with db.read() as session:
        assert get_estimate(session, estimate_id).status == APPROVED
        assert session.scalars(select(Signature)).one().estimate_id == estimate_id

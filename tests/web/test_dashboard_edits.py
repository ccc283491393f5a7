"""The dashboard's appointment edit form: staff, service, time, length, notes — checked
against the calendar, audited, and the customer told; in Flask's client and in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.customers.portal import issue_link
from bot.messaging.messages import Reply
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AdminAudit, Appointment, Staff
from tests.browser import chromium_page, live_server
from tests.customers.test_portal import NOW, Demo, at, build_demo, path_of


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


@pytest.fixture
def demo(app: Flask) -> Iterator[Demo]:
    with time_machine.travel(NOW, tick=False):
        yield build_demo(_db(app))


def _ids(app: Flask, model: type, key: str) -> int:
    with _db(app).read() as session:
        return session.scalars(select(model.id).where(model.key == key)).one()


def _owner_base(app: Flask) -> str:
    with _db(app).write() as session:
        url = issue_link(session, customer_id=None, role="owner", now=NOW, ttl=timedelta(days=30))
    return path_of(url)


def _form(client: FlaskClient, url: str) -> dict[str, str]:
    html = unescape(client.get(url).get_data(as_text=True))
    fields = dict(re.findall(r'name="(csrf|day|time|minutes)"[^>]*value="([^"]*)"', html))
    fields["csrf"] = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    fields["staff"] = re.search(r'<select id="staff".*?value="(\d+)" selected', html, re.S).group(1)
    fields["service"] = re.search(
        r'<select id="service".*?value="(\d+)" selected', html, re.S
    ).group(1)
    fields["notes"] = ""
    return fields


def test_the_owner_reassigns_and_moves_an_appointment_from_its_edit_form(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = _owner_base(app)
    url = f"{base}/appointments/{demo.bob_upcoming}/edit"
    with time_machine.travel(NOW, tick=False):
        day = unescape(client.get(f"{base}/day/2026-11-21").get_data(as_text=True))
        assert f"/appointments/{demo.bob_upcoming}/edit" in day
        form = _form(client, url)
        assert (form["day"], form["time"], form["minutes"]) == ("2026-11-21", "10:00", "45")
        form.update(staff=str(_ids(app, Staff, "alex")), time="11:00", minutes="60", notes="VIP")
        response = client.post(url, data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/day/2026-11-21?notice=edited")
    with _db(app).read() as session:
        moved = session.get(Appointment, demo.bob_upcoming)
        assert moved.staff.key == "alex" and moved.starts_at == at("2026-11-21 11:00")
        assert moved.ends_at == at("2026-11-21 12:00") and moved.notes == "VIP"
        [audit] = session.scalars(select(AdminAudit).where(AdminAudit.action == "edit")).all()
        assert audit.actor == "dashboard" and audit.detail["appointment"] == demo.bob_upcoming
        notices = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.ref_id == demo.bob_upcoming, OutboxMessage.purpose == "change_notice"
            )
        ).all()
        [text] = [Reply.from_json(n.body).text for n in notices]
        assert "now with Alex (was Sam)" in text and "Sat, Nov 21, 11:00 AM" in text
        assert "VIP" not in text  # notes are the business's own


def test_an_edit_the_calendar_refuses_shows_the_form_again_and_changes_nothing(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = _owner_base(app)
    url = f"{base}/appointments/{demo.bob_upcoming}/edit"
    with time_machine.travel(NOW, tick=False):
        form = _form(client, url)
        form["staff"] = str(_ids(app, Staff, "priya"))
        refused = client.post(url, data=form)
        assert refused.status_code == 409
        assert "Priya doesn't do Haircut" in unescape(refused.get_data(as_text=True))
        form = _form(client, url)
        form.update(time="18:30")  # the salon closes at 5 on Saturdays
        refused = client.post(url, data=form)
        assert refused.status_code == 409
        assert "Sam isn't free" in unescape(refused.get_data(as_text=True))
        assert client.post(url, data={**form, "csrf": "forged"}).status_code == 403
    with _db(app).read() as session:
        kept = session.get(Appointment, demo.bob_upcoming)
        assert kept.staff.key == "sam" and kept.service.key == "haircut"


def test_the_edit_form_in_chromium_changes_the_service_and_says_so(
    app: Flask, artifacts: Path
) -> None:
    with time_machine.travel(NOW, tick=True), live_server(app) as server:
        demo = build_demo(_db(app))
        base = _owner_base(app)
        with chromium_page(viewport={"width": 1280, "height": 900}) as page:
            page.goto(f"{server}{base}/day/2026-11-21")
            page.get_by_role("link", name=re.compile("Change Bob Jones")).click()
            page.get_by_role("heading", name="Change this appointment").wait_for()
            page.get_by_label("Service").select_option(label="Colour (90 min)")
            page.get_by_label("Notes").fill("Bring the blue dye")
            page.screenshot(path=str(artifacts / "dashboard-edit-form.png"), full_page=True)
            page.get_by_role("button", name="Save changes").click()
            page.get_by_text("Changed. The customer has been told").wait_for()
            page.screenshot(path=str(artifacts / "dashboard-edit-done.png"), full_page=True)
    with _db(app).read() as session:
        changed = session.get(Appointment, demo.bob_upcoming)
        assert changed.service.key == "colour" and changed.notes == "Bring the blue dye"
        assert (changed.ends_at - changed.starts_at) == timedelta(minutes=90)

"""The owner dashboard: the week and day by staff, receivables, customers, feedback and
no-shows, and the owner's actions — each audited — behind a signed owner link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from bot.billing.ledger.invoices import get_invoice
from bot.customers.portal import issue_link, revoke_links
from storage.billing import CASH, PAID, Payment
from storage.db import Database
from storage.models import (
    CANCELLED,
    COMPLETED,
    NO_SHOW,
    AdminAudit,
    Appointment,
    Staff,
    TimeOff,
)
from tests.customers.test_portal import NOW, Demo, at, build_demo, path_of


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


@pytest.fixture
def demo(app: Flask) -> Iterator[Demo]:
    """The demo week in the app's database, the clock frozen at its Monday morning."""
    with time_machine.travel(NOW, tick=False):
        yield build_demo(_db(app))


def _text(response: TestResponse) -> str:
    return unescape(response.get_data(as_text=True))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _owner_path(app: Flask, days: int = 30) -> str:
    """A dashboard link that outlives the test's trips through the week."""
    with _db(app).write() as session:
        url = issue_link(session, customer_id=None, role="owner", now=NOW, ttl=timedelta(days=days))
    return path_of(url)


def _audits(app: Flask) -> list[AdminAudit]:
    with _db(app).read() as session:
        return list(session.scalars(select(AdminAudit).order_by(AdminAudit.id)))


def test_the_week_shows_each_staff_members_appointments_by_day(
    client: FlaskClient, demo: Demo
) -> None:
    response = client.get(path_of(demo.owner_url))
    assert response.status_code == 200
    html = _text(response)
    assert "Week of Nov 16 – 22, 2026" in html and "Owner dashboard" in html
    rows = re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', html, re.S)
    by_staff = {name: cells for name, cells in rows}
    assert set(by_staff) == {"Sam Rivera", "Alex Chen", "Priya Patel", "Jordan Lee"}
    assert "Jane Smith · Haircut" in by_staff["Sam Rivera"]
    assert "Bob Jones · Haircut" in by_staff["Sam Rivera"]
    assert "Dev Patel · Haircut" in by_staff["Alex Chen"] and "Confirmed" in by_staff["Alex Chen"]
    assert "Carmen Diaz · Massage (60 min)" in by_staff["Priya Patel"]
    assert "Closed" in by_staff["Jordan Lee"] or "Thanksgiving" not in html  # not this week
    assert "2:00 – 2:45 PM" in by_staff["Sam Rivera"]  # local times, Jane's Friday cut
    # Statuses are words as well as colours.
    assert 'class="badge status-booked">Booked<' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_week_navigation_moves_a_week_at_a_time(client: FlaskClient, demo: Demo) -> None:
    html = _text(client.get(path_of(demo.owner_url)))
    assert "?week=2026-11-09" in html and "?week=2026-11-23" in html
    following = _text(client.get(f"{path_of(demo.owner_url)}?week=2026-11-23"))
    assert "Week of Nov 23 – 29, 2026" in following
    assert "Thanksgiving" in following and "Closed" in following  # the 26th, for everyone
    assert "Jane Smith" not in following


def test_the_day_view_offers_the_owners_actions(client: FlaskClient, demo: Demo) -> None:
    html = _text(client.get(f"{path_of(demo.owner_url)}/day/2026-11-20"))
    assert "Fri, Nov 20" in html and "Jane Smith" in html
    assert 'value="completed"' in html and 'value="no_show"' in html
    assert f"/appointments/{demo.jane_upcoming}/cancel" in html and "Block this time" in html
    today = client.get(f"{path_of(demo.owner_url)}/today")
    assert today.status_code == 303 and today.headers["Location"].endswith("/day/2026-11-16")
    assert client.get(f"{path_of(demo.owner_url)}/day/not-a-date").status_code == 404


def test_marking_an_invoice_paid_records_it_and_audits_it(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    page = client.get(f"{path_of(demo.owner_url)}/receivables")
    html = _text(page)
    assert "Accounts receivable" in html and "INV-0001" in html and "Jane Smith" in html
    assert "$48.99" in html and "$130.65" in html  # Bob's colour: 120.00 + 8.875% tax
    assert 'value="48.99"' in html  # the balance, ready to record
    done = client.post(
        f"{path_of(demo.owner_url)}/invoices/{demo.jane_invoice}/payment",
        data={
            "amount": "48.99",
            "method": CASH,
            "csrf": _csrf(html),
            "back": f"{path_of(demo.owner_url)}/receivables",
        },
    )
    assert done.status_code == 303
    assert done.headers["Location"] == f"{path_of(demo.owner_url)}/receivables?notice=paid"
    after = _text(client.get(done.headers["Location"]))
    assert "Payment recorded" in after and "INV-0001" not in after
    with _db(app).read() as session:
        assert get_invoice(session, demo.jane_invoice).status == PAID
        payment = session.scalars(select(Payment)).one()
        assert (payment.method, payment.amount_minor, payment.actor) == (
            CASH,
            4899,
            "owner:dashboard",
        )
    [audit] = _audits(app)
    assert (audit.actor, audit.role, audit.channel, audit.action) == (
        "dashboard",
        "owner",
        "web",
        "payment",
    )
    assert audit.detail["invoice"] == "INV-0001" and audit.detail["amount_minor"] == 4899


def test_a_bad_amount_or_method_records_nothing(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    csrf = _csrf(_text(client.get(f"{path_of(demo.owner_url)}/receivables")))
    url = f"{path_of(demo.owner_url)}/invoices/{demo.jane_invoice}/payment"
    for data in ({"amount": "lots", "method": CASH}, {"amount": "10", "method": "barter"}):
        assert client.post(url, data={**data, "csrf": csrf}).status_code == 400
    assert client.post(url, data={"amount": "0", "method": CASH, "csrf": csrf}).status_code == 409
    assert client.post(url, data={"amount": "10", "method": CASH}).status_code == 403  # no token
    with _db(app).read() as session:
        assert session.scalars(select(Payment)).all() == []
    assert _audits(app) == []


def test_completing_marking_no_show_and_cancelling_go_through_the_booking_service(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = _owner_path(app)
    csrf = _csrf(_text(client.get(f"{base}/day/2026-11-20")))
    with time_machine.travel(at("2026-11-20 15:00"), tick=False):
        done = client.post(
            f"{base}/appointments/{demo.jane_upcoming}/status",
            data={"status": COMPLETED, "csrf": csrf, "back": f"{base}/day/2026-11-20"},
        )
        assert done.headers["Location"] == f"{base}/day/2026-11-20?notice=completed"
    with time_machine.travel(at("2026-11-19 14:00"), tick=False):
        missed = client.post(
            f"{base}/appointments/{demo.jane_soon}/status", data={"status": NO_SHOW, "csrf": csrf}
        )
        assert missed.status_code == 303
    confirm = _text(client.get(f"{base}/appointments/{demo.bob_upcoming}/cancel"))
    assert "Cancel this appointment?" in confirm and "Bob Jones" in confirm
    cancelled = client.post(
        f"{base}/appointments/{demo.bob_upcoming}/cancel",
        data={"csrf": csrf, "reason": "Sam is ill"},
    )
    assert cancelled.status_code == 303
    again = client.post(f"{base}/appointments/{demo.bob_upcoming}/cancel", data={"csrf": csrf})
    assert again.status_code == 409  # already cancelled: said, not raised
    with _db(app).read() as session:
        assert session.get(Appointment, demo.jane_upcoming).status == COMPLETED
        assert session.get(Appointment, demo.jane_soon).status == NO_SHOW
        bobs = session.get(Appointment, demo.bob_upcoming)
        assert bobs.status == CANCELLED and bobs.cancel_reason == "Sam is ill"
        assert bobs.events[-1].actor == "owner:dashboard"
    actions = [(a.action, a.detail.get("appointment")) for a in _audits(app)]
    assert actions == [
        (COMPLETED, demo.jane_upcoming),
        (NO_SHOW, demo.jane_soon),
        ("cancel", demo.bob_upcoming),
    ]


def test_blocking_time_reports_clashes_and_is_audited(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = path_of(demo.owner_url)
    csrf = _csrf(_text(client.get(f"{base}/day/2026-11-20")))
    with _db(app).read() as session:
        sam = session.scalars(select(Staff.id).where(Staff.key == "sam")).one()
    blocked = client.post(
        f"{base}/block",
        data={
            "csrf": csrf,
            "staff": str(sam),
            "day": "2026-11-20",
            "start": "13:00",
            "end": "15:00",
            "reason": "Training",
            "back": f"{base}/day/2026-11-20",
        },
    )
    assert blocked.status_code == 303
    assert blocked.headers["Location"].endswith("/day/2026-11-20?notice=blocked&clashes=1")
    day = _text(client.get(blocked.headers["Location"]))
    assert "Time blocked" in day and "1 appointment(s) already inside it" in day
    assert "Training" in day and "1:00 – 3:00 PM" in day
    with _db(app).read() as session:
        block = session.scalars(select(TimeOff).where(TimeOff.source == "admin")).one()
        assert block.staff_id == sam and block.starts_at == at("2026-11-20 13:00")
    [audit] = _audits(app)
    assert audit.action == "block" and audit.detail["reason"] == "Training"
    bad = client.post(
        f"{base}/block", data={"csrf": csrf, "day": "2026-11-20", "start": "15:00", "end": "13:00"}
    )
    assert bad.status_code == 400


def test_customers_can_be_searched_and_opened_with_history_and_notes(
    client: FlaskClient, demo: Demo
) -> None:
    base = path_of(demo.owner_url)
    listing = _text(client.get(f"{base}/customers"))
    assert all(n in listing for n in ("Jane Smith", "Bob Jones", "Carmen Diaz", "Dev Patel"))
    found = _text(client.get(f"{base}/customers?q=jane"))
    assert "Jane Smith" in found and "Bob Jones" not in found
    assert "No customer matches" in _text(client.get(f"{base}/customers?q=zzzzzz"))
    card = _text(client.get(f"{base}/customers/{demo.jane}"))
    assert "Jane prefers mornings." in card and "+12125550123" in card
    assert "INV-0001" in card and "Upcoming" in card and "Completed" in card
    assert "Sam was great" in card
    assert client.get(f"{base}/customers/9999").status_code == 404


def test_feedback_and_no_shows_are_listed(client: FlaskClient, demo: Demo) -> None:
    base = path_of(demo.owner_url)
    feedback = _text(client.get(f"{base}/feedback"))
    assert "3.5/5" in feedback and "Waited 20 minutes past my time." in feedback
    assert "2/5" in feedback and ">Low<" in feedback and "5/5" in feedback
    missed = _text(client.get(f"{base}/no-shows"))
    assert "Carmen Diaz" in missed and "Facial" in missed and "Sun, Nov 15, 11:00 AM" in missed
    assert "33%" in missed  # one no-show of three appointments due (two completed)
    assert "Jane Smith" not in missed


def test_customer_links_and_bad_links_do_not_open_the_dashboard(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    for token in (demo.jane_token, demo.owner_token[:-3] + "abc", "x"):
        response = client.get(f"/dashboard/{token}")
        assert response.status_code == 403
        html = _text(response)
        assert "Jane" not in html and "$" not in html and "Sam Rivera" not in html
    with time_machine.travel(NOW + timedelta(hours=13), tick=False):
        expired = client.get(f"{path_of(demo.owner_url)}/receivables")
    assert expired.status_code == 410 and "INV-0001" not in _text(expired)
    assert "/dashboard" in _text(expired)  # how to get a new one
    with _db(app).write() as session:
        revoke_links(session, None, now=NOW)
    revoked = client.post(
        f"{path_of(demo.owner_url)}/invoices/{demo.jane_invoice}/payment",
        data={"amount": "48.99", "method": CASH},
    )
    assert revoked.status_code == 410
    with _db(app).read() as session:
        assert session.scalars(select(Payment)).all() == []


class _Controls(HTMLParser):
    """Collects the language, form controls, labels and header cells of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.header_cells: list[dict[str, str | None]] = []
        self.in_label = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if tag == "label":
            self.in_label += 1
            self.labelled.add(found.get("for") or "")
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append({**found, "wrapped": "yes" if self.in_label else None})
        if tag == "th":
            self.header_cells.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


def test_every_page_has_a_language_labelled_controls_and_scoped_headers(
    client: FlaskClient, demo: Demo
) -> None:
    owner, customer = path_of(demo.owner_url), path_of(demo.jane_url)
    pages = [
        owner,
        f"{owner}/day/2026-11-20",
        f"{owner}/receivables",
        f"{owner}/customers",
        f"{owner}/customers/{demo.jane}",
        f"{owner}/feedback",
        f"{owner}/no-shows",
        f"{owner}/appointments/{demo.bob_upcoming}/cancel",
        customer,
        f"{customer}/appointments/{demo.jane_upcoming}/reschedule",
        f"{customer}/appointments/{demo.jane_upcoming}/cancel",
        "/portal/not-a-link",
    ]
    seen = 0
    for page in pages:
        response = client.get(page)
        assert response.status_code in (200, 403), page
        parsed = _Controls()
        parsed.feed(response.get_data(as_text=True))
        assert parsed.lang == "en-US", page
        seen += len(parsed.controls)
        for control in parsed.controls:
            assert control["wrapped"] or control.get("id") in parsed.labelled, (page, control)
        for cell in parsed.header_cells:
            assert cell.get("scope") in ("col", "row"), (page, cell)
    assert seen >= 15  # the pages' forms were all looked at

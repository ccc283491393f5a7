"""The customer portal: signed links (issue, verify, expire, revoke), the account page and
its actions, and what a bad or someone else's link shows (nothing).

Demo data is made the way the product makes it: book, complete (which invoices and sends),
pay. `build_demo` is shared with the dashboard and browser tests.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bot.billing.documents.estimates import create_estimate, send_estimate
from bot.billing.ledger.invoices import LineSpec, get_invoice
from bot.billing.payments.gateway import CardDetails
from bot.billing.payments.online import keep_card
from bot.core.errors import InvalidRequest
from bot.customers.portal import (
    EXPIRED,
    INVALID,
    OK,
    REVOKED,
    csrf_ok,
    csrf_token,
    issue_link,
    revoke_links,
    secret_key,
    verify,
)
from bot.messaging.messages import SMS
from bot.scheduling.booking import Booked, book, set_status
from storage.billing import APPROVED, Estimate, SavedCard
from storage.db import Database
from storage.messaging import Feedback
from storage.models import (
    CANCELLED,
    COMPLETED,
    NO_SHOW,
    Appointment,
    Customer,
    CustomerIdentity,
    Service,
    Staff,
)
from storage.portal import AppSecret, PortalLink

NY = ZoneInfo("America/New_York")
# Monday 16 November 2026, 10:00 in New York (the demo salon is closed on Mondays).
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=NY)


def at(text: str) -> datetime:
    """A New York wall time, "2026-11-19 14:00"."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=NY)


@dataclass(frozen=True)
class Demo:
    """Who and what the demo data holds (ids), and a live link for each person."""

    jane: int
    bob: int
    jane_invoice: int
    bob_invoice: int
    jane_upcoming: int
    jane_soon: int
    bob_upcoming: int
    jane_url: str
    bob_url: str
    owner_url: str

    @property
    def jane_token(self) -> str:
        """The token of Jane's portal link."""
        return token_of(self.jane_url)

    @property
    def bob_token(self) -> str:
        """The token of Bob's portal link."""
        return token_of(self.bob_url)

    @property
    def owner_token(self) -> str:
        """The token of the owner's dashboard link."""
        return token_of(self.owner_url)


def token_of(url: str) -> str:
    """The last path segment of a link."""
    return url.rstrip("/").rsplit("/", 1)[1]


def _customer(db: Database, name: str, phone: str) -> int:
    with db.write() as session:
        customer = Customer(
            name=name,
            phone=phone,
            email=f"{name.split()[0].lower()}@example.com",
            notes=f"{name.split()[0]} prefers mornings.",
            created_at=at("2026-11-01 09:00"),
        )
        session.add(customer)
        session.flush()
        session.add(
            CustomerIdentity(
                customer_id=customer.id,
                channel=SMS,
                address=phone,
                created_at=customer.created_at,
                last_inbound_at=customer.created_at,
            )
        )
        return customer.id


def _book(db: Database, customer: int, service: str, staff: str, start: str) -> int:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer,
            service_id=session.scalars(select(Service.id).where(Service.key == service)).one(),
            staff_id=session.scalars(select(Staff.id).where(Staff.key == staff)).one(),
            start=at(start),
            now=at("2026-11-10 09:00"),
            enforce_rules=False,
        )
        assert isinstance(outcome, Booked), outcome
        return outcome.appointment.id


def _status(db: Database, appointment_id: int, status: str, when: str) -> None:
    with db.write() as session:
        set_status(session, appointment_id, status, now=at(when))


def _invoice_of(db: Database, appointment_id: int) -> int:
    from storage.billing import Invoice

    with db.read() as session:
        return session.scalars(
            select(Invoice.id).where(Invoice.appointment_id == appointment_id)
        ).one()


def build_demo(db: Database) -> Demo:
    """The demo salon's week of 16 November 2026, made through the booking and billing code."""
    jane = _customer(db, "Jane Smith", "+12125550123")
    bob = _customer(db, "Bob Jones", "+12125550124")
    carmen = _customer(db, "Carmen Diaz", "+12125550125")
    dev = _customer(db, "Dev Patel", "+12125550126")
    # Last week: done, invoiced (completion sends the invoice), one no-show.
    jane_cut = _book(db, jane, "haircut", "sam", "2026-11-14 10:00")
    bob_colour = _book(db, bob, "colour", "alex", "2026-11-14 13:00")
    carmen_facial = _book(db, carmen, "facial", "priya", "2026-11-15 11:00")
    _status(db, jane_cut, COMPLETED, "2026-11-14 11:00")
    _status(db, bob_colour, COMPLETED, "2026-11-14 15:00")
    _status(db, carmen_facial, NO_SHOW, "2026-11-15 12:00")
    # This week, across the staff.
    dev_cut = _book(db, dev, "haircut", "alex", "2026-11-17 10:00")
    _book(db, carmen, "massage-60", "priya", "2026-11-18 10:00")
    jane_soon = _book(db, jane, "beard-trim", "jordan", "2026-11-19 13:00")
    jane_upcoming = _book(db, jane, "haircut", "sam", "2026-11-20 14:00")
    bob_upcoming = _book(db, bob, "haircut", "sam", "2026-11-21 10:00")
    _book(db, dev, "massage-30", "jordan", "2026-11-21 14:00")
    _status(db, dev_cut, "confirmed", "2026-11-16 09:00")
    with db.write() as session:
        for appointment_id, customer, score, comment in (
            (jane_cut, jane, 5, "Sam was great, lovely cut."),
            (bob_colour, bob, 2, "Waited 20 minutes past my time."),
        ):
            session.add(
                Feedback(
                    appointment_id=appointment_id,
                    customer_id=customer,
                    score=score,
                    comment=comment,
                    created_at=at("2026-11-15 09:00"),
                )
            )
        links = [
            issue_link(session, customer_id=jane, role="customer", now=NOW),
            issue_link(session, customer_id=bob, role="customer", now=NOW),
            issue_link(session, customer_id=None, role="owner", now=NOW),
        ]
    return Demo(
        jane=jane,
        bob=bob,
        jane_invoice=_invoice_of(db, jane_cut),
        bob_invoice=_invoice_of(db, bob_colour),
        jane_upcoming=jane_upcoming,
        jane_soon=jane_soon,
        bob_upcoming=bob_upcoming,
        jane_url=links[0],
        bob_url=links[1],
        owner_url=links[2],
    )


def path_of(url: str) -> str:
    """A link's path, for the test client."""
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def clock() -> time_machine.Coordinates:
    """Frozen at the demo's Monday morning (the app reads bot.core.clock.utcnow)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def demo(app: Flask, clock: time_machine.Coordinates) -> Demo:
    """The demo data in the app's database."""
    return build_demo(app.extensions["slotbot.db"])


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _text(response: TestResponse) -> str:
    """A page's HTML with entities decoded ("doesn't", "Maple & Mane")."""
    return unescape(response.get_data(as_text=True))


def _form_token(client: FlaskClient, url: str, appointment_id: int) -> str:
    """The link's form token, from a page that has a form."""
    page = client.get(f"{path_of(url)}/appointments/{appointment_id}/cancel")
    return _csrf(page.get_data(as_text=True))


# -------------------------------------------------------------------------------- links


def test_a_link_is_a_full_url_that_verifies_for_its_customer_and_role(db: Database) -> None:
    from tests.factories import add_customer, setup_business

    setup_business(db)
    customer = add_customer(db)
    with db.write() as session:
        url = issue_link(session, customer_id=customer, role="customer", now=NOW)
        owner = issue_link(session, customer_id=None, role="owner", now=NOW)
    assert url.startswith("http://127.0.0.1:8000/portal/")
    assert owner.startswith("http://127.0.0.1:8000/dashboard/")
    with db.read() as session:
        check = verify(session, token_of(url), "customer", NOW + timedelta(days=6))
        assert (check.status, check.customer_id, check.ok) == (OK, customer, True)
        assert verify(session, token_of(owner), "owner", NOW).ok
        # Single purpose: each token only opens what it was made for.
        assert verify(session, token_of(url), "owner", NOW).status == INVALID
        assert verify(session, token_of(owner), "customer", NOW).status == INVALID


def test_the_public_url_comes_from_the_environment(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import setup_business

    setup_business(db)
    monkeypatch.setenv("SLOTBOT_PUBLIC_URL", "https://book.example.com/")
    with db.write() as session:
        url = issue_link(session, customer_id=None, role="owner", now=NOW)
    assert url.startswith("https://book.example.com/dashboard/")


def test_links_expire_after_seven_days_for_customers_and_twelve_hours_for_owners(
    db: Database,
) -> None:
    from tests.factories import add_customer, setup_business

    setup_business(db)
    customer = add_customer(db)
    with db.write() as session:
        url = issue_link(session, customer_id=customer, role="customer", now=NOW)
        owner = issue_link(session, customer_id=None, role="owner", now=NOW)
        short = issue_link(
            session, customer_id=customer, role="customer", now=NOW, ttl=timedelta(minutes=5)
        )
    with db.read() as session:
        assert (
            verify(session, token_of(url), "customer", NOW + timedelta(days=7, seconds=1)).status
            == EXPIRED
        )
        assert verify(session, token_of(owner), "owner", NOW + timedelta(hours=11)).ok
        assert (
            verify(session, token_of(owner), "owner", NOW + timedelta(hours=12, seconds=1)).status
            == EXPIRED
        )
        assert (
            verify(session, token_of(short), "customer", NOW + timedelta(minutes=6)).status
            == EXPIRED
        )


def test_revoked_tampered_and_unknown_links_are_refused(db: Database) -> None:
    from tests.factories import add_customer, setup_business

    setup_business(db)
    jane, bob = add_customer(db, "Jane"), add_customer(db, "Bob")
    with db.write() as session:
        jane_url = issue_link(session, customer_id=jane, role="customer", now=NOW)
        bob_url = issue_link(session, customer_id=bob, role="customer", now=NOW)
        owner_url = issue_link(session, customer_id=None, role="owner", now=NOW)
    token = token_of(jane_url)
    with db.write() as session:
        assert revoke_links(session, jane, now=NOW) == 1
        assert revoke_links(session, None, now=NOW) == 1  # every owner link
    with db.read() as session:
        assert verify(session, token, "customer", NOW).status == REVOKED
        assert verify(session, token_of(owner_url), "owner", NOW).status == REVOKED
        assert verify(session, token_of(bob_url), "customer", NOW).ok  # only Jane's went
        flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        for bad in (flipped, token + "x", "nonsense", "", "a.b.c"):
            assert verify(session, bad, "customer", NOW).status == INVALID


def test_a_token_signed_with_another_secret_or_pointing_at_another_row_is_invalid(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from tests.factories import add_customer, setup_business

    setup_business(db)
    jane, bob = add_customer(db, "Jane"), add_customer(db, "Bob")
    with db.write() as session:
        token = token_of(issue_link(session, customer_id=jane, role="customer", now=NOW))
        link_id = session.scalars(select(PortalLink.id)).one()
        with time_machine.travel(NOW, tick=False):  # signed at the row's own time
            serializer = URLSafeTimedSerializer(secret_key(session), salt="slotbot-portal")
            forged = serializer.dumps({"link": link_id, "customer": bob})
            genuine = serializer.dumps({"link": link_id, "customer": jane})
    with db.read() as session:
        # Signed with the real secret at the right time, but naming another customer.
        assert verify(session, forged, "customer", NOW).status == INVALID
        assert verify(session, genuine, "customer", NOW).ok  # (the control)
    monkeypatch.setenv("SLOTBOT_SECRET_KEY", "another-secret-entirely")
    with db.read() as session:
        assert verify(session, token, "customer", NOW).status == INVALID


def test_a_token_only_opens_the_row_it_was_issued_with(db: Database) -> None:
    from tests.factories import add_customer, setup_business

    setup_business(db)
    customer = add_customer(db)
    with db.write() as session:
        token = token_of(issue_link(session, customer_id=customer, role="customer", now=NOW))
        # As if the database were rebuilt and the same id issued again later.
        session.scalars(select(PortalLink)).one().created_at = NOW + timedelta(minutes=1)
    with db.read() as session:
        assert verify(session, token, "customer", NOW + timedelta(minutes=2)).status == INVALID


def test_the_secret_is_made_once_and_kept_in_the_database(db: Database) -> None:
    with db.write() as session:
        first = secret_key(session)
    with db.write() as session:
        assert secret_key(session) == first and len(first) >= 48
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AppSecret)) == 1


def test_issuing_a_link_needs_a_real_customer_or_the_owner(db: Database) -> None:
    from tests.factories import add_customer, setup_business

    setup_business(db)
    customer = add_customer(db)
    with db.write() as session:
        with pytest.raises(InvalidRequest):
            issue_link(session, customer_id=None, role="customer", now=NOW)
        with pytest.raises(InvalidRequest):
            issue_link(session, customer_id=9999, role="customer", now=NOW)
        with pytest.raises(InvalidRequest):
            issue_link(session, customer_id=customer, role="owner", now=NOW)
        with pytest.raises(InvalidRequest):
            issue_link(session, customer_id=customer, role="admin", now=NOW)  # type: ignore[arg-type]


def test_form_tokens_belong_to_one_link(db: Database) -> None:
    with db.write() as session:
        assert csrf_ok(session, 1, csrf_token(session, 1))
        assert not csrf_ok(session, 2, csrf_token(session, 1))
        assert not csrf_ok(session, 1, None) and not csrf_ok(session, 1, "")


def test_the_app_keeps_one_secret_key_across_restarts(db_url: str) -> None:
    from tests.conftest import DEMO_CONFIG
    from webhooks.app import create_app

    keys = []
    for _ in range(2):
        # Not a test app (that would be handed a secret): one served on this machine.
        app = create_app(
            {"DATABASE_URL": db_url, "BUSINESS_CONFIG": str(DEMO_CONFIG), "BIND_HOST": "127.0.0.1"}
        )
        keys.append(app.config["SECRET_KEY"])
        app.extensions["slotbot.db"].dispose()
    assert keys[0] and keys[0] == keys[1]


# ----------------------------------------------------------------------- the account page


def test_the_account_page_shows_appointments_invoices_and_the_brand(
    client: FlaskClient, demo: Demo
) -> None:
    response = client.get(path_of(demo.jane_url))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hello, Jane Smith" in html and "Maple &amp; Mane Salon" in html
    assert (
        'src="/brand/logo"' in html and "--brand: #2f5d50" in html and "--accent: #c8963e" in html
    )
    assert "Fri, Nov 20, 2:00 PM" in html and "with Sam Rivera" in html
    assert "Sat, Nov 14, 10:00 AM" in html and "Completed" in html  # past, in local time
    assert "Invoice INV-0001" in html and "Pay $48.99" in html  # 45.00 + 8.875% tax
    assert "Bob" not in html and "INV-0002" not in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    logo = client.get("/brand/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/svg+xml"


def test_the_web_chat_wears_the_same_brand(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "--brand: #2f5d50" in html and 'src="/brand/logo"' in html and "#c8963e" in html


def test_a_rescheduled_time_that_was_taken_meanwhile_is_refused_in_words(
    client: FlaskClient, demo: Demo
) -> None:
    base = f"{path_of(demo.jane_url)}/appointments/{demo.jane_upcoming}/reschedule"
    html = client.get(base).get_data(as_text=True)
    taken = f"{at('2026-11-21 10:00').isoformat()}|1"  # Bob's haircut with Sam
    response = client.post(base, data={"slot": taken, "csrf": _csrf(html)})
    assert response.status_code == 409 and "We couldn" in _text(response)
    assert client.post(base, data={"slot": "junk", "csrf": _csrf(html)}).status_code == 400


def test_an_appointment_inside_the_cutoff_offers_no_changes(
    client: FlaskClient, demo: Demo
) -> None:
    with time_machine.travel(at("2026-11-19 08:00"), tick=False):
        html = client.get(path_of(demo.jane_url)).get_data(as_text=True)
    assert "Less than 24 hours to go" in html
    assert f"/appointments/{demo.jane_soon}/cancel" not in html
    assert f"/appointments/{demo.jane_upcoming}/cancel" in html


def test_rescheduling_offers_best_slots_and_moves_the_appointment(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    page = client.get(f"{path_of(demo.jane_url)}/appointments/{demo.jane_upcoming}/reschedule")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Choose a new time" in html
    values = re.findall(r'name="slot" value="([^"]+)"', html)
    assert 4 <= len(values) <= 8
    moved = client.post(
        f"{path_of(demo.jane_url)}/appointments/{demo.jane_upcoming}/reschedule",
        data={"slot": values[0], "csrf": _csrf(html)},
    )
    assert moved.status_code == 303 and moved.headers["Location"].endswith("?notice=moved")
    start, staff = values[0].split("|")
    with _db(app).read() as session:
        appointment = session.get(Appointment, demo.jane_upcoming)
        assert appointment.starts_at == datetime.fromisoformat(start)
        assert appointment.staff_id == int(staff)
        assert appointment.events[-1].kind == "rescheduled"
    assert "has been moved" in client.get(moved.headers["Location"]).get_data(as_text=True)


def test_cancelling_asks_first_and_respects_the_cutoff(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = path_of(demo.jane_url)
    confirm = client.get(f"{base}/appointments/{demo.jane_upcoming}/cancel")
    html = confirm.get_data(as_text=True)
    assert "Cancel this appointment?" in html and "Yes, cancel it" in html
    with _db(app).read() as session:
        assert session.get(Appointment, demo.jane_upcoming).status != CANCELLED  # asked only
    done = client.post(
        f"{base}/appointments/{demo.jane_upcoming}/cancel", data={"csrf": _csrf(html)}
    )
    assert done.status_code == 303
    with time_machine.travel(at("2026-11-19 08:00"), tick=False):
        late = client.post(
            f"{base}/appointments/{demo.jane_soon}/cancel", data={"csrf": _csrf(html)}
        )
    assert late.status_code == 409 and "less than 24 hours" in late.get_data(as_text=True)
    with _db(app).read() as session:
        assert session.get(Appointment, demo.jane_upcoming).status == CANCELLED
        assert session.get(Appointment, demo.jane_soon).status != CANCELLED


def test_a_post_without_the_links_form_token_changes_nothing(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = path_of(demo.jane_url)
    bobs = _form_token(client, demo.bob_url, demo.bob_upcoming)
    for data in ({}, {"csrf": "forged"}, {"csrf": bobs}):
        response = client.post(f"{base}/appointments/{demo.jane_upcoming}/cancel", data=data)
        assert response.status_code == 403
    with _db(app).read() as session:
        assert session.get(Appointment, demo.jane_upcoming).status != CANCELLED


def test_an_estimate_is_approved_from_the_portal(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    db = _db(app)
    with db.write() as session:
        estimate = create_estimate(
            session,
            customer_id=demo.jane,
            lines=[LineSpec("labour", "Bridal trial and styling", 15000)],
            now=NOW,
        )
        send_estimate(session, estimate.id, now=NOW)
        estimate_id = estimate.id
    html = client.get(path_of(demo.jane_url)).get_data(as_text=True)
    assert "Estimate EST-0001" in html and "Waiting for your approval" in html
    pdf = client.get(f"{path_of(demo.jane_url)}/estimates/{estimate_id}.pdf")
    assert pdf.data.startswith(b"%PDF")
    done = client.post(
        f"{path_of(demo.jane_url)}/estimates/{estimate_id}/approve", data={"csrf": _csrf(html)}
    )
    assert done.status_code == 303
    with db.read() as session:
        estimate = session.get(Estimate, estimate_id)
        assert estimate.status == APPROVED and estimate.answer_channel == "web"


def test_pay_goes_to_the_invoices_pay_link_and_pdfs_download(
    client: FlaskClient, demo: Demo
) -> None:
    base = path_of(demo.jane_url)
    pay = client.get(f"{base}/invoices/{demo.jane_invoice}/pay")
    assert pay.status_code == 303 and pay.headers["Location"].startswith("/pay/")
    assert "$48.99" in client.get(pay.headers["Location"]).get_data(as_text=True)
    pdf = client.get(f"{base}/invoices/{demo.jane_invoice}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]


def test_a_statement_pdf_covers_the_dates_asked_for(client: FlaskClient, demo: Demo) -> None:
    base = path_of(demo.jane_url)
    pdf = client.get(f"{base}/statement.pdf?from=2026-11-01&to=2026-11-16")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Jane Smith" in text and "INV-0001" in text and "48.99" in text
    for bad in ("from=2026-11-16&to=2026-11-01", "from=nope&to=2026-11-01", ""):
        assert client.get(f"{base}/statement.pdf?{bad}").status_code == 400


def test_the_saved_card_shows_brand_and_last_four_and_can_be_removed(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    db = _db(app)
    with db.write() as session:
        keep_card(
            session,
            demo.jane,
            CardDetails("pm_test_1", "visa", "4242", 12, 2030),
            provider="sandbox",
            provider_customer_id="cus_1",
            now=NOW,
        )
    html = client.get(path_of(demo.jane_url)).get_data(as_text=True)
    assert "Visa ending 4242" in html and "pm_test_1" not in html
    removed = client.post(f"{path_of(demo.jane_url)}/card/remove", data={"csrf": _csrf(html)})
    assert removed.status_code == 303
    after = client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Your saved card has been removed" in after and "Visa ending 4242" not in after
    with db.read() as session:
        assert session.scalars(select(SavedCard.removed_at)).one() is not None


# ------------------------------------------------------------------- links that don't work


def _assert_reveals_nothing(response: TestResponse) -> None:
    html = _text(response)
    private = ("Jane", "Bob", "Smith", "Jones", "INV-0", "$", "Haircut", "Sam Rivera")
    business = ("214 Grand St", "555-0100", "hello@maplemane")  # nor the business's details
    for secret in private + business:
        assert secret not in html, secret
    assert "Maple & Mane Salon" in html and 'src="/brand/logo"' in html  # name and logo only


def test_tampered_expired_and_revoked_links_get_403_and_410_pages_with_no_data(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    token = demo.jane_token
    tampered = client.get(f"/portal/{token[:-2]}xy")
    assert tampered.status_code == 403 and "This link doesn't work" in _text(tampered)
    _assert_reveals_nothing(tampered)
    wrong_role = client.get(f"/portal/{demo.owner_token}")
    assert wrong_role.status_code == 403
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        expired = client.get(f"/portal/{token}")
        expired_pdf = client.get(f"/portal/{token}/invoices/{demo.jane_invoice}.pdf")
    assert expired.status_code == 410 and "This link has expired" in _text(expired)
    assert expired_pdf.status_code == 410 and not expired_pdf.data.startswith(b"%PDF")
    _assert_reveals_nothing(expired)
    with _db(app).write() as session:
        revoke_links(session, demo.jane, now=NOW)
    for path in (
        "",
        f"/invoices/{demo.jane_invoice}/pay",
        "/statement.pdf?from=2026-11-01&to=2026-11-16",
    ):
        revoked = client.get(f"/portal/{token}{path}")
        assert revoked.status_code == 410, path
        _assert_reveals_nothing(revoked)
    assert "turned off" in client.get(f"/portal/{token}").get_data(as_text=True)


def test_another_customers_things_are_not_reachable_with_a_link(
    app: Flask, client: FlaskClient, demo: Demo
) -> None:
    base = path_of(demo.jane_url)
    csrf = _form_token(client, demo.jane_url, demo.jane_upcoming)
    attempts = [
        client.get(f"{base}/invoices/{demo.bob_invoice}.pdf"),
        client.get(f"{base}/invoices/{demo.bob_invoice}/pay"),
        client.get(f"{base}/appointments/{demo.bob_upcoming}/reschedule"),
        client.get(f"{base}/appointments/{demo.bob_upcoming}/cancel"),
        client.post(f"{base}/appointments/{demo.bob_upcoming}/cancel", data={"csrf": csrf}),
        client.post(f"{base}/estimates/999/approve", data={"csrf": csrf}),
    ]
    for response in attempts:
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert (
            "Bob" not in html and "INV-0002" not in html and not response.data.startswith(b"%PDF")
        )
    with _db(app).read() as session:
        assert session.get(Appointment, demo.bob_upcoming).status != CANCELLED
        assert get_invoice(session, demo.bob_invoice).status != "paid"

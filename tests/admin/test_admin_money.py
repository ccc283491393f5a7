"""Money by chat: the owner charges a saved card now or on a date (listed, cancellable, run
by the billing job), staff record cash or card taken on site, customers pay part online."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.billing.jobs import billing_jobs
from bot.billing.ledger.invoices import (
    LineSpec,
    create_invoice,
    find_invoice,
    get_invoice,
    issue_invoice,
    totals,
)
from bot.billing.payments.gateway import CardDetails
from bot.billing.payments.online import keep_card, run_scheduled_charges
from bot.config import apply_config, load_config
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from bot.scheduling.booking import book
from storage.billing import PAID, Payment, PaymentCustomer, ScheduledCharge
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AdminAudit, Customer, CustomerIdentity
from tests.browser import chromium_page, live_server
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import local, service_id, staff_id
from tests.fakes.stripe_api import FakeStripe, fake_stripe_server, signed, stripe_env
from tests.fakes.twilio_api import FakeTwilio, make_fake_twilio, twilio_env

NOW = local("2026-11-17 10:00")  # Tuesday
BOB = "+12125550202"
PRIYA = "+12125550103"


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with fake_stripe_server() as server:
        for key, value in stripe_env(server).items():
            monkeypatch.setenv(key, value)
        yield server


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as fake:
        yield fake


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture(params=[("web", "owner"), ("telegram", "1000")], ids=["web", "telegram"])
def owner(request, salon: Database) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def customer(db: Database, name: str, phone: str, *, card: bool = False) -> int:
    with db.write() as session:
        row = Customer(name=name, phone=phone, created_at=NOW, notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="sms", address=phone, created_at=NOW)
        )
        if card:
            session.add(
                PaymentCustomer(
                    customer_id=row.id,
                    provider="stripe",
                    provider_customer_id="cus_test_1",
                    created_at=NOW,
                )
            )
            keep_card(
                session,
                row.id,
                CardDetails("pm_test_card", "visa", "4242", 12, 2030),
                provider="stripe",
                provider_customer_id="cus_test_1",
                now=NOW,
            )
        return row.id


def invoice(db: Database, customer_id: int, amount: int = 8000) -> str:
    with db.write() as session:
        draft = create_invoice(
            session,
            customer_id=customer_id,
            now=NOW,
            lines=[LineSpec("service", "Colour", amount, 1, "0")],
        )
        return issue_invoice(session, draft.id, now=NOW).number


def balance(db: Database, number: str) -> int:
    with db.read() as session:
        found = find_invoice(session, number)
        assert found is not None
        return totals(session, found).balance


@pytest.mark.parametrize(
    "phrasing",
    [
        "charge Bob's card for {number}",
        "charge bob's card for inv-1",
        "charge {number} to the card on file",
        "run Bob's card",
    ],
)
def test_an_owner_charges_a_saved_card_after_seeing_brand_and_last_four(
    owner, salon, stripe, phrasing
):
    bob = customer(salon, "Bob Stone", BOB, card=True)
    number = invoice(salon, bob)
    owner.say(phrasing.format(number=number))
    owner.expect("Charge $80.00 to Bob Stone's Visa ending 4242", number, "now?")
    assert stripe.calls("POST", "/v1/payment_intents") == []
    owner.say("yes")
    owner.expect(f"Charged $80.00 for {number}", "Paid in full")
    [call] = stripe.calls("POST", "/v1/payment_intents")
    assert call.params["amount"] == "8000" and call.params["payment_method"] == "pm_test_card"
    assert call.params["off_session"] == "true" and call.idempotency_key
    with salon.read() as session:
        [payment] = session.scalars(select(Payment)).all()
        assert (payment.amount_minor, payment.method, payment.provider) == (8000, "card", "stripe")
        assert get_invoice(session, payment.invoice_id).status == PAID
        assert "charge_card" in session.scalars(select(AdminAudit.action)).all()


def test_a_declined_card_sends_the_customer_a_pay_link(owner, salon, stripe):
    bob = customer(salon, "Bob Stone", BOB, card=True)
    number = invoice(salon, bob)
    stripe.fail_charges("card_declined")
    owner.say(f"charge Bob's card for {number}")
    owner.say("yes")
    owner.expect("wasn't charged", "sent a pay link")
    with salon.read() as session:
        assert session.scalars(select(Payment)).all() == []
        purposes = session.scalars(
            select(OutboxMessage.purpose).where(OutboxMessage.address == BOB)
        ).all()
        assert "payment_failed" in purposes


def test_no_card_no_charge_and_no_means_nothing_happens(owner, salon, stripe):
    ana = customer(salon, "Ana Lee", "+12125550203")
    number = invoice(salon, ana)
    owner.say(f"charge Ana's card for {number}")
    owner.expect("has no saved card", f"link {number}")
    bob = customer(salon, "Bob Stone", BOB, card=True)
    other = invoice(salon, bob)
    owner.say(f"charge {other} to the card")
    owner.say("no")
    owner.expect("nothing changed")
    assert stripe.calls("POST", "/v1/payment_intents") == []


@pytest.mark.parametrize(
    ("phrasing", "day", "when"),
    [
        ("charge Bob's card for {number} on the 30th", "2026-11-30", "Mon, Nov 30, 9:00 AM"),
        ("charge {number} to the card on dec 3", "2026-12-03", "Thu, Dec 3, 9:00 AM"),
    ],
)
def test_a_charge_scheduled_for_a_day_is_listed_and_run_by_the_billing_job_that_day(
    owner, salon, stripe, phrasing, day, when
):
    bob = customer(salon, "Bob Stone", BOB, card=True)
    number = invoice(salon, bob)
    owner.say(phrasing.format(number=number))
    owner.expect("Visa ending 4242", when, "$80.00")
    owner.say("yes")
    owner.expect("Scheduled charge #1", when)
    owner.say("scheduled charges")
    owner.expect("Scheduled charges: 1", f"#1 {when}: {number} Bob Stone, Visa ending 4242")
    assert "run_scheduled_charges" in [name for name, _, _ in billing_jobs(salon)]
    # The day before: nothing runs; that morning the job charges the balance then.
    assert run_scheduled_charges(salon, local(f"{day} 08:00") - timedelta(days=1)) == 0
    assert stripe.calls("POST", "/v1/payment_intents") == []
    assert run_scheduled_charges(salon, local(f"{day} 09:01")) == 1
    [call] = stripe.calls("POST", "/v1/payment_intents")
    assert call.params["amount"] == "8000"
    assert balance(salon, number) == 0
    owner.say("scheduled charges")
    owner.expect("No scheduled charges")


def test_charge_the_card_on_a_day_follows_the_invoice_just_talked_about(owner, salon, stripe):
    bob = customer(salon, "Bob Stone", BOB, card=True)
    number = invoice(salon, bob)
    owner.say(f"charge Bob's card for {number}")
    owner.say("no")
    owner.say("charge the card on the 30th")
    owner.expect(f"Charge Bob Stone's Visa ending 4242 for {number} on Mon, Nov 30, 9:00 AM?")
    owner.say("yes")
    with salon.read() as session:
        [charge] = session.scalars(select(ScheduledCharge)).all()
        assert charge.charge_at == local("2026-11-30 09:00") and charge.status == "pending"


@pytest.mark.parametrize("phrasing", ["cancel scheduled charge 1", "don't charge {number}"])
def test_a_cancelled_scheduled_charge_never_runs(owner, salon, stripe, phrasing):
    bob = customer(salon, "Bob Stone", BOB, card=True)
    number = invoice(salon, bob)
    owner.say(f"charge Bob's card for {number} on the 30th")
    owner.say("yes")
    owner.say(phrasing.format(number=number))
    owner.expect("Cancel scheduled charge #1", number)
    owner.say("yes")
    owner.expect("cancelled")
    assert run_scheduled_charges(salon, local("2026-11-30 10:00")) == 0
    assert stripe.calls("POST", "/v1/payment_intents") == []
    with salon.read() as session:
        assert session.scalars(select(ScheduledCharge.status)).all() == ["cancelled"]
    owner.say("scheduled charges")
    owner.expect("No scheduled charges")


# --- staff on site, by SMS -------------------------------------------------------------


def priyas_job(db: Database, who: int, at: str = "2026-11-17 11:00") -> int:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=who,
            service_id=service_id(session, "massage-60"),
            start=local(at),
            staff_id=staff_id(session, "priya"),
            now=NOW,
            enforce_rules=False,
        )
        return outcome.appointment.id


@pytest.mark.parametrize(
    ("phrasing", "amount", "method"),
    [
        ("took 80 cash for #{id}", 8000, "cash"),
        ("took $45.50 cash for #{id}", 4550, "cash"),
        ("collected 90 by card for #{id}", 9000, "card"),
        ("got 20 in cash", 2000, "cash"),
    ],
)
def test_staff_record_money_taken_on_site_by_sms(salon, twilio, phrasing, amount, method):
    jane = customer(salon, "Jane Doe", "+12125550201")
    job = priyas_job(salon, jane)
    priya = Chat(salon, local("2026-11-17 11:30"), channel="sms", sender=PRIYA)
    priya.say(phrasing.format(id=job))
    priya.expect(f"Record ${amount / 100:.2f} {method} from Jane Doe for #{job}")
    priya.say("yes")
    priya.expect(f"Recorded ${amount / 100:.2f} {method}", f"for #{job}")
    with salon.read() as session:
        [payment] = session.scalars(select(Payment)).all()
        assert (payment.amount_minor, payment.method) == (amount, method)
        assert payment.actor == f"staff:sms:{PRIYA}"
        assert payment.provider is None
        assert get_invoice(session, payment.invoice_id).appointment_id == job
    dispatch_due(salon, build_senders(twilio_env(twilio)), now=local("2026-11-17 11:31"))
    receipts = [m["body"] for m in twilio.to("+12125550201")]
    assert any(f"received ${amount / 100:.2f}" in body for body in receipts), receipts


def test_staff_cannot_record_money_on_someone_elses_job(salon):
    jane = customer(salon, "Jane Doe", "+12125550201")
    with salon.write() as session:
        sams = book(
            session,
            customer_id=jane,
            service_id=service_id(session, "haircut"),
            start=local("2026-11-17 11:00"),
            staff_id=staff_id(session, "sam"),
            now=NOW,
            enforce_rules=False,
        ).appointment.id
    priya = Chat(salon, local("2026-11-17 11:30"), channel="sms", sender=PRIYA)
    priya.say(f"took 45 cash for #{sams}")
    priya.expect("one of your jobs")
    with salon.read() as session:
        assert session.scalars(select(Payment)).all() == []


# --- customers paying part, in chat and on the pay page --------------------------------


def _pay_token(text: str) -> tuple[str, str]:
    match = re.search(r"/pay/([A-Za-z0-9_-]+)\?amount=([\d.]+)", text)
    assert match, text
    return match.group(1), match.group(2)


@pytest.mark.parametrize(
    ("phrasing", "part"),
    [("pay 50", "50.00"), ("can I pay $30 now", "30.00"), ("I'd like to pay 25.50 today", "25.50")],
)
def test_a_customer_pays_part_of_a_balance_online(app, client, stripe, phrasing, part):
    db = app.extensions["slotbot.db"]
    jane = customer(db, "Jane Doe", "+12125550201")
    number = invoice(db, jane, 9000)
    chat = Chat(db, NOW, channel="sms", sender="+12125550201")
    chat.say(phrasing)
    chat.expect(f"Pay ${part} of $90.00 for {number}")
    token, amount = _pay_token(chat.text)
    assert amount == part
    page = client.get(f"/pay/{token}?amount={amount}").get_data(as_text=True)
    assert f'value="{part}"' in page and f"Pay ${part}" in page and "$0.50 or more" in page
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    response = client.post(f"/pay/{token}", data={"nonce": nonce, "amount": part})
    assert response.status_code == 303
    [created] = stripe.calls("POST", "/v1/checkout/sessions")
    cents = str(round(float(part) * 100))
    assert created.params["line_items"][0]["price_data"]["unit_amount"] == cents
    paid = stripe.pay_checkout(next(iter(stripe.sessions)))
    body, header = signed(stripe.event("checkout.session.completed", paid))
    hook = client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert hook.get_json()["outcome"] == "paid"
    assert balance(db, number) == 9000 - int(cents)


def test_the_pay_page_refuses_less_than_the_minimum_or_more_than_is_due(app, client, stripe):
    db = app.extensions["slotbot.db"]
    jane = customer(db, "Jane Doe", "+12125550201")
    invoice(db, jane, 9000)
    chat = Chat(db, NOW, channel="sms", sender="+12125550201")
    chat.say("pay 40")
    token, _ = _pay_token(chat.text)
    for typed, words in [("0.20", "smallest amount"), ("120", "more than is due"), ("abc", "")]:
        response = client.post(f"/pay/{token}", data={"nonce": "n" * 20, "amount": typed})
        assert response.status_code == 422
        assert words in response.get_data(as_text=True)
    assert stripe.calls("POST", "/v1/checkout/sessions") == []
    # A customer asking to pay more than is due gets a link for the balance.
    chat.say("pay 500")
    chat.expect("Pay $90.00 of $90.00")


def test_the_pay_page_amount_box_in_chromium(app, stripe, artifacts):
    db = app.extensions["slotbot.db"]
    jane = customer(db, "Jane Doe", "+12125550201")
    invoice(db, jane, 9000)
    chat = Chat(db, NOW, channel="sms", sender="+12125550201")
    chat.say("can I pay $30 now?")
    token, _ = _pay_token(chat.text)
    with live_server(app) as server, chromium_page(viewport={"width": 390, "height": 844}) as page:
        page.goto(f"{server}/pay/{token}?amount=30.00")
        box = page.get_by_label("Amount to pay now")
        assert box.input_value() == "30.00"
        page.get_by_role("button", name="Pay $30.00").wait_for()
        page.screenshot(path=str(artifacts / "pay-part.png"), full_page=True)
        box.fill("45")
        page.get_by_role("button", name="Pay $45.00").wait_for()  # the button follows the box
        box.fill("0.20")
        page.get_by_role("button", name=re.compile("^Pay")).click()
        page.get_by_test_id("amount-error").wait_for()
        assert "smallest amount you can pay online is $0.50" in page.inner_text("body")
        assert box.input_value() == "0.20"  # what was typed stays, to correct
        page.screenshot(path=str(artifacts / "pay-part-too-small.png"), full_page=True)
    assert stripe.calls("POST", "/v1/checkout/sessions") == []


@pytest.mark.parametrize("phrasing", ["charge the card for INV-9999", "charge jane 50"])
def test_a_charge_naming_something_else_never_charges_the_invoice_just_talked_about(
    owner, salon, stripe, phrasing
):
    bob = customer(salon, "Bob Stone", BOB, card=True)
    number = invoice(salon, bob)
    owner.say(f"charge Bob's card for {number}")
    owner.say("no")
    owner.say(phrasing)
    owner.expect_not("Charge $80.00", number)
    owner.say("yes")
    assert stripe.calls("POST", "/v1/payment_intents") == []
    assert balance(salon, number) == 8000

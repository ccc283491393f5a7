"""Stripe's refusals: the fake refuses what Stripe refuses (unknown and missing parameters,
amounts under the currency's minimum, refunds beyond what is left), and slotbot's answers to
them — no checkout for a balance under the minimum but a way to pay instead, the owner told,
and a readable sentence for every class of Stripe error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import select

from bot.billing.chat import balance_reply, pay_reply
from bot.billing.ledger.invoices import LineSpec, create_invoice, get_invoice
from bot.billing.ledger.receivables import charge_no_show_fees
from bot.billing.ledger.settlement import record_payment
from bot.billing.payments.deposits import require_deposit
from bot.billing.payments.gateway import CardDetails, GatewayError
from bot.billing.payments.links import pay_link
from bot.billing.payments.online import (
    BELOW_MINIMUM,
    charge_saved_card,
    keep_card,
    refund_payment,
    run_scheduled_charges,
    schedule_charge,
    start_checkout,
)
from bot.billing.payments.stripe_gateway import StripeGateway
from bot.config import apply_config, load_config
from bot.messaging.messages import Reply
from bot.scheduling.booking import set_status
from storage.billing import CARD, SKIPPED, CheckoutAttempt, Payment, ScheduledCharge
from storage.db import Database
from storage.models import AWAITING_DEPOSIT, NO_SHOW, Appointment
from tests.billing_factories import (
    BILLING,
    NOW,
    OWNER,
    add_reachable_customer,
    billing_toml,
    book_for,
    outbox,
    setup_billing,
)
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat
from tests.factories import setup_business
from tests.fakes.stripe_api import API_KEY, FakeStripe, fake_stripe_server, stripe_env


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with fake_stripe_server() as server:
        for key, value in stripe_env(server).items():
            monkeypatch.setenv(key, value)
        yield server


def _client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})


def _refusal(call) -> stripe.StripeError:
    with pytest.raises(stripe.StripeError) as caught:
        call()
    return caught.value


def _checkout(fake: FakeStripe, unit_amount: int, currency: str = "usd", **extra) -> dict:
    item = {
        "quantity": 1,
        "price_data": {
            "currency": currency,
            "unit_amount": unit_amount,
            "product_data": {"name": "Invoice INV-0001"},
        },
    }
    return {
        "mode": "payment",
        "line_items": [item],
        "success_url": "https://bot.example/done",
        **extra,
    }


def _invoice(db: Database, amount: int = 4500) -> tuple[int, str]:
    """An issued invoice to a reachable customer, and its pay link's token."""
    customer = add_reachable_customer(db)
    with db.write() as session:
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=NOW,
            lines=[LineSpec("service", "Haircut", amount, 1, "0")],
        )
        return invoice.id, pay_link(session, invoice.id, now=NOW).token


def _leave_twenty_cents(db: Database, invoice_id: int) -> None:
    with db.write() as session:
        record_payment(session, invoice_id, amount_minor=4480, method="cash", now=NOW)


def _of(db: Database, invoice_id: int) -> tuple[int, str]:
    """An invoice's customer id and number."""
    with db.read() as session:
        invoice = get_invoice(session, invoice_id)
        return invoice.customer_id, invoice.number or ""


# --------------------------------------------------------- the fake refuses like Stripe


def test_an_unknown_parameter_is_refused_400_parameter_unknown(fake):
    client = _client(fake)
    error = _refusal(lambda: client.v1.customers.create(params={"nmae": "Jane"}))
    assert isinstance(error, stripe.InvalidRequestError) and error.http_status == 400
    assert (error.code, error.param) == ("parameter_unknown", "nmae")
    params = _checkout(fake, 4500)
    params["line_items"][0]["price_data"]["unit_amout"] = 4500
    nested = _refusal(lambda: client.v1.checkout.sessions.create(params=params))
    assert nested.param == "line_items[0][price_data][unit_amout]"
    assert fake.refused()[0] == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "message": "Received unknown parameter: nmae",
        "param": "nmae",
    }
    assert fake.customers == {} and fake.sessions == {}


def test_a_missing_required_parameter_is_refused_400_parameter_missing_not_a_500(fake):
    client = _client(fake)
    no_amount = _refusal(lambda: client.v1.payment_intents.create(params={"currency": "usd"}))
    assert (no_amount.http_status, no_amount.code, no_amount.param) == (
        400,
        "parameter_missing",
        "amount",
    )
    no_mode = _refusal(
        lambda: client.v1.checkout.sessions.create(
            params={k: v for k, v in _checkout(fake, 4500).items() if k != "mode"}
        )
    )
    assert (no_mode.code, no_mode.param) == ("parameter_missing", "mode")
    params = _checkout(fake, 4500)
    del params["line_items"][0]["price_data"]["currency"]
    nested = _refusal(lambda: client.v1.checkout.sessions.create(params=params))
    assert nested.param == "line_items[0][price_data][currency]"
    no_target = _refusal(lambda: client.v1.refunds.create(params={"amount": 100}))
    assert (no_target.http_status, no_target.code) == (400, "parameter_missing")


def test_a_twenty_cent_checkout_or_charge_is_refused_amount_too_small(fake):
    client = _client(fake)
    checkout = _refusal(lambda: client.v1.checkout.sessions.create(params=_checkout(fake, 20)))
    assert (checkout.http_status, checkout.code) == (400, "amount_too_small")
    assert "at least $0.50 usd" in str(checkout)
    charge = _refusal(
        lambda: client.v1.payment_intents.create(params={"amount": 20, "currency": "usd"})
    )
    assert charge.code == "amount_too_small" and charge.param == "amount"
    # The minimum is per currency: GBP 0.30 is enough, 0.29 is not.
    assert client.v1.checkout.sessions.create(params=_checkout(fake, 50)).id
    assert client.v1.checkout.sessions.create(params=_checkout(fake, 30, "gbp")).id
    gbp = _refusal(lambda: client.v1.checkout.sessions.create(params=_checkout(fake, 29, "gbp")))
    assert gbp.code == "amount_too_small"


def test_a_refund_beyond_what_is_left_is_refused_and_a_full_refund_cannot_be_repeated(fake):
    client = _client(fake)
    session = client.v1.checkout.sessions.create(params=_checkout(fake, 4500))
    intent = fake.pay_checkout(session.id)["payment_intent"]
    assert (
        client.v1.refunds.create(params={"payment_intent": intent, "amount": 3000}).amount == 3000
    )
    over = _refusal(
        lambda: client.v1.refunds.create(params={"payment_intent": intent, "amount": 2000})
    )
    assert (over.http_status, over.code, over.param) == (400, "amount_too_large", "amount")
    assert "greater than unrefunded amount on charge ($15.00 usd)" in str(over)
    assert client.v1.refunds.create(params={"payment_intent": intent}).amount == 1500
    again = _refusal(lambda: client.v1.refunds.create(params={"payment_intent": intent}))
    assert again.code == "charge_already_refunded"


def test_a_refused_request_is_not_kept_for_idempotent_replay(fake):
    client = _client(fake)
    key = {"idempotency_key": "same-key"}
    _refusal(lambda: client.v1.customers.create(params={"nmae": "Jane"}, options=key))
    created = client.v1.customers.create(params={"name": "Jane"}, options=key)
    assert created.id.startswith("cus_") and not fake.calls("POST", "/v1/customers")[-1].replayed


# ------------------------------------------------------------ what slotbot does instead


def test_a_twenty_cent_balance_pay_link_says_pay_another_way_and_makes_no_session(
    app, client, fake
):
    db = app.extensions["slotbot.db"]
    invoice_id, token = _invoice(db)
    _leave_twenty_cents(db, invoice_id)
    page = client.get(f"/pay/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Please pay another way" in text
    assert "$0.20" in text and "$0.50 minimum for paying online" in text
    assert 'name="nonce"' not in text  # no Pay button
    clicked = client.post(f"/pay/{token}", data={"nonce": "n" * 24})
    assert clicked.status_code == 200 and "Please pay another way" in clicked.get_data(as_text=True)
    assert fake.calls("POST", "/v1/checkout/sessions") == []
    assert fake.calls("POST", "/v1/customers") == []


def test_start_checkout_for_a_balance_under_the_minimum_returns_the_page_not_a_session(app, fake):
    db = app.extensions["slotbot.db"]
    invoice_id, token = _invoice(db, amount=40)
    outcome = start_checkout(db, token, nonce=None, save_card=False, now=NOW)
    assert outcome.kind == "below_minimum" and outcome.balance_minor == 40
    assert fake.requests == []


def test_the_customer_asking_to_pay_twenty_cents_is_told_how_to_pay_instead(db):
    setup_billing(db)
    invoice_id, _token = _invoice(db)
    _leave_twenty_cents(db, invoice_id)
    customer_id, _number = _of(db, invoice_id)
    with db.write() as session:
        pay = pay_reply(session, customer_id, NOW).text
        owed = balance_reply(session, customer_id, NOW).text
    for text in (pay, owed):
        assert "/pay/" not in text
        assert "$0.20 is below the $0.50 minimum for paying online" in text
        assert "pay in person" in text


@pytest.fixture
def salon_owner(db: Database) -> tuple[Chat, Database]:
    apply_config(db, load_config(DEMO_CONFIG))
    return Chat(db, NOW, channel="web", sender="owner"), db


def test_the_owner_resending_a_twenty_cent_link_is_told_to_collect_it_another_way(salon_owner):
    chat, db = salon_owner
    invoice_id, _token = _invoice(db)
    _leave_twenty_cents(db, invoice_id)
    _customer, number = _of(db, invoice_id)
    chat.say(f"resend the pay link for {number}")
    chat.expect(
        f"{number}'s balance of $0.20 is below the $0.50 minimum for paying online",
        f'reply "mark {number} paid cash"',
    )
    assert outbox(db, purpose="pay_link") == []


def test_a_deposit_under_the_minimum_asks_to_pay_another_way_and_tells_the_owner(db):
    setup_business(db, billing_toml().replace('deposit = "20%"', 'deposit = "0.25"'))
    customer = add_reachable_customer(db)
    appointment_id = book_for(db, customer, service="colour", status=AWAITING_DEPOSIT)
    with db.write() as session:
        request = require_deposit(session, session.get(Appointment, appointment_id), NOW)
        assert request is not None and request.amount_minor == 25
    [asked] = outbox(db, purpose="deposit")
    text = Reply.from_json(asked.body).text
    assert "$0.25 deposit is due within 24 hours" in text and "/pay/" not in text
    assert "below the $0.50 minimum for paying online" in text
    notices = [Reply.from_json(m.body).text for m in outbox(db, purpose="owner_notice")]
    assert any(
        "needs a $0.25 deposit" in n and f'"mark {request.invoice.number} paid cash"' in n
        for n in notices
    ), notices
    assert any(m.address == OWNER.split(":", 1)[1] for m in outbox(db, purpose="owner_notice"))


def test_a_saved_card_is_not_charged_for_a_balance_under_the_minimum(app, fake):
    db = app.extensions["slotbot.db"]
    invoice_id, _token = _invoice(db)
    _leave_twenty_cents(db, invoice_id)
    customer_id, _number = _of(db, invoice_id)
    with db.write() as session:
        keep_card(
            session,
            customer_id,
            CardDetails("pm_test_1", "visa", "4242", 12, 2030),
            provider="stripe",
            provider_customer_id="cus_test_1",
            now=NOW,
        )
        result = charge_saved_card(session, invoice_id, NOW)
    assert result.status == BELOW_MINIMUM and "$0.20" in result.message
    assert fake.calls("POST", "/v1/payment_intents") == []


def test_a_refund_beyond_what_is_refundable_is_refused_before_stripe_is_asked(app, fake):
    db = app.extensions["slotbot.db"]
    invoice_id, _token = _invoice(db)
    with db.write() as session:
        record_payment(
            session,
            invoice_id,
            amount_minor=4500,
            method=CARD,
            now=NOW,
            provider="stripe",
            provider_payment_id="pi_test_paid",
        )
        payment_id = session.scalars(select(Payment.id)).one()
    with pytest.raises(GatewayError, match=r"At most \$45.00 of this payment can still be"):
        refund_payment(db, payment_id, amount_minor=5000, now=NOW)
    assert fake.calls("POST", "/v1/refunds") == []


# ------------------------------------------------------------ readable Stripe errors

_ERRORS = [
    # (status, Stripe error type, code, what the sentence says, worth retrying)
    (400, "invalid_request_error", "parameter_unknown", "slotbot problem", False),
    (400, "invalid_request_error", "amount_too_small", "paid another way", False),
    (404, "invalid_request_error", "resource_missing", "has no record of", False),
    (401, "invalid_request_error", None, "check STRIPE_SECRET_KEY", False),
    (403, "invalid_request_error", None, "not allowed to do this", False),
    (402, "card_error", "card_declined", "card was refused (card declined)", False),
    (429, "invalid_request_error", "rate_limit", "rate limiting", True),
    (400, "idempotency_error", None, "seen this request before", False),
    (500, "api_error", None, "problem on its side", True),
]


@pytest.mark.parametrize(("status", "kind", "code", "says", "retryable"), _ERRORS)
def test_each_stripe_error_class_reads_as_a_sentence(fake, status, kind, code, says, retryable):
    fake.fail_next(status, kind, code, message="")  # Stripe's message may be empty
    fake.fail_next(status, kind, code, message="")  # the SDK retries 429 and 5xx
    fake.fail_next(status, kind, code, message="")
    gateway = StripeGateway(API_KEY, api_base=fake.url)
    with pytest.raises(GatewayError) as caught:
        gateway.create_customer(
            customer_id=1, name="Jane", email=None, phone=None, idempotency_key="k-1"
        )
    text = str(caught.value)
    assert text.startswith("Stripe could not create a customer: ") and says in text
    assert "None" not in text and not text.endswith(": ")
    assert caught.value.retryable is retryable


def test_stripe_out_of_reach_reads_as_a_network_problem_worth_retrying():
    gateway = StripeGateway(API_KEY, api_base="http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(GatewayError) as caught:
        gateway.refund(payment_intent_id="pi_1", amount_minor=100, idempotency_key="k-2")
    assert "could not be reached (a network problem)" in str(caught.value)
    assert caught.value.retryable


def test_a_refused_checkout_says_pay_another_way_and_an_outage_says_try_again(app, client, fake):
    db = app.extensions["slotbot.db"]
    _invoice_id, token = _invoice(db)
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    fake.fail_next(400, "invalid_request_error", "parameter_unknown", "Received unknown parameter")
    refused = client.post(f"/pay/{token}", data={"nonce": nonce})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 502 and "refused this payment" in body
    assert "try again in a minute" not in body
    for _ in range(3):  # the SDK's own retries see the outage too
        fake.fail_next(500, "api_error")
    outage = client.post(f"/pay/{token}", data={"nonce": nonce}).get_data(as_text=True)
    assert "Please try again in a minute" in outage


def test_a_scheduled_charge_under_the_minimum_is_skipped_and_the_owners_told(db, fake):
    setup_billing(db)
    invoice_id, _token = _invoice(db)
    _leave_twenty_cents(db, invoice_id)
    customer_id, number = _of(db, invoice_id)
    with db.write() as session:
        keep_card(
            session,
            customer_id,
            CardDetails("pm_test_2", "visa", "4242", 12, 2030),
            provider="stripe",
            provider_customer_id="cus_test_2",
            now=NOW,
        )
        schedule_charge(session, invoice_id, charge_at=NOW, now=NOW)
    gateway = StripeGateway(API_KEY, api_base=fake.url)
    assert run_scheduled_charges(db, NOW, gateway=gateway) == 1
    assert fake.calls("POST", "/v1/payment_intents") == []
    with db.read() as session:
        [charge] = session.scalars(select(ScheduledCharge)).all()
        assert charge.status == SKIPPED and "$0.20" in (charge.last_error or "")
    [note] = [
        Reply.from_json(m.body).text
        for m in outbox(db, purpose="owner_notice")
        if "Scheduled card charge skipped" in Reply.from_json(m.body).text
    ]
    assert f"{number}'s balance of $0.20 is below the $0.50 minimum" in note


def test_a_no_show_fee_under_the_minimum_is_not_put_on_the_card_but_asked_for_otherwise(db):
    setup_billing(db, BILLING.replace('no_show_fee = "25.00"', 'no_show_fee = "0.30"'))
    customer = add_reachable_customer(db)
    with db.write() as session:
        keep_card(
            session,
            customer,
            CardDetails("pm_sandbox_y", "visa", "4242", 12, 2030),
            provider="sandbox",
            provider_customer_id="cus_sandbox_2",
            now=NOW,
        )
    appointment_id = book_for(db, customer)
    with db.write() as session:
        set_status(session, appointment_id, NO_SHOW, now=NOW + timedelta(days=1, hours=1))
    assert charge_no_show_fees(db, NOW + timedelta(days=1, hours=2)) == 1
    with db.read() as session:
        assert session.scalars(select(ScheduledCharge)).all() == []
    [message] = outbox(db, purpose="no_show_fee")
    text = Reply.from_json(message.body).text
    assert "$0.30 is below the $0.50 minimum for paying online" in text and "/pay/" not in text


def test_the_sandbox_follows_the_same_minimum(app, client, monkeypatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    db = app.extensions["slotbot.db"]
    invoice_id, token = _invoice(db)
    _leave_twenty_cents(db, invoice_id)
    clicked = client.post(f"/pay/{token}", data={"nonce": "s" * 24})
    assert clicked.status_code == 200 and "Please pay another way" in clicked.get_data(as_text=True)
    with db.read() as session:
        assert session.scalars(select(CheckoutAttempt)).all() == []

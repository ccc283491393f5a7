"""Stripe through the real SDK against a local fake API: checkout from pay links, signed
webhooks (forged, stale and repeated ones change nothing), refunds, saved-card charges."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, func, select

from bot.billing.ledger.invoices import LineSpec, create_invoice, get_invoice, totals
from bot.billing.ledger.settlement import record_payment
from bot.billing.payments.gateway import AUTHENTICATION_REQUIRED, DECLINED, CardDetails
from bot.billing.payments.links import pay_link
from bot.billing.payments.online import charge_saved_card, keep_card, start_checkout
from bot.billing.payments.stripe_gateway import StripeGateway
from bot.messaging.messages import Reply
from storage.billing import (
    PAID,
    SENT,
    CheckoutAttempt,
    Invoice,
    Payment,
    PaymentCustomer,
    ProcessedEvent,
    SavedCard,
)
from storage.db import Database
from storage.messaging import OutboxMessage
from tests.billing_factories import NOW, add_reachable_customer, outbox, setup_billing, token_of
from tests.fakes.stripe_api import API_KEY, FakeStripe, fake_stripe_server, signed, stripe_env


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with fake_stripe_server() as server:
        for key, value in stripe_env(server).items():
            monkeypatch.setenv(key, value)
        yield server


def _db(app) -> Database:
    return app.extensions["slotbot.db"]


def _invoice(db: Database, amount: int = 4500) -> tuple[int, str]:
    """An issued invoice to a reachable customer, and its pay link token."""
    customer = add_reachable_customer(db)
    with db.write() as session:
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=NOW,
            lines=[LineSpec("service", "Haircut", amount, 1, "0")],
        )
        link = pay_link(session, invoice.id, now=NOW)
        return invoice.id, link.token


def _click(client, token: str, *, save_card: bool = False, nonce: str | None = None):
    page = client.get(f"/pay/{token}")
    assert page.status_code == 200
    nonce = nonce or re.search(r'name="nonce" value="([^"]+)"', page.get_data(as_text=True)).group(
        1
    )
    form = {"nonce": nonce, **({"save_card": "1"} if save_card else {})}
    return client.post(f"/pay/{token}", data=form), nonce


def _webhook(client, event: dict, **kwargs):
    body, header = signed(event, **kwargs)
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def _counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Payment, ProcessedEvent, OutboxMessage)
        )


def test_a_pay_link_click_starts_a_stripe_checkout_for_the_current_balance(app, client, fake):
    db = _db(app)
    invoice_id, token = _invoice(db)
    page = client.get(f"/pay/{token}")
    assert "$45.00" in page.get_data(as_text=True) and page.headers["Cache-Control"] == "no-store"
    response, nonce = _click(client, token, save_card=True)
    assert response.status_code == 303
    [created] = fake.calls("POST", "/v1/checkout/sessions")
    assert response.headers["Location"] == fake.sessions[next(iter(fake.sessions))]["url"]
    params = created.params
    assert params["mode"] == "payment"
    item = params["line_items"][0]
    assert item["price_data"]["unit_amount"] == "4500" and item["price_data"]["currency"] == "usd"
    assert item["price_data"]["product_data"]["name"] == "Invoice INV-0001"
    assert params["metadata"]["invoice_id"] == str(invoice_id)
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert params["success_url"].endswith(f"/pay/{token}/done")
    assert created.idempotency_key == f"slotbot-checkout-{invoice_id}-4500-1-{nonce}"
    assert params["customer"].startswith("cus_")
    # The same click resubmitted: the same session, no new request.
    again, _ = _click(client, token, save_card=True, nonce=nonce)
    assert again.headers["Location"] == response.headers["Location"]
    assert len(fake.calls("POST", "/v1/checkout/sessions")) == 1
    # After a part payment a new click asks for what is left; the Stripe customer is reused.
    with db.write() as session:
        record_payment(session, invoice_id, amount_minor=1000, method="cash", now=NOW)
    _click(client, token)
    latest = fake.calls("POST", "/v1/checkout/sessions")[-1]
    assert latest.params["line_items"][0]["price_data"]["unit_amount"] == "3500"
    assert "setup_future_usage" not in latest.params["payment_intent_data"]
    assert len(fake.calls("POST", "/v1/customers")) == 1


def test_a_retried_click_whose_record_was_lost_gets_the_same_session_from_stripe(app, fake):
    db = _db(app)
    _invoice_id, token = _invoice(db)
    nonce = "n" * 24
    first = start_checkout(db, token, nonce=nonce, save_card=False, now=NOW)
    with db.write() as session:
        session.execute(delete(CheckoutAttempt))
    second = start_checkout(db, token, nonce=nonce, save_card=False, now=NOW)
    assert first == second
    calls = fake.calls("POST", "/v1/checkout/sessions")
    assert [c.replayed for c in calls] == [False, True]
    assert calls[0].idempotency_key == calls[1].idempotency_key
    assert len(fake.sessions) == 1


def test_a_signed_checkout_webhook_records_the_payment_once_and_saves_the_card(app, client, fake):
    db = _db(app)
    invoice_id, token = _invoice(db)
    _click(client, token, save_card=True)
    session_id = next(iter(fake.sessions))
    paid = fake.pay_checkout(session_id)
    event = fake.event("checkout.session.completed", paid)
    response = _webhook(client, event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "paid"
    with db.read() as session:
        invoice = get_invoice(session, invoice_id)
        assert invoice.status == PAID and totals(session, invoice).balance == 0
        [payment] = session.scalars(select(Payment)).all()
        assert (payment.amount_minor, payment.method, payment.provider) == (4500, "card", "stripe")
        assert payment.provider_payment_id == paid["payment_intent"]
        [card] = session.scalars(select(SavedCard)).all()
        assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2030)
        assert card.payment_method_id.startswith("pm_") and card.provider_customer_id.startswith(
            "cus_"
        )
    [receipt] = outbox(db, purpose="receipt")
    assert "We received $45.00 for INV-0001 by card" in Reply.from_json(receipt.body).text
    notes = outbox(db, purpose="owner_notice")
    assert (
        len(notes) == 3
        and "Jane Doe paid $45.00 on INV-0001" in Reply.from_json(notes[0].body).text
    )
    before = _counts(db)
    assert _webhook(client, event).get_json()["outcome"] == "duplicate"
    assert _counts(db) == before
    # The same payment reported by another event is not counted twice either.
    intent = fake.intents[paid["payment_intent"]]
    assert _webhook(client, fake.event("payment_intent.succeeded", intent)).status_code == 200
    assert _counts(db)[0] == 1
    done = client.get(f"/pay/{token}/done").get_data(as_text=True)
    assert "Paid, thank you" in done


def test_forged_stale_and_unsigned_webhooks_are_refused_and_change_nothing(app, client, fake):
    db = _db(app)
    _invoice_id, token = _invoice(db)
    _click(client, token)
    paid = fake.pay_checkout(next(iter(fake.sessions)))
    event = fake.event("checkout.session.completed", paid)
    before = _counts(db)
    forged = _webhook(client, event, secret="whsec_someone_else")
    stale = _webhook(client, event, timestamp=int(time.time()) - 600)
    body, header = signed(event)
    unsigned = client.post("/stripe/webhook", data=body)
    tampered = client.post(
        "/stripe/webhook", data=body.replace(b"4500", b"9999"), headers={"Stripe-Signature": header}
    )
    not_json = client.post(
        "/stripe/webhook", data=b"hello", headers={"Stripe-Signature": signed({"x": 1})[1]}
    )
    assert [r.status_code for r in (forged, stale, unsigned, tampered, not_json)] == [400] * 5
    assert _counts(db) == before
    with db.read() as session:
        assert session.scalars(select(Invoice.status)).all() == [SENT]


def test_a_delayed_payment_is_fulfilled_only_when_it_succeeds(app, client, fake):
    db = _db(app)
    invoice_id, token = _invoice(db)
    _click(client, token)
    paid = fake.pay_checkout(next(iter(fake.sessions)))
    processing = {**paid, "payment_status": "unpaid"}
    assert _webhook(client, fake.event("checkout.session.completed", processing)).get_json()[
        "outcome"
    ] == ("awaiting_payment")
    assert _counts(db)[0] == 0
    assert (
        _webhook(client, fake.event("checkout.session.async_payment_succeeded", paid)).get_json()[
            "outcome"
        ]
        == "paid"
    )
    with db.read() as session:
        assert get_invoice(session, invoice_id).status == PAID
    # Another invoice whose bank payment fails: the customer gets the link again.
    _other, other_token = _invoice(db, 2000)
    _click(client, other_token)
    failed_session = list(fake.sessions)[-1]
    failed = {**fake.sessions[failed_session], "payment_status": "unpaid"}
    failed.pop("line_items"), failed.pop("payment_intent_data")
    assert (
        _webhook(client, fake.event("checkout.session.async_payment_failed", failed)).status_code
        == 200
    )
    [message] = outbox(db, purpose="payment_failed")
    assert (
        "didn't go through" in Reply.from_json(message.body).text
        and other_token in Reply.from_json(message.body).text
    )
    expired = _webhook(
        client, fake.event("checkout.session.expired", {**failed, "status": "expired"})
    )
    assert expired.get_json()["outcome"] == "expired"


def test_refunds_made_in_stripe_are_recorded_once_from_the_cumulative_amount(app, client, fake):
    db = _db(app)
    invoice_id, token = _invoice(db)
    _click(client, token)
    paid = fake.pay_checkout(next(iter(fake.sessions)))
    _webhook(client, fake.event("checkout.session.completed", paid))
    intent = paid["payment_intent"]
    first = fake.event("charge.refunded", fake.charge_refunded(intent, 1000))
    assert _webhook(client, first).get_json()["outcome"] == "refunded"
    # Stripe tells the same total again in a new event: nothing new to record.
    repeat = fake.event("charge.refunded", fake.charge_refunded(intent, 1000))
    assert _webhook(client, repeat).get_json()["outcome"] == "already_refunded"
    assert (
        _webhook(
            client, fake.event("charge.refunded", fake.charge_refunded(intent, 4500))
        ).status_code
        == 200
    )
    with db.read() as session:
        refunds = session.scalars(
            select(Payment.amount_minor).where(Payment.kind == "refund").order_by(Payment.id)
        ).all()
        assert refunds == [-1000, -3500]
        invoice = get_invoice(session, invoice_id)
        # Given back by the business: forgiven by credit lines, not chased again.
        assert totals(session, invoice).balance == 0 and invoice.status == PAID


def _with_card(db: Database) -> int:
    customer = add_reachable_customer(db)
    with db.write() as session:
        session.add(
            PaymentCustomer(
                customer_id=customer,
                provider="stripe",
                provider_customer_id="cus_test_1",
                created_at=NOW,
            )
        )
        keep_card(
            session,
            customer,
            CardDetails("pm_test_card", "visa", "4242", 12, 2030),
            provider="stripe",
            provider_customer_id="cus_test_1",
            now=NOW,
        )
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=NOW,
            lines=[LineSpec("service", "Repair", 8000, 1, "0")],
        )
        return invoice.id


def test_a_saved_card_is_charged_off_session_with_an_idempotency_key(db, fake):
    setup_billing(db)
    invoice_id = _with_card(db)
    gateway = StripeGateway(API_KEY, api_base=fake.url)
    with db.write() as session:
        result = charge_saved_card(session, invoice_id, NOW, gateway=gateway)
    assert result.status == "succeeded" and result.payment_id is not None
    [call] = fake.calls("POST", "/v1/payment_intents")
    assert call.params["off_session"] == "true" and call.params["confirm"] == "true"
    assert call.params["amount"] == "8000" and call.params["payment_method"] == "pm_test_card"
    assert call.idempotency_key and call.idempotency_key.startswith(
        f"slotbot-charge-{invoice_id}-8000"
    )
    with db.read() as session:
        assert get_invoice(session, invoice_id).status == PAID


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("authentication_required", AUTHENTICATION_REQUIRED, "Your bank needs you to confirm"),
        ("card_declined", DECLINED, "We couldn't charge your Visa ending 4242"),
    ],
)
def test_a_card_that_needs_authentication_or_is_declined_gets_a_pay_link_instead(
    db, fake, code, status, words
):
    setup_billing(db)
    invoice_id = _with_card(db)
    fake.fail_charges(code)
    with db.write() as session:
        result = charge_saved_card(
            session, invoice_id, NOW, gateway=StripeGateway(API_KEY, api_base=fake.url)
        )
    assert result.status == status and result.url and "/pay/" in result.url
    [message] = outbox(db, purpose="payment_failed")
    text = Reply.from_json(message.body).text
    assert words in text and token_of(result.url) in text and "$80.00" in text
    with db.read() as session:
        assert get_invoice(session, invoice_id).status == SENT
        assert session.scalar(select(func.count()).select_from(Payment)) == 0

"""The sandbox: with no Stripe key the whole pay-link flow works locally, in TEST MODE,
through the same event handling a real webhook uses; and in real headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bot.billing.ledger.invoices import LineSpec, create_invoice, get_invoice, void_invoice
from bot.billing.payments.links import pay_link, pay_url
from bot.messaging.messages import Reply
from storage.billing import PAID, SENT, SavedCard
from storage.db import Database
from tests.billing_factories import NOW, add_reachable_customer, outbox, token_of
from tests.browser import chromium_page, live_server
from tests.conftest import DEMO_CONFIG


@pytest.fixture(autouse=True)
def sandbox_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(key, raising=False)


def _invoice(db: Database, amount: int = 4500) -> tuple[int, str]:
    customer = add_reachable_customer(db)
    with db.write() as session:
        invoice = create_invoice(
            session, customer_id=customer, now=NOW, lines=[LineSpec("service", "Haircut", amount)]
        )
        return invoice.id, pay_link(session, invoice.id, now=NOW).token


def _start(client, token: str, save_card: bool = False) -> str:
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    response = client.post(
        f"/pay/{token}", data={"nonce": nonce, **({"save_card": "1"} if save_card else {})}
    )
    assert response.status_code == 303
    return response.headers["Location"]


def test_a_test_mode_payment_runs_the_whole_flow_without_stripe(app, client):
    db: Database = app.extensions["slotbot.db"]
    invoice_id, token = _invoice(db)
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    assert "TEST MODE" in page and "$48.99" in page  # 45.00 + 8.875% tax
    checkout = _start(client, token)
    assert checkout.startswith("/sandbox/checkout/cs_sandbox_")
    sandbox = client.get(checkout).get_data(as_text=True)
    assert "Test checkout" in sandbox and "$48.99" in sandbox
    failed = client.post(checkout, data={"action": "fail"})
    assert failed.status_code == 200 and "Payment failed (test)" in failed.get_data(as_text=True)
    with db.read() as session:
        assert get_invoice(session, invoice_id).status == SENT
    [retry] = outbox(db, purpose="payment_failed")
    assert token in Reply.from_json(retry.body).text
    checkout = _start(client, token, save_card=True)
    paid = client.post(checkout, data={"action": "pay"})
    assert paid.status_code == 303 and paid.headers["Location"] == f"/pay/{token}/done"
    assert "Paid, thank you" in client.get(paid.headers["Location"]).get_data(as_text=True)
    assert "Paid, thank you" in client.get(f"/pay/{token}").get_data(as_text=True)
    with db.read() as session:
        assert get_invoice(session, invoice_id).status == PAID
        [card] = session.scalars(select(SavedCard)).all()
        assert (card.provider, card.brand, card.last4) == ("sandbox", "visa", "4242")
    [receipt] = outbox(db, purpose="receipt")
    assert Reply.from_json(receipt.body).text.startswith("[TEST MODE - no real money] Thank you!")
    pdf = client.get(f"/pay/{token}/invoice.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_unknown_and_void_links_say_so(app, client):
    db: Database = app.extensions["slotbot.db"]
    invoice_id, token = _invoice(db)
    missing = client.get("/pay/not-a-real-token")
    assert missing.status_code == 404 and "Link not found" in missing.get_data(as_text=True)
    with db.write() as session:
        void_invoice(session, invoice_id, now=NOW)
    gone = client.get(f"/pay/{token}")
    assert gone.status_code == 404  # voiding revokes the link


def test_the_sandbox_checkout_does_not_exist_when_stripe_is_configured(app, client, monkeypatch):
    db: Database = app.extensions["slotbot.db"]
    _invoice_id, token = _invoice(db)
    checkout = _start(client, token)
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    assert client.get(checkout).status_code == 404
    assert client.post(checkout, data={"action": "pay"}).status_code == 404


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Flask]:
    """The app on SQLite only: the browser test need not run twice."""
    from webhooks.app import create_app

    application = create_app(
        {"DATABASE_URL": sqlite_url, "BUSINESS_CONFIG": str(DEMO_CONFIG), "TESTING": True}
    )
    yield application
    application.extensions["slotbot.db"].dispose()


@pytest.mark.browser
def test_paying_a_link_in_headless_chromium(sqlite_app, artifacts: Path, monkeypatch):
    db: Database = sqlite_app.extensions["slotbot.db"]
    with live_server(sqlite_app) as base, chromium_page() as page:
        monkeypatch.setenv("SLOTBOT_PUBLIC_URL", base)
        invoice_id, _token = _invoice(db, 8000)
        with db.write() as session:
            url = pay_url(session, invoice_id, now=NOW)
        page.goto(url)
        page.get_by_text("TEST MODE").first.wait_for()
        assert page.get_by_test_id("amount-due").inner_text() == "$87.10"  # 80.00 + 7.10 tax
        page.get_by_label("Save my card for future payments").check()
        page.screenshot(path=str(artifacts / "pay-link.png"), full_page=True)
        page.get_by_role("button", name="Pay $87.10").click()
        page.get_by_role("heading", name="Test checkout").wait_for()
        assert page.get_by_test_id("sandbox-amount").inner_text() == "$87.10"
        page.screenshot(path=str(artifacts / "sandbox-checkout.png"), full_page=True)
        page.get_by_role("button", name="Pay $87.10 (test)").click()
        page.get_by_role("heading", name="Paid, thank you").wait_for()
        assert page.url == f"{base}/pay/{token_of(url)}/done"
        page.screenshot(path=str(artifacts / "sandbox-paid.png"), full_page=True)
    with db.read() as session:
        assert get_invoice(session, invoice_id).status == PAID
        assert session.scalars(select(SavedCard.last4)).all() == ["4242"]

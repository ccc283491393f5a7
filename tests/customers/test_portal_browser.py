"""The portal and the dashboard in real headless Chromium: a customer pays an invoice through
the sandbox checkout and downloads a statement; the owner reads the week and marks an
invoice paid. Screenshots go to tests/artifacts, and the two in docs/ are made here."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from bot.billing.ledger.invoices import get_invoice
from storage.billing import PAID, Payment
from storage.models import AdminAudit
from tests.browser import chromium_page, live_server
from tests.conftest import ROOT
from tests.customers.test_portal import NOW, Demo, build_demo, path_of

DOCS = ROOT / "docs"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(autouse=True)
def sandbox_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Payments go through the local TEST MODE checkout, never Stripe."""
    for key in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def live(app: Flask) -> Iterator[tuple[str, Demo]]:
    """The app served for real, the clock at the demo's Monday morning (and running)."""
    with time_machine.travel(NOW, tick=True), live_server(app) as base:
        yield base, build_demo(app.extensions["slotbot.db"])


def _for_docs(app: Flask) -> bool:
    # The docs screenshots are made once, from the SQLite run (both backends look the same).
    return app.extensions["slotbot.db"].is_sqlite


def test_a_customer_pays_an_invoice_in_the_sandbox_and_downloads_a_statement(
    app: Flask, live: tuple[str, Demo], artifacts: Path, tmp_path: Path
) -> None:
    base, demo = live
    portal = base + path_of(demo.jane_url)
    with chromium_page(viewport=PHONE) as page:
        page.goto(portal)
        page.get_by_role("heading", name="Hello, Jane Smith").wait_for()
        assert page.locator("img.logo").evaluate("img => img.naturalWidth") > 0
        brand = page.locator(".masthead").evaluate("el => getComputedStyle(el).backgroundColor")
        assert brand == "rgb(47, 93, 80)"  # #2f5d50 from business.toml
        if _for_docs(app):
            page.screenshot(path=str(DOCS / "portal-phone.png"))
        page.screenshot(path=str(artifacts / "portal-phone-full.png"), full_page=True)

        page.get_by_role("link", name=re.compile(r"^Pay \$48\.99")).click()
        page.get_by_role("heading", name="Pay invoice INV-0001").wait_for()
        page.get_by_role("button", name="Pay $48.99").click()
        page.get_by_role("heading", name="Test checkout").wait_for()
        page.get_by_role("button", name="Pay $48.99 (test)").click()
        page.get_by_role("heading", name="Paid, thank you").wait_for()

        page.goto(portal)  # back to the account
        invoice = page.get_by_test_id("invoice").filter(has_text="INV-0001")
        assert "Paid" in invoice.locator(".badge").inner_text()
        assert invoice.get_by_role("link", name=re.compile("^Pay")).count() == 0
        page.get_by_label("From").fill("2026-11-01")
        page.get_by_label("To").fill("2026-11-16")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download statement").click()
        target = tmp_path / "statement.pdf"
        download_info.value.save_as(target)
        page.screenshot(path=str(artifacts / "portal-paid.png"), full_page=True)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    (artifacts / "portal-statement.pdf").write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(target), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Jane Smith" in text and "Nov 1, 2026 to Nov 16, 2026" in text
    assert re.search(r"Charges\s+\$48\.99", text) and re.search(r"Payments\s+\$48\.99", text)
    assert re.search(r"Ending balance\s+\$0\.00", text)
    with app.extensions["slotbot.db"].read() as session:
        assert get_invoice(session, demo.jane_invoice).status == PAID


def test_the_owner_sees_the_week_by_staff_and_marks_an_invoice_paid(
    app: Flask, live: tuple[str, Demo], artifacts: Path
) -> None:
    base, demo = live
    with chromium_page(viewport=DESKTOP) as page:
        page.goto(base + path_of(demo.owner_url))
        page.get_by_role("heading", name=re.compile("Week of Nov 16")).wait_for()
        calendar = page.get_by_test_id("week-calendar")
        for staff, customer in (
            ("Sam Rivera", "Jane Smith"),
            ("Alex Chen", "Dev Patel"),
            ("Priya Patel", "Carmen Diaz"),
            ("Jordan Lee", "Jane Smith"),
        ):
            row = calendar.locator("tr").filter(has=page.get_by_role("rowheader", name=staff))
            assert customer in row.inner_text(), (staff, customer)
        assert calendar.locator(".badge", has_text="Confirmed").count() == 1
        if _for_docs(app):
            page.screenshot(path=str(DOCS / "dashboard-week.png"))
        page.screenshot(path=str(artifacts / "dashboard-week.png"), full_page=True)

        page.get_by_role("link", name="Receivables").click()
        page.get_by_role("heading", name="Accounts receivable").wait_for()
        page.get_by_label("How INV-0002 was paid").select_option("cheque")
        page.get_by_role("button", name="Mark paid INV-0002").click()
        page.get_by_text("Payment recorded").wait_for()
        assert page.get_by_role("rowheader", name="INV-0002").count() == 0
        page.screenshot(path=str(artifacts / "dashboard-receivables.png"), full_page=True)
    with app.extensions["slotbot.db"].read() as session:
        assert get_invoice(session, demo.bob_invoice).status == PAID
        payment = session.scalars(select(Payment)).one()
        assert (payment.method, payment.amount_minor) == ("cheque", 13065)
        assert session.scalars(select(AdminAudit.action)).all() == ["payment"]

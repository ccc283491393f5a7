"""The invoice and statement PDFs, rendered to PNG and read back as text with poppler."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.billing.documents.delivery import invoice_pdf
from bot.billing.ledger.invoices import (
    LineSpec,
    add_line,
    create_invoice,
    get_invoice,
    issue_invoice,
)
from bot.billing.ledger.settlement import record_payment
from bot.billing.ledger.statements import statement, statement_pdf
from storage.db import Database
from storage.models import Customer
from tests.billing_factories import NOW, add_reachable_customer, setup_billing


def _poppler() -> None:
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if not missing:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI requires poppler-utils: {missing} not found")
    pytest.skip(f"poppler-utils not installed ({', '.join(missing)})")


def _render(pdf: bytes, folder: Path, name: str) -> tuple[str, Path]:
    """Write the PDF, make a PNG of page 1 beside it, and return the PDF's text."""
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(path), str(folder / name)], check=True
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text, folder / f"{name}.png"


@pytest.fixture
def books(sqlite_url: str) -> Database:
    """One customer with a Unicode name, an invoice part paid, and a later one."""
    database = Database(sqlite_url)
    setup_billing(database)
    yield database
    database.dispose()


def test_the_invoice_pdf_shows_lines_taxes_totals_and_balance(books, artifacts):
    _poppler()
    customer = add_reachable_customer(books, name="Zoë Ångström")
    with books.write() as session:
        session.execute(
            update(Customer).where(Customer.id == customer).values(address="12 Rue de l'Église")
        )
        invoice = create_invoice(
            session,
            customer_id=customer,
            now=NOW,
            lines=[
                LineSpec("service", "Colour with Sam, Nov 17", 12000),
                LineSpec("part", "Bond treatment", 1250, 2),
                LineSpec("discount", "Returning client", 1000),
                LineSpec("deposit", "Deposit paid (INV-0001)", -2400, 1, "0"),
            ],
        )
        issue_invoice(session, invoice.id, now=NOW)
        record_payment(session, invoice.id, amount_minor=5000, method="cash", now=NOW)
        pdf = invoice_pdf(
            session, get_invoice(session, invoice.id), now=NOW, url="https://pay.example/pay/abc"
        )
    text, png = _render(pdf, artifacts, "invoice")
    assert png.stat().st_size > 10_000
    for expected in (
        "INVOICE",
        "INV-0001",
        "Test Salon",
        "1 Main St, Springfield",
        "Zoë Ångström",
        "Rue de l'Église",
        "Bond treatment",
        "Subtotal",
        "$111.00",  # 120.00 + 2 x 12.50 - 10.00 - 24.00
        "Tax 8.875%",
        "$11.98",  # per line, half up: 10.65 + 2.22 - 0.89
        "$122.98",
        "Paid",
        "$50.00",
        "Balance due",
        "$72.98",
        "Pay online: https://pay.example/pay/abc",
    ):
        assert expected in text, expected


def test_the_statement_pdf_shows_beginning_charges_payments_and_ending(books, artifacts):
    _poppler()
    customer = add_reachable_customer(books, name="Zoë Ångström")
    with books.write() as session:
        october = create_invoice(
            session,
            customer_id=customer,
            now=NOW - timedelta(days=40),
            lines=[LineSpec("service", "Cut", 4000, 1, "0")],
        )
        issue_invoice(session, october.id, now=NOW - timedelta(days=40))
        november = create_invoice(
            session,
            customer_id=customer,
            now=NOW,
            lines=[LineSpec("service", "Colour", 12000, 1, "0")],
        )
        issue_invoice(session, november.id, now=NOW)
        record_payment(
            session, october.id, amount_minor=4000, method="cheque", now=NOW + timedelta(days=1)
        )
        record_payment(
            session, november.id, amount_minor=2000, method="card", now=NOW + timedelta(days=2)
        )
        add_line(
            session,
            november.id,
            kind="finance_charge",
            description="Finance charge 1.5%",
            unit_price_minor=150,
            tax_rate="0",
            now=NOW + timedelta(days=3),
        )
        st = statement(session, customer, date(2026, 11, 1), date(2026, 11, 30))
        assert (st.beginning, st.charges, st.payments, st.ending) == (4000, 12150, 6000, 10150)
        pdf = statement_pdf(session, st, now=NOW + timedelta(days=20))
    text, png = _render(pdf, artifacts, "statement")
    assert png.stat().st_size > 10_000
    for expected in (
        "STATEMENT",
        "November 2026",
        "Zoë Ångström",
        "Beginning balance",
        "$40.00",
        "$121.50",
        "$60.00",
        "Ending balance",
        "$101.50",
        "Payment by cheque (INV-0001)",
        "Invoice INV-0002",
        "Finance charge 1.5%",
    ):
        assert expected in text, expected


def test_pdfs_carry_the_business_logo_and_colour():
    from dataclasses import replace
    from pathlib import Path

    from bot.billing.documents.pdf import ACCENT, Brand, Document, Party, render

    logo = str(Path(__file__).resolve().parents[2] / "webhooks" / "static" / "demo-logo.svg")
    brand = Brand.from_hex("#2f5d50", logo)
    assert brand == Brand((47, 93, 80), logo)
    assert Brand.from_hex("#2f5d50", "https://example.com/logo.png").logo is None
    assert Brand.from_hex("not a colour", "/no/such/logo.png") == Brand(ACCENT, None)
    plain = Document(
        title="Invoice",
        number="INV-0001",
        business=Party("Maple & Mane Salon"),
        customer=Party("Jane Doe"),
        facts=(),
        columns=(("Description", 3, "L"), ("Amount", 1, "R")),
        rows=(("Haircut", "$45.00"),),
        totals=(("Total", "$45.00", True),),
    )
    branded = replace(plain, brand=brand)
    assert render(branded) != render(plain)
    assert render(branded).startswith(b"%PDF")

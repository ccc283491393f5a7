"""The ledger holds together to the cent: balances, statuses, statements and receivables.

The pure derivations are checked over many random histories; the database path (real
invoices, payments, refunds, finance charges, voids and credit on account) over fewer, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.billing.ledger.invoices import (
    LineSpec,
    account_balance,
    add_line,
    create_invoice,
    get_invoice,
    issue_invoice,
    issued_invoices,
    totals,
    totals_for,
    void_invoice,
)
from bot.billing.ledger.receivables import aging
from bot.billing.ledger.settlement import PaymentRecorded, record_payment, record_refund
from bot.billing.ledger.statements import statement
from bot.billing.ledger.totals import (
    LineAmount,
    Posting,
    bucket_for,
    compute_totals,
    derive_status,
    summarise,
)
from bot.core.formatting import format_money
from bot.scheduling.booking import Refused
from storage.billing import (
    CREDIT_TRANSFER,
    DRAFT,
    PAID,
    PARTIALLY_PAID,
    SENT,
    VOID,
    InvoiceLine,
    Payment,
)
from storage.db import Database
from tests.billing_factories import NOW, setup_billing
from tests.factories import add_customer

# ------------------------------------------------------------------------ pure rules

START = datetime(2026, 1, 1, tzinfo=UTC)
postings = st.lists(
    st.builds(
        Posting,
        at=st.integers(0, 400 * 24).map(lambda h: START + timedelta(hours=h)),
        description=st.just("x"),
        charge=st.integers(-50_000, 200_000),
        payment=st.integers(-50_000, 200_000),
    ),
    max_size=40,
)


@given(postings, st.lists(st.integers(0, 400 * 24), min_size=2, max_size=5))
def test_consecutive_statements_chain_and_each_adds_up(items, cuts) -> None:
    edges = sorted({START - timedelta(days=1), *(START + timedelta(hours=c) for c in cuts)})
    edges.append(START + timedelta(days=500))
    previous_ending = None
    for start, end in zip(edges, edges[1:], strict=False):
        summary = summarise(items, start, end)
        assert summary.ending == summary.beginning + summary.charges - summary.payments
        if previous_ending is not None:
            assert summary.beginning == previous_ending
        previous_ending = summary.ending
        if summary.entries:
            assert summary.entries[-1].balance == summary.ending
    assert previous_ending == sum(p.charge - p.payment for p in items)


@given(
    st.lists(st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**5), 10**5)), max_size=12),
    st.lists(st.integers(-(10**6), 10**6), max_size=8),
    st.booleans(),
)
def test_an_invoice_balance_is_its_total_less_what_was_paid(lines, payments, void) -> None:
    result = compute_totals([LineAmount(n, t, "1") for n, t in lines], payments, void=void)
    total = 0 if void else sum(n + t for n, t in lines)
    assert (result.total, result.paid, result.balance) == (
        total,
        sum(payments),
        total - sum(payments),
    )
    assert result.subtotal + result.tax == sum(n + t for n, t in lines)
    assert format_money(result.balance, "USD", "en_US") != "-$0.00"


@pytest.mark.parametrize(
    ("total", "paid", "issued", "void", "status"),
    [
        (1000, 0, False, False, DRAFT),
        (1000, 0, True, False, SENT),
        (1000, 400, True, False, PARTIALLY_PAID),
        (1000, 1000, True, False, PAID),
        (1000, 1500, True, False, PAID),  # overpaid: the rest is credit
        (0, 0, True, False, PAID),  # a deposit covered everything
        (1000, 0, True, True, VOID),
    ],
)
def test_the_status_follows_from_the_totals(total, paid, issued, void, status) -> None:
    result = compute_totals([LineAmount(total, 0)], [paid] if paid else [], void=void)
    assert derive_status(result, issued=issued, void=void) == status


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-3, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60")]
    + [(61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+")],
)
def test_aging_buckets_have_sharp_edges(days: int, bucket: str) -> None:
    assert bucket_for(days) == bucket


# ------------------------------------------------------------------- the database path

RATES = ["0", "8.875", "20", "0.25"]
line_specs = st.lists(
    st.tuples(
        st.sampled_from(["service", "extra", "part", "discount"]),
        st.sampled_from(["1", "2", "0.5", "1.5"]),
        st.integers(1, 30_000),
        st.sampled_from(RATES),
    ),
    min_size=1,
    max_size=4,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), line_specs),
        st.tuples(
            st.just("pay"),
            st.integers(0, 5),
            st.integers(1, 40_000),
            st.sampled_from(["card", "cash", "cheque"]),
        ),
        st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 20_000), st.booleans()),
        st.tuples(st.just("finance"), st.integers(0, 5), st.integers(1, 2_000)),
        st.tuples(st.just("void"), st.integers(0, 5)),
    ),
    min_size=2,
    max_size=14,
)


def _exact(quantity: str, unit: int, rate: str) -> tuple[int, int]:
    """A line's net and tax worked out independently: Decimal, half up, per line."""
    net = (Decimal(quantity) * unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    tax = (net * Decimal(rate) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(net), int(tax)


def _exact_line(kind: str, quantity: str, unit: int, rate: str) -> int:
    net, tax = _exact(quantity, -unit if kind == "discount" else unit, rate)
    return net + tax


_READY: set[str] = set()


def _run(db: Database, ops, customer_id: int) -> int:
    """Apply random operations; return the customer's expected balance, worked out aside."""
    now = NOW
    invoices: list[int] = []
    payments: list[int] = []
    expected = 0
    charged: dict[int, int] = {}
    for op in ops:
        now += timedelta(hours=37)
        with db.write() as session:
            if op[0] == "invoice":
                specs = [LineSpec(k, k.title(), u, q, r) for k, q, u, r in op[1]]
                invoice = create_invoice(session, customer_id=customer_id, now=now, lines=specs)
                issue_invoice(session, invoice.id, now=now)
                invoices.append(invoice.id)
                charged[invoice.id] = sum(_exact_line(*line) for line in op[1])
                expected += charged[invoice.id]
            elif op[0] == "pay" and invoices:
                target = invoices[op[1] % len(invoices)]
                if get_invoice(session, target).voided_at is None:
                    result = record_payment(
                        session, target, amount_minor=op[2], method=op[3], now=now
                    )
                    assert isinstance(result, PaymentRecorded)
                    payments.append(result.payment.id)
                    expected -= op[2]
            elif op[0] == "refund" and payments:
                payment_id = payments[op[1] % len(payments)]
                result = record_refund(
                    session, payment_id, amount_minor=op[2], now=now, write_off=op[3]
                )
                if not isinstance(result, Refused):
                    expected += op[2] - result.written_off_minor
            elif op[0] == "finance" and invoices:
                target = invoices[op[1] % len(invoices)]
                line = add_line(
                    session,
                    target,
                    kind="finance_charge",
                    description="Late",
                    unit_price_minor=op[2],
                    tax_rate="0",
                    now=now,
                )
                if not isinstance(line, Refused):
                    charged[target] += op[2]
                    expected += op[2]
            elif op[0] == "void" and invoices:
                target = invoices[op[1] % len(invoices)]
                if get_invoice(session, target).voided_at is None:
                    outcome = void_invoice(session, target, now=now)
                    if not isinstance(outcome, Refused):
                        expected -= charged[target]
    return expected


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, cut_days=st.lists(st.integers(1, 25), min_size=1, max_size=3))
def test_any_history_keeps_balances_statements_and_receivables_consistent(db, ops, cut_days):
    if db.url not in _READY:  # the fixture's database outlives one example
        setup_billing(db)
        _READY.add(db.url)
    customer_id = add_customer(db)  # unreachable: no messages, just the books
    expected = _run(db, ops, customer_id)
    with db.read() as session:
        mine = issued_invoices(session, customer_id)
        sums = totals_for(session, mine)
        balance = sum(t.balance for t in sums.values())
        assert balance == expected == account_balance(session, customer_id)
        for invoice in mine:
            full = totals(session, invoice)
            assert full.balance == sums[invoice.id].balance
            # The cached status is exactly what the lines and payments say.
            assert invoice.status == derive_status(
                full, issued=True, void=invoice.voided_at is not None
            )
        # Stored line amounts are the documented rounding of quantity x price x rate.
        for line in session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id.in_([i.id for i in mine]))
        ):
            exact = _exact(line.quantity, line.unit_price_minor, line.tax_rate)
            assert (line.net_minor, line.tax_minor) == exact
        transfers = session.scalar(
            select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
                Payment.customer_id == customer_id, Payment.kind == CREDIT_TRANSFER
            )
        )
        assert transfers == 0
        # A statement from before the first posting to after the last ends at the balance,
        # and statements cut at any days chain into each other.
        first = date(2026, 11, 1)
        last = date(2027, 6, 30)
        whole = statement(session, customer_id, first, last)
        assert (whole.beginning, whole.ending) == (0, balance)
        assert whole.ending == whole.beginning + whole.charges - whole.payments
        cuts = sorted({first + timedelta(days=7 * d) for d in cut_days})
        edges = [first, *cuts, last + timedelta(days=1)]
        ending = 0
        for start, after in zip(edges, edges[1:], strict=False):
            part = statement(session, customer_id, start, after - timedelta(days=1))
            assert part.beginning == ending
            assert part.ending == part.beginning + part.charges - part.payments
            ending = part.ending
        assert ending == balance
        # Receivables: every issued invoice's balance, everyone's, adds up to the report.
        everyone = issued_invoices(session)
        assert aging(session, NOW + timedelta(days=60)).total == sum(
            t.balance for t in totals_for(session, everyone).values()
        )

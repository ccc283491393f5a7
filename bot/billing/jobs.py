"""Billing's periodic jobs, for bot.jobs.build_scheduler. Each reads what is due from the
database and is safe to run twice, late, or in two processes at once."""

from __future__ import annotations

from collections.abc import Callable

from bot.billing.ledger.receivables import assess_finance_charges, charge_no_show_fees
from bot.billing.ledger.statements import send_monthly_statements
from bot.billing.payments.deposits import release_unpaid_deposits
from bot.billing.payments.online import run_scheduled_charges
from bot.core.clock import utcnow
from storage.db import Database


def billing_jobs(db: Database) -> list[tuple[str, int, Callable[[], object]]]:
    """(name, interval in seconds, job) for each billing job."""
    return [
        ("run_scheduled_charges", 60, lambda: run_scheduled_charges(db, utcnow())),
        ("release_unpaid_deposits", 300, lambda: release_unpaid_deposits(db, utcnow())),
        ("charge_no_show_fees", 900, lambda: charge_no_show_fees(db, utcnow())),
        ("assess_finance_charges", 3600, lambda: assess_finance_charges(db, utcnow())),
        ("send_monthly_statements", 3600, lambda: send_monthly_statements(db, utcnow())),
    ]

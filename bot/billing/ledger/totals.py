"""The ledger's arithmetic, pure: invoice totals and status, statements, aging buckets.

Nothing here touches the database, so the rules can be property-tested quickly; the
database functions in `invoices`, `statements` and `receivables` feed these.

The derivations:
  * total   = sum of line nets + sum of line taxes (0 for a void invoice);
  * paid    = sum of payments (refunds are negative payments; credit moved in or out of
              the invoice is a pair of rows that sum to zero across the two invoices);
  * balance = total - paid. Negative means overpaid: credit on the customer's account.
  * status  = void if voided; draft until issued; paid when nothing is left to pay;
              partially_paid when something (net) was paid; else sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.billing import DRAFT, PAID, PARTIALLY_PAID, SENT, VOID


@dataclass(frozen=True)
class LineAmount:
    """A line as the ledger sees it: its net, its tax, and the rate the tax came from."""

    net: int
    tax: int
    rate: str = "0"


@dataclass(frozen=True)
class TaxBand:
    """The lines at one tax rate: their net and their (per-line rounded) tax."""

    rate: str
    net: int
    tax: int


@dataclass(frozen=True)
class Totals:
    """An invoice's derived amounts, all in minor units."""

    subtotal: int
    tax: int
    total: int
    paid: int
    balance: int
    taxes: tuple[TaxBand, ...] = ()


def compute_totals(
    lines: Iterable[LineAmount], payments: Iterable[int], *, void: bool = False
) -> Totals:
    """Totals of an invoice from its lines and its signed payments."""
    lines = list(lines)
    bands: dict[str, list[int]] = {}
    for line in lines:
        band = bands.setdefault(line.rate, [0, 0])
        band[0] += line.net
        band[1] += line.tax
    subtotal = sum(line.net for line in lines)
    tax = sum(line.tax for line in lines)
    paid = sum(payments)
    total = 0 if void else subtotal + tax
    taxes = tuple(
        TaxBand(rate, net, band_tax)
        for rate, (net, band_tax) in sorted(bands.items(), key=lambda item: _rate_key(item[0]))
        if band_tax != 0
    )
    return Totals(subtotal, tax, total, paid, total - paid, taxes)


def _rate_key(rate: str) -> tuple[int, str]:
    return (len(rate.split(".")[0]), rate)


def derive_status(totals: Totals, *, issued: bool, void: bool) -> str:
    """The status that follows from an invoice's totals."""
    if void:
        return VOID
    if not issued:
        return DRAFT
    if totals.balance <= 0:
        return PAID
    if totals.paid > 0:
        return PARTIALLY_PAID
    return SENT


# ------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Posting:
    """Something that moved a customer's balance at an instant: a charge or a payment."""

    at: datetime
    description: str
    charge: int = 0
    payment: int = 0
    invoice_number: str | None = None


@dataclass(frozen=True)
class StatementEntry:
    """A posting within the statement period, with the running balance after it."""

    at: datetime
    description: str
    charge: int
    payment: int
    balance: int
    invoice_number: str | None = None


@dataclass(frozen=True)
class Summary:
    """Beginning balance, the period's entries, their sums, and the ending balance."""

    beginning: int
    entries: tuple[StatementEntry, ...]
    charges: int
    payments: int
    ending: int


def summarise(postings: Sequence[Posting], start: datetime, end: datetime) -> Summary:
    """Summarise postings for [start, end): ending = beginning + charges - payments."""
    ordered = sorted(postings, key=lambda posting: posting.at)
    beginning = sum(p.charge - p.payment for p in ordered if p.at < start)
    running = beginning
    entries = []
    for posting in ordered:
        if not start <= posting.at < end:
            continue
        running += posting.charge - posting.payment
        entries.append(
            StatementEntry(
                posting.at,
                posting.description,
                posting.charge,
                posting.payment,
                running,
                posting.invoice_number,
            )
        )
    charges = sum(entry.charge for entry in entries)
    payments = sum(entry.payment for entry in entries)
    return Summary(beginning, tuple(entries), charges, payments, beginning + charges - payments)


# ------------------------------------------------------------------------------ aging

CURRENT = "current"
BUCKETS = (CURRENT, "1-30", "31-60", "61-90", "90+")


def bucket_for(days_past_due: int) -> str:
    """The aging bucket for a balance this many days past its due date."""
    if days_past_due <= 0:
        return CURRENT
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"

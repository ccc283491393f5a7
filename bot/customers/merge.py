"""Merging two customer records that are one person: everything of the one merged away
(appointments, series, invoices, payments, estimates, saved cards, chat identities and
conversations, waitlist entries, feedback, messages, portal links) moves to the one kept.

Every column that points at `customer.id`, in every table the schema knows, is moved —
so tables added later are merged too. The kept customer keeps its own name, phone, email
and address and takes the other's where it has none; notes are joined. The merged record
is then deleted; the caller writes the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

import storage.billing
import storage.messaging
import storage.portal
from bot.core.text import t
from bot.scheduling.booking import NOT_ALLOWED, Refused
from storage.billing import Invoice, PaymentCustomer
from storage.models import Appointment, Base, Customer, CustomerIdentity

_ = (storage.billing, storage.messaging, storage.portal)  # every table in the metadata
_FIELDS = ("name", "phone", "email", "address")


@dataclass
class Merged:
    """What a merge moved: rows per table, and the fields the kept customer took."""

    kept_id: int
    gone_id: int
    moved: dict[str, int] = field(default_factory=dict)
    took: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Footprint:
    """How much a customer has, for the confirmation question."""

    appointments: int
    invoices: int
    identities: int


def footprint(session: Session, customer_id: int) -> Footprint:
    """Counts of a customer's appointments, invoices and chat identities."""

    def count(model: type[Base], column: object) -> int:
        return int(
            session.scalar(select(func.count()).select_from(model).where(column == customer_id))
            or 0
        )

    return Footprint(
        count(Appointment, Appointment.customer_id),
        count(Invoice, Invoice.customer_id),
        count(CustomerIdentity, CustomerIdentity.customer_id),
    )


def _customer_columns() -> list[tuple[str, object]]:
    """(table name, column) for every foreign key to customer.id."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "customer" for fk in column.foreign_keys):
                found.append((table.name, column))
    return found


def merge_customers(session: Session, gone_id: int, kept_id: int) -> Merged | Refused:
    """Move everything of customer `gone_id` to `kept_id`, then delete `gone_id`."""
    if gone_id == kept_id:
        return Refused(NOT_ALLOWED, t("That is the same customer."))
    kept, gone = session.get(Customer, kept_id), session.get(Customer, gone_id)
    if kept is None or gone is None:
        missing = kept_id if kept is None else gone_id
        return Refused(NOT_ALLOWED, t("There is no customer #{missing}.", missing=missing))
    result = Merged(kept_id, gone_id)
    for name in _FIELDS:
        if not getattr(kept, name) and getattr(gone, name):
            setattr(kept, name, getattr(gone, name))
            result.took.append(name)
    if gone.notes and gone.notes not in (kept.notes or ""):
        kept.notes = f"{kept.notes}\n{gone.notes}".strip() if kept.notes else gone.notes
        result.took.append("notes")
    # One provider customer per (customer, provider): the kept one's mapping wins. Saved
    # cards carry their own provider customer id, so the other's cards still charge.
    kept_providers = select(PaymentCustomer.provider).where(PaymentCustomer.customer_id == kept_id)
    session.execute(
        delete(PaymentCustomer).where(
            PaymentCustomer.customer_id == gone_id, PaymentCustomer.provider.in_(kept_providers)
        )
    )
    session.flush()
    for table_name, column in _customer_columns():
        table = column.table  # type: ignore[attr-defined]
        moved = session.execute(
            update(table).where(column == gone_id).values({column.name: kept_id})  # type: ignore[attr-defined]
        ).rowcount
        if moved:
            result.moved[table_name] = result.moved.get(table_name, 0) + int(moved)
    session.expire_all()
    session.execute(delete(Customer).where(Customer.id == gone_id))
    session.flush()
    return result

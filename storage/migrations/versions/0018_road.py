"""the day on the road: appointment_event.detail, customer.access_notes

Revision ID: 0018
Revises: 0009
Create Date: 2026-12-01 12:30:00

Every entry of an appointment's event log may carry details (an ETA, a minutes-late figure,
the staff member's location pin, the staff before and after a reassignment, a payment's
amount); existing rows get none. `customer.access_notes` are what a technician needs to get
in (gate code, parking, the dog), shown with the day's jobs; existing customers have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): a rebuild fails on SQLite once rows point at the
    # table (foreign keys are on), and would drop the appointment overlap triggers.
    op.add_column(
        "appointment_event",
        sa.Column("detail", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column(
        "customer",
        sa.Column("access_notes", sa.Text(), nullable=False, server_default=sa.text("''")),
    )


def downgrade() -> None:
    _drop_columns("customer", "access_notes")
    _drop_columns("appointment_event", "detail")


def _drop_columns(table: str, *columns: str) -> None:
    """ALTER TABLE … DROP COLUMN on both databases: on SQLite (3.35+) it keeps the table, its
    rows' foreign keys and the appointment overlap triggers, which a batch rebuild would not."""
    for column in columns:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

"""staff nicknames and who an appointment is for: staff.aliases, appointment.attendee

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-01 10:00:00

Customers call staff by nicknames ("sammy", "pri"); business.toml lists them per staff
member and the conversation matches them like a service's aliases. Existing rows get none.
`appointment.attendee` names who comes when it is not the booker ("for my son Leo");
NULL means the customer themselves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): a rebuild fails on SQLite once rows point at the
    # table (foreign keys are on), and would drop the appointment overlap triggers.
    op.add_column(
        "staff", sa.Column("aliases", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("appointment", sa.Column("attendee", sa.String(length=200), nullable=True))


def downgrade() -> None:
    _drop_columns("appointment", "attendee")
    _drop_columns("staff", "aliases")


def _drop_columns(table: str, *columns: str) -> None:
    """ALTER TABLE … DROP COLUMN on both databases: on SQLite (3.35+) it keeps the table, its
    rows' foreign keys and the appointment overlap triggers, which a batch rebuild would not."""
    for column in columns:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

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
    with op.batch_alter_table("appointment_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("detail", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("access_notes", sa.Text(), nullable=False, server_default=sa.text("''"))
        )


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("access_notes")
    with op.batch_alter_table("appointment_event", schema=None) as batch_op:
        batch_op.drop_column("detail")

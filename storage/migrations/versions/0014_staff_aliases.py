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
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("aliases", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendee", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("attendee")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("aliases")

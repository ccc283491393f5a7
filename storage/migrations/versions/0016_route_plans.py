"""route optimisation: route plans (proposal, apply, undo) and pinned jobs

Revision ID: 0016
Revises: 0009
Create Date: 2026-12-01 12:40:00

`route_plan` keeps each optimised day an owner asked for: the staff and times of every
appointment it moves before and after, its figures, and when it was applied or undone.
`appointment.staff_pinned` marks a job whose customer asked for that technician; the
optimiser never gives it to anyone else. Existing appointments are not pinned.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=400), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_route_plan_day", "route_plan", ["day"])
    # A plain ADD COLUMN, not batch mode: rebuilding the appointment table on SQLite would
    # drop its overlap triggers (0001), the database's own guard against double booking.
    op.add_column(
        "appointment",
        sa.Column("staff_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+) keeps the triggers a table rebuild would drop.
    op.execute("ALTER TABLE appointment DROP COLUMN staff_pinned")
    op.drop_index("ix_route_plan_day", table_name="route_plan")
    op.drop_table("route_plan")

"""places and field service: the place cache, home bases, skills, coordinates, windows

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-01 12:20:00

`place` caches geocoded addresses. Staff get a home base (`home_address`, `home_lat`,
`home_lon`) and `skills`; services the `skill` they need, `outdoor` and an arrival
`window_minutes`; appointments their coordinates (`lat`, `lon`, `place_source`) and the
promised arrival window (`window_start`, `window_end`). Existing rows get none of these.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address_key", sa.String(length=500), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("address_key", name="uq_place_address_key"),
    )
    # Plain ADD COLUMN (no batch rebuild): a rebuild fails on SQLite once rows point at the
    # table (foreign keys are on), and would drop the appointment overlap triggers.
    op.add_column("staff", sa.Column("home_address", sa.Text(), nullable=True))
    op.add_column("staff", sa.Column("home_lat", sa.Float(), nullable=True))
    op.add_column("staff", sa.Column("home_lon", sa.Float(), nullable=True))
    op.add_column(
        "staff", sa.Column("skills", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("service", sa.Column("skill", sa.String(length=64), nullable=True))
    op.add_column(
        "service", sa.Column("outdoor", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("service", sa.Column("window_minutes", sa.Integer(), nullable=True))
    op.add_column("appointment", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("appointment", sa.Column("lon", sa.Float(), nullable=True))
    op.add_column("appointment", sa.Column("place_source", sa.String(length=16), nullable=True))
    op.add_column(
        "appointment",
        sa.Column("window_start", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "appointment",
        sa.Column("window_end", storage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    _drop_columns("appointment", "window_end", "window_start", "place_source", "lon", "lat")
    _drop_columns("service", "window_minutes", "outdoor", "skill")
    _drop_columns("staff", "skills", "home_lon", "home_lat", "home_address")
    op.drop_table("place")


def _drop_columns(table: str, *columns: str) -> None:
    """ALTER TABLE … DROP COLUMN on both databases: on SQLite (3.35+) it keeps the table, its
    rows' foreign keys and the appointment overlap triggers, which a batch rebuild would not."""
    for column in columns:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

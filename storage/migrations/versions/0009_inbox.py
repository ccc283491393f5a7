"""inbound messages wait in an inbox: handled_at

Revision ID: 0009
Revises: 0002
Create Date: 2026-11-21 09:00:00

A webhook now records the delivery and answers; the worker handles it later and stamps
`handled_at`. Rows that exist already were handled when they were stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handled_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE inbound_message SET handled_at = received_at")
    # The processor's queue: only the few rows still waiting are in this index.
    op.create_index(
        "ix_inbound_pending",
        "inbound_message",
        ["id"],
        unique=False,
        sqlite_where=sa.text("handled_at IS NULL"),
        postgresql_where=sa.text("handled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_pending", table_name="inbound_message")
    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_column("handled_at")

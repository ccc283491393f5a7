"""hand-over threads and consent events

Revision ID: 0020
Revises: 0009
Create Date: 2026-12-01 12:30:00

A customer who asks for a person gets a `handover` thread (its messages in
`handover_message`); every yes or no to promotions, and every STOP and START, is a
`consent_event` row with its time, channel and words.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0020"
down_revision = "0009"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        _when("opened_at"),
        _when("last_activity_at"),
        _when("closed_at", nullable=True),
        sa.Column("closed_by", sa.String(400), nullable=True),
    )
    op.create_index("ix_handover_open", "handover", ["customer_id", "closed_at"])
    op.create_table(
        "handover_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("handover_id", sa.Integer(), sa.ForeignKey("handover.id"), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _when("at"),
    )
    op.create_index("ix_handover_message_handover_id", "handover_message", ["handover_id"])
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("topic", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        _when("at"),
    )
    op.create_index("ix_consent_customer", "consent_event", ["customer_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_consent_customer", table_name="consent_event")
    op.drop_table("consent_event")
    op.drop_index("ix_handover_message_handover_id", table_name="handover_message")
    op.drop_table("handover_message")
    op.drop_index("ix_handover_open", table_name="handover")
    op.drop_table("handover")

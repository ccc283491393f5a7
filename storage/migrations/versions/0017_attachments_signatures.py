"""photos and files on appointments, signature requests and signatures; service disclaimers

Revision ID: 0017
Revises: 0009
Create Date: 2026-12-01 12:30:00

`attachment` keeps photos and files with a customer and their appointment (bytes for
uploads, the provider's URL for channel media). `signature_request` rows back the signed,
expiring signing links; `signature` is what a customer signed (text, SHA-256, name, PNG,
time, IP). `service.disclaimer_before` / `disclaimer_after` hold the texts business.toml
gives; existing services have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017"
down_revision = "0009"
branch_labels = None
depends_on = "0004"  # signature rows point at estimates (billing)

UTC = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): a rebuild fails on SQLite once rows point at the
    # table (foreign keys are on), and would drop the appointment overlap triggers.
    op.add_column("service", sa.Column("disclaimer_before", sa.Text(), nullable=True))
    op.add_column("service", sa.Column("disclaimer_after", sa.Text(), nullable=True))
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("sent_by", sa.String(length=400), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index("ix_attachment_appointment", ["appointment_id", "id"])
        batch_op.create_index("ix_attachment_customer", ["customer_id", "id"])
    op.create_table(
        "signature_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("estimate_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=400), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("signed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["estimate_id"], ["estimate.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signature_request", schema=None) as batch_op:
        batch_op.create_index("ix_signature_request_appointment", ["appointment_id", "kind"])
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("estimate_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("signed_text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("image_png", sa.LargeBinary(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.Column("signed_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["signature_request.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"]),
        sa.ForeignKeyConstraint(["estimate_id"], ["estimate.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.create_index("ix_signature_appointment", ["appointment_id", "kind"])
        batch_op.create_index("ix_signature_estimate", ["estimate_id"])


def downgrade() -> None:
    op.drop_table("signature")
    op.drop_table("signature_request")
    op.drop_table("attachment")
    _drop_columns("service", "disclaimer_after", "disclaimer_before")


def _drop_columns(table: str, *columns: str) -> None:
    """ALTER TABLE … DROP COLUMN on both databases: on SQLite (3.35+) it keeps the table, its
    rows' foreign keys and the appointment overlap triggers, which a batch rebuild would not."""
    for column in columns:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

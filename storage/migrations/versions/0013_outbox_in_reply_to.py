"""outbox rows keep the provider id of the delivery they answer: in_reply_to

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-01 09:30:00

The logs of one message carry its provider id from the webhook through the turn to the
send; the dispatcher reads it from here. Rows that exist already answer nothing known.
It alters outbox_message, so it also needs the branch that made that table (0003, 0005).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = ("0005",)


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_reply_to", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("in_reply_to")

"""portal and dashboard links, and the app's own generated secret

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-21 06:16:52.700852
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types


revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_secret',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('portal_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('portal_link', schema=None) as batch_op:
        batch_op.create_index('ix_portal_link_customer', ['customer_id', 'revoked_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('portal_link', schema=None) as batch_op:
        batch_op.drop_index('ix_portal_link_customer')

    op.drop_table('portal_link')
    op.drop_table('app_secret')

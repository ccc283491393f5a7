"""messaging

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-21 05:34:09.672477
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appointment_id')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_customer_id'), ['customer_id'], unique=False)

    op.create_table('waitlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('window_start', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entry_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_waitlist_waiting', ['status', 'window_start', 'window_end'], unique=False)

    op.create_table('waitlist_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('offered_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entry.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlist_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_offer_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_offer_hold_id'), ['hold_id'], unique=False)
        batch_op.create_index('ix_waitlist_offer_open', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_waitlist_offer_slot', ['staff_id', 'starts_at'], unique=False)

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('ref_starts_at', storage.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('ref_starts_at')
        batch_op.drop_column('lease_token')

    with op.batch_alter_table('waitlist_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_offer_slot')
        batch_op.drop_index('ix_waitlist_offer_open')
        batch_op.drop_index(batch_op.f('ix_waitlist_offer_hold_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_offer_entry_id'))

    op.drop_table('waitlist_offer')
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_waiting')
        batch_op.drop_index(batch_op.f('ix_waitlist_entry_customer_id'))

    op.drop_table('waitlist_entry')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_customer_id'))

    op.drop_table('feedback')

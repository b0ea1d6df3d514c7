"""Indexes for the sync status pages: requests by kind and failed requests over time, users by
their last change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FAILED = sa.text("status >= 400")


def upgrade():
    with op.batch_alter_table('provisioning_events', schema=None) as batch_op:
        batch_op.create_index('ix_provisioning_events_org_operation_time', ['organization_id', 'operation', 'occurred_at'], unique=False)
        batch_op.create_index('ix_provisioning_events_org_failed_time', ['organization_id', 'occurred_at'], unique=False, postgresql_where=FAILED, sqlite_where=FAILED)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_org_updated_at', ['organization_id', 'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_org_updated_at')

    with op.batch_alter_table('provisioning_events', schema=None) as batch_op:
        batch_op.drop_index('ix_provisioning_events_org_failed_time')
        batch_op.drop_index('ix_provisioning_events_org_operation_time')

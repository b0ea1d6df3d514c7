"""Rollups by kind of request: the user deletions the log still holds (shown on the dashboard
and the users page) are summed from this index's few rows, not from every rollup.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activity_rollups', schema=None) as batch_op:
        batch_op.create_index(
            'ix_activity_rollups_org_operation', ['organization_id', 'operation', 'resource_type', 'failed'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('activity_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_rollups_org_operation')

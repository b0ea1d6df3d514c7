"""Each ten-minute bucket's requests added up as the dashboard counts them, kept with the
rollups: the dashboard reads one row per ten minutes instead of adding up every kind's rollups.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08

"""
import sqlalchemy as sa
from alembic import op

from jericho.storage.rollups import buckets_from_rollups

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COUNTS = ('requests', 'created', 'users_created', 'groups_created', 'updated', 'disabled', 'deleted', 'lookups',
          'test_connections', 'errors')


def upgrade():
    op.create_table(
        'activity_buckets',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.BigInteger(), nullable=False),
        sa.Column('first', sa.BigInteger(), nullable=False),
        sa.Column('last', sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'bucket'),
    )
    buckets_from_rollups(op.get_bind())


def downgrade():
    op.drop_table('activity_buckets')

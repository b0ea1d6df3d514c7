"""Activity rollups written with the log: keyed by what a batch of requests adds to (no NULL in
the key), without seals, and rebuilt from the log already stored.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

from jericho.storage.rollups import rollups_from_log

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('activity_seals')
    with op.batch_alter_table('activity_rollups', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_rollups_org_bucket')
    op.drop_table('activity_rollups')
    op.create_table('activity_rollups',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('resource_type', sa.String(length=20), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=False),
    sa.Column('first', sa.BigInteger(), nullable=False),
    sa.Column('last', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('latest_event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_activity_rollups_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', 'bucket', 'operation', 'resource_type', 'failed', 'cause', name=op.f('pk_activity_rollups'))
    )
    op.execute(rollups_from_log(dialect=op.get_bind().dialect))


def downgrade():
    op.drop_table('activity_rollups')
    op.create_table('activity_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('resource_type', sa.String(length=20), nullable=True),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('first', sa.BigInteger(), nullable=False),
    sa.Column('last', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('latest_event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_activity_rollups_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_rollups'))
    )
    with op.batch_alter_table('activity_rollups', schema=None) as batch_op:
        batch_op.create_index('ix_activity_rollups_org_bucket', ['organization_id', 'bucket'], unique=False)
    op.create_table('activity_seals',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('sealed_from', sa.DateTime(), nullable=False),
    sa.Column('sealed_until', sa.DateTime(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_activity_seals_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_activity_seals'))
    )

"""Directory counts: one row per organization with its numbers of users, groups and
memberships, updated by each SCIM write, filled here from the rows already stored.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('directory_counts',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('active_users', sa.Integer(), nullable=False),
    sa.Column('deactivated_users', sa.Integer(), nullable=False),
    sa.Column('groups', sa.Integer(), nullable=False),
    sa.Column('empty_groups', sa.Integer(), nullable=False),
    sa.Column('memberships', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_directory_counts_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_directory_counts'))
    )
    op.execute("""
        INSERT INTO directory_counts
            (organization_id, active_users, deactivated_users, groups, empty_groups, memberships)
        SELECT o.id,
            (SELECT count(*) FROM users u WHERE u.organization_id = o.id AND u.active),
            (SELECT count(*) FROM users u WHERE u.organization_id = o.id AND NOT u.active),
            (SELECT count(*) FROM groups g WHERE g.organization_id = o.id),
            (SELECT count(*) FROM groups g WHERE g.organization_id = o.id
                AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.group_pk = g.pk)),
            (SELECT count(*) FROM memberships m JOIN groups g ON g.pk = m.group_pk WHERE g.organization_id = o.id)
        FROM organizations o
    """)


def downgrade():
    op.drop_table('directory_counts')

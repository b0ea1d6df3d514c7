"""Users by state: the admin pages count active and deactivated users from this index alone,
instead of reading every user's row.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_org_active', ['organization_id', 'active'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_org_active')

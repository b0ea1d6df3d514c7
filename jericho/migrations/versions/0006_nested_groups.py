"""Groups as members of groups (Entra sends them when both groups are assigned).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('nested_groups',
    sa.Column('group_pk', sa.Integer(), nullable=False),
    sa.Column('member_group_pk', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_pk'], ['groups.pk'], name=op.f('fk_nested_groups_group_pk_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_group_pk'], ['groups.pk'], name=op.f('fk_nested_groups_member_group_pk_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_pk', 'member_group_pk', name=op.f('pk_nested_groups'))
    )
    with op.batch_alter_table('nested_groups', schema=None) as batch_op:
        batch_op.create_index('ix_nested_groups_member_group', ['member_group_pk', 'group_pk'], unique=False)


def downgrade():
    with op.batch_alter_table('nested_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_nested_groups_member_group')
    op.drop_table('nested_groups')

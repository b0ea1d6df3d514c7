"""Initial schema: organizations, admins, tokens, users, groups, memberships, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('name', name=op.f('uq_organizations_name'))
    )
    op.create_table('admin_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_admin_users_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_users')),
    sa.UniqueConstraint('email', name=op.f('uq_admin_users_email'))
    )
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_users_organization_id'), ['organization_id'], unique=False)

    op.create_table('groups',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('display_name_key', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_groups_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_groups')),
    sa.UniqueConstraint('id', name=op.f('uq_groups_id')),
    sa.UniqueConstraint('organization_id', 'display_name_key', name=op.f('uq_groups_organization_id_display_name_key'))
    )
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index('ix_groups_org_external_id', ['organization_id', 'external_id'], unique=False)

    op.create_table('scim_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_scim_tokens_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_tokens')),
    sa.UniqueConstraint('prefix', name=op.f('uq_scim_tokens_prefix')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_scim_tokens_secret_hash'))
    )
    with op.batch_alter_table('scim_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_tokens_organization_id'), ['organization_id'], unique=False)

    op.create_table('users',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_name', sa.Text(), nullable=False),
    sa.Column('user_name_key', sa.Text(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('display_name_key', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('manager_id', sa.String(length=36), nullable=True),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_users_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_users')),
    sa.UniqueConstraint('id', name=op.f('uq_users_id')),
    sa.UniqueConstraint('organization_id', 'user_name_key', name=op.f('uq_users_organization_id_user_name_key'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_org_created_at', ['organization_id', 'created_at'], unique=False)
        batch_op.create_index('ix_users_org_display_name_key', ['organization_id', 'display_name_key'], unique=False)
        batch_op.create_index('ix_users_org_external_id', ['organization_id', 'external_id'], unique=False)
        batch_op.create_index('ix_users_org_manager_id', ['organization_id', 'manager_id'], unique=False)

    op.create_table('admin_audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('admin_user_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['admin_user_id'], ['admin_users.id'], name=op.f('fk_admin_audit_events_admin_user_id_admin_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_admin_audit_events_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit_events'))
    )
    with op.batch_alter_table('admin_audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_admin_audit_events_org_time', ['organization_id', 'occurred_at'], unique=False)

    op.create_table('memberships',
    sa.Column('group_pk', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_pk'], ['groups.pk'], name=op.f('fk_memberships_group_pk_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['users.pk'], name=op.f('fk_memberships_user_pk_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_pk', 'user_pk', name=op.f('pk_memberships'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_user_group', ['user_pk', 'group_pk'], unique=False)

    op.create_table('provisioning_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('resource_type', sa.String(length=20), nullable=True),
    sa.Column('resource_id', sa.String(length=64), nullable=True),
    sa.Column('scim_type', sa.String(length=40), nullable=True),
    sa.Column('error_detail', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_provisioning_events_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['scim_tokens.id'], name=op.f('fk_provisioning_events_token_id_scim_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provisioning_events'))
    )
    with op.batch_alter_table('provisioning_events', schema=None) as batch_op:
        batch_op.create_index('ix_provisioning_events_org_resource', ['organization_id', 'resource_type', 'resource_id'], unique=False)
        batch_op.create_index('ix_provisioning_events_org_time', ['organization_id', 'occurred_at'], unique=False)

    op.create_table('user_emails',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('value_key', sa.Text(), nullable=False),
    sa.Column('type_key', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_user_emails_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_pk'], ['users.pk'], name=op.f('fk_user_emails_user_pk_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_user_emails'))
    )
    with op.batch_alter_table('user_emails', schema=None) as batch_op:
        batch_op.create_index('ix_user_emails_org_value_key', ['organization_id', 'value_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_emails_user_pk'), ['user_pk'], unique=False)



def downgrade():
    with op.batch_alter_table('user_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_emails_user_pk'))
        batch_op.drop_index('ix_user_emails_org_value_key')

    op.drop_table('user_emails')
    with op.batch_alter_table('provisioning_events', schema=None) as batch_op:
        batch_op.drop_index('ix_provisioning_events_org_time')
        batch_op.drop_index('ix_provisioning_events_org_resource')

    op.drop_table('provisioning_events')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_user_group')

    op.drop_table('memberships')
    with op.batch_alter_table('admin_audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_audit_events_org_time')

    op.drop_table('admin_audit_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_org_manager_id')
        batch_op.drop_index('ix_users_org_external_id')
        batch_op.drop_index('ix_users_org_display_name_key')
        batch_op.drop_index('ix_users_org_created_at')

    op.drop_table('users')
    with op.batch_alter_table('scim_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_tokens_organization_id'))

    op.drop_table('scim_tokens')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index('ix_groups_org_external_id')

    op.drop_table('groups')
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_users_organization_id'))

    op.drop_table('admin_users')
    op.drop_table('organizations')

"""Admin sessions that end on the server, sign-in delays per (account, address) pair, and audit
events that name who acted.

- admin_users.session_version: every session names it; raising it ends them all.
- admin_audit_events.actor_email: the acting admin's email, kept after the admin is removed;
  empty for the command line. Existing events take the email of the admin they name.
- sign_in_failures replaces sign_in_attempts: one counter per key instead of a row per attempt.
  The old rows are short-lived throttling state and are not carried over.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default=sa.text('1'), nullable=False))

    with op.batch_alter_table('admin_audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_email', sa.String(length=320), nullable=True))
    op.execute(
        "UPDATE admin_audit_events SET actor_email = "
        "(SELECT email FROM admin_users WHERE admin_users.id = admin_audit_events.admin_user_id)"
    )

    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_attempts_key_time')
    op.drop_table('sign_in_attempts')

    op.create_table('sign_in_failures',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failures_last_failed_at'), ['last_failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_last_failed_at'))
    op.drop_table('sign_in_failures')

    op.create_table('sign_in_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts'))
    )
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_attempts_key_time', ['key', 'occurred_at'], unique=False)

    with op.batch_alter_table('admin_audit_events', schema=None) as batch_op:
        batch_op.drop_column('actor_email')

    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

"""per-account session version: bumping it ends every session and remember-me cookie

Revision ID: 0007_sec_sessions
Revises: 0006
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_sec_sessions'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_version')

"""providers: tier and options (Hugging Face routing) on provider; the provider task a job waits on;
the tier of each ledger row

Revision ID: 0009_i16providers
Revises: 0007_sec_mfa
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_i16providers'
down_revision = '0009_i16video'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=True))
    # job.provider_task_id comes with 0009_i16video (video jobs and task-backed stills share it).
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_column('tier')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_column('options')
        batch_op.drop_column('tier')

"""bulk items remember their provider task (Runway) so a killed worker's item resumes it

Revision ID: 0011_i16rest
Revises: 0010_i17describe
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_i16rest'
down_revision = '0010_i17describe'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bulk_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_task_id', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('bulk_item', schema=None) as batch_op:
        batch_op.drop_column('provider_task_id')

"""describe every image: alt text, title, description, tags and who wrote them, on asset

Revision ID: 0010_i17describe
Revises: 0009_i16providers
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_i17describe'
down_revision = '0009_i16providers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alt_text', sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('description', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('described_by', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_column('described_by')
        batch_op.drop_column('tags')
        batch_op.drop_column('description')
        batch_op.drop_column('title')
        batch_op.drop_column('alt_text')

"""social presets: admin-added output presets, and each user's remembered auto-format choice

Revision ID: 0011_i17formats
Revises: 0011_i16rest
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_i17formats'
down_revision = '0011_i16rest'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'format_preset',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=60), nullable=False),
        sa.Column('platform', sa.String(length=40), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_format_preset_created_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_format_preset')),
        sa.UniqueConstraint('name', name=op.f('uq_format_preset_name')),
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format_prefs', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('format_prefs')
    op.drop_table('format_preset')

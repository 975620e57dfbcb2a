"""media: video and audio assets (kind, duration, codec), show promo/voice slots, provider task ids on jobs

Revision ID: 0009_i16video
Revises: 0007_sec_mfa
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_i16video'
down_revision = '0009_i15type'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_kind', sa.String(length=8), server_default='image', nullable=False))
        batch_op.add_column(sa.Column('duration_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('codec', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_asset_media_kind'), ['media_kind'], unique=False)
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_task_id', sa.String(length=200), nullable=True))
    with op.batch_alter_table('show', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promo_asset_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('voice_asset_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_show_promo_asset_id'), ['promo_asset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_show_voice_asset_id'), ['voice_asset_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_show_promo_asset_id_asset'), 'asset', ['promo_asset_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_show_voice_asset_id_asset'), 'asset', ['voice_asset_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('show', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_show_voice_asset_id_asset'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_show_promo_asset_id_asset'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_show_voice_asset_id'))
        batch_op.drop_index(batch_op.f('ix_show_promo_asset_id'))
        batch_op.drop_column('voice_asset_id')
        batch_op.drop_column('promo_asset_id')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('provider_task_id')
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_media_kind'))
        batch_op.drop_column('codec')
        batch_op.drop_column('duration_s')
        batch_op.drop_column('media_kind')

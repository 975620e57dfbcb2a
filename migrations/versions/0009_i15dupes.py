"""near-duplicates: a likeness signature (colour + structure) that must confirm a perceptual-hash match

Revision ID: 0009_i15dupes
Revises: 0007_sec_mfa
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_i15dupes'
down_revision = '0009_i14rest'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no backfill here: existing assets get theirs from their thumbnail on first use.
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('likeness', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_column('likeness')

"""locale: the producer's language and region for dates and prices on posters

Revision ID: 0009_i15type
Revises: 0007_sec_mfa
Create Date: 2026-12-03

"""

from alembic import op
import sqlalchemy as sa


revision = "0009_i15type"
down_revision = "0009_i15dupes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("locale")

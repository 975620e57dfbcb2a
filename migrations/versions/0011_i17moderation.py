"""moderation before publishing: asset status and verdict, admin settings table

Revision ID: 0011_i17moderation
Revises: 0011_i19library
Create Date: 2026-12-03

Existing hidden assets (bulk results under review) become drafts; everything else is published.
"""

from alembic import op
import sqlalchemy as sa


revision = "0011_i17moderation"
down_revision = "0011_i19library"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="published")
        )
        batch_op.add_column(sa.Column("moderation", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_asset_status"), ["status"], unique=False)
    op.execute("UPDATE asset SET status = 'draft' WHERE hidden = true")
    op.create_table(
        "app_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_setting")),
    )


def downgrade():
    op.drop_table("app_setting")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_status"))
        batch_op.drop_column("moderation")
        batch_op.drop_column("status")

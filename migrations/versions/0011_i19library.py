"""library stacks and favourites: asset.group_id (the original a derived asset belongs to),
asset.favorite and asset.superseded (an overlay render replaced by a newer one)

Revision ID: 0011_i19library
Revises: 0011_i17formats
Create Date: 2026-12-03

"""

from alembic import op
import sqlalchemy as sa


revision = "0011_i19library"
down_revision = "0011_i17formats"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("favorite", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("superseded", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f("ix_asset_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_favorite"), ["favorite"], unique=False)
        batch_op.create_foreign_key(
            "fk_asset_group_id_asset", "asset", ["group_id"], ["id"], ondelete="SET NULL"
        )
    # Existing derived assets join the stack of their topmost ancestor.
    conn = op.get_bind()
    asset = sa.table(
        "asset",
        sa.column("id", sa.Integer),
        sa.column("parent_id", sa.Integer),
        sa.column("group_id", sa.Integer),
    )
    parents = {row.id: row.parent_id for row in conn.execute(sa.select(asset.c.id, asset.c.parent_id))}
    for asset_id, parent_id in parents.items():
        if parent_id is None:
            continue
        root, seen = parent_id, {asset_id}
        while parents.get(root) is not None and root not in seen:
            seen.add(root)
            root = parents[root]
        conn.execute(asset.update().where(asset.c.id == asset_id).values(group_id=root))


def downgrade():
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_constraint("fk_asset_group_id_asset", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_asset_favorite"))
        batch_op.drop_index(batch_op.f("ix_asset_group_id"))
        batch_op.drop_column("superseded")
        batch_op.drop_column("favorite")
        batch_op.drop_column("group_id")

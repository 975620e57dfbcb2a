"""optional expiry on API tokens (admin scope always expires)

Revision ID: 0009_i14rest
Revises: 0007_sec_mfa
Create Date: 2026-12-03

Existing tokens keep working with no expiry (NULL); admin-scope tokens created before this change
are given one TOKEN_ADMIN_DAYS default (30 days) from the upgrade, so no admin token stays valid
forever, while scripts using one get a month to switch to a new token.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_i14rest'
down_revision = '0007_sec_mfa'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    api_token = sa.table(
        'api_token',
        sa.column('scope', sa.String),
        sa.column('revoked_at', sa.DateTime(timezone=True)),
        sa.column('expires_at', sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        later = sa.text("now() + interval '30 days'")
    else:
        later = sa.text("datetime('now', '+30 days')")
    op.execute(
        api_token.update()
        .where(api_token.c.scope == 'admin')
        .where(api_token.c.revoked_at.is_(None))
        .values(expires_at=later)
    )


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')

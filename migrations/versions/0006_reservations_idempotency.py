"""allowance reservations and job idempotency keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('allowance_reservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_allowance_reservation_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_allowance_reservation_job_id_job'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allowance_reservation'))
    )
    with op.batch_alter_table('allowance_reservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allowance_reservation_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allowance_reservation_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_allowance_reservation_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_allowance_reservation_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint('uq_job_owner_idempotency_key', ['owner_id', 'idempotency_key'])


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_constraint('uq_job_owner_idempotency_key', type_='unique')
        batch_op.drop_column('idempotency_key')
    with op.batch_alter_table('allowance_reservation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allowance_reservation_created_at'))
        batch_op.drop_index(batch_op.f('ix_allowance_reservation_job_id'))
        batch_op.drop_index(batch_op.f('ix_allowance_reservation_state'))
        batch_op.drop_index(batch_op.f('ix_allowance_reservation_user_id'))
    op.drop_table('allowance_reservation')

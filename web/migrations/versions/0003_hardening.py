"""hardening: lead row versions (optimistic locking), batch job attempts and heartbeats

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # Every save of a lead bumps row_version; a save based on an older one is refused.
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))
    # A job that is running but whose heartbeat is old belongs to a dead process: shown as failed.
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("queue_id", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.drop_column("queue_id")
        batch_op.drop_column("worker")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("row_version")

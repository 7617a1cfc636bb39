"""batch import progress: a resumable import cursor, and which process holds a job

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 11:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        # The import goes in chunks: input rows gone through so far (the next import starts there), and its state.
        batch_op.add_column(sa.Column("imported_rows", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("import_state", sa.String(length=10), nullable=True))
        # The process holding the job: a missed heartbeat means "stopped" only once that process is gone.
        batch_op.add_column(sa.Column("worker_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("worker_pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("worker_started", sa.String(length=40), nullable=True))
    # A job imported before this revision (all at once) is done: importing it again would store its rows twice.
    op.execute(sa.text("UPDATE batch_jobs SET import_state = 'done', imported_rows = rows WHERE imported <> 0"))


def downgrade():
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.drop_column("worker_started")
        batch_op.drop_column("worker_pid")
        batch_op.drop_column("worker_host")
        batch_op.drop_column("import_state")
        batch_op.drop_column("imported_rows")

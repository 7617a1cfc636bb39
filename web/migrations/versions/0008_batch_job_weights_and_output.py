"""batch jobs record their weights version, how their scored file is written and the columns they ignored

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05 14:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        # The weights the job scored with: its import stores them with each lead (the file and the leads agree).
        batch_op.add_column(sa.Column("weights_version", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("weights_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("unverified_factor", sa.Float(), nullable=True))
        batch_op.create_foreign_key(
            "fk_batch_jobs_weights_version_id", "weights_versions", ["weights_version_id"], ["id"]
        )
        # The scored file's encoding: the form's choice, then what was written; jobs before this wrote UTF-8.
        batch_op.add_column(sa.Column("output", sa.String(length=10), nullable=False, server_default="utf-8"))
        batch_op.add_column(sa.Column("out_encoding", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("out_delimiter", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("ignored_columns", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.drop_column("ignored_columns")
        batch_op.drop_column("out_delimiter")
        batch_op.drop_column("out_encoding")
        batch_op.drop_column("output")
        batch_op.drop_constraint("fk_batch_jobs_weights_version_id", type_="foreignkey")
        batch_op.drop_column("unverified_factor")
        batch_op.drop_column("weights_version_id")
        batch_op.drop_column("weights_version")

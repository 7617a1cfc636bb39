"""sector confidence: how sure the sector detection was, kept with each assessment

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Assessments made before this revision have none (the export leaves the cell empty).
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sector_confidence", sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("sector_confidence")

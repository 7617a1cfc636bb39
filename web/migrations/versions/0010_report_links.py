"""report links: the unguessable link to the one-page report a firm gets after sending its self-assessment

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05 14:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_report_links_lead_id", "report_links", ["lead_id"])
    op.create_index("ix_report_links_assessment_id", "report_links", ["assessment_id"])


def downgrade():
    op.drop_index("ix_report_links_assessment_id", table_name="report_links")
    op.drop_index("ix_report_links_lead_id", table_name="report_links")
    op.drop_table("report_links")

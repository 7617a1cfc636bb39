"""opportunities staff enter (projects, partners) and introductions of leads to opportunities

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-05 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_ru", sa.Text(), nullable=False),
        sa.Column("name_vi", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("asks", sa.JSON(), nullable=False),
        sa.Column("offers", sa.Text(), nullable=True),
        sa.Column("capital_min_usd", sa.Float(), nullable=True),
        sa.Column("capital_max_usd", sa.Float(), nullable=True),
        sa.Column("deadline", sa.String(length=10), nullable=True),
        sa.Column("location_type", sa.String(length=20), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_opportunities_status", "opportunities", ["status"])
    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_key", sa.String(length=80), nullable=False),
        sa.Column("opportunity_name", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_introductions_lead_id", "introductions", ["lead_id"])
    op.create_index("ix_introductions_opportunity_key", "introductions", ["opportunity_key"])


def downgrade():
    op.drop_index("ix_introductions_opportunity_key", table_name="introductions")
    op.drop_index("ix_introductions_lead_id", table_name="introductions")
    op.drop_table("introductions")
    op.drop_index("ix_opportunities_status", table_name="opportunities")
    op.drop_table("opportunities")

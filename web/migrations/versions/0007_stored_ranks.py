"""stored ranks: each lead's rank and robustness, computed in the background; index-served list orders

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None

SORT_INDEXES = ("sort_score", "name", "status", "created_at")


def upgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        # The score as a non-null sort key: one index serves "best first" and "worst first" on both databases.
        batch_op.add_column(sa.Column("sort_score", sa.Float(), nullable=False, server_default="-1"))
    op.execute(sa.text("UPDATE leads SET sort_score = score WHERE score IS NOT NULL"))
    for name in SORT_INDEXES:
        op.create_index(f"ix_leads_{name}_id", "leads", [name, "id"])
    op.create_table(
        "lead_ranks",
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("median", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("p_top_k", sa.Float(), nullable=False),
        sa.Column("subscores", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "rank_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("version_label", sa.String(length=80), nullable=True),
        sa.Column("spread", sa.Float(), nullable=True),
        sa.Column("top_k", sa.Integer(), nullable=True),
        sa.Column("n_samples", sa.Integer(), nullable=True),
        sa.Column("n_leads", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("n_added", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        sa.Column("ranked_at", sa.DateTime(), nullable=True),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("held_until", sa.DateTime(), nullable=True),
    )


def downgrade():
    op.drop_table("rank_state")
    op.drop_table("lead_ranks")
    for name in SORT_INDEXES:
        op.drop_index(f"ix_leads_{name}_id", table_name="leads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("sort_score")

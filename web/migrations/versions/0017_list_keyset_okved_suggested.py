"""index-served pages for the remaining list sorts; OKVED suggestions kept with each assessment

Revision ID: 0017
Revises: 0007
Create Date: 2026-12-05 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Sorts of the lead list that 0007 left without a (column, id) index: the list's keyset pages
#: (web/listing.py) seek into these, so a page far down a sort by completeness costs what page 1 does.
KEYSET_INDEXES = ("completeness", "sector", "band")


def upgrade():
    for name in KEYSET_INDEXES:
        op.create_index(f"ix_leads_{name}_id", "leads", [name, "id"])
    # Assessments made before this revision have none (the export leaves the cell empty).
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("okved_suggested", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("okved_suggested")
    for name in KEYSET_INDEXES:
        op.drop_index(f"ix_leads_{name}_id", table_name="leads")

"""screening: every detected sector of a lead in lead_sectors (filled from each lead's latest assessment)

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-05 14:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None

CHUNK = 1000  # leads read and rows written per round trip while backfilling


def upgrade():
    op.create_table(
        'lead_sectors',
        sa.Column('lead_id', sa.Integer(), sa.ForeignKey('leads.id', ondelete='CASCADE'), nullable=False),
        sa.Column('sector', sa.String(length=40), nullable=False),
        sa.Column('share', sa.Float(), nullable=True),
        sa.Column('main', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('lead_id', 'sector'),
    )
    op.create_index('ix_lead_sectors_sector', 'lead_sectors', ['sector'])
    _backfill_sectors(op.get_bind())


def _backfill_sectors(connection):
    """One row per sector of each lead's latest assessment (main first; share when the result had one)."""
    assessments = sa.table('assessments', sa.column('id', sa.Integer()), sa.column('lead_id', sa.Integer()),
                           sa.column('matched_sectors', sa.JSON()))
    target = sa.table('lead_sectors', sa.column('lead_id', sa.Integer()), sa.column('sector', sa.String()),
                      sa.column('share', sa.Float()), sa.column('main', sa.Boolean()))
    latest = sa.select(sa.func.max(assessments.c.id)).group_by(assessments.c.lead_id)
    query = (sa.select(assessments.c.lead_id, assessments.c.matched_sectors)
             .where(assessments.c.id.in_(latest)).order_by(assessments.c.lead_id))
    rows = []
    for lead_id, matched in connection.execute(query):
        rows += _rows_of(lead_id, matched)
        if len(rows) >= CHUNK:
            connection.execute(target.insert(), rows)
            rows = []
    if rows:
        connection.execute(target.insert(), rows)


def _rows_of(lead_id, matched):
    seen = set()
    rows = []
    for item in matched or ():
        sector = item.get('sector') if isinstance(item, dict) else None
        if sector and sector not in seen:
            share = item.get('share')
            rows.append({'lead_id': lead_id, 'sector': sector, 'main': not seen,
                         'share': float(share) if isinstance(share, int | float) else None})
            seen.add(sector)
    return rows


def downgrade():
    op.drop_index('ix_lead_sectors_sector', table_name='lead_sectors')
    op.drop_table('lead_sectors')

"""screening: every detected sector of a lead in lead_sectors (filled from each lead's latest assessment);
leads.search_text, the searched fields without case and accents (trigram-indexed on PostgreSQL); firm
identifiers (INN, OGRN) and the keys duplicate leads are found by; contact persons; when a lead was anonymised;
activities, follow-up tasks and saved views of the lead list

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-05 14:50:00
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

CHUNK = 1000  # leads read and rows written per round trip while backfilling


def upgrade():
    op.create_table(
        "lead_sectors",
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("share", sa.Double(), nullable=True),
        sa.Column("main", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("lead_id", "sector"),
    )
    op.create_index("ix_lead_sectors_sector", "lead_sectors", ["sector"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contacts_lead_id", "contacts", ["lead_id"])
    _workspace_tables()
    _backfill_sectors(op.get_bind())
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("inn", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("ogrn", sa.String(length=15), nullable=True))
        for name in KEYS:
            batch_op.add_column(sa.Column(name, sa.String(length=300 if name == "name_key" else 255), nullable=True))
        for name in ("inn", "ogrn", *KEYS):
            batch_op.create_index(f"ix_leads_{name}", [name], unique=False)
    _backfill_leads(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        _trigram_index(op.get_bind())


KEYS = ("name_key", "web_domain", "mail_domain")


def _backfill_leads(connection):
    """Each lead's search text, INN and OGRN (from its extra columns) and duplicate keys, as the model writes them."""
    from web.dedup import identifiers_from, mail_domain, name_key, web_domain
    from web.models import SEARCHED
    from web.search import fold_fields

    read = ("name", "description", "okved", "city", "contact_email", "ext_id", "website")
    leads = sa.table(
        "leads",
        sa.column("id", sa.Integer()),
        sa.column("extras", sa.JSON()),
        *(sa.column(name, sa.Text()) for name in {*read, "search_text", "inn", "ogrn", *KEYS}),
    )
    update = (
        leads.update()
        .where(leads.c.id == sa.bindparam("lead_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in ("search_text", "inn", "ogrn", *KEYS)})
    )
    batch = []
    for row in connection.execute(sa.select(leads.c.id, leads.c.extras, *(leads.c[n] for n in read))).all():
        values = dict(zip(read, row[2:], strict=True))
        values.update(identifiers_from(row[1] or {}))
        keys = {
            "name_key": name_key(values["name"]),
            "web_domain": web_domain(values["website"]),
            "mail_domain": mail_domain(values["contact_email"]),
        }
        batch.append(
            {
                "lead_id": row[0],
                "new_search_text": fold_fields(values.get(f) for f in SEARCHED),
                "new_inn": values.get("inn"),
                "new_ogrn": values.get("ogrn"),
                **{f"new_{k}": (v[:255] or None) for k, v in keys.items()},
            }
        )
        if len(batch) >= CHUNK:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)


def _trigram_index(connection):
    """A GIN trigram index for LIKE '%word%'; without the pg_trgm extension, search still works (a scan)."""
    try:
        with connection.begin_nested():
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            connection.execute(
                sa.text("CREATE INDEX ix_leads_search_trgm ON leads USING gin (search_text public.gin_trgm_ops)")
            )
    except sa.exc.DBAPIError as exc:  # no right to create the extension: the list search scans instead
        logging.getLogger("alembic").warning("no trigram index on leads.search_text: %s", exc.orig)


def _workspace_tables():
    """Activities (call, meeting, e-mail), follow-up tasks with due dates, saved views of the lead list."""
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_activities_lead_id", "activities", ["lead_id"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tasks_lead_id", "tasks", ["lead_id"])
    op.create_index("ix_tasks_assignee_id", "tasks", ["assignee_id"])
    op.create_index("ix_tasks_due_on", "tasks", ["due_on"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name"),
    )


def _backfill_sectors(connection):
    """One row per sector of each lead's latest assessment (main first; share when the result had one)."""
    assessments = sa.table(
        "assessments",
        sa.column("id", sa.Integer()),
        sa.column("lead_id", sa.Integer()),
        sa.column("matched_sectors", sa.JSON()),
    )
    target = sa.table(
        "lead_sectors",
        sa.column("lead_id", sa.Integer()),
        sa.column("sector", sa.String()),
        sa.column("share", sa.Double()),
        sa.column("main", sa.Boolean()),
    )
    latest = sa.select(sa.func.max(assessments.c.id)).group_by(assessments.c.lead_id)
    query = (
        sa.select(assessments.c.lead_id, assessments.c.matched_sectors)
        .where(assessments.c.id.in_(latest))
        .order_by(assessments.c.lead_id)
    )
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
        sector = item.get("sector") if isinstance(item, dict) else None
        if sector and sector not in seen:
            share = item.get("share")
            rows.append(
                {
                    "lead_id": lead_id,
                    "sector": sector,
                    "main": not seen,
                    "share": float(share) if isinstance(share, int | float) else None,
                }
            )
            seen.add(sector)
    return rows


def downgrade():
    op.drop_table("saved_views")
    for table, columns in (("tasks", ("due_on", "assignee_id", "lead_id")), ("activities", ("lead_id",))):
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_contacts_lead_id", table_name="contacts")
    op.drop_table("contacts")
    op.execute("DROP INDEX IF EXISTS ix_leads_search_trgm")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        for name in ("inn", "ogrn", *KEYS):
            batch_op.drop_index(f"ix_leads_{name}")
            batch_op.drop_column(name)
        batch_op.drop_column("search_text")
        batch_op.drop_column("anonymised_at")
    op.drop_index("ix_lead_sectors_sector", table_name="lead_sectors")
    op.drop_table("lead_sectors")

"""Keyset pages of the lead list (web/keyset.py, web/listing.py): next and previous pages, ties, empty values,
filters kept from page to page, and the seek served by an index; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import html as htmllib
import re
from datetime import datetime

import pytest
from sqlalchemy import text

from web import keyset
from web.extensions import db
from web.models import Lead

SORTS = [
    "",
    "&sort=name&dir=asc",
    "&sort=score&dir=asc",
    "&sort=created",
    "&sort=completeness",
    "&sort=completeness&dir=asc",
    "&sort=sector",
    "&sort=sector&dir=desc",
    "&sort=band",
    "&sort=status",
]


@pytest.fixture
def twelve(app, make_lead):
    """Twelve leads with ties on every sort (equal scores, names, statuses), three of them without a score."""
    ids = [make_lead(name=f"Twin {i % 3}", status=("new", "contacted")[i % 2]) for i in range(9)]
    ids += [make_lead(name="Solo", okved="79.11", training="")]
    ids += [make_lead(name=f"Blank {i}") for i in range(2)]
    with app.app_context():
        for lead_id in (ids[3], ids[10], ids[11]):  # unscored: empty completeness, sector and band
            lead = db.session.get(Lead, lead_id)
            lead.score = lead.completeness = lead.sector = lead.band = None
        db.session.commit()
    return ids


def walk(client, url: str, headers: dict, key: str = "next") -> list[list[int]]:
    """Every page from ``url`` on, following the ``key`` cursor of the API."""
    pages = []
    while url:
        data = client.get(url, headers=headers).get_json()
        pages.append([lead["id"] for lead in data["leads"]])
        cursor = data[key]
        base = re.sub(r"&(after|before)=[^&]*", "", url)
        url = f"{base}&{'after' if key == 'next' else 'before'}={cursor}" if cursor else None
        assert len(pages) < 20
    return pages


@pytest.mark.parametrize("sort", SORTS)
def test_next_and_previous_pages_hold_every_lead_once_in_order(client, headers, twelve, sort):
    whole = client.get(f"/api/v1/leads?per_page=200{sort}", headers=headers).get_json()
    order = [lead["id"] for lead in whole["leads"]]
    assert sorted(order) == sorted(twelve) and whole["next"] is None and whole["prev"] is None
    pages = walk(client, f"/api/v1/leads?per_page=5{sort}", headers)
    assert [len(p) for p in pages] == [5, 5, 2] and sum(pages, []) == order
    # back from the last page: the same pages, in reverse
    last = client.get(
        f"/api/v1/leads?per_page=5{sort}&after=" + _cursor_before_last(client, sort, headers), headers=headers
    ).get_json()
    assert [lead["id"] for lead in last["leads"]] == pages[-1] and last["next"] is None
    back = walk(client, f"/api/v1/leads?per_page=5{sort}&before={last['prev']}", headers, key="prev")
    assert back == pages[-2::-1]


def _cursor_before_last(client, sort: str, headers: dict) -> str:
    data = client.get(f"/api/v1/leads?per_page=5{sort}", headers=headers).get_json()
    return client.get(f"/api/v1/leads?per_page=5{sort}&after={data['next']}", headers=headers).get_json()["next"]


def test_empty_values_sort_as_the_smallest_on_both_databases(client, headers, twelve):
    for sort, blanks_first in (
        ("&sort=completeness&dir=desc", False),
        ("&sort=completeness&dir=asc", True),
        ("&sort=band&dir=desc", False),
        ("&sort=sector&dir=asc", True),
    ):
        leads = client.get(f"/api/v1/leads?per_page=200{sort}", headers=headers).get_json()["leads"]
        empty = [lead["completeness"] is None for lead in leads]
        assert empty == sorted(empty, reverse=blanks_first), sort


def test_ties_keep_one_order_when_a_lead_is_added_between_pages(client, headers, make_lead, twelve):
    first = client.get("/api/v1/leads?per_page=5", headers=headers).get_json()
    make_lead(name="Twin 9")  # the same score as the twins: newest first, so above the cursor
    rest = walk(client, f"/api/v1/leads?per_page=5&after={first['next']}", headers)
    seen = [lead["id"] for lead in first["leads"]] + sum(rest, [])
    assert sorted(seen) == sorted(twelve)  # nothing shown twice, nothing skipped


def test_filters_and_order_are_kept_across_pages(client, auth, twelve):
    auth.login()
    url = "/leads?per_page=2&status=contacted&sort=name&dir=asc"
    shown, positions = [], []
    while url:
        page = client.get(url).get_data(as_text=True)
        rows = re.findall(r'<td class="num muted">(\d+)</td>\s*<td><a href="/leads/(\d+)"', page)
        positions += [int(p) for p, _ in rows]
        shown += [int(i) for _, i in rows]
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = htmllib.unescape(found[1]) if found else None
        if url:
            assert "status=contacted" in url and "sort=name" in url and "dir=asc" in url and "&page=" not in url
    with client.application.app_context():
        contacted = db.session.execute(db.select(Lead).where(Lead.status == "contacted")).scalars().all()
        expected = [lead.id for lead in sorted(contacted, key=lambda lead: (lead.name, lead.id))]
    assert shown == expected and positions == list(range(1, len(expected) + 1))
    assert "1–2 of 4" in client.get("/leads?per_page=2&status=contacted").get_data(as_text=True)


def test_previous_link_returns_to_the_page_before(client, auth, twelve):
    auth.login()
    first = client.get("/leads?per_page=5").get_data(as_text=True)
    assert 'rel="prev"' not in first
    second = client.get(htmllib.unescape(re.search(r'<a href="([^"]+)" rel="next">', first)[1])).get_data(as_text=True)
    assert "6–10 of 12" in second
    back = client.get(htmllib.unescape(re.search(r'<a href="([^"]+)" rel="prev">', second)[1])).get_data(as_text=True)
    assert re.findall(r'href="/leads/(\d+)" class', back) == re.findall(r'href="/leads/(\d+)" class', first)
    assert "1–5 of 12" in back


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "W10",
        "WyJzY29yZSIsMSwieCIsMSwxXQ",
        "%00",
        "x" * 17_000,
        keyset.Cursor("name", False, "A", 1, 1).encode(),
    ],
)  # another sort
def test_a_cursor_that_does_not_fit_starts_at_the_first_page(client, auth, headers, twelve, cursor):
    auth.login()
    assert client.get(f"/leads?after={cursor}").status_code == 200
    data = client.get(f"/api/v1/leads?per_page=5&before={cursor}", headers=headers).get_json()
    assert len(data["leads"]) == 5 and data["prev"] is None


SEEK_FROM = {"score": 50.0, "completeness": 0.5, "sector": "software", "created": datetime(2026, 1, 1)}


@pytest.mark.parametrize("key", sorted(SEEK_FROM))
def test_the_seek_is_read_from_an_index(app, make_lead, key):
    make_lead()
    with app.app_context():
        at = keyset.Cursor(key, True, SEEK_FROM[key], 10, 5)
        part = keyset.segments(key, True)[0]
        query = (
            db.select(Lead.id)
            .where(*part.where, part.after(keyset.SORTS[key], at, True))
            .order_by(*part.order)
            .limit(26)
        )
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        index = f"ix_leads_{keyset.SORTS[key].key}_id"
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execute(text("SET enable_seqscan = off"))  # a tiny table: make the planner show the index path
                conn.execute(text("SET enable_bitmapscan = off"))
                plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
            assert index in plan and "Sort" not in plan and "Index Cond" in plan, plan
        else:
            plan = " ".join(str(r[-1]) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert f"SEARCH leads USING COVERING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan


def test_export_has_the_okved_suggestions_of_the_stored_assessment(app, client, auth, make_lead):
    lead_id = make_lead(
        name="Chipmaker", okved="", description="We manufacture printed circuit boards and microelectronics components"
    )
    with app.app_context():
        suggested = db.session.get(Lead, lead_id).latest.okved_suggested
    assert suggested and all(s["code"] and s["title"] for s in suggested)
    auth.login()
    lines = client.get("/leads/export.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    header = lines[0].split(",")
    row = next(line for line in lines[1:] if "Chipmaker" in line)
    cells = next(csv.reader([row]))
    assert cells[header.index("okved_suggested")] == ";".join(s["code"] for s in suggested)


def test_migration_0017_downgrades_and_upgrades_again(app, make_lead, migration):
    from alembic import command
    from sqlalchemy import inspect

    from web.schema import upgrade

    make_lead()
    indexes = {"ix_leads_completeness_id", "ix_leads_sector_id", "ix_leads_band_id"}
    with migration(app) as (connection, config):
        command.downgrade(config, "0007")
        assert not indexes & {i["name"] for i in inspect(connection).get_indexes("leads")}
        assert "okved_suggested" not in {c["name"] for c in inspect(connection).get_columns("assessments")}
    upgrade(app)
    with app.app_context():
        assert indexes <= {i["name"] for i in inspect(db.engine).get_indexes("leads")}
        assert db.session.execute(text("SELECT okved_suggested FROM assessments")).scalar() is None  # scored before


@pytest.mark.parametrize("number", ["4", "99999999999", str(2**31 - 1)])
@pytest.mark.parametrize("sort", ["", "&sort=name&dir=asc", "&sort=completeness"])
def test_a_page_number_past_the_last_page_is_the_last_page(client, auth, headers, twelve, number, sort):
    # the total once followed the page asked for: page=99999999999 gave "total": 42949672920 and no `prev`
    last = client.get(f"/api/v1/leads?per_page=5&page=3{sort}", headers=headers).get_json()
    data = client.get(f"/api/v1/leads?per_page=5&page={number}{sort}", headers=headers).get_json()
    assert (data["total"], data["pages"], data["page"], data["next"]) == (12, 3, 3, None)
    assert data["leads"] == last["leads"] and len(data["leads"]) == 2 and data["prev"] == last["prev"]
    middle = client.get(f"/api/v1/leads?per_page=5&page=2{sort}", headers=headers).get_json()
    back = client.get(f"/api/v1/leads?per_page=5{sort}&before={data['prev']}", headers=headers).get_json()
    assert back["leads"] == middle["leads"] and back["total"] == 12
    auth.login()
    page = client.get(f"/leads?per_page=5&page={number}{sort}").get_data(as_text=True)
    assert "11–12 of 12" in page and 'rel="prev"' in page and 'rel="next"' not in page


@pytest.mark.parametrize("query", ["page=99999999999&q=nothing-matches-this", "page=2&status=dropped"])
def test_a_page_number_past_an_empty_list_is_its_first_page(client, headers, twelve, query):
    data = client.get(f"/api/v1/leads?per_page=5&{query}", headers=headers).get_json()
    assert (data["total"], data["pages"], data["page"], data["leads"]) == (0, 1, 1, [])
    assert data["prev"] is None and data["next"] is None

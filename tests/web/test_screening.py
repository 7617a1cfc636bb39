"""Screening: every detected sector stored and filterable with facet counts; accent-free search."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from web.extensions import db
from web.models import Lead, LeadSector


def names(html: str, candidates) -> list[str]:
    return [n for n in candidates if n in html]


@pytest.fixture
def sector_leads(make_lead):
    """Two electronics firms: one main, one where electronics is the second sector; and a travel firm."""
    return {
        "chips": make_lead(name="NordChip", okved="26.11", description="microelectronics"),
        "robots": make_lead(name="Volga Robotics", okved="28.99; 26.11", description="Industrial robots"),
        "travel": make_lead(name="Mekong Travel", okved="79.11", description="tours to Hanoi", training=""),
    }


def rows_of(app, lead_id: int) -> list[tuple]:
    with app.app_context():
        return [
            (r.sector, r.main)
            for r in db.session.execute(
                db.select(LeadSector)
                .where(LeadSector.lead_id == lead_id)
                .order_by(LeadSector.main.desc(), LeadSector.sector)
            ).scalars()
        ]


def test_every_detected_sector_is_stored_main_first(app, sector_leads):
    assert rows_of(app, sector_leads["robots"]) == [("automation", True), ("electronics", False)]
    assert rows_of(app, sector_leads["chips"]) == [("electronics", True)]


def test_sector_filter_matches_secondary_sectors_with_facet_counts(client, auth, sector_leads):
    auth.login()
    html = client.get("/leads?sector=electronics").get_data(as_text=True)
    assert names(html, ("NordChip", "Volga Robotics", "Mekong Travel")) == ["NordChip", "Volga Robotics"]
    assert 'class="chip facet active"' in html and '<span class="facet-count">2</span>' in html
    html = client.get("/leads").get_data(as_text=True)
    assert ">Smart electronics (2)</option>" in html and ">Tourism (1)</option>" in html


def test_facets_follow_the_other_filters(app, client, auth, sector_leads):
    auth.login()
    with app.app_context():
        from web.leads import filtered_query, sector_facets

        every = sector_facets({"q": ""}, filtered_query)
        only_robots = sector_facets({"q": "robots"}, filtered_query)
    assert every["electronics"] == 2 and every["automation"] == 1
    assert only_robots == {"automation": 1, "electronics": 1}


def test_api_filter_matches_secondary_sector_and_lists_sectors(app, client, sector_leads):
    with app.app_context():
        from web.models import User
        from web.services import issue_token

        token = issue_token(db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one())
        db.session.commit()
    body = client.get(
        "/api/v1/leads?sector=electronics&facets=sector", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert sorted(lead["name"] for lead in body["leads"]) == ["NordChip", "Volga Robotics"]
    robots = next(lead for lead in body["leads"] if lead["name"] == "Volga Robotics")
    assert [(s["sector"], s["main"]) for s in robots["sectors"]] == [("automation", True), ("electronics", False)]
    assert body["facets"]["sector"]["electronics"] == 2
    assert "facets" not in client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).get_json()


def test_rescore_keeps_sectors_in_step(app, sector_leads):
    from web.services import rescore

    with app.app_context():
        lead = db.session.get(Lead, sector_leads["robots"])
        lead.okved = "28.99"
        rescore([lead])
        db.session.commit()
    assert rows_of(app, sector_leads["robots"]) == [("automation", True)]
    with app.app_context():
        lead = db.session.get(Lead, sector_leads["robots"])
        lead.okved = "26.11; 28.99"
        rescore([lead])
        db.session.commit()
    assert rows_of(app, sector_leads["robots"]) == [("electronics", True), ("automation", False)]


def test_shares_are_kept_when_the_result_has_them():
    from web.services import detected_sectors

    sectors = [
        {"sector": "automation", "share": 0.7},
        {"sector": "electronics", "share": 0.3},
        {"sector": "automation", "share": 0.1},
        {"sector": "software"},
    ]
    assert detected_sectors(sectors) == {
        "automation": (0.7, True),
        "electronics": (0.3, False),
        "software": (None, False),
    }


def test_migration_0009_backfills_sectors_from_the_latest_assessment(app, sector_leads, migration):
    from alembic import command

    from web.schema import upgrade

    with migration(app) as (connection, config):
        command.downgrade(config, "0005")
        assert "lead_sectors" not in inspect(connection).get_table_names()
    upgrade(app)
    assert rows_of(app, sector_leads["robots"]) == [("automation", True), ("electronics", False)]
    assert rows_of(app, sector_leads["travel"]) == [("tourism", True)]
    with app.app_context():
        total = db.session.execute(text("SELECT count(*) FROM lead_sectors")).scalar()
    assert total == 4  # chips 1, robots 2, travel 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("роботех", ["Роботех Плюс"]),
        ("РОБОТЕХ", ["Роботех Плюс"]),
        ("dien tu", ["Công ty TNHH Điện tử Hà Nội"]),
        ("ĐIỆN TỬ", ["Công ty TNHH Điện tử Hà Nội"]),
        ("ha noi dien", ["Công ty TNHH Điện tử Hà Nội"]),
        ("ёлка", ["Ёлка Софт"]),
        ("елка", ["Ёлка Софт"]),
        ("cafe", ["Café Lumière"]),
        ("LUMIERE", ["Café Lumière"]),
        ("100%", []),
        ("_", []),
    ],
)
def test_search_ignores_case_and_accents(client, auth, make_lead, query, expected):
    every = ["Роботех Плюс", "Công ty TNHH Điện tử Hà Nội", "Ёлка Софт", "Café Lumière"]
    for name in every:
        make_lead(name=name, description="", okved="62.01")
    auth.login()
    assert names(client.get("/leads", query_string={"q": query}).get_data(as_text=True), every) == expected


def test_search_text_follows_edits(app, make_lead):
    lead_id = make_lead(name="Роботех")
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert "роботех" in lead.search_text
        lead.city = "Đà Nẵng"
        db.session.commit()
        assert "da nang" in db.session.get(Lead, lead_id).search_text


def test_migration_0009_folds_existing_leads(app, make_lead, migration):
    from alembic import command

    from web.schema import upgrade

    lead_id = make_lead(name="Điện tử Роботех")
    with migration(app) as (connection, config):
        command.downgrade(config, "0005")
    upgrade(app)
    with app.app_context():
        assert db.session.get(Lead, lead_id).search_text.startswith("dien tu роботех")
        if db.engine.dialect.name == "postgresql":  # the LIKE is served by the trigram index
            assert "ix_leads_search_trgm" in {i["name"] for i in inspect(db.engine).get_indexes("leads")}


def test_verified_claims_only_hides_leads_with_no_claims(client, auth, make_lead):
    make_lead(name="No Claims Ltd", training="")
    verified = make_lead(name="Checked Training JSC")
    make_lead(name="Declared Training LLC")
    auth.login()
    client.post(
        f"/leads/{verified}/evidence/training",
        data={"ev-training-status": "verified", "ev-training-note": "visited the training centre"},
    )
    html = client.get("/leads?verified=1").get_data(as_text=True)
    assert names(html, ("No Claims Ltd", "Checked Training JSC", "Declared Training LLC")) == ["Checked Training JSC"]


def test_api_filters_by_source_and_mine(app, client, make_lead):
    from web.models import User
    from web.services import assign, issue_token

    batch = make_lead(name="Batch Firm", source="batch")
    mine = make_lead(name="My Firm")
    with app.app_context():
        analyst = db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one()
        token = issue_token(analyst)
        assign(db.session.get(Lead, mine), analyst)
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    by_source = client.get("/api/v1/leads?source=batch", headers=headers).get_json()
    assert [lead["id"] for lead in by_source["leads"]] == [batch]
    assert [lead["id"] for lead in client.get("/api/v1/leads?mine=1", headers=headers).get_json()["leads"]] == [mine]
    spec = client.get("/api/v1/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/leads"]["get"]["parameters"]}
    assert {"source", "mine", "verified", "facets", "sector", "q"} <= names


def test_facet_counts_follow_new_leads_at_once(app, client, auth, make_lead):
    make_lead(name="First Chips", okved="26.11")
    auth.login()
    assert ">Smart electronics (1)</option>" in client.get("/leads").get_data(as_text=True)
    make_lead(name="Second Chips", okved="26.11")  # committed in this process: the cached counts go
    assert ">Smart electronics (2)</option>" in client.get("/leads").get_data(as_text=True)

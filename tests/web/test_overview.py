"""Staff overview (web/overview.py): aggregates counted in the database, SVG charts, three languages."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from web import charts, overview
from web.extensions import db
from web.models import Lead, utcnow


@pytest.fixture
def pipeline(app, make_lead):
    """Six leads: three sources, four statuses, one created five weeks ago, one without a score."""
    ids = {
        "robots": make_lead(name="Volga Robotics", status="invested"),
        "chips": make_lead(
            name="NordChip", okved="26.11", description="microelectronics", status="meeting", source="batch"
        ),
        "travel": make_lead(name="Mekong Travel", okved="79.11", description="tours", training="", source="batch"),
        "soft": make_lead(name="Kazan Soft", okved="62.01", description="software", status="dropped", source="api"),
        "old": make_lead(name="Old Lead", status="contacted"),
        "bare": make_lead(name="Unscored"),
    }
    with app.app_context():
        db.session.get(Lead, ids["old"]).created_at = utcnow() - timedelta(weeks=5)
        bare = db.session.get(Lead, ids["bare"])
        bare.score, bare.band, bare.sector = None, None, None
        db.session.commit()
    return ids


def test_aggregates_are_counted_in_the_database(app, pipeline):
    with app.app_context():
        pairs = overview.pipeline_counts()
        counts = overview.status_counts(pairs)
        assert counts == {"invested": 1, "meeting": 1, "new": 2, "dropped": 1, "contacted": 1}
        assert [(s["status"], s["reached"], s["now"]) for s in overview.funnel(counts)] == [
            ("new", 5, 2),
            ("contacted", 3, 1),
            ("meeting", 2, 1),
            ("proposal", 1, 0),
            ("invested", 1, 1),
        ]
        mix = dict(overview.sector_mix(limit=2))
        assert sum(mix.values()) == 6 and len(mix) == 3 and mix["*"] >= 1
        starts = overview.week_starts(utcnow().date())
        assert len(starts) == 12 and starts[-1].weekday() == 0 and starts[-1] > utcnow().date() - timedelta(days=7)
        figures = overview.scores_and_intake(starts)
        scores = [lead.score for lead in db.session.execute(db.select(Lead)).scalars() if lead.score is not None]
        assert figures["unscored"] == 1 and sum(figures["bins"]) == 5
        assert figures["bins"] == [
            sum(1 for s in scores if lo <= s < lo + 10 or (lo == 90 and s == 100)) for lo in range(0, 100, 10)
        ]
        assert figures["average"] == pytest.approx(sum(scores) / len(scores))
        weekly = figures["weekly"]
        assert weekly[-1] + weekly[-2] == 5 and weekly[-6] == 1 and sum(weekly) == 6
        by_source = {r["source"]: r for r in overview.conversion_by_source(pairs)}
        assert by_source["assess"] == {"source": "assess", "total": 3, "advanced": 1, "invested": 1}
        assert by_source["batch"] == {"source": "batch", "total": 2, "advanced": 1, "invested": 0}
        assert by_source["api"] == {"source": "api", "total": 1, "advanced": 0, "invested": 0}


def test_week_starts_are_mondays_ending_with_this_week():
    starts = overview.week_starts(date(2026, 12, 5))  # a Saturday
    assert starts[-1] == date(2026, 11, 30) and starts[0] == date(2026, 9, 14)
    assert all(b - a == timedelta(weeks=1) for a, b in zip(starts, starts[1:], strict=False))


def test_page_reads_aggregates_only_never_the_leads(app, client, auth, pipeline):
    """A fixed handful of queries, none of which loads lead rows: the page costs the same at 100,000 leads."""
    statements: list[str] = []
    auth.login()
    with app.app_context():
        engine = db.engine

    request_thread = threading.get_ident()  # the test client serves the request on this thread

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == request_thread:  # not the background ranks, which may run meanwhile
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/overview").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    on_leads = [s for s in statements if re.search(r"\bFROM leads\b", s)]
    assert 0 < len(on_leads) <= 4  # has anything changed?, then three aggregate queries
    for sql in on_leads:  # every read of the leads table is an aggregate
        assert re.search(r"\b(count|sum|avg|max)\(", sql, re.I), sql
        assert "leads.name" not in sql and "leads.description" not in sql


def test_figures_are_read_again_when_a_lead_changes(app, client, auth, pipeline, make_lead):
    auth.login()
    assert 'id="ov-invested">1<' in client.get("/overview").get_data(as_text=True)
    assert 'id="ov-invested">1<' in client.get("/overview").get_data(as_text=True)  # kept figures
    with app.app_context():
        db.session.get(Lead, pipeline["chips"]).status = "invested"
        db.session.commit()
    assert 'id="ov-invested">2<' in client.get("/overview").get_data(as_text=True)
    make_lead(name="Another firm")
    assert 'id="ov-total">7<' in client.get("/overview").get_data(as_text=True)
    with app.app_context():
        db.session.delete(db.session.get(Lead, pipeline["robots"]))
        db.session.commit()
    html = client.get("/overview").get_data(as_text=True)
    assert 'id="ov-total">6<' in html and 'id="ov-invested">1<' in html


def test_overview_needs_a_login(client):
    response = client.get("/overview")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("lang", "words", "average"),
    [
        (
            "en",
            [
                "Overview",
                "Pipeline funnel",
                "Sector mix",
                "Score distribution",
                "New leads per week",
                "Conversion by source",
            ],
            re.compile(r"\d+\.\d<"),
        ),
        (
            "ru",
            ["Обзор", "Воронка", "Отрасли", "Распределение баллов", "Новые лиды по неделям", "Конверсия по источникам"],
            re.compile(r"\d+,\d<"),
        ),
        (
            "vi",
            [
                "Tổng quan",
                "Phễu quy trình",
                "Cơ cấu ngành",
                "Phân bố điểm",
                "Khách hàng mới theo tuần",
                "Tỷ lệ chuyển đổi theo nguồn",
            ],
            re.compile(r"\d+,\d<"),
        ),
    ],
)
def test_page_in_three_languages_with_local_numbers(client, auth, pipeline, lang, words, average):
    auth.login()
    html = client.get(f"/overview?lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in html, word
    assert average.search(html[html.index('id="ov-average"') :])  # 71,7 in ru and vi, 71.7 in en
    assert html.count('<svg class="ov-chart"') == 5
    assert "style=" not in html and "<script" not in html  # nothing the strict CSP would block
    assert 'href="/leads?status=meeting"' in html  # funnel bars open the leads at that stage


def test_empty_database_draws_empty_charts(client, auth):
    auth.login()
    html = client.get("/overview").get_data(as_text=True)
    assert html.count('<svg class="ov-chart"') == 5 and 'id="ov-total">0<' in html and 'id="ov-average">—<' in html


def test_bar_and_column_geometry():
    chart = charts.bar_chart(
        [
            {"label": "a", "value": 4, "text": "4"},
            {"label": "b", "value": 1, "text": "1"},
            {"label": "c", "value": 0, "text": "0"},
        ]
    )
    assert [b["w"] for b in chart["bars"]] == [chart["track"], chart["track"] / 4, 0]
    assert chart["value_x"] + 90 <= chart["width"]  # the value column fits in the box
    shares = charts.bar_chart([{"label": "a", "value": 0.5, "text": ""}], full=1.0)
    assert shares["bars"][0]["w"] == shares["track"] / 2
    cols = charts.column_chart([{"label": str(i), "value": v} for i, v in enumerate([0, 2, 4])], label_every=2)
    assert [c["h"] for c in cols["columns"]] == [0, charts.COLUMN_HEIGHT / 2, charts.COLUMN_HEIGHT]
    assert all(c["y"] + c["h"] == cols["base"] for c in cols["columns"])
    assert [c["show_label"] for c in cols["columns"]] == [True, False, True]

"""Opportunities in the app: staff add, edit and retire projects and partners (audited), an opportunity's
best leads with filters, a lead's best opportunities, one-click introductions, the self-assessment sections."""

import pytest

from web.extensions import db
from web.models import AuditLog, Note
from web.opportunity_models import Introduction, StaffOpportunity

PROJECT = {
    "kind": "project",
    "name_en": "Smart street lighting",
    "name_ru": "Умное уличное освещение",
    "name_vi": "Chiếu sáng đô thị thông minh",
    "targets": ["smart_city", "electronics"],
    "asks": ["tech_transfer", "training"],
    "capital_min_usd": "5000000",
    "location_type": "other",
    "deadline": "2026-09-30",
    "description": "LED and sensors for 40,000 street lamps",
}


@pytest.fixture
def chips(make_lead):
    return make_lead(
        name="NordChip",
        okved="26.11",
        description="microelectronics",
        tech_transfer="committed",
        training="committed",
        local_partner="committed",
        green="committed",
        vietnam_presence="project",
        investment_usd="20m",
    )


def test_pages_need_a_login(client):
    assert client.get("/opportunities").status_code == 302
    assert client.get("/opportunities/hoa_lac").status_code == 302


def test_add_edit_retire_are_audited(app, client, auth):
    auth.login()
    response = client.post("/opportunities/new", data=PROJECT)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.execute(db.select(StaffOpportunity)).scalar_one()
        assert (row.targets, row.asks, row.capital_min_usd) == (
            {"smart_city": 1.0, "electronics": 1.0},
            ["tech_transfer", "training"],
            5e6,
        )
        oid = row.id
    assert response.headers["Location"].endswith(f"/opportunities/staff-{oid}")
    assert client.post(f"/opportunities/{oid}/edit", data={**PROJECT, "name_en": "Smart lighting"}).status_code == 302
    assert client.post(f"/opportunities/{oid}/retire").status_code == 302
    with app.app_context():
        row = db.session.get(StaffOpportunity, oid)
        assert (row.name_en, row.status) == ("Smart lighting", "retired")
        actions = [
            a.action
            for a in db.session.execute(db.select(AuditLog).order_by(AuditLog.id)).scalars()
            if a.object_type == "staffopportunity"
        ]
        assert actions == ["opportunity.create", "opportunity.edit", "opportunity.retire"]
        edit = db.session.execute(db.select(AuditLog).where(AuditLog.action == "opportunity.edit")).scalar_one()
        assert edit.details["before"]["name"]["en"] == "Smart street lighting"


def test_bad_opportunity_is_refused_with_the_field(client, auth):
    auth.login()
    html = client.post("/opportunities/new", data={**PROJECT, "capital_max_usd": "100"}).get_data(as_text=True)
    assert "capital_max_usd" in html and "must not be below capital_min_usd" in html
    html = client.post("/opportunities/new", data={**PROJECT, "targets": []}).get_data(as_text=True)
    assert "Tick at least one sector." in html


def test_opportunity_page_ranks_leads_and_introduces(app, client, auth, chips, make_lead):
    hotel = make_lead(name="Grand Hotel", okved="55.10", description="hotel chain")
    auth.login()
    html = client.get("/opportunities/hoa_lac").get_data(as_text=True)
    assert "NordChip" in html and "Grand Hotel" not in html  # a hotel is no match for a hi-tech park
    assert "Management Board" in html  # the agency to contact
    assert "NordChip" not in client.get("/opportunities/hoa_lac?q=volga").get_data(as_text=True)
    assert "NordChip" not in client.get("/opportunities/hoa_lac?status=dropped").get_data(as_text=True)
    assert client.post(f"/opportunities/hoa_lac/introduce/{chips}").status_code == 302
    with app.app_context():
        intro = db.session.execute(db.select(Introduction)).scalar_one()
        assert (intro.lead_id, intro.opportunity_key) == (chips, "hoa_lac") and intro.score > 50
        note = db.session.execute(db.select(Note).where(Note.lead_id == chips)).scalar_one()
        assert "Hoa Lac" in note.body
        assert {a.action for a in db.session.execute(db.select(AuditLog)).scalars()} >= {
            "lead.introduce",
            "opportunity.introduce",
        }
    assert "introduced" in client.get("/opportunities/hoa_lac").get_data(as_text=True)
    lead_page = client.get(f"/opportunities/lead/{chips}").get_data(as_text=True)
    assert "Hoa Lac" in lead_page and "Introductions" in lead_page
    assert client.get(f"/opportunities/lead/{hotel}").status_code == 200


def test_staff_project_is_matched_and_retired_one_is_not(app, client, auth, make_lead):
    city = make_lead(
        name="CityTech",
        okved="71.11",
        description="smart city traffic systems",
        tech_transfer="committed",
        investment_usd="8m",
    )
    auth.login()
    client.post("/opportunities/new", data=PROJECT)
    html = client.get(f"/opportunities/lead/{city}").get_data(as_text=True)
    assert "Smart street lighting" in html
    with app.app_context():
        oid = db.session.execute(db.select(StaffOpportunity.id)).scalar_one()
    client.post(f"/opportunities/{oid}/retire")
    assert "Smart street lighting" not in client.get(f"/opportunities/lead/{city}").get_data(as_text=True)


def test_unknown_opportunity_is_404(client, auth):
    auth.login()
    assert client.get("/opportunities/atlantis").status_code == 404
    assert client.get("/opportunities/staff-99").status_code == 404
    assert client.get("/opportunities/staff-99999999999").status_code == 404


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Where in Hanoi", "Incentives you may qualify for", "Partners to meet", "Hoa Lac Hi-Tech Park"]),
        (
            "ru",
            ["Где в Ханое", "Льготы, на которые вы можете претендовать", "Партнёры для встречи", "Технопарк Хоалак"],
        ),
        ("vi", ["Ở đâu tại Hà Nội", "Ưu đãi bạn có thể được hưởng", "Đối tác nên gặp", "Khu công nghệ cao Hòa Lạc"]),
    ],
)
def test_self_assessment_shows_where_incentives_partners(client, lang, words):
    html = client.post(
        f"/assess?lang={lang}",
        data={
            "name": "NordChip",
            "okved": "26.11",
            "description": "chip design",
            "tech_transfer": "committed",
            "training": "committed",
            "vietnam_presence": "project",
        },
    ).get_data(as_text=True)
    for word in words:
        assert word in html


def test_api_match_answers_with_parts_that_add_up(client):
    response = client.post(
        "/api/v1/match?lang=ru&k=2",
        json={"name": "NordChip", "okved": "26.11", "tech_transfer": "committed", "training": True},
    )
    assert response.status_code == 200
    data = response.get_json()
    assert len(data["matches"]) == 2 and data["disclaimer"].startswith("Ориентировочно")
    for m in data["matches"]:
        assert sum(p["points"] for p in m["parts"]) == pytest.approx(m["score"])
    assert any(i["id"] == "especially_encouraged_hitech" and i["status"] == "qualifies" for i in data["incentives"])
    bad = client.post("/api/v1/match", json={"name": "X", "employees": "many"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "employees"
    assert client.post("/api/v1/match", json=[1]).status_code == 400


def test_api_match_is_documented(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["paths"]["/match"]["post"]["operationId"] == "match"


def test_introduce_never_redirects_off_site(client, auth, chips):
    auth.login()
    response = client.post(f"/opportunities/hoa_lac/introduce/{chips}", data={"next": "//evil.example/x"})
    assert response.headers["Location"].endswith("/opportunities/hoa_lac")
    response = client.post(f"/opportunities/hoa_lac/introduce/{chips}", data={"next": f"/opportunities/lead/{chips}"})
    assert response.headers["Location"].endswith(f"/opportunities/lead/{chips}")


def test_printable_report_lists_matches_and_incentives(client, auth, chips):
    auth.login()
    html = client.get(f"/leads/{chips}/report").get_data(as_text=True)
    assert 'id="report-where"' in html and "Hoa Lac" in html
    assert "Especially encouraged business line" in html and "confirm with the authority" in html

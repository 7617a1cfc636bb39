"""Staff lead list (filters, sorting, paging), lead page (status, note, assignment, audit), export, report."""

import csv
import io

import pytest

from matcher.fields import LANGS
from web.extensions import db
from web.models import AuditLog, Lead


@pytest.fixture
def leads(make_lead):
    return {
        "robots": make_lead(name="Volga Robotics"),
        "travel": make_lead(
            name="Volga-Mekong Travel",
            okved="79.11",
            description="tours to Hanoi",
            training="",
            investment_usd="50000",
            city="Kazan",
        ),
        "chips": make_lead(
            name="NordChip",
            okved="26.11",
            description="microelectronics",
            tech_transfer="committed",
            green="committed",
            local_partner="committed",
            city="Moscow",
            status="contacted",
            esg_report="yes",
            vietnam_presence="office",
            employees="300",
        ),
    }


def names(html):
    return [n for n in ("Volga Robotics", "Volga-Mekong Travel", "NordChip") if n in html]


def test_list_is_ranked(client, auth, leads):
    auth.login()
    html = client.get("/leads").get_data(as_text=True)
    assert html.index("NordChip") < html.index("Volga Robotics") < html.index("Volga-Mekong Travel")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sector=automation", ["Volga Robotics"]),
        ("sector=electronics", ["NordChip"]),
        ("status=contacted", ["NordChip"]),
        ("status=new", ["Volga Robotics", "Volga-Mekong Travel"]),
        ("q=volga", ["Volga Robotics", "Volga-Mekong Travel"]),
        ("q=microelectronics", ["NordChip"]),
        ("q=%25", []),
        ("min_completeness=90", ["NordChip"]),
    ],
)
def test_filters(client, auth, leads, query, expected):
    auth.login()
    assert names(client.get(f"/leads?{query}").get_data(as_text=True)) == expected


def test_band_filter(client, auth, leads, app):
    with app.app_context():
        band = db.session.get(Lead, leads["chips"]).band
    auth.login()
    html = client.get(f"/leads?band={band}").get_data(as_text=True)
    assert "NordChip" in html


def test_sort_by_name(client, auth, leads):
    auth.login()
    html = client.get("/leads?sort=name&dir=asc").get_data(as_text=True)
    assert html.index("NordChip") < html.index("Volga Robotics") < html.index("Volga-Mekong Travel")
    html = client.get("/leads?sort=name&dir=desc").get_data(as_text=True)
    assert html.index("Volga-Mekong Travel") < html.index("Volga Robotics") < html.index("NordChip")


def test_pagination(client, auth, make_lead):
    for i in range(7):
        make_lead(name=f"Firm {i:02d}")
    auth.login()
    html = client.get("/leads?per_page=5&sort=name&dir=asc").get_data(as_text=True)
    assert "Firm 04" in html and "Firm 05" not in html and 'class="pagination"' in html
    html = client.get("/leads?per_page=5&sort=name&dir=asc&page=2").get_data(as_text=True)
    assert "Firm 05" in html and "Firm 04" not in html


def test_lead_page(client, auth, leads):
    auth.login()
    html = client.get(f"/leads/{leads['robots']}").get_data(as_text=True)
    assert "Volga Robotics" in html and '<svg class="chart"' in html and "Score history" in html
    assert client.get("/leads/99999").status_code == 404


def test_status_note_assignment_and_audit(client, auth, leads, app):
    auth.login()
    lead_id = leads["robots"]
    assert client.post(f"/leads/{lead_id}/status", data={"status-status": "meeting"}).status_code == 302
    client.post(f"/leads/{lead_id}/notes", data={"note-body": "Called the CEO <b>today</b>"})
    with app.app_context():
        admin_id = db.session.execute(db.text("select id from users where username='admin'")).scalar()
    client.post(f"/leads/{lead_id}/assign", data={"assign-assignee": str(admin_id)})
    html = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "Called the CEO &lt;b&gt;today&lt;/b&gt;" in html
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.status == "meeting" and lead.assigned_to.username == "admin"
        actions = [
            a.action
            for a in db.session.execute(
                db.select(AuditLog)
                .where(AuditLog.object_id == lead_id, AuditLog.object_type == "lead")
                .order_by(AuditLog.id)
            ).scalars()
        ]
        assert actions == ["lead.create", "lead.status", "note.add", "lead.assign"]
        trail = db.session.execute(db.select(AuditLog).filter_by(action="lead.status")).scalar_one()
        assert trail.user.username == "analyst" and trail.details == {"old": "new", "new": "meeting"}
    assert "status changed" in html and "new → meeting" in html


def test_unknown_status_is_refused(client, auth, leads, app):
    auth.login()
    client.post(f"/leads/{leads['robots']}/status", data={"status-status": "bribed"})
    with app.app_context():
        assert db.session.get(Lead, leads["robots"]).status == "new"


def test_empty_note_is_refused(client, auth, leads):
    auth.login()
    client.post(f"/leads/{leads['robots']}/notes", data={"note-body": "  "})
    assert "No notes yet" in client.get(f"/leads/{leads['robots']}").get_data(as_text=True)


def test_export_has_matcher_columns_and_is_formula_safe(client, auth, make_lead, app):
    make_lead(name='=HYPERLINK("http://evil")', description="+cmd|' /C calc'!A0 robots", city="@SUM(1)")
    make_lead(name="Plain Firm")
    auth.login()
    response = client.get("/leads/export.csv?sort=name&dir=asc")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    from matcher.batch import result_columns
    from matcher.profile import FIELDS

    with app.app_context():
        from web.scoring import get_config

        results = result_columns(get_config())
        # the declared `sectors` beside the detected ones: "_input", as matcher score names it
        assert rows[0] == [*(f"{f}_input" if f in results else f for f in FIELDS), *results]
    assert len(set(rows[0])) == len(rows[0]) and all(len(row) == len(rows[0]) for row in rows)
    detected = rows[0].index("sectors")
    assert all(row[detected] for row in rows[1:])  # every scored lead has its sectors with shares
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)
    assert '\'=HYPERLINK("http://evil")' in cells and "'@SUM(1)" in cells
    header = rows[0]
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        points = sum(float(v) for k, v in record.items() if k.startswith("c_"))
        assert points == pytest.approx(float(record["score"]), abs=0.11)


def test_export_follows_filters(client, auth, leads):
    auth.login()
    text = client.get("/leads/export.csv?q=volga").get_data(as_text=True)
    assert "Volga Robotics" in text and "NordChip" not in text


def test_printable_report(client, auth, leads):
    auth.login()
    html = client.get(f"/leads/{leads['chips']}/report").get_data(as_text=True)
    assert "print.css" in html and '<svg class="chart"' in html and "NordChip" in html


def test_lead_page_words_the_result_in_the_staff_language(client, auth, leads, app):
    with app.app_context():
        assessment = db.session.get(Lead, leads["robots"]).latest
        assert assessment.lang == "en" and set(assessment.texts) == set(LANGS)
    auth.login()
    html = client.get(f"/leads/{leads['robots']}?lang=ru").get_data(as_text=True)
    assert "из 100, категория" in html and "взять обязательство передать технологии" in html
    html = client.get(f"/leads/{leads['robots']}/report?lang=vi").get_data(as_text=True)
    assert "cam kết chuyển giao công nghệ" in html


def test_the_list_shows_each_leads_evidence_and_assignee_from_its_rows(app, client, auth, make_lead):
    """The list reads plain rows (web/listview.py): the evidence chip counts the verified commitments
    among those the lead states, and the assignee is joined."""
    from web.models import User

    lead_id = make_lead(name="Chip Verified", tech_transfer="committed", training="committed", green="")
    other = make_lead(name="Chip None", tech_transfer="", training="", green="", local_partner="")
    auth.login()
    client.post(
        f"/leads/{lead_id}/evidence/training", data={"ev-training-status": "verified", "ev-training-note": "plan"}
    )
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        lead.assigned_to_id = db.session.execute(db.select(User.id).filter_by(username="admin")).scalar_one()
        db.session.commit()
        stated = len(lead.stated())
        assert lead.evidence_of("training") == "verified" and stated >= 2
    page = client.get("/leads?per_page=50&sort=name").get_data(as_text=True)
    row = page[page.index("Chip Verified") : page.index("</tr>", page.index("Chip Verified"))]
    assert f"1 of {stated} verified" in row and "ev-declared" in row
    assert "Local staff training: verified" in row and "<td>admin</td>" in row
    bare = page[page.index("Chip None") : page.index("</tr>", page.index("Chip None"))]
    assert "ev-" not in bare and "<td>—</td>" in bare
    assert other

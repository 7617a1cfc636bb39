"""Staff edit a lead's answers (scored again, audited), enter leads by hand, keep contact persons."""

from __future__ import annotations

import re

from web.extensions import db
from web.models import AuditLog, Lead

FORM = {
    "name": "Volga Robotics",
    "description": "Industrial robots and automation lines",
    "okved": "28.99",
    "training": "committed",
    "investment_usd": "2m",
    "city": "Kazan",
}


def test_edit_answers_rescores_and_audits(app, client, auth, make_lead):
    lead_id = make_lead(training="да")  # a yes word from an import: shown as "committed", not lost
    auth.login()
    page = client.get(f"/leads/{lead_id}/edit").get_data(as_text=True)
    assert '<option selected value="committed">' in page
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        before, version, history = lead.score, lead.row_version, len(lead.assessments)
    data = {
        **FORM,
        "training": "committed",
        "tech_transfer": "committed",
        "local_partner": "committed",
        "inn": "7707 083893",
        "row_version": version,
    }
    response = client.post(f"/leads/{lead_id}/edit", data=data, follow_redirects=True)
    assert "scored again" in response.get_data(as_text=True)
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.score > before and len(lead.assessments) == history + 1 and lead.inn == "7707083893"
        assert lead.tech_transfer == "committed" and lead.sector_rows[0].sector == "automation"
        entry = db.session.execute(db.select(AuditLog).filter_by(action="lead.edit")).scalar_one()
        assert entry.user.username == "analyst" and entry.details["old_score"] == before
        assert entry.details["new_score"] == lead.score
        assert set(entry.details["changes"]) == {"tech_transfer", "local_partner", "inn", "training"}
    stale = client.post(f"/leads/{lead_id}/edit", data={**data, "city": "Perm"})  # the old row_version
    assert stale.status_code == 409 and "Someone else changed this lead" in stale.get_data(as_text=True)


def test_edit_refuses_bad_answers_and_keeps_them(app, client, auth, make_lead):
    lead_id = make_lead()
    auth.login()
    response = client.post(f"/leads/{lead_id}/edit", data={**FORM, "inn": "12345", "okved": "99.99.99"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "An INN has 10 digits" in html and "99.99.99" in html
    with app.app_context():
        assert db.session.get(Lead, lead_id).inn is None


def test_manual_lead_is_scored_and_points_at_duplicates(app, client, auth, make_lead):
    make_lead(name="ООО «Роботех»")
    auth.login()
    response = client.post(
        "/leads/new",
        data={**FORM, "name": "Robotech LLC", "ogrn": "1027700132195", "website": "https://robotech.example"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Lead created and scored" in html and "may already be in the list" not in html
    response = client.post("/leads/new", data={**FORM, "name": "АО Роботех"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "may already be in the list" in html and 'id="duplicates"' in html
    with app.app_context():
        lead = db.session.execute(db.select(Lead).filter_by(name="Robotech LLC")).scalar_one()
        assert lead.source == "manual" and lead.ogrn == "1027700132195" and lead.score is not None
        assert lead.web_domain == "robotech.example"
    assert client.post("/leads/new", data={"name": ""}).status_code == 400


def test_contact_persons(app, client, auth, make_lead):
    lead_id = make_lead()
    auth.login()
    client.post(
        f"/leads/{lead_id}/contacts",
        data={
            "contact-name": "Ирина Петрова",
            "contact-role": "CFO",
            "contact-email": "irina@volga.example",
            "contact-phone": "+7 843",
        },
    )
    bad = client.post(f"/leads/{lead_id}/contacts", data={"contact-name": ""}, follow_redirects=True)
    assert "Give the person&#39;s name." in bad.get_data(as_text=True)
    html = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "Ирина Петрова" in html and "irina@volga.example" in html
    with app.app_context():
        contact = db.session.get(Lead, lead_id).contacts[0]
    client.post(f"/leads/{lead_id}/contacts/{contact.id}/delete")
    with app.app_context():
        assert db.session.get(Lead, lead_id).contacts == []
        actions = [
            a.action
            for a in db.session.execute(
                db.select(AuditLog).where(AuditLog.object_id == lead_id).order_by(AuditLog.id)
            ).scalars()
        ]
        assert actions[-2:] == ["contact.add", "contact.remove"]


def test_a_lead_imported_with_longer_texts_than_the_form_takes_can_be_edited(app, client, auth, make_lead):
    # A batch import stores a firm's text as its file gave it (a 6,300-character description, a 400-character
    # name); changing the city must not fail on the form's limits for typed text (5,000 and 300).
    name, description = "Volga " + "R" * 400, ("Industrial robots. " * 330).strip()
    lead_id = make_lead(name=name, description=description)
    auth.login()
    with app.app_context():
        version = db.session.get(Lead, lead_id).row_version
    page = client.get(f"/leads/{lead_id}/edit").get_data(as_text=True)
    assert f'maxlength="{len(description)}"' in page
    form = {**FORM, "name": name, "description": description, "city": "Perm", "row_version": version}
    response = client.post(f"/leads/{lead_id}/edit", data=form)
    assert response.status_code == 302, re.findall(r"<li>[^<]*", response.get_data(as_text=True))
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.city == "Perm" and lead.description == description and lead.name == name
    # a longer text typed into the form is still refused
    form = {**form, "description": description + "x" * 100, "row_version": version + 1}
    assert client.post(f"/leads/{lead_id}/edit", data=form).status_code == 400

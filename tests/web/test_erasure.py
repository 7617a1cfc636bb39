"""Consent withdrawn: anonymise or delete a lead, only after a typed confirmation; audited without the firm's data."""

from __future__ import annotations

from html import unescape

from web.extensions import db
from web.models import Assessment, AuditLog, Contact, Lead, Note


def prepared(client, auth, make_lead):
    lead_id = make_lead(
        name="Роботех", contact_email="ceo@robotech.example", website="robotech.example", inn="7707083893"
    )
    auth.login()
    client.post(f"/leads/{lead_id}/notes", data={"note-body": "Ivan's mobile is +7 900"})
    client.post(
        f"/leads/{lead_id}/contacts", data={"contact-name": "Ivan Petrov", "contact-email": "ivan@robotech.example"}
    )
    return lead_id


def test_nothing_happens_without_the_typed_number_and_a_reason(app, client, auth, make_lead):
    lead_id = prepared(client, auth, make_lead)
    assert "cannot be undone" in client.get(f"/leads/{lead_id}/erase").get_data(as_text=True)
    for data, message in (
        (
            {"mode": "delete", "reason": "asked by e-mail", "typed": str(lead_id + 1)},
            "That is not this lead's number: nothing was changed.",
        ),
        ({"mode": "delete", "reason": "", "typed": str(lead_id)}, "Say why"),
        ({"mode": "delete", "reason": "asked by e-mail"}, "Type the lead's number."),
    ):
        response = client.post(f"/leads/{lead_id}/erase", data=data)
        assert response.status_code == 400 and message in unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Lead, lead_id).name == "Роботех"


def test_anonymise_keeps_numbers_and_removes_the_firm(app, client, auth, make_lead):
    lead_id = prepared(client, auth, make_lead)
    with app.app_context():
        score = db.session.get(Lead, lead_id).score
    response = client.post(
        f"/leads/{lead_id}/erase",
        data={"mode": "anonymise", "reason": "e-mail of 5 Dec", "typed": f"#{lead_id}"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "was anonymised" in html
    for personal in ("Роботех", "robotech.example", "Ivan", "+7 900", "7707083893"):
        assert personal not in html
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.score == score and lead.anonymised_at is not None and lead.contacts == []
        assert lead.name == f"#{lead_id}" and lead.inn is None and "роботех" not in (lead.search_text or "")
        entries = db.session.execute(db.select(AuditLog).where(AuditLog.object_id == lead_id)).scalars().all()
        assert "Ivan" not in str([e.details for e in entries]) and "robotech" not in str([e.details for e in entries])
        assert entries[-1].action == "lead.anonymise" and entries[-1].details["reason"] == "e-mail of 5 Dec"


def test_delete_removes_everything_but_the_audit(app, client, auth, make_lead):
    lead_id = prepared(client, auth, make_lead)
    response = client.post(
        f"/leads/{lead_id}/erase",
        data={"mode": "delete", "reason": "phone call", "typed": str(lead_id)},
        follow_redirects=True,
    )
    assert "was deleted" in response.get_data(as_text=True)
    assert client.get(f"/leads/{lead_id}").status_code == 404
    with app.app_context():
        for model in (Assessment, Note, Contact):
            assert db.session.execute(db.select(model).filter_by(lead_id=lead_id)).first() is None
        entry = db.session.execute(db.select(AuditLog).filter_by(action="lead.delete")).scalar_one()
        assert entry.object_id == lead_id and entry.details["reason"] == "phone call"
        assert entry.user.username == "analyst" and "Роботех" not in str(entry.details)

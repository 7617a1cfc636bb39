"""Optimistic locking of leads: a save based on an older version of the lead is refused (409), nothing is lost.

Two staff members (two test clients) open the same lead; the first save wins, the second gets the
lead page with HTTP 409, a message naming who changed the lead and when, and what they entered kept
in the form. The truly concurrent race (both checks pass, the UPDATEs collide) ends the same way.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm.exc import StaleDataError

from web import services
from web.extensions import db
from web.models import AuditLog, Evidence, Lead, Note

CONFLICT = "Someone else changed this lead since you opened it"


def row_version(html: str) -> str:
    """The row_version the lead page's forms carry (all forms carry the same)."""
    versions = set(re.findall(r'name="row_version" value="(\d+)"', html))
    assert len(versions) == 1, versions
    return versions.pop()


@pytest.fixture
def two(app, auth):
    """Two logged-in test clients: the admin and the analyst."""
    clients = []
    for name in ("admin", "analyst"):
        client = app.test_client()
        type(auth)(client).login(name)  # conftest's AuthActions, on a client of its own
        clients.append(client)
    return clients


def stored(app, lead_id: int) -> Lead:
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        db.session.expunge(lead)
        return lead


def test_second_status_change_is_refused_and_first_kept(app, two, make_lead):
    lead_id = make_lead()
    admin, analyst = two
    seen_by_admin = row_version(admin.get(f"/leads/{lead_id}").get_data(as_text=True))
    seen_by_analyst = row_version(analyst.get(f"/leads/{lead_id}").get_data(as_text=True))
    assert seen_by_admin == seen_by_analyst == "1"

    first = admin.post(f"/leads/{lead_id}/status", data={"status-status": "meeting", "row_version": seen_by_admin})
    assert first.status_code == 302
    second = analyst.post(f"/leads/{lead_id}/status", data={"status-status": "dropped", "row_version": seen_by_analyst})
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert CONFLICT in html and "by admin at " in html and "Your change was not saved" in html
    assert "What you entered:" in html and "Status: dropped" in html
    # the form keeps the analyst's choice and now carries the new version, so saving again is a choice
    assert re.search(r'<option selected value="dropped">', html)
    assert row_version(html) == "2"
    lead = stored(app, lead_id)
    assert (lead.status, lead.row_version) == ("meeting", 2)
    with app.app_context():
        changes = db.session.execute(db.select(AuditLog.details).where(AuditLog.action == "lead.status")).scalars()
        assert [c["new"] for c in changes] == ["meeting"]  # the refused change left no trace

    again = analyst.post(f"/leads/{lead_id}/status", data={"status-status": "dropped", "row_version": "2"})
    assert again.status_code == 302
    assert stored(app, lead_id).status == "dropped"


def test_assignment_and_evidence_are_locked_too(app, two, make_lead):
    lead_id = make_lead(tech_transfer="committed")
    admin, analyst = two
    version = row_version(analyst.get(f"/leads/{lead_id}").get_data(as_text=True))
    with app.app_context():
        analyst_id = db.session.execute(db.select(services.User.id).filter_by(username="analyst")).scalar_one()
    assert (
        admin.post(
            f"/leads/{lead_id}/assign", data={"assign-assignee": str(analyst_id), "row_version": version}
        ).status_code
        == 302
    )

    refused = analyst.post(
        f"/leads/{lead_id}/evidence/training",
        data={
            "ev-training-status": "verified",
            "ev-training-note": "Saw the training contract",
            "row_version": version,
        },
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert CONFLICT in html and "Saw the training contract" in html
    assert 'value="Saw the training contract"' in html  # still in the note field, nothing to type again
    with app.app_context():
        assert db.session.execute(db.select(Evidence)).first() is None
    refused = analyst.post(f"/leads/{lead_id}/assign", data={"assign-assignee": "0", "row_version": version})
    assert refused.status_code == 409 and "Assigned to: —" in refused.get_data(as_text=True)
    assert stored(app, lead_id).assigned_to_id == analyst_id


def test_notes_never_conflict(app, two, make_lead):
    lead_id = make_lead()
    admin, analyst = two
    analyst.get(f"/leads/{lead_id}")
    admin.post(f"/leads/{lead_id}/status", data={"status-status": "meeting", "row_version": "1"})
    assert analyst.post(f"/leads/{lead_id}/notes", data={"note-body": "Called them"}).status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(Note.body)).scalars().all() == ["Called them"]
    assert stored(app, lead_id).row_version == 2  # a note does not change the lead itself


def test_form_without_version_is_still_accepted(app, two, make_lead):
    lead_id = make_lead()
    assert two[0].post(f"/leads/{lead_id}/status", data={"status-status": "meeting"}).status_code == 302
    assert stored(app, lead_id).status == "meeting"


def test_concurrent_saves_race_ends_in_409(app, two, make_lead, monkeypatch):
    """Both requests pass the form check; the other UPDATE commits in between: StaleDataError, 409."""
    lead_id = make_lead()
    original = services.set_status

    def set_status_after_another_save(lead, status):
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as connection:  # another process saves the same lead right now
            connection.execute(
                text("UPDATE leads SET status = 'contacted', row_version = row_version + 1 WHERE id = :id"),
                {"id": lead_id},
            )
        engine.dispose()
        return original(lead, status)

    monkeypatch.setattr(services, "set_status", set_status_after_another_save)
    response = two[1].post(f"/leads/{lead_id}/status", data={"status-status": "meeting", "row_version": "1"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert CONFLICT in html and "Status: meeting" in html
    lead = stored(app, lead_id)
    assert (lead.status, lead.row_version) == ("contacted", 2)


def test_rescore_bumps_versions_and_names_no_one(app, two, make_lead):
    """Re-scoring all leads changes them (unaudited per lead): an open form is refused, saying when."""
    lead_id = make_lead()
    admin, analyst = two
    version = row_version(analyst.get(f"/leads/{lead_id}").get_data(as_text=True))
    saved = admin.post("/admin/weights", data={"criteria.sector_fit": "0", "reason": "training first"})
    assert saved.status_code == 302
    assert admin.post("/admin/weights/rescore").status_code == 200  # the lead's score changes
    assert stored(app, lead_id).row_version == int(version) + 1
    refused = analyst.post(f"/leads/{lead_id}/status", data={"status-status": "meeting", "row_version": version})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert CONFLICT in html and " UTC)" in html and "by admin" not in html


def test_stale_data_anywhere_else_is_a_clear_409(make_app):
    """The catch-all: a lost race outside the lead pages gives 409 (JSON with field row_version under /api/)."""
    app = make_app()

    def boom():
        raise StaleDataError("UPDATE statement on table 'leads' expected to update 1 row(s); 0 were matched.")

    app.add_url_rule("/api/v1/_stale", "stale_api", boom)
    app.add_url_rule("/_stale", "stale_page", boom)
    client = app.test_client()
    response = client.get("/api/v1/_stale")
    assert response.status_code == 409 and response.json["field"] == "row_version"
    assert "Your change was not saved" in response.json["error"]
    response = client.get("/_stale")
    assert response.status_code == 409 and "Edit conflict" in response.get_data(as_text=True)

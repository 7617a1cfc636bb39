"""The team's workspace: bulk actions, saved views, "my leads", source filter, follow-ups, activities."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from web.extensions import db
from web.models import AuditLog, Lead, SavedView, User

NAMES = ("Alpha Robotics", "Beta Chips", "Gamma Travel")


def listed(html: str) -> list[str]:
    return [n for n in NAMES if n in html]


def staff_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(User.id).filter_by(username=username)).scalar_one()


def make_three(make_lead):
    return [
        make_lead(name=NAMES[0]),
        make_lead(name=NAMES[1], okved="26.11", source="batch"),
        make_lead(name=NAMES[2], okved="79.11", source="manual"),
    ]


def test_bulk_assign_and_status_then_my_leads(app, client, auth, make_lead):
    ids = make_three(make_lead)
    auth.login()
    analyst = staff_id(app, "analyst")
    response = client.post(
        "/leads/bulk", data={"action": "assign", "assignee": analyst, "ids": ids[:2], "next": "/leads?sort=name"}
    )
    assert response.headers["Location"].endswith("/leads?sort=name")
    client.post("/leads/bulk", data={"action": "status", "status": "contacted", "ids": [ids[0], ids[2]]})
    assert listed(client.get("/leads?mine=1").get_data(as_text=True)) == ["Alpha Robotics", "Beta Chips"]
    assert listed(client.get("/leads?status=contacted").get_data(as_text=True)) == ["Alpha Robotics", "Gamma Travel"]
    with app.app_context():
        actions = sorted(
            a.action
            for a in db.session.execute(
                db.select(AuditLog).where(AuditLog.action.in_(("lead.assign", "lead.status")))
            ).scalars()
        )
    assert actions == ["lead.assign", "lead.assign", "lead.status", "lead.status"]
    refused = client.post(
        "/leads/bulk", data={"action": "status", "status": "bribed", "ids": ids}, follow_redirects=True
    )
    assert "Choose a status" in refused.get_data(as_text=True)
    assert "Select at least one lead" in client.post(
        "/leads/bulk", data={"action": "export"}, follow_redirects=True
    ).get_data(as_text=True)


def test_bulk_export_has_only_the_selected_leads(client, auth, make_lead):
    ids = make_three(make_lead)
    auth.login()
    response = client.post("/leads/bulk", data={"action": "export", "ids": [ids[0], ids[2]]})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["name"] for r in rows) == ["Alpha Robotics", "Gamma Travel"]


def test_bulk_delete_needs_the_typed_count(app, client, auth, make_lead):
    ids = make_three(make_lead)
    auth.login()
    page = client.post("/leads/bulk", data={"action": "delete", "ids": ids[:2]}).get_data(as_text=True)
    assert "cannot be undone" in page and "Alpha Robotics" in page and "Gamma Travel" not in page
    refused = client.post("/leads/bulk/delete", data={"ids": ids[:2], "reason": "withdrawn", "typed": "3"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Lead)).scalar_one() == 3
    client.post("/leads/bulk/delete", data={"ids": ids[:2], "reason": "withdrawn by e-mail", "typed": "2"})
    with app.app_context():
        assert [lead.name for lead in db.session.execute(db.select(Lead)).scalars()] == ["Gamma Travel"]
        deleted = db.session.execute(db.select(AuditLog).filter_by(action="lead.delete")).scalars().all()
        assert sorted(e.object_id for e in deleted) == sorted(ids[:2])


def test_source_filter_and_saved_views(app, client, auth, make_lead):
    make_three(make_lead)
    auth.login()
    assert listed(client.get("/leads?source=batch").get_data(as_text=True)) == ["Beta Chips"]
    assert len(listed(client.get("/leads?source=nonsense").get_data(as_text=True))) == 3
    client.post("/leads/views", data={"name": "Batch firms", "source": "batch", "page": "3"})
    html = client.get("/leads").get_data(as_text=True)
    assert "Batch firms" in html and 'href="/leads?source=batch"' in html
    client.post("/leads/views", data={"name": "Batch firms", "source": "manual"})  # same name: replaced
    with app.app_context():
        view = db.session.execute(db.select(SavedView)).scalar_one()
        assert view.query == "source=manual"
    auth.logout()
    auth.login("admin")
    assert 'href="/leads?source=manual"' not in client.get("/leads").get_data(as_text=True)  # views are personal
    assert client.post(f"/leads/views/{view.id}/delete").status_code == 404


def test_follow_ups_and_overdue_list(app, client, auth, make_lead):
    lead_id = make_lead(name=NAMES[0])
    auth.login()
    me = staff_id(app, "analyst")
    late = (date.today() - timedelta(days=2)).isoformat()
    soon = (date.today() + timedelta(days=3)).isoformat()
    client.post(
        f"/leads/{lead_id}/tasks",
        data={"task-title": "Send the park brochure", "task-due_on": late, "task-assignee": me},
    )
    client.post(
        f"/leads/{lead_id}/tasks", data={"task-title": "Call about the visit", "task-due_on": soon, "task-assignee": me}
    )
    bad = client.post(
        f"/leads/{lead_id}/tasks",
        data={"task-title": "x", "task-due_on": "31.02.2026", "task-assignee": me},
        follow_redirects=True,
    )
    assert "Not a valid date value" in bad.get_data(as_text=True)
    html = client.get("/leads/tasks").get_data(as_text=True)
    overdue, upcoming = html.split('id="upcoming"')
    assert "Send the park brochure" in overdue and "Call about the visit" in upcoming
    assert "1 overdue" in client.get("/leads").get_data(as_text=True)
    with app.app_context():
        task_id = db.session.get(Lead, lead_id).tasks[0].id
    client.post(f"/leads/{lead_id}/tasks/{task_id}/done")
    assert "Send the park brochure" not in client.get("/leads/tasks").get_data(as_text=True)


def test_activity_log(app, client, auth, make_lead):
    lead_id = make_lead(name=NAMES[0])
    auth.login()
    client.post(
        f"/leads/{lead_id}/activities",
        data={
            "activity-kind": "call",
            "activity-happened_on": "2026-12-01",
            "activity-summary": "CEO interested in Hoa Lac park",
        },
    )
    client.post(
        f"/leads/{lead_id}/activities",
        data={"activity-kind": "fax", "activity-happened_on": "2026-12-01", "activity-summary": "x"},
    )
    html = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "CEO interested in Hoa Lac park" in html and "2026-12-01" in html
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert [(a.kind, a.summary) for a in lead.activities] == [("call", "CEO interested in Hoa Lac park")]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/x",
        "/x\r\nSet-Cookie: a=b",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_a_next_off_this_site_or_breaking_the_headers_is_not_followed(app, client, auth, make_lead, target):
    """The bulk form and a follow-up's "done" button go back to their ``next`` only when it is a path here:
    another host, a backslash or a line break (which used to give a 500 after the change was saved) go to
    the page they would go to without one."""
    ids = make_three(make_lead)
    auth.login()
    response = client.post("/leads/bulk", data={"action": "status", "status": "contacted", "ids": ids, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/leads"
    me = staff_id(app, "analyst")
    due = date.today().isoformat()
    client.post(f"/leads/{ids[0]}/tasks", data={"task-title": "Call", "task-due_on": due, "task-assignee": me})
    with app.app_context():
        task_id = db.session.get(Lead, ids[0]).tasks[0].id
    response = client.post(f"/leads/{ids[0]}/tasks/{task_id}/done", data={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == f"/leads/{ids[0]}#tasks"
    assert client.post(f"/leads/{ids[0]}/tasks/{task_id}/done", data={"next": "/leads/tasks"}).headers["Location"] == (
        "/leads/tasks"
    )

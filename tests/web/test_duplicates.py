"""Duplicate leads: keys without legal form, INN/OGRN and domains; shown to staff; merged keeping everything."""

from __future__ import annotations

import pytest

from web.dedup import mail_domain, name_key, web_domain
from web.extensions import db
from web.models import AuditLog, Lead


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ООО «Роботех»", "роботех"),
        ('АО "Роботех"', "роботех"),
        ("ПАО Роботех", "роботех"),
        ("Общество с ограниченной ответственностью Роботех", "роботех"),
        ("Robotech LLC", "robotech"),
        ("ROBOTECH, Ltd.", "robotech"),
        ("JSC Robotech", "robotech"),
        ("Công ty TNHH Robotech", "robotech"),
        ("Công ty Cổ phần Điện tử Hà Nội", "dien tu ha noi"),
        ("Công ty TNHH MTV Sao Mai", "sao mai"),
        ("ООО", ""),
    ],
)
def test_name_key_drops_legal_form_case_accents_and_punctuation(name, key):
    assert name_key(name) == key


def test_domains():
    assert web_domain("https://www.Robotech.ru/about") == web_domain("robotech.ru") == "robotech.ru"
    assert mail_domain("Info@Robotech.RU") == "robotech.ru"
    assert mail_domain("ivan@mail.ru") == mail_domain("someone@gmail.com") == mail_domain("not an address") == ""


def test_duplicates_are_found_on_submit_and_import_and_shown(app, client, auth, make_lead):
    first = make_lead(name="ООО «Роботех»", website="robotech.ru")
    same_name = make_lead(name="Robotech", source="batch")  # Latin spelling: not the same key
    by_name = make_lead(name="АО Роботех", source="batch")
    by_domain = make_lead(name="RT Group", contact_email="sales@robotech.ru")
    free_mail = make_lead(name="Other Firm", contact_email="ivan@mail.ru")
    also_free = make_lead(name="Another Firm", contact_email="olga@mail.ru")
    by_inn = make_lead(name="Firm A", inn="7707083893")
    inn_again = make_lead(name="Firm B", ИНН="77 07 083893")  # an import column named ИНН
    auth.login()
    html = client.get(f"/leads/{first}").get_data(as_text=True)
    assert 'id="duplicates"' in html and "АО Роботех" in html and "RT Group" in html
    assert "same name without legal form" in html and "same website or e-mail domain" in html
    html = client.get(f"/leads/{inn_again}").get_data(as_text=True)
    assert "Firm A" in html and "same INN" in html
    for lonely in (same_name, free_mail, also_free):
        assert 'id="duplicates"' not in client.get(f"/leads/{lonely}").get_data(as_text=True)
    listed = client.get("/leads?per_page=50").get_data(as_text=True)
    assert listed.count('class="chip dup"') == 5  # first, by_name, by_domain, by_inn, inn_again
    with app.app_context():
        assert db.session.get(Lead, by_inn).inn == db.session.get(Lead, inn_again).inn == "7707083893"
    assert by_name and by_domain


def test_the_lists_duplicate_column_is_the_same_test_as_duplicate_ids(app, make_lead):
    """The list reads "possible duplicate" from a column of its rows (dupfind.shares_a_key, in SQL): it finds
    the leads dupfind.duplicate_ids finds, whichever key they share (a domain as website or e-mail alike)."""
    from web import dupfind, listview

    make_lead(name="ООО «Роботех»", website="robotech.ru")
    make_lead(name="АО Роботех")  # the same name key
    make_lead(name="Robotech")  # another key: alone
    make_lead(name="RT Group", contact_email="sales@robotech.ru")  # the first one's website as e-mail domain
    make_lead(name="Mail A", contact_email="a@alpha.example")
    make_lead(name="Mail B", contact_email="b@alpha.example")  # two e-mail domains
    make_lead(name="Web C", website="gamma.example")  # a website of its own: alone
    make_lead(name="Firm A", inn="7707083893")
    make_lead(name="Firm B", inn="7707083893")
    make_lead(name="Firm C", inn="")  # no INN: not the same as another without one
    make_lead(name="Firm D", inn="")
    with app.test_request_context():
        leads = db.session.execute(db.select(Lead)).scalars().all()
        expected = dupfind.duplicate_ids(leads)
        rows = db.session.execute(listview.select_rows(db.select(Lead))).all()
        assert {row.id for row in rows if row.duplicate} == expected
        assert len(expected) == 7 and len(rows) == 11


def test_merge_needs_confirmation_and_keeps_history_notes_and_audit(app, client, auth, make_lead):
    keep = make_lead(name="ООО «Роботех»", city="")
    gone = make_lead(name="Роботех", city="Kazan", website="robotech.ru", status="meeting")
    auth.login()
    client.post(f"/leads/{gone}/notes", data={"note-body": "Met at the Hanoi forum"})
    client.post(
        f"/leads/{gone}/evidence/training",
        data={"ev-training-status": "verified", "ev-training-note": "saw the training plan"},
    )
    page = client.get(f"/leads/{keep}/merge/{gone}").get_data(as_text=True)
    assert "cannot be undone" in page and "Website" in page
    refused = client.post(f"/leads/{keep}/merge/{gone}", data={}, follow_redirects=True)
    assert "Tick the box" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Lead, gone) is not None
    done = client.post(f"/leads/{keep}/merge/{gone}", data={"same_firm": "y"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "was merged into this one" in html and "Met at the Hanoi forum" in html
    assert f"from merged lead #{gone}" in html  # the other lead's audit trail is shown here
    with app.app_context():
        assert db.session.get(Lead, gone) is None
        lead = db.session.get(Lead, keep)
        assert lead.city == "Kazan" and lead.website == "robotech.ru" and lead.evidence_of("training") == "verified"
        assert len(lead.assessments) == 3  # both histories and the score after the merge
        assert lead.score == lead.assessments[0].score
        entry = db.session.execute(db.select(AuditLog).filter_by(action="lead.merge")).scalar_one()
        assert entry.object_id == keep and entry.details["merged_id"] == gone
        assert set(entry.details["filled"]) >= {"city", "website"}
        assert db.session.execute(db.select(AuditLog).filter_by(object_id=gone, action="note.add")).scalar_one()

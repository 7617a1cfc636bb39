"""The team's contact for firms (web/contact.py): an admin setting in three languages, on the admin settings page."""

from __future__ import annotations

from web import contact
from web.extensions import db
from web.models import AuditLog


def test_only_admins_see_the_settings(client, auth):
    assert client.get("/admin/settings").status_code == 302  # to the login
    auth.login("analyst")
    assert client.get("/admin/settings").status_code == 403


def test_admin_sets_the_contact_in_three_languages(client, auth, app):
    auth.login("admin")
    for lang, title in (
        ("en", "The team's contact for firms"),
        ("ru", "Контакты команды для компаний"),
        ("vi", "Thông tin liên hệ của nhóm dành cho doanh nghiệp"),
    ):
        html = client.get(f"/admin/settings?lang={lang}").get_data(as_text=True)
        assert title in html and 'name="en"' in html and 'name="ru"' in html and 'name="vi"' in html
    response = client.post(
        "/admin/settings",
        data={"en": " Ms Lan <lan@ipa.example> ", "ru": "Г-жа Лан", "vi": "Bà Lan"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Bà Lan</textarea>" in html and "Ms Lan &lt;lan@ipa.example&gt;</textarea>" in html
    with app.app_context():
        assert contact.texts() == {"en": "Ms Lan <lan@ipa.example>", "ru": "Г-жа Лан", "vi": "Bà Lan"}
        entry = db.session.execute(db.select(AuditLog).filter_by(action="settings.contact")).scalar_one()
        assert entry.details["ru"] == "Г-жа Лан" and entry.user_id is not None


def test_a_missing_language_falls_back_to_english_then_to_any(app):
    with app.test_request_context():
        assert contact.text_in("ru") == ""
        contact.save({"vi": "Bà Lan"})
        assert contact.text_in("ru") == "Bà Lan"
        contact.save({"en": "Ms Lan", "vi": "Bà Lan"})
        assert (contact.text_in("ru"), contact.text_in("vi")) == ("Ms Lan", "Bà Lan")


def test_too_long_a_text_is_refused_with_its_language(client, auth):
    auth.login("admin")
    html = client.post("/admin/settings", data={"en": "x" * 2001}).get_data(as_text=True)
    assert "English: Field cannot be longer than 2000 characters." in html

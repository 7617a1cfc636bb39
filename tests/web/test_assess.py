"""Public self-assessment in three languages, and submitting the result as a lead."""

import re

import pytest

from web.extensions import db
from web.models import Lead

FORM = {
    "name": "Volga Robotics",
    "description": "Industrial robots and automation lines",
    "okved": "28.99",
    "training": "committed",
    "investment_usd": "2m",
    "tech_transfer": "",
    "green": "planned",
}


@pytest.mark.parametrize(
    ("lang", "title", "button"),
    [
        ("en", "How well does your firm fit", "Calculate my score"),
        ("ru", "Насколько ваша компания", "Рассчитать балл"),
        ("vi", "Doanh nghiệp của bạn", "Tính điểm"),
    ],
)
def test_form_in_each_language(client, lang, title, button):
    html = client.get(f"/assess?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert title in html and button in html
    assert '<datalist id="okved-codes">' in html and 'value="62.01"' in html or 'value="62"' in html


def test_language_is_remembered_in_session(client):
    client.get("/assess?lang=vi")
    assert '<html lang="vi">' in client.get("/assess").get_data(as_text=True)


def test_browser_language_is_default(client):
    html = client.get("/assess", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ru">' in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["partial fit", "Contribution of each criterion", "Automation"]),
        ("ru", ["Вклад каждого критерия", "Автоматизация"]),
        ("vi", ["Đóng góp của từng tiêu chí", "Tự động hóa"]),
    ],
)
def test_result_page(client, lang, words):
    html = client.post(f"/assess?lang={lang}", data=FORM).get_data(as_text=True)
    assert '<svg class="chart"' in html
    for word in words:
        assert word in html, word
    assert "+16" in html.replace(",", ".")  # the technology-transfer improvement and its gain


def test_result_numbers_are_the_models(client, app):
    from web.services import score

    html = client.post("/assess?lang=en", data=FORM).get_data(as_text=True)
    with app.test_request_context():
        result = score(FORM)
    assert f"<strong>{result.score:.1f}</strong>" in html
    for c in result.contributions:
        assert f"{c.points:.1f} / {c.weight:.0f}" in html


def test_bad_value_names_the_field(client):
    response = client.post("/assess?lang=en", data={**FORM, "employees": "many"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Employees: expected a whole number" in html
    assert 'class="field has-error"' in html


def test_name_is_required(client):
    html = client.post("/assess?lang=en", data={**FORM, "name": ""}).get_data(as_text=True)
    assert "Please enter the firm" in html


def test_profile_with_only_a_name_is_scored(client):
    html = client.post("/assess?lang=en", data={"name": "Only a name"}).get_data(as_text=True)
    assert "Result for Only a name" in html and "No sector could be identified" in html


def test_submit_as_lead(client, app):
    response = client.post(
        "/assess/submit?lang=ru", data={**FORM, "contact_email": "ceo@volga.example", "consent": "y"}
    )
    assert response.status_code == 200 and "Спасибо" in response.get_data(as_text=True)
    with app.app_context():
        lead = db.session.execute(db.select(Lead)).scalar_one()
        assert lead.status == "new" and lead.consent and lead.source == "assess"
        assert lead.contact_email == "ceo@volga.example" and lead.sector == "automation"
        assert lead.latest.lang == "ru" and lead.latest.weights_version.startswith("v1 ")
        assert sum(c["points"] for c in lead.latest.contributions) == pytest.approx(lead.score, abs=0.05)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"contact_email": "ceo@volga.example"}, "Please agree"),
        ({"consent": "y"}, "Please give a contact e-mail"),
        ({"consent": "y", "contact_email": "not-an-address"}, "Enter an e-mail address"),
    ],
)
def test_submit_needs_consent_and_email(client, app, data, message):
    response = client.post("/assess/submit?lang=en", data={**FORM, **data})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(Lead)).first() is None


def test_submitted_lead_appears_in_staff_list(client, auth):
    client.post(
        "/assess/submit", data={**FORM, "name": "Unique Firm 42", "contact_email": "a@b.example", "consent": "y"}
    )
    auth.login()
    assert "Unique Firm 42" in client.get("/leads").get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "read"),
    [("28,99", "28.99"), ("2899", "28.99"), ("26", "26"), ("28.9", "28.9"), ("ОКВЭД 62.01; 28,99", "62.01; 28.99")],
)
def test_okved_field_reads_common_spellings_before_scoring(client, typed, read):
    html = client.post("/assess?lang=en", data={**FORM, "okved": typed}).get_data(as_text=True)
    assert "Result for Volga Robotics" in html
    assert f'<input type="hidden" name="okved" value="{read}">' in html


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "99.99.99 is not an OKVED 2 code."),
        ("ru", "99.99.99 — не код ОКВЭД 2."),
        ("vi", "99.99.99 không phải là mã OKVED 2."),
    ],
)
def test_okved_that_does_not_exist_is_a_form_error_not_other(client, lang, message):
    response = client.post(f"/assess?lang={lang}", data={**FORM, "okved": "99.99.99"})
    html = response.get_data(as_text=True)
    assert message in html and 'id="okved"' in html  # the form again, with the error at the field
    assert '<svg class="chart"' not in html  # not scored as "other"


def test_okved_that_is_no_code_is_a_form_error(client):
    html = client.post("/assess?lang=en", data={**FORM, "okved": "robots"}).get_data(as_text=True)
    assert "robots is not a code such as 62.01 or 26.3." in html


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("en", ["Smart electronics", "Hanoi priority"]),
        ("ru", ["Умная электроника", "Приоритет Ханоя"]),
        ("vi", ["Điện tử thông minh", "Ưu tiên của Hà Nội"]),
    ],
)
def test_sector_picker_lists_sectors_in_the_page_language(client, lang, labels):
    html = client.get(f"/assess?lang={lang}").get_data(as_text=True)
    assert '<input type="checkbox" name="sectors" value="electronics">' in html
    for label in labels:
        assert label in html


def test_picked_sectors_are_declared_and_carried_to_the_lead(client, app):
    data = {"name": "Two Trades", "sectors": ["software", "electronics"], "training": "committed"}
    html = client.post("/assess?lang=en", data=data).get_data(as_text=True)
    assert '<input type="hidden" name="sectors" value="software">' in html
    assert '<input type="hidden" name="sectors" value="electronics">' in html
    client.post("/assess/submit?lang=en", data={**data, "contact_email": "a@b.example", "consent": "y"})
    with app.app_context():
        lead = db.session.execute(db.select(Lead)).scalar_one()
        assert lead.profile()["sectors"] == "software; electronics"
        assert [s["source"] for s in lead.latest.matched_sectors][:1] == ["declared"]


def test_a_sector_that_is_not_listed_is_refused(client):
    html = client.post("/assess?lang=en", data={**FORM, "sectors": ["casino"]}).get_data(as_text=True)
    assert "Not a valid choice" in html or "not a valid choice" in html


# --- the firm's next step: thanks page, report by token, answers kept ----------------------------------

SENT = {**FORM, "contact_email": "ceo@volga.example", "consent": "y"}
REPORT_LINK = re.compile(r'href="(/assess/report/([\w-]+))"')


def _send(client, lang="en"):
    html = client.post(f"/assess/submit?lang={lang}", data=SENT).get_data(as_text=True)
    return html, REPORT_LINK.search(html)


THANKS_WORDS = {
    "en": ["What happens next", "An analyst of the Hanoi", "Your contact at the team", "Open your one-page report"],
    "ru": ["Что будет дальше", "Аналитик команды", "Ваш контакт в команде", "Открыть отчёт"],
    "vi": ["Các bước tiếp theo", "Chuyên viên của nhóm", "Đầu mối liên hệ của bạn", "Mở báo cáo một trang"],
}


def test_thanks_page_says_what_happens_next_without_a_database_id(client, app):
    for lang, words in THANKS_WORDS.items():
        html, link = _send(client, lang)
        for word in words:
            assert word in html, (lang, word)
        assert "ceo@volga.example" in html and link and len(link.group(2)) >= 32
        with app.app_context():
            lead_id = db.session.execute(db.select(db.func.max(Lead.id))).scalar_one()
        assert f"/leads/{lead_id}" not in html and "reference" not in html.lower()
        assert "on its way" not in html  # no mail configured: no promise of one


def test_thanks_page_shows_the_contact_the_admin_set(client, auth, app):
    auth.login("admin")
    response = client.post("/admin/settings", data={"en": "Ms Lan\n+84 24 1234", "ru": "Г-жа Лан", "vi": ""})
    assert response.status_code == 302
    auth.logout()
    html, _link = _send(client, "ru")
    assert "Г-жа Лан" in html
    assert "Ms Lan\n+84 24 1234" in client.get("/assess/submit?lang=vi").get_data(as_text=True)  # empty vi: English
    assert '<p class="contact-text">' in html


def test_thanks_page_survives_a_language_switch(client):
    _send(client, "en")
    html = client.get("/assess/submit?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in html and "Các bước tiếp theo" in html and "Volga Robotics" in html
    fresh = client.application.test_client()
    assert fresh.get("/assess/submit").headers["Location"].endswith("/assess")


REPORT_WORDS = {
    "en": ["Contribution of each criterion", "What would raise the score most", "Matched sectors and evidence"],
    "ru": ["Вклад каждого критерия", "Найденные отрасли", "Автоматизация"],
    "vi": ["Đóng góp của từng tiêu chí", "Tự động hóa"],
}


def test_report_by_token_in_each_language(client, app):
    _html, link = _send(client, "en")
    with app.app_context():
        a = db.session.execute(db.select(Lead)).scalar_one().latest
        score, contributions = a.score, a.contributions
        advice = {lang: a.improvements_in(lang)[0]["advice"] for lang in REPORT_WORDS}
    for lang, words in REPORT_WORDS.items():
        report = client.get(f"{link.group(1)}?lang={lang}")
        html = report.get_data(as_text=True)
        assert report.status_code == 200 and f'<html lang="{lang}">' in html and "print.css" in html
        for word in [*words, advice[lang]]:
            assert word in html, (lang, word)
        mark = "." if lang == "en" else ","  # the numbers stored at submission, in the page's decimal mark
        assert f"<strong>{score:.1f}".replace(".", mark) in html
        for c in contributions:
            assert f"{c['points']:.1f} / {c['weight']:.0f}".replace(".", mark) in html


def test_report_needs_its_token(client, make_lead):
    _send(client)
    lead_id = make_lead()
    assert client.get(f"/assess/report/{lead_id}").status_code == 404
    assert client.get("/assess/report/" + "A" * 32).status_code == 404


def test_report_of_a_deleted_lead_is_gone(client, app):
    _html, link = _send(client)
    with app.app_context():
        db.session.delete(db.session.execute(db.select(Lead)).scalar_one())
        db.session.commit()
    assert client.get(link.group(1)).status_code == 404


def test_report_keeps_what_the_firm_was_told_after_a_rescore(client, app):
    _html, link = _send(client)
    with app.app_context():
        lead = db.session.execute(db.select(Lead)).scalar_one()
        told = lead.latest.score
        lead.score = 1.0  # as if staff had re-scored under other weights
        db.session.commit()
    assert f"<strong>{told:.1f}</strong>" in client.get(link.group(1)).get_data(as_text=True)


def test_report_of_answers_not_sent(client, app):
    html = client.post("/assess/report?lang=ru", data=FORM).get_data(as_text=True)
    assert "Самооценка, не отправлена" in html and "Вклад каждого критерия" in html and "Volga Robotics" in html
    with app.app_context():
        assert db.session.execute(db.select(Lead)).first() is None  # nothing stored


def test_result_page_offers_report_change_and_a_start_again_that_asks(client):
    html = client.post("/assess?lang=en", data=FORM).get_data(as_text=True)
    assert 'formaction="/assess/report"' in html and 'name="keep" value="form"' in html
    assert '<details class="restart">' in html and "All your answers on this page will be cleared." in html
    assert 'data-keep-answers="/assess"' in html


def test_answers_survive_a_language_switch(client):
    for lang in ("ru", "vi"):
        kept = client.post(f"/assess?lang={lang}", data={**FORM, "keep": "form", "sectors": ["automation"]})
        html = kept.get_data(as_text=True)
        assert kept.status_code == 200 and f'<html lang="{lang}">' in html
        assert 'value="Volga Robotics"' in html and "Industrial robots and automation lines</textarea>" in html
        assert 'value="automation" checked' in html and '<option selected value="committed">' in html
        assert 'class="flash' not in html and '<svg class="chart"' not in html  # the form again, no messages


def test_migration_0010_downgrades_and_upgrades_again(app, migration):
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from web.schema import upgrade

    with migration(app) as (connection, config):
        command.downgrade(config, ScriptDirectory.from_config(config).get_revision("0010").down_revision)
        assert "report_links" not in inspect(connection).get_table_names()
    upgrade(app)
    with app.app_context():
        assert {"token_hash", "lead_id", "assessment_id", "created_at"} == {
            c["name"] for c in inspect(db.engine).get_columns("report_links")
        }

"""Wording defects of issue 13: numbers per locale, every form error at once, labels in the page's language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from web.i18n import decimal_text, number, percent, percent_text


@pytest.mark.parametrize(
    ("lang", "score", "big", "share"),
    [
        ("en", "71.7", "1,500", "64%"),
        ("ru", "71,7", "1\u00a0500", "64\u00a0%"),
        ("vi", "71,7", "1.500", "64%"),
    ],
)
def test_numbers_are_written_as_each_language_writes_them(app, lang, score, big, share):
    with app.test_request_context(f"/?lang={lang}"), force_locale(lang):
        assert number(71.7) == score and number(1500, 0) == big and percent(0.64) == share
        assert decimal_text("71.7") == score and percent_text("0.64") == share  # a scored CSV's cells
        assert decimal_text("n/a") == "n/a" and percent_text("") == "" and number(None) == "—"


def test_russian_error_names_the_field_in_russian(client):
    """The consent box left empty: "Согласие: …", not "Consent: …"."""
    html = client.post("/assess/submit?lang=ru", data={"name": "ООО Тест", "contact_email": "a@b.example"}).get_data(
        as_text=True
    )
    assert "Согласие:" in html and "Consent:" not in html


def test_every_bad_answer_is_reported_at_once(client):
    html = client.post(
        "/assess?lang=en", data={"name": "X", "employees": "many", "investment_usd": "lots", "okved": "99.99.99.99"}
    ).get_data(as_text=True)
    assert "Employees: expected a whole number" in html
    assert "expected an amount in US$" in html
    assert "is not an OKVED 2 code" in html or "is not a code such as" in html


def test_every_bad_answer_is_reported_at_once_on_a_valid_form(client):
    html = client.post("/assess?lang=ru", data={"name": "X", "employees": "many", "investment_usd": "lots"}).get_data(
        as_text=True
    )
    assert html.count('class="flash flash-error"') == 2


def test_account_page_shows_the_whole_header(client, auth):
    auth.login()
    html = client.get("/account?lang=en").get_data(as_text=True)
    assert "Authorization: Bearer &lt;token&gt;" in html and "Bearer ." not in html


def test_keywords_of_a_description_match_are_shown_once(client):
    html = client.post("/assess?lang=en", data={"name": "X", "description": "We develop software"}).get_data(
        as_text=True
    )
    start = html.index('<ul class="evidence">')
    evidence = html[start : html.index("</ul>", start)]
    assert evidence.count("software") == 2  # the sector's label "IT and software", then the word found once
    assert '<span class="tag tag-description">description</span>' in evidence


def test_weight_inputs_hold_numbers_a_browser_reads(client, auth):
    """A number input takes 30 or 16.5, never "30,00": on a Russian page it would show empty."""
    import re

    auth.login("admin")
    html = client.get("/admin/weights?lang=ru").get_data(as_text=True)
    values = re.findall(r'name="criteria\.[a-z_]+" value="([^"]*)"', html)
    assert values and all(float(v) >= 0 for v in values)


@pytest.mark.parametrize(
    ("lang", "title", "text", "no_lead"),
    [
        ("en", "Method not allowed", "This address cannot be used this way.", "No lead with this number."),
        ("ru", "Метод не разрешён", "Этот адрес нельзя открыть таким способом.", "Лида с таким номером нет."),
        (
            "vi",
            "Phương thức không được phép",
            "Không thể mở địa chỉ này theo cách này.",
            "Không có khách hàng tiềm năng với số này.",
        ),
    ],
)
def test_error_pages_speak_the_pages_language(client, auth, lang, title, text, no_lead):
    # Werkzeug's own descriptions are English only ("The method is not allowed for the requested URL.").
    page = client.get(f"/logout?lang={lang}")
    html = page.get_data(as_text=True)
    assert page.status_code == 405 and title in html and text in html
    assert "requested URL" not in html
    auth.login()
    page = client.get(f"/leads/999999?lang={lang}")  # a view's own words, translated, not the generic 404
    assert page.status_code == 404 and no_lead in page.get_data(as_text=True)


def test_an_opportunity_has_a_name_not_a_persons_name(client, auth):
    auth.login()
    assert "<th>Название</th>" in client.get("/opportunities?lang=ru").get_data(as_text=True)
    assert "<th>Tên</th>" in client.get("/opportunities?lang=vi").get_data(as_text=True)


def test_a_language_code_in_capitals_is_the_language(client):
    assert '<html lang="ru">' in client.get("/assess?lang=RU").get_data(as_text=True)
    assert client.post("/api/v1/score?lang=VI", json={"name": "A", "okved": "62.01"}).get_json()["lang"] == "vi"

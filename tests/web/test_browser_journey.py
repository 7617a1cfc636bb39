"""The firm's next step in a real browser: answers kept across languages, the report, and both e-mails."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from smtp_testlib import mail_config, smtp_server

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def _tab(browser, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15000)
    return context, page, errors


def _fill(page) -> None:
    page.fill("#name", "ООО «Волга Роботикс»")
    page.fill("#description", "Промышленные роботы и линии автоматизации")
    page.fill("#okved", "28.99")
    page.select_option("#training", "committed")


def _send(page, email: str) -> None:
    page.fill("#contact_email", email)
    page.check("#consent")
    page.locator("button.primary").click()


def _journey(browser, base: str, shots) -> dict:
    context, page, errors = _tab(browser)
    try:
        page.goto(f"{base}/assess?lang=en")
        _fill(page)
        page.click(".lang-switch a[hreflang=ru]")  # typed, never submitted: kept in Russian
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        expect(page.locator("#name")).to_have_value("ООО «Волга Роботикс»")
        expect(page.locator("#training")).to_have_value("committed")
        page.locator("button.primary").click()
        expect(page.locator("h1")).to_contain_text("Результат: ООО «Волга Роботикс»")
        score = page.locator(".score-card .score-badge strong").inner_text()
        # assess.js is deferred: it puts the answers on the language links once the page has loaded;
        # a click before that is a plain link (to the form in Vietnamese), as without JavaScript
        page.wait_for_load_state("load")
        page.click(".lang-switch a[hreflang=vi]")  # the result, worded again in Vietnamese
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        expect(page.locator("h1")).to_contain_text("ООО «Волга Роботикс»")
        expect(page.locator(".score-card .score-badge strong")).to_have_text(score)
        page.locator(".restart summary").click()  # "Start again" asks first; the answers are still there
        expect(page.locator("#restart-confirm")).to_be_visible()
        page.locator("button[name=keep]").click()  # "Change my answers"
        expect(page.locator("#description")).to_have_value("Промышленные роботы и линии автоматизации")
        page.locator(".restart summary").click()
        page.click("#restart-confirm")  # only now are the answers cleared
        expect(page.locator("#name")).to_have_value("")
        _fill(page)
        page.locator("button.primary").click()
        _send(page, "ceo@volga.example")
        expect(page.locator("h1")).to_have_text("Cảm ơn bạn")
        expect(page.locator(".next-steps li")).to_have_count(3)
        shots(page, "thanks_vi")
        href = page.locator("#report-link").get_attribute("href")
        page.click("#report-link")
        expect(page.locator(".report-head h1")).to_have_text("ООО «Волга Роботикс»")
        expect(page.locator(".report-score strong")).to_have_text(score)
        expect(page.locator("svg.chart .bar")).to_have_count(7)
        expect(page.locator(".improvements li").first).to_contain_text("+")
        expect(page.locator("[data-print]")).to_be_visible()
        page.emulate_media(media="print")
        expect(page.locator(".report-tools")).to_be_hidden()
        page.emulate_media(media="screen")
        page.click(".report-langs a[hreflang=ru]")
        expect(page.locator("h2").first).to_have_text("Вклад каждого критерия")
        return {"href": href, "errors": errors}
    finally:
        context.close()


def test_firm_keeps_its_answers_and_gets_its_report(make_app, serving, in_browser, tmp_path):
    app = make_app(WTF_CSRF_ENABLED=True)

    def shots(page, name):
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

    with serving(app) as base:
        seen = in_browser(lambda browser: _journey(browser, base, shots))
    assert re.fullmatch(r"/assess/report/[\w-]{32,}", seen["href"])  # a token, not a lead id
    assert not [e for e in seen["errors"] if "Failed to load resource" not in e], seen["errors"]


def _submit_in_browser(browser, base: str) -> list[str]:
    context, page, errors = _tab(browser, width=390)
    try:
        page.goto(f"{base}/assess?lang=ru")
        _fill(page)
        page.locator("button.primary").click()
        _send(page, "ceo@volga.example")
        expect(page.locator(".next-steps li").first).to_contain_text("ceo@volga.example")  # "on its way"
        return errors
    finally:
        context.close()


def _open(browser, url: str) -> str:
    context, page, _errors = _tab(browser)
    try:
        page.goto(url)
        return page.locator(".report-head h1").inner_text()
    finally:
        context.close()


def test_submission_in_the_browser_sends_both_emails(make_app, serving, in_browser):
    with smtp_server() as (port, inbox):
        app = make_app(WTF_CSRF_ENABLED=True, **mail_config(port))
        with serving(app) as base:
            app.config["PUBLIC_URL"] = base  # the links in the e-mails open this server
            errors = in_browser(lambda browser: _submit_in_browser(browser, base))
            inbox.wait(2)
            firm = inbox.to("ceo@volga.example")
            link = re.search(r"http://127\.0\.0\.1:\d+/assess/report/[\w-]+\?lang=ru", firm.get_content())
            assert link, firm.get_content()
            assert in_browser(lambda browser: _open(browser, link.group(0))) == "ООО «Волга Роботикс»"
    assert "Ваша самооценка получена" in firm["Subject"] and "Здравствуйте!" in firm.get_content()
    staff = inbox.to("analyst@hanoi.example")
    assert "New lead from the self-assessment: ООО «Волга Роботикс»" in staff["Subject"]
    assert staff["Reply-To"] == "ceo@volga.example"
    assert not [e for e in errors if "Failed to load resource" not in e], errors

"""Real browser (Debian's chromium through Playwright): the screening flows of a promotion team.

Sector filter on a secondary sector, duplicate merge, edit-and-rescore, deletion on consent withdrawal,
a bulk action. Playwright runs in a thread of its own (the ``in_browser`` fixture).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from web.extensions import db
from web.services import create_lead, score

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
FIRMS = {
    "chips": {"name": "NordChip", "okved": "26.11", "description": "microelectronics"},
    "robots": {
        "name": "Volga Robotics",
        "okved": "28.99; 26.11",
        "description": "Industrial robots",
        "training": "committed",
    },
    "travel": {"name": "Mekong Travel", "okved": "79.11", "description": "tours to Hanoi"},
    "dup": {"name": "АО Роботех", "okved": "28.99", "website": "robotech.example"},
    "first": {"name": "ООО «Роботех»", "okved": "28.99", "city": "Kazan"},
}


@pytest.fixture
def served(make_app, serving):
    """The app with CSRF on and the FIRMS as leads, served; yields (base URL, {key: lead id})."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        ids = {}
        for key, profile in FIRMS.items():
            ids[key] = create_lead(profile, score(profile), "assess", consent=True).id
        db.session.commit()
    with serving(app) as base:
        yield base, ids


def flow(in_browser, steps):
    """Run ``steps(page)`` logged in as the analyst in a fresh page; fail on script errors or CSP reports."""

    def run(browser):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_default_timeout(15000)
        try:
            base = steps.base
            page.goto(f"{base}/login?lang=en")
            page.fill("#username", "analyst")
            page.fill("#password", "analyst-pass-123")
            page.click("button.primary")
            expect(page.locator("h1")).to_contain_text("Leads")
            steps(page)
        finally:
            context.close()
        return [e for e in errors if "Failed to load resource" not in e]

    assert in_browser(run) == []


class Steps:
    def __init__(self, base, fn):
        self.base, self.fn = base, fn

    def __call__(self, page):
        self.fn(page, self.base)


def test_sector_filter_finds_a_secondary_sector(in_browser, served):
    base, _ids = served

    def steps(page, base):
        page.goto(f"{base}/leads?lang=en")
        expect(page.locator("#sector option[value=electronics]")).to_have_text("Smart electronics (2)")
        page.select_option("#sector", "electronics")
        page.click("form.filters button[type=submit]")
        rows = page.locator("table.leads tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="Volga Robotics")).to_contain_text("+ Smart electronics")
        expect(page.locator(".chip.facet.active")).to_contain_text("2")
        page.click(".chip.facet.active")  # the active facet removes the sector filter
        expect(page.locator("table.leads tbody tr")).to_have_count(5)

    flow(in_browser, Steps(base, steps))


def test_duplicate_merge(in_browser, served):
    base, ids = served

    def steps(page, base):
        page.goto(f"{base}/leads?lang=en")
        expect(page.locator("table.leads .chip.dup")).to_have_count(2)
        page.goto(f"{base}/leads/{ids['first']}?lang=en")
        panel = page.locator("#duplicates")
        expect(panel).to_contain_text("АО Роботех")
        expect(panel).to_contain_text("same name without legal form")
        panel.get_by_role("link", name="Merge into this lead…").click()
        expect(page.locator("h1")).to_have_text("Merge duplicate leads")
        expect(page.locator("#same_firm")).to_have_attribute("required", "")  # the browser asks for the tick first
        page.check("#same_firm")
        page.click("button.danger")
        expect(page.locator(".flash-success")).to_contain_text("was merged into this one")
        expect(page.locator("#duplicates")).to_have_count(0)
        expect(page.locator(".facts")).to_contain_text("robotech.example")
        expect(page.locator("ul.audit")).to_contain_text(f"from merged lead #{ids['dup']}")
        assert page.goto(f"{base}/leads/{ids['dup']}").status == 404

    flow(in_browser, Steps(base, steps))


def test_edit_answers_and_rescore(in_browser, served):
    base, ids = served

    def steps(page, base):
        page.goto(f"{base}/leads/{ids['travel']}?lang=en")
        before = page.locator(".score-badge strong").first.inner_text()
        page.get_by_role("link", name="Edit answers").click()
        page.select_option("#training", "committed")
        page.select_option("#green", "committed")
        page.fill("#inn", "7707083893")
        page.click("button.primary")
        expect(page.locator(".flash-success")).to_contain_text(re.compile(rf"scored again: {re.escape(before)} → "))
        expect(page.locator("ul.audit")).to_contain_text("answers edited, scored again")
        expect(page.locator(".facts")).to_contain_text("7707083893")

    flow(in_browser, Steps(base, steps))


def test_delete_on_consent_withdrawal(in_browser, served):
    base, ids = served

    def steps(page, base):
        page.goto(f"{base}/leads/{ids['chips']}?lang=en")
        page.get_by_role("link", name="Consent withdrawn…").click()
        page.check("input[name=mode][value=delete]")
        page.fill("#reason", "E-mail of 5 December: consent withdrawn")
        page.fill("#typed", str(ids["chips"] + 100))
        page.click("button.danger")
        expect(page.locator(".error")).to_contain_text("nothing was changed")
        page.check("input[name=mode][value=delete]")
        page.fill("#typed", str(ids["chips"]))
        page.click("button.danger")
        expect(page.locator(".flash-success")).to_contain_text("was deleted")
        expect(page.locator("table.leads")).not_to_contain_text("NordChip")

    flow(in_browser, Steps(base, steps))


def test_bulk_status_change(in_browser, served):
    base, ids = served

    def steps(page, base):
        page.goto(f"{base}/leads?lang=en&sort=name&dir=asc")
        page.check(f"input[name=ids][value='{ids['chips']}']")
        page.check(f"input[name=ids][value='{ids['travel']}']")
        page.select_option("#bulk-action", "status")
        page.select_option("#bulk-status", "contacted")
        page.click("#bulk button[type=submit]")
        expect(page.locator(".flash-success")).to_contain_text("2 of 2 leads moved to contacted")
        expect(page).to_have_url(re.compile(r"sort=name"))
        page.goto(f"{base}/leads?lang=en&status=contacted")
        expect(page.locator("table.leads tbody tr")).to_have_count(2)

    flow(in_browser, Steps(base, steps))

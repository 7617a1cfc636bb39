"""Real browser (Debian's chromium through Playwright): two staff members edit the same lead at once.

Two browser contexts (two separate logins) open the same lead; the first save wins, the second sees
why its save was refused, with what it typed still in the form, and can save it again knowingly.

Playwright runs in a thread of its own (as in ``test_browser_security.py``): ``test_browser.py`` may
hold a session-wide sync Playwright in the main thread, and a second one cannot start beside it there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from web.extensions import db
from web.models import Evidence, Lead
from web.services import create_lead, score

# As in test_browser.py: files the dev server leaves to the garbage collector warn in whichever test runs.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

PASSWORDS = {"admin": "admin-pass-123", "analyst": "analyst-pass-123"}  # conftest's accounts
PROFILE = {
    "name": "Volga Robotics",
    "description": "Industrial robots",
    "okved": "28.99",
    "training": "committed",
    "investment_usd": "2m",
}


@pytest.fixture
def served(make_app, serving):
    """The app with CSRF on and one lead, served on a random port: (base URL, app, lead id)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        lead_id = create_lead(PROFILE, score(PROFILE), "assess").id
        db.session.commit()
    with serving(app) as base:
        yield base, app, lead_id


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("Leads")


def open_twice(browser, base: str, lead_id: int, errors: list[str]) -> list:
    """The admin and the analyst, each in a browser context of their own, on the lead page."""
    pages = []
    for username in ("admin", "analyst"):
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB").new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, base, username)
        page.goto(f"{base}/leads/{lead_id}")
        pages.append(page)
    return pages


def first_saves_second_is_refused(first, second) -> None:
    first.select_option("#status-status", "meeting")
    first.click("text=Change status")
    expect(first.locator(".flash-success")).to_contain_text("meeting")

    # the analyst's page is stale: their evidence note is refused, but kept
    form = second.locator("form.evidence-form").first
    form.locator("select").select_option("verified")
    form.locator("input[type=text]").fill("Training contract seen on 2026-11-20")
    form.locator("button").click()
    alert = second.locator("#conflict")
    expect(alert).to_contain_text("Someone else changed this lead since you opened it (by admin at ")
    expect(alert).to_contain_text("Training contract seen on 2026-11-20")
    expect(second.locator(".status")).to_contain_text("meeting")  # the admin's change is shown
    form = second.locator("form.evidence-form").first
    expect(form.locator("input[type=text]")).to_have_value("Training contract seen on 2026-11-20")
    expect(form.locator("select")).to_have_value("verified")


def save_again(second) -> None:
    second.locator("form.evidence-form").first.locator("button").click()  # knowingly, over the other change
    expect(second.locator(".flash-success")).to_contain_text("Evidence saved")


def test_two_staff_edit_the_same_lead(in_browser, served):
    base, app, lead_id = served
    errors: list[str] = []  # JavaScript errors on either page
    first, second = in_browser(lambda browser: open_twice(browser, base, lead_id, errors))
    try:
        in_browser(lambda _browser: first_saves_second_is_refused(first, second))
        with app.app_context():
            assert db.session.execute(db.select(Evidence)).first() is None
            db.session.remove()
        in_browser(lambda _browser: save_again(second))
        with app.app_context():
            lead = db.session.get(Lead, lead_id)
            assert (lead.status, lead.evidence_of("training")) == ("meeting", "verified")
            db.session.remove()
    finally:
        in_browser(lambda _browser: [page.context.close() for page in (first, second)])
    assert not errors, errors

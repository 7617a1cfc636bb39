"""Real browser (Debian's chromium through Playwright): stored HTML and script show as text and never run.

A lead whose name, description, city and notes hold markup is opened in the lead list, the lead page and
the printable report; a firm types the same markup into the self-assessment; a CSV full of it is
uploaded. In every page the text must show literally, no ``dialog`` (``alert``) may fire and no
injected element may exist. The pages are opened with the CSP switched off (``bypass_csp``), so that the
test checks the escaping itself and not only the CSP behind it; a last pass with the CSP on checks
that these pages raise no CSP violation.

Playwright runs in a thread of its own: ``test_browser.py`` may hold a session-wide sync Playwright in
the main thread, and a second one cannot start beside it there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from web.extensions import db
from web.services import create_lead, score

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

NAME = "<script>alert('name')</script> Evil Robotics"
DESCRIPTION = "Robots <img src=x onerror=alert('description')> and automation lines"
CITY = "\"><svg onload=alert('city')>"
NOTE = "<script>alert('note')</script><img src=x onerror=alert('note')>"
UPLOAD_NAME = "<img src=x onerror=alert('file')>.csv"
INJECTED = "script:not([src]), img[src='x'], svg[onload], [onerror], [onload]"


@pytest.fixture
def live(make_app, serving):
    """The app with CSRF on and one lead full of markup, on a random port; yields (base URL, lead id)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    profile = {"name": NAME, "description": DESCRIPTION, "city": CITY, "okved": "28.99", "training": "committed"}
    with app.app_context():
        lead = create_lead(profile, score(profile), "assess", consent=True)
        db.session.commit()
        lead_id = lead.id
    with serving(app) as base:
        yield base, lead_id


class Watch:
    """A browser context and page that record dialogs and console errors."""

    def __init__(self, browser, bypass_csp: bool):
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=bypass_csp
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message} on {self.page.url}")
        dialog.dismiss()

    def shows_literally(self, *texts: str) -> None:
        """Each text is on screen as typed, and the page holds no injected element."""
        shown = self.page.locator("body").inner_text()
        for text in texts:
            assert text in shown, f"{text!r} not shown literally on {self.page.url}"
        assert self.page.locator(INJECTED).count() == 0, f"injected element on {self.page.url}"

    def problems(self) -> list[str]:
        """Dialogs, script errors and CSP violations (not a missing favicon)."""
        return self.dialogs + [e for e in self.errors if "Failed to load resource" not in e]

    def close(self) -> None:
        self.context.close()


def login(page, base: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#username", "admin")
    page.fill("#password", "admin-pass-123")
    page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("Leads")


def staff_pages(browser, base: str, lead_id: int) -> list[str]:
    """Lead list, lead page (with a note typed in), report and batch results, CSP off; returns dialogs."""
    watch = Watch(browser, bypass_csp=True)
    page = watch.page
    try:
        login(page, base)
        page.goto(f"{base}/leads?q=Evil")
        expect(page.locator("table.leads tbody tr")).to_have_count(1)
        watch.shows_literally(NAME, CITY)
        page.click("a.lead-name")
        page.fill("#note-body", NOTE)
        page.click("text=Add note")
        expect(page.locator(".notes")).to_contain_text(NOTE)
        watch.shows_literally(NAME, DESCRIPTION, CITY, NOTE)
        page.goto(f"{base}/leads/{lead_id}/report")
        watch.shows_literally(NAME, DESCRIPTION, CITY)
        page.goto(f"{base}/batch?lang=en")
        rows = f'name,description,city,okved\n"{NAME}","{DESCRIPTION}","{CITY.replace(chr(34), chr(34) * 2)}",28.99\n'
        page.set_input_files("#file", files=[{"name": UPLOAD_NAME, "mimeType": "text/csv", "buffer": rows.encode()}])
        page.click("button.primary")
        expect(page.locator("text=Download the scored CSV")).to_be_visible(timeout=30000)
        expect(page.locator("table.results tbody tr")).to_have_count(1)
        watch.shows_literally(NAME)
        assert "onerror" in page.locator("h1").inner_text()  # the file name, as text
        return watch.problems()
    finally:
        watch.close()


def public_pages(browser, base: str) -> list[str]:
    """Self-assessment result and the thanks page after submitting it, CSP off; returns dialogs."""
    watch = Watch(browser, bypass_csp=True)
    page = watch.page
    try:
        page.goto(f"{base}/assess?lang=en")
        page.fill("#name", NAME)
        page.fill("#city", CITY)
        page.fill("#description", DESCRIPTION)
        page.fill("#okved", "28.99")
        page.click("button.primary")
        expect(page.locator("h1")).to_contain_text(NAME)
        watch.shows_literally(NAME)
        page.fill("#contact_email", "ceo@evil.example")
        page.check("#consent")
        page.click("button.primary")  # the hidden copies of the fields must carry the text unchanged
        expect(page.locator("h1")).to_have_text("Thank you")
        watch.shows_literally()
        return watch.problems()
    finally:
        watch.close()


def with_csp(browser, base: str, lead_id: int) -> list[str]:
    """The same pages with the CSP on: no violation, no error in the console."""
    watch = Watch(browser, bypass_csp=False)
    page = watch.page
    try:
        page.goto(f"{base}/assess?lang=en")
        page.fill("#name", NAME)
        page.click("button.primary")
        expect(page.locator("h1")).to_contain_text(NAME)
        login(page, base)
        for url in ("/leads?q=Evil", f"/leads/{lead_id}", f"/leads/{lead_id}/report"):
            page.goto(base + url)
            watch.shows_literally(NAME)
        return watch.problems()
    finally:
        watch.close()


def test_stored_markup_shows_as_text_for_staff(in_browser, live):
    base, lead_id = live
    assert in_browser(lambda browser: staff_pages(browser, base, lead_id)) == []


def test_typed_markup_shows_as_text_in_self_assessment(in_browser, live):
    base, lead_id = live
    assert in_browser(lambda browser: public_pages(browser, base)) == []
    assert in_browser(lambda browser: with_csp(browser, base, lead_id)) == []

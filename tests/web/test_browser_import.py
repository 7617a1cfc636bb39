"""Real browser (Debian's chromium through Playwright): the job page shows an import's progress, then its end.

Playwright runs in a thread of its own (the ``in_browser`` fixture), as in ``test_browser_faults.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from web import imports
from web.extensions import db
from web.models import Lead

# As in test_browser.py: files the dev server leaves to the garbage collector warn in whichever test runs.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
#: The issue's figure, a 20,000-row import storing 20,000 leads, on PostgreSQL (the several-staff deployment);
#: SQLite imports the same way at about the same speed, and 8,000 rows still take eight steps to watch.
ROWS = {"postgresql": 20_000, "sqlite": 8_000}


def _now(locator) -> list[str]:
    """The locator's texts right now: [] once it is gone, or while the page reloads at the end of the import."""
    try:
        return locator.all_inner_texts()
    except PlaywrightError:
        return []


def import_in_browser(browser, base: str, path, n_rows: int, seen: list[str], errors: list[str]) -> str:
    """Log in, upload, import; record the progress lines shown while importing; the page text at the end."""
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        page.set_default_timeout(60000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/login?lang=en")
        page.fill("#username", "analyst")
        page.fill("#password", "analyst-pass-123")
        page.click("button.primary")
        page.goto(f"{base}/batch?lang=en")
        page.set_input_files("#file", str(path))
        page.click("button.primary")
        page.click("#job-import")
        progress = page.locator("#import-progress")
        expect(page.locator("#import-progress, #import-done").first).to_be_visible()  # the job page is there
        while texts := _now(progress):
            seen.extend(texts)
            page.wait_for_timeout(150)
        expect(page.locator("#import-done")).to_contain_text(f"{n_rows} rows imported as leads.")
        return page.inner_text("body")
    finally:
        context.close()


def test_the_job_page_shows_the_import_progress(in_browser, make_app, serving, tmp_path, db_url):
    n_rows = ROWS["sqlite" if db_url.startswith("sqlite") else "postgresql"]
    assert n_rows // imports.CHUNK >= 8  # several steps to see
    big = tmp_path / "firms.csv"
    big.write_text("id,name,okved,training\n" + "".join(f"F{i},Firm {i},28.99,committed\n" for i in range(n_rows)))
    seen: list[str] = []
    errors: list[str] = []
    app = make_app(WTF_CSRF_ENABLED=True)
    with serving(app) as base:
        text = in_browser(lambda browser: import_in_browser(browser, base, big, n_rows, seen, errors))
    assert f"{n_rows} rows imported as leads." in text and not errors, errors
    with app.app_context():  # every row is a lead of its own
        ids = db.session.execute(db.select(Lead.ext_id).where(Lead.source == "batch")).scalars().all()
    assert len(ids) == n_rows and set(ids) == {f"F{i}" for i in range(n_rows)}
    counts = [int(line.split(" of ")[0].rsplit(" ", 1)[1]) for line in seen if " of " in line]
    assert counts and all(f"of {n_rows} scored rows imported" in line for line in seen if line), seen
    assert len({n for n in counts if 0 < n < n_rows}) >= 2, seen  # batch.js updated it part-way, without reloads

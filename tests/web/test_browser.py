"""Real browser (Debian's chromium through Playwright) against a live server: the three main journeys.

Each journey saves screenshots in a temporary folder; to refresh the README's pictures, run with
``MATCHER_SCREENSHOTS=docs/screenshots`` (the tests write nothing into the working tree unless asked).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from web.commands import bootstrap

# When the browser navigates on while the dev server is still sending a static file (the favicon), werkzeug
# leaves that file to the garbage collector; the ResourceWarning then lands in whichever test runs.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(make_app, serving):
    """The app with CSRF on and the sample leads, served on a random port; yields its base URL."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        bootstrap()
    with serving(app) as base:  # files the server left open warn at its gc.collect() (see pytestmark)
        yield base


@pytest.fixture
def tab(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15000)
    yield page
    context.close()
    # JavaScript exceptions and CSP violations fail the test; aborted fetches during navigation do not
    assert not [e for e in errors if "Failed to load resource" not in e], errors


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: ``MATCHER_SCREENSHOTS`` when set (e.g. docs/screenshots), else a temporary folder."""
    asked = os.environ.get("MATCHER_SCREENSHOTS")
    return Path(asked) if asked else tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def shot(shots):
    """``shot(page, name, db)`` saves a full-page screenshot (the SQLite run's is the README's copy)."""

    def save(page, name: str, db: str) -> None:
        if db == "sqlite":
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / name), full_page=True)

    return save


def test_screenshots_stay_out_of_the_working_tree_unless_asked(shots):
    if os.environ.get("MATCHER_SCREENSHOTS"):
        assert shots == Path(os.environ["MATCHER_SCREENSHOTS"])
    else:
        assert not shots.resolve().is_relative_to(ROOT)


def fill_profile(page) -> None:
    page.fill("#name", "ООО «Волга Роботикс»")
    page.fill("#description", "Промышленные роботы и линии автоматизации; обучение вьетнамских инженеров")
    page.fill("#okved", "28.99")
    page.fill("#investment_usd", "2 500 000")
    page.fill("#employees", "180")
    page.select_option("#training", "committed")
    page.select_option("#tech_transfer", "planned")
    page.select_option("#vietnam_presence", "office")


def login(page, base: str, username="admin", password="admin-pass-123") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button.primary")


def test_self_assessment_in_russian(tab, live_server, db_url, shot):
    page = tab
    db = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    for lang in ("en", "vi"):
        page.goto(f"{live_server}/assess?lang={lang}")
        shot(page, f"assess_{lang}.png", db)
    page.goto(f"{live_server}/assess?lang=ru")
    expect(page.locator("h1")).to_contain_text("Насколько ваша компания")
    shot(page, "assess_ru.png", db)
    fill_profile(page)
    page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("Результат: ООО «Волга Роботикс»")
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.locator(".card").filter(has_text="Найденные отрасли")).to_contain_text("Автоматизация")
    expect(page.locator(".improvements li").first).to_contain_text("+")
    shot(page, "assess_result_ru.png", db)
    page.fill("#contact_email", "ceo@volga-robotics.example")
    page.check("#consent")
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text("Спасибо")
    # the staff see the new lead at once
    login(page, live_server)
    page.goto(f"{live_server}/leads?q=Волга+Роботикс")
    expect(page.locator("table.leads tbody tr")).to_have_count(1)


def test_login_and_filter_leads(tab, live_server, db_url, shot):
    page = tab
    db = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    page.goto(f"{live_server}/leads?lang=en")
    expect(page).to_have_url(f"{live_server}/login?next=%2Fleads%3Flang%3Den")
    page.fill("#username", "admin")
    page.fill("#password", "admin-pass-123")
    page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("Leads")
    total = page.locator("table.leads tbody tr").count()
    assert total == 25  # first page of the sample leads
    shot(page, "leads.png", db)
    page.select_option("#sector", "software")
    page.click("form.filters button.primary")
    expect(page).to_have_url(re.compile(r"sector=software"))
    rows = page.locator("table.leads tbody tr")
    expect(rows.first).to_be_visible()  # the filtered page has loaded (under load it can take a while)
    assert 0 < rows.count() < total
    for i in range(rows.count()):  # the sector column (after the tick box): main or secondary sector
        expect(rows.nth(i).locator("td").nth(3)).to_contain_text("IT and software")
    page.click("th >> text=Score")  # sort ascending by score
    scores = [float(t) for t in page.locator("table.leads td.num .score-badge strong").all_inner_texts()]
    assert scores == sorted(scores)
    rows.first.locator("a.lead-name").click()
    expect(page.locator("svg.chart")).to_be_visible()
    page.select_option("#status-status", "contacted")
    page.click("text=Change status")
    expect(page.locator(".flash-success")).to_contain_text("contacted")
    page.fill("#note-body", "Met at the Moscow–Hanoi forum")
    page.click("text=Add note")
    expect(page.locator(".notes")).to_contain_text("Met at the Moscow–Hanoi forum")
    expect(page.locator(".audit")).to_contain_text("status changed")
    shot(page, "lead.png", db)


def test_upload_csv_and_see_result(tab, live_server, db_url, shot, tmp_path):
    page = tab
    db = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    login(page, live_server)
    page.goto(f"{live_server}/batch?lang=en")
    page.set_input_files("#file", str(ROOT / "matcher" / "data" / "sample_profiles.csv"))
    page.click("button.primary")
    expect(page.locator("text=Download the scored CSV")).to_be_visible(timeout=30000)
    expect(page.locator(".summary")).to_contain_text("scored")
    expect(page.locator("table.results tbody tr").first).to_be_visible()
    shot(page, "batch.png", db)
    with page.expect_download() as info:
        page.click("text=Download the scored CSV")
    path = tmp_path / "scored.csv"
    info.value.save_as(path)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["id", "name"] and rows[0][16:20] == ["score", "rank", "band", "sector"]
    assert len(rows) > 40


def test_admin_edits_weights_and_ranking_changes(tab, live_server, db_url, shot):
    page = tab
    db = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    login(page, live_server)
    page.goto(f"{live_server}/leads?lang=en")
    before = page.locator("table.leads a.lead-name").all_inner_texts()[:5]
    page.click("nav.main-nav >> text=Weights")
    expect(page.locator("h1")).to_contain_text("v1 ")
    page.fill("#w-criteria-sector_fit", "0")
    page.fill("#w-criteria-green", "100")
    page.click("#save-weights")  # no reason yet: refused
    expect(page.locator(".flash-error")).to_contain_text("Give the reason")
    page.fill("#w-criteria-sector_fit", "0")
    page.fill("#w-criteria-green", "100")
    page.fill("#reason", "Green projects first (city council, 2026)")
    page.click("#save-weights")
    expect(page.locator(".flash-success")).to_contain_text("Saved as version v2")
    expect(page.locator("table.versions")).to_contain_text("criteria.green")
    shot(page, "weights.png", db)
    page.click("#rescore")
    expect(page.locator("h1")).to_contain_text("re-scored under v2")
    expect(page.locator("table.rescored td.up, table.rescored td.down").first).to_be_visible()
    page.click("text=See the ranked leads")
    after = page.locator("table.leads a.lead-name").all_inner_texts()[:5]
    assert after != before
    for _ in range(50):  # the ranks of the new version are computed in the background: look again until shown
        if "top-10 in" in page.locator("table.leads td.robust").first.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(page.locator("table.leads td.robust").first).to_contain_text("top-10 in")
    expect(page.locator("p.ranks-asof")).to_contain_text("weights v2 ")
    page.goto(f"{live_server}/admin/weights/compare?a=1&b=2")
    expect(page.locator("svg.slope")).to_be_visible()
    shot(page, "weights_compare.png", db)
    # staff verify a commitment with a note; the lead page shows it beside the rank interval
    page.goto(f"{live_server}/leads")
    page.locator("table.leads a.lead-name").first.click()
    expect(page.locator("#robustness")).to_contain_text("of weightings")
    form = page.locator("form.evidence-form").first
    form.locator("select").select_option("verified")
    form.locator("input[type=text]").fill("Signed agreement seen on 2026-11-20")
    form.locator("button").click()
    expect(page.locator(".flash-success")).to_contain_text("Evidence saved")
    expect(page.locator("form.evidence-form .chip.ev-verified").first).to_be_visible()
    expect(page.locator(".audit")).to_contain_text("Signed agreement seen")
    shot(page, "evidence.png", db)


def test_okved_suggestion_and_two_sectors_picked(tab, live_server, db_url, shot):
    """Typing a code's start lists codes with titles (from GET /api/v1/okved); the search box narrows the
    sector checkboxes; the picked code and both sectors reach the result."""
    page = tab
    db = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    page.goto(f"{live_server}/assess?lang=ru")
    page.fill("#name", "Две отрасли")
    page.locator("#okved").press_sequentially("28.9")
    option = page.locator('#okved-suggestions .suggestion[data-code="28.99"]')
    expect(option).to_contain_text("Производство прочих машин и оборудования специального назначения")
    shot(page, "assess_okved_suggestions_ru.png", db)
    option.click()
    expect(page.locator("#okved")).to_have_value("28.99")
    expect(page.locator("#okved-suggestions")).to_be_hidden()
    software = page.locator('input[name=sectors][value="software"]')
    electronics = page.locator('input[name=sectors][value="electronics"]')
    page.fill("#sector-search", "элект")
    expect(electronics).to_be_visible()
    expect(software).to_be_hidden()
    electronics.check()
    page.fill("#sector-search", "програм")
    expect(software).to_be_visible()
    software.check()
    expect(electronics).to_be_visible()  # a ticked sector stays in view
    expect(page.locator("#sector-chosen")).to_contain_text("Умная электроника")
    expect(page.locator("#sector-chosen")).to_contain_text("ИТ и программное обеспечение")
    page.click("button.primary")
    expect(page.locator("h1")).to_contain_text("Две отрасли")
    hidden = page.locator("input[type=hidden][name=sectors]")
    assert sorted(hidden.evaluate_all("els => els.map(e => e.value)")) == ["electronics", "software"]
    expect(page.locator("input[type=hidden][name=okved]")).to_have_value("28.99")


def test_firm_to_matches_and_staff_to_leads(tab, live_server, db_url, shot):
    """A firm walks from the self-assessment to its matches; staff from an opportunity to its leads (issue 14)."""
    page = tab
    db = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    page.goto(f"{live_server}/assess?lang=en")
    page.fill("#name", "NordChip Microsystems")
    page.fill("#okved", "26.11")
    page.fill("#description", "Chip design and microelectronics")
    for field in ("tech_transfer", "training", "local_partner"):
        page.select_option(f"#{field}", "committed")
    page.select_option("#vietnam_presence", "project")
    page.click("button.primary")
    where = page.locator("#where")
    expect(where.locator(".match").first).to_contain_text("sector fit +55.0")
    expect(where).to_contain_text("Hoa Lac Hi-Tech Park")
    expect(page.locator("#incentives")).to_contain_text("Especially encouraged business line")
    expect(page.locator("#incentives")).to_contain_text("confirm with the authority")
    shot(page, "assess_matches_en.png", db)
    page.fill("#contact_email", "ceo@nordchip.example")
    page.check("#consent")
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text("Thank you")
    login(page, live_server)
    page.goto(f"{live_server}/opportunities?lang=en")
    page.click("text=Hoa Lac Hi-Tech Park")
    lead = page.locator("#leads .match").filter(has_text="NordChip Microsystems")
    expect(lead).to_contain_text("sector fit +55.0")
    page.fill("#q", "NordChip")
    page.click("#leads button.primary")
    expect(page.locator("#leads .match")).to_have_count(1)
    lead.locator("button", has_text="Introduce").click()
    expect(page.locator(".flash")).to_contain_text("NordChip Microsystems is introduced to Hoa Lac Hi-Tech Park")
    expect(lead).to_contain_text("introduced")
    shot(page, "opportunity_leads_en.png", db)
    lead.locator("a").first.click()
    page.click("text=Best opportunities")
    expect(page.locator("#introductions")).to_contain_text("Hoa Lac Hi-Tech Park")

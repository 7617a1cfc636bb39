"""Real browser: a firm walks from the self-assessment to its matches; staff from an opportunity to its leads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_browser import chromium, live_server, login, shot, shots, tab  # noqa: F401 -- shared fixtures

pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def test_firm_to_matches_and_staff_to_leads(tab, live_server, db_url, shot):  # noqa: F811
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

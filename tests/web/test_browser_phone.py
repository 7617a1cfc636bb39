"""Layout in a real browser (chromium), second sweep: staff pages on a 390 px phone and at 1366 px, in three languages.

Pins what a browser sweep found: the weights editor's blocks overlapping on a phone, wide tables cut off
by their card (no way to scroll to the rest), the lead report laid out at 980 px on a phone, the last
week's label cut off at the right of the overview chart, the band scale's marker covering a tick label,
raw floats and "100%" on Russian pages, the staff menu on two lines at 1366 px, and the batch results
table breaking words mid-word. One live server and one browser context per database.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_browser_layout import login_as_admin

from matcher.data import SAMPLE_PROFILES
from web.commands import bootstrap
from web.extensions import db
from web.models import BatchJob, Lead, User, utcnow

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

LANGS = ("en", "ru", "vi")

#: Sideways overflow of the page, its viewport meta, and each table of the page: the nearest box that clips
#: it (overflow-x not visible), whether the table is wider than that box, and whether the box scrolls.
PAGE = """() => ({
  overflow: document.documentElement.scrollWidth - innerWidth,
  viewport_meta: (document.querySelector('meta[name=viewport]') || {}).content || null,
  tables: [...document.querySelectorAll('main table')].map(t => {
    let box = t.parentElement;
    while (box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    const width = t.getBoundingClientRect().width;
    return {
      table: t.className, box: box.className, overflow_x: getComputedStyle(box).overflowX,
      wider: width > box.clientWidth + 1, scrolls: box.scrollWidth > box.clientWidth,
    };
  }),
})"""

#: The width a phone lays the page out at (980 px where the page has no viewport meta), and its content's width.
LAYOUT = "() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]"

#: The weights editor: label and control boxes that overlap, and the narrowest number input.
WEIGHTS = """() => {
  const boxes = [...document.querySelectorAll('.weights-grid label, .weights-grid input, .weights-grid select')]
    .map(e => [e.id || e.htmlFor, e.getBoundingClientRect()]);
  const hits = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, s] = boxes[j];
    if (r.left < s.right - 1 && s.left < r.right - 1 && r.top < s.bottom - 1 && s.top < r.bottom - 1) hits.push([a, b]);
  }
  const inputs = [...document.querySelectorAll('.weights-grid input')].map(e => e.getBoundingClientRect().width);
  return {boxes: boxes.length, overlaps: hits.slice(0, 5), narrowest_input: Math.min(...inputs)};
}"""

#: Texts of the overview charts and of the band scale that reach outside their svg.
CHART_TEXT_OUTSIDE = """() => [...document.querySelectorAll('svg.ov-chart, svg.band-scale')].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter(t => {
    const r = t.getBoundingClientRect();
    return r.left < box.left - .5 || r.right > box.right + .5 || r.top < box.top - .5 || r.bottom > box.bottom + .5;
  }).map(t => [svg.id || svg.getAttribute('class'), t.textContent]);
})"""

#: The texts of the band scale that a part of the score marker covers.
MARKER_COVERS = """() => {
  const svg = document.querySelector('svg.band-scale');
  const texts = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
  return [...svg.querySelectorAll('.marker')].flatMap(m => {
    const r = m.getBoundingClientRect();
    return texts.filter(([, s]) => r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom)
      .map(([text]) => text);
  });
}"""

#: Words of the batch results table split over two lines (words end at spaces, hyphens and slashes).
BROKEN_WORDS = r"""() => {
  const broken = [];
  for (const td of document.querySelectorAll('table.results td')) {
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\s\-\u2010-\u2014\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""

#: How many lines the staff menu takes, and the header's height.
NAV = """() => {
  const links = [...document.querySelectorAll('.main-nav a')];
  return {
    lines: new Set(links.map(a => Math.round(a.getBoundingClientRect().top))).size,
    links: links.length,
    header: document.querySelector('.site-header').offsetHeight,
  };
}"""

#: The numbers of the weights tables, and the percentage of a batch job.
WEIGHT_TEXTS = "() => [...document.querySelectorAll('.weights-grid td.num')].map(td => td.textContent.trim())"
PERCENT = "() => document.querySelector('#job-percent').textContent"

#: Each page of the sweep ({lead}, {job}, {version} filled in) with what is measured there besides ``PAGE``.
PHONE = {
    "/admin/users": {},
    "/batch": {},
    "/batch/{job}": {"broken words": BROKEN_WORDS, "percent": PERCENT},
    "/admin/weights": {"weights": WEIGHTS},
    "/admin/weights/{version}": {"weight texts": WEIGHT_TEXTS},
    "/admin/weights/calibrate": {},
    "/admin/weights/compare": {},
    "/leads": {},
    "/opportunities": {},
    "/overview": {"chart text": CHART_TEXT_OUTSIDE},
    "/leads/{lead}": {"marker": MARKER_COVERS, "chart text": CHART_TEXT_OUTSIDE},
    "/leads/{lead}/report": {},
}
LAPTOP = {
    "/leads": {"nav": NAV},
    "/admin/weights": {"weights": WEIGHTS},
    "/overview": {"chart text": CHART_TEXT_OUTSIDE},
    "/leads/{lead}": {"marker": MARKER_COVERS},
}
#: What each failed check means.
WHY = {
    "chart text": "chart text outside its box",
    "marker": "the score marker covers a label of the scale",
    "broken words": "words broken mid-word",
}


@pytest.fixture
def site(make_app, serving):
    """The sample leads, CSRF on, served: (base URL, app, a lead scoring 55-60, the admin's id)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        bootstrap()
        lead = db.session.execute(
            db.select(Lead.id).where(Lead.score.between(55, 60)).order_by(Lead.score).limit(1)
        ).scalar_one()  # its marker stood on the "55" tick label
        admin = db.session.execute(db.select(User.id).where(User.username == "admin")).scalar_one()
    with serving(app) as base:
        yield base, app, lead, admin


def _running_job(app, admin: int) -> int:
    """A job row scoring right now (42 %, a fresh heartbeat): its page polls the status with batch.js."""
    with app.app_context():
        job = BatchJob(
            user_id=admin, filename="running.csv", state="running", progress=0.42, heartbeat_at=utcnow(), attempts=1
        )
        db.session.add(job)
        db.session.commit()
        return job.id


def _sweep(browser, base: str, app, lead: int, admin: int) -> dict:
    """Every measure of the module: {(what, lang, width, path): value}."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    found: dict = {}
    try:
        login_as_admin(page, base)
        # a finished job with result rows (the sample firms: long Russian names, long advice)
        page.goto(f"{base}/batch?lang=en")
        page.set_input_files("#file", str(SAMPLE_PROFILES))
        page.click("form button.primary")
        expect(page.locator("table.results")).to_be_visible(timeout=60000)
        job = int(page.url.split("?")[0].rsplit("/", 1)[1])
        page.goto(f"{base}/admin/weights")
        version = int(page.locator("table.versions a").first.get_attribute("href").rsplit("/", 1)[1])
        fill = {"lead": lead, "job": job, "version": version}
        for width, pages in ((390, PHONE), (1366, LAPTOP)):
            page.set_viewport_size({"width": width, "height": 900})
            for lang in LANGS:
                for path, measures in pages.items():
                    url = path.format(**fill)
                    page.goto(f"{base}{url}?lang={lang}")
                    for what, script in {"page": PAGE, **measures}.items():
                        found[(what, lang, width, path)] = page.evaluate(script)

        # a phone's browser (viewport meta honoured): the lead's printable report at the phone's width
        state = context.storage_state()
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, storage_state=state)
        try:
            on_phone = phone.new_page()
            for lang in LANGS:
                for path in ("/leads/{lead}/report", "/leads/{lead}"):
                    on_phone.goto(f"{base}{path.format(**fill)}?lang={lang}")
                    found[("phone layout", lang, 390, path)] = on_phone.evaluate(LAYOUT)
        finally:
            phone.close()

        # batch.js writes the progress of a running job as the server does
        running = _running_job(app, admin)
        page.route(
            f"**/batch/{running}/status.json",
            lambda route: route.fulfill(
                json={"id": running, "state": "running", "progress": 0.57, "import_state": None, "imported": 0}
            ),
        )
        for lang in LANGS:
            page.goto(f"{base}/batch/{running}?lang={lang}")
            percent = page.locator("#job-percent")
            found[("server percent", lang, 390, "/batch/{running}")] = before = percent.inner_text()
            expect(percent).not_to_have_text(before)  # the status came
            found[("script percent", lang, 390, "/batch/{running}")] = percent.inner_text()
    finally:
        context.close()
    assert not [e for e in errors if "Failed to load resource" not in e], errors  # CSP violations, JS errors
    return found


def test_staff_pages_on_a_phone_and_a_laptop_in_every_language(site, in_browser):
    base, app, lead, admin = site
    found = in_browser(lambda browser: _sweep(browser, base, app, lead, admin))
    failures = []

    def check(ok, why, key, value):
        if not ok:
            failures.append((why, key, value))

    for key, m in found.items():
        what, lang, width, path = key
        if what == "page":
            check(m["overflow"] <= 0, "the page scrolls sideways", key, m)
            check("width=device-width" in (m["viewport_meta"] or ""), "no viewport meta", key, m)
            for t in m["tables"]:  # a table wider than its frame can be scrolled to its end
                scrolls = t["overflow_x"] in ("auto", "scroll") and t["scrolls"]
                check(not t["wider"] or scrolls, "a table cut off", key, t)
            if width == 390 and path in ("/admin/users", "/leads", "/batch/{job}"):  # these tables do not fit
                check(m["tables"] and m["tables"][0]["wider"], "no table to scroll on this page", key, m)
        elif what == "phone layout":
            check(m == [390, 390], "laid out wider than the phone (no viewport meta?)", key, m)
        elif what == "weights":
            check(m["boxes"] > 50 and not m["overlaps"], "weights labels and inputs overlap", key, m)
            check(m["narrowest_input"] >= 60, "a weight input too narrow to show its value", key, m)
        elif what == "weight texts":  # 0,55 and 14,00 in Russian and Vietnamese, not 0.55
            check(lang == "en" or not any("." in t for t in m), "a number not written as the language does", key, m)
        elif what in WHY:
            check(not m, WHY[what], key, m)
        elif what in ("percent", "server percent", "script percent"):
            share = {"percent": 100, "server percent": 42, "script percent": 57}[what]
            check(m == (f"{share}\u00a0%" if lang == "ru" else f"{share}%"), "a percentage not as the language", key, m)
        elif what == "nav":
            check(m["links"] == 7 and m["lines"] == 1 and m["header"] <= 64, "the staff menu wraps", key, m)
    assert not failures, "\n".join(f"{why}: {key} {value}" for why, key, value in failures)

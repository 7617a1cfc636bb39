"""Hostile files through the batch upload (/batch), and formula cells in every CSV the web app exports.

Unreadable files get a 400 page with one clear sentence; any other file becomes a job whose rows
are all scored or reported (rows = scored + errors); a file beyond the upload limit gets a 413
page saying the limit, also in a real browser. The scored download, the error report and the lead
list export never hold a cell a spreadsheet would run as a formula; their numbers stay numbers.
"""

from __future__ import annotations

import csv
import gc
import html
import io
import re
from pathlib import Path

import pytest
from web_testlib import upload, wait_done, wait_imported

from matcher.io.defuse import FORMULA_CHARS, defuse_cell

# Werkzeug spools a large upload to a temporary file, and leaves it to the garbage collector when the
# upload is refused (413): collect it here, inside these tests, where its ResourceWarning is expected.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
LIMIT = 5 * 1024 * 1024  # small, to keep the test quick; larger than a 4 MiB chunk all the same
RISKY = ["=1+1", "+7 495", "-2+3", "@SUM(A1)", "\tx", " =cmd|' /C calc'!A0", "\u00a0@x", " -1+1"]


@pytest.fixture(autouse=True)
def _collect_spooled_files():
    yield
    gc.collect()


@pytest.fixture
def staff(make_app):
    """A client logged in as the analyst, on an app whose upload limit is ``LIMIT``."""
    app = make_app(MAX_CONTENT_LENGTH=LIMIT)
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    old = csv.field_size_limit(1 << 30)  # the downloads below hold cells of several MB
    yield client
    csv.field_size_limit(old)


def finish(client, response) -> tuple[int, dict]:
    """Wait for the job an upload started; return its id and final status."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return job_id, wait_done(client, job_id, timeout=60)


def download(client, job_id: int, kind: str) -> list[list[str]]:
    with client.get(f"/batch/{job_id}/{kind}.csv") as response:  # a sent file: close it
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def flashed(page: str) -> list[str]:
    return [html.unescape(m).strip() for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S)]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "the file is empty"),
        (bytes(range(256)) * 64, "binary file"),
        (b"name,notes,NAME\nA,1,B\n", "the column 'name' appears twice (columns 1 and 3)"),
        ((",".join(["name", *(f"c{i}" for i in range(100_000))]) + "\nA\n").encode(), "100,001 columns"),
        (
            (",".join(["name", *(f"column_number_{i:08d}" for i in range(60_000))]) + "\nA\n").encode(),
            "header row is longer than 1 MiB",
        ),
    ],
    ids=["empty", "binary", "duplicate-name", "100000-columns", "long-header"],
)
def test_an_unreadable_file_gets_one_clear_sentence(staff, data, words):
    response = upload(staff, data)
    assert response.status_code == 400
    messages = [m for m in flashed(response.get_data(as_text=True)) if "cannot be scored" in m]
    assert len(messages) == 1 and words in messages[0] and "\n" not in messages[0]
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_file_cut_short_in_a_quote_reports_its_last_row(staff):
    job_id, status = finish(staff, upload(staff, b'name,notes\nVolga,ok\nKama,"cut short here\n'))
    assert (status["state"], status["rows"], status["scored"], status["errors"]) == ("done", 2, 1, 1)
    report = download(staff, job_id, "errors")
    assert report[1][:3] == [
        "3",
        "notes",
        "the quoted value is not closed before the end of the file (is the file cut short?)",
    ]
    # importing takes the scored row only: the reported rows never become leads
    assert staff.post(f"/batch/{job_id}/import").status_code == 302
    assert wait_imported(staff, job_id)["import_state"] == "done"
    page = staff.get("/leads").get_data(as_text=True)
    assert "Volga" in page and "Kama" not in page


def test_malformed_rows_are_not_imported(staff):
    job_id, status = finish(staff, upload(staff, b"name,city\nVolga,Kazan\nKama,Perm,extra\nOka,Ryazan\n"))
    assert (status["rows"], status["scored"], status["errors"]) == (3, 2, 1)
    assert staff.post(f"/batch/{job_id}/import").status_code == 302
    assert wait_imported(staff, job_id)["import_state"] == "done"
    page = staff.get("/leads").get_data(as_text=True)
    assert "Volga" in page and "Oka" in page and "Kama" not in page


def test_a_cell_just_under_the_upload_limit(staff):
    cell = b"robots " * ((LIMIT - 4096) // 7)
    job_id, status = finish(staff, upload(staff, b"name,description\nVolga,robots\nKama," + cell + b"\nOka,hotel\n"))
    assert (status["state"], status["rows"], status["scored"], status["errors"]) == ("done", 3, 3, 0)
    page = staff.get(f"/batch/{job_id}")
    assert page.status_code == 200 and len(page.get_data()) < 200_000  # the preview cuts the cell
    scored = download(staff, job_id, "scored")
    assert [r[0] for r in scored[1:]] == ["Volga", "Kama", "Oka"] and len(scored[2][1]) == len(cell)
    assert staff.post(f"/batch/{job_id}/import").status_code == 302
    assert wait_imported(staff, job_id)["imported"] == 3


def test_duplicate_unknown_columns_are_kept(staff):
    job_id, status = finish(staff, upload(staff, b"name,notes,notes\nVolga,1,2\n"))
    assert status["scored"] == 1
    assert download(staff, job_id, "scored")[0][:3] == ["name", "notes", "notes_2"]


def test_a_file_far_beyond_the_limit_gets_413_with_the_limit(staff):
    response = upload(staff, b"name\n" + b"x" * (3 * LIMIT))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is too large: the upload limit is 5 MB." in page and "matcher score" in page


def test_a_form_with_more_text_than_flask_reads_says_so_not_file_too_large(client):
    """Under the upload limit, a form holding more than MAX_FORM_MEMORY_SIZE of text is refused (413) for its
    text, in the page's language: there is no file in it to be too large."""
    for lang, title, words in (
        ("en", "Form too large", "The form holds more text than it may (at most 500 kB)"),
        ("ru", "Форма слишком большая", "не больше 500 КБ"),
    ):
        response = client.post(f"/assess/submit?lang={lang}", data={"name": "x" * 600_000})
        page = response.get_data(as_text=True)
        assert response.status_code == 413 and title in page and words in page


@pytest.mark.parametrize(("lang", "words"), [("en", "did not arrive in time"), ("vi", "không đến kịp thời")])
def test_a_body_that_stopped_coming_is_a_408_page_in_the_pages_language(app, lang, words):
    """gunicorn's worker raises BodyTimeout for a body that stopped coming (web/serving.py): a page says so in
    its language; the API says how slow, in English (tests/web/test_gunicorn.py)."""
    from web.errors import render_unreadable_body
    from web.serving import BodyTimeout

    with app.test_request_context(f"/batch?lang={lang}", method="POST"):
        page, code, _allow = render_unreadable_body(BodyTimeout())
    assert code == 408 and words in page


REFUSED = {
    "empty.csv": b"",
    "blank.csv": b"\r\n \n",
    "binary.csv": bytes(range(256)) * 64,
    "no-name.csv": b"inn,city\nA,B\n",
    "duplicate.csv": b"name,notes,NAME\nA,1,B\n",
    "columns.csv": (",".join(["name", *(f"c{i}" for i in range(100_000))]) + "\nA\n").encode(),
    "header.csv": (",".join(["name", *(f"column_number_{i:08d}" for i in range(60_000))]) + "\nA\n").encode(),
    "latin1.csv": "nom;ville\nSoci\u00e9t\u00e9;Li\u00e8ge\n".encode("latin-1"),
    "firms.xlsx": b"name\nVolga\n",
    "huge.csv": b"name\n" + b"x" * (3 * LIMIT),
}


def test_refused_uploads_leave_nothing_behind(staff):
    """Every refusal (unreadable, wrong kind, too large) removes what the upload wrote; a good file still works."""
    folder = Path(staff.application.config["BATCH_DIR"])
    for name, data in REFUSED.items():
        response = upload(staff, data, name=name)
        assert response.status_code in (200, 400, 413), (name, response.status_code)
        assert "/batch/" not in response.headers.get("Location", ""), name
        left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []
        assert left == [], (name, left)
    job_id, status = finish(staff, upload(staff, b"name,okved\nVolga Robotics,28.99\n"))
    assert status["scored"] == 1 and [p.name for p in folder.iterdir()] == [str(job_id)]


def test_the_scored_download_and_error_report_defuse_formulas(staff):
    buffer = io.StringIO()
    rows = [["id", "name", "notes", "employees"]]
    rows += [[str(i), cell, cell, "5"] for i, cell in enumerate(RISKY)]
    rows += [[str(len(RISKY) + i), cell, cell, cell] for i, cell in enumerate(RISKY)]  # bad employees
    csv.writer(buffer).writerows(rows)
    job_id, status = finish(staff, upload(staff, buffer.getvalue().encode()))
    assert (status["scored"], status["errors"]) == (len(RISKY), len(RISKY))
    scored, report = download(staff, job_id, "scored"), download(staff, job_id, "errors")
    assert [r[1] for r in scored[1:]] == ["'" + c for c in RISKY] == [r[4] for r in report[1:]]
    assert [r[6] for r in report[1:]] == ["'" + c for c in RISKY]
    assert_no_formula(scored + report)
    assert_numbers(scored)


def test_the_lead_export_defuses_formulas_and_keeps_numbers(make_lead, client, auth):
    for i, cell in enumerate(RISKY):
        make_lead(name=cell, description=cell + " robots", city=cell, website=cell, id=f"{cell}{i}")
    auth.login()
    response = client.get("/leads/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    names = rows[0].index("name")
    assert sorted(r[names] for r in rows[1:]) == sorted(defuse_cell(c.strip()) for c in RISKY)  # names are trimmed
    assert_no_formula(rows)
    assert_numbers(rows)


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for value in row:
            assert value[:1] not in FORMULA_CHARS and value.lstrip()[:1] not in FORMULA_CHARS, (value, row)


def assert_numbers(rows: list[list[str]]) -> None:
    """Score, rank, completeness and the c_ points are plain numbers a spreadsheet sums."""
    header = rows[0]
    numeric = [i for i, h in enumerate(header) if h in ("score", "rank", "completeness") or h.startswith("c_")]
    assert len(numeric) >= 5
    for row in rows[1:]:
        for i in numeric:
            float(row[i])


def test_a_number_beyond_32_bits_in_a_page_address_is_404(staff):
    for url in (
        f"/leads/{2**31}",
        f"/leads/{2**31}/report",
        f"/batch/{2**31}",
        f"/batch/{2**31}/status.json",
        f"/batch/{2**63}/scored.csv",
    ):
        assert staff.get(url).status_code == 404, url


# --- the 413 page in a real browser ---------------------------------------------------------------------


@pytest.fixture
def small_limit_server(make_app, serving):
    """A live server whose upload limit is 1 MB (CSRF on); yields its base URL."""
    app = make_app(WTF_CSRF_ENABLED=True, MAX_CONTENT_LENGTH=1024 * 1024)
    with serving(app) as base:
        yield base


def test_the_browser_shows_the_413_page_for_a_file_far_too_large(in_browser, small_limit_server, tmp_path):
    big = tmp_path / "firms.csv"
    big.write_bytes(b"name\n" + b"x" * (20 * 1024 * 1024))
    text = in_browser(lambda browser: _upload_in_browser(browser, small_limit_server, big))
    assert "413" in text and "The file is too large: the upload limit is 1 MB." in text


def _upload_in_browser(browser, base: str, path) -> str:
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", "analyst")
        page.fill("#password", "analyst-pass-123")
        page.click("button.primary")
        page.goto(f"{base}/batch?lang=en")
        page.set_input_files("#file", str(path))
        page.click("button.primary")
        page.wait_for_load_state()
        return page.inner_text("body")
    finally:
        context.close()

"""Batch upload: background job to completion, progress JSON, downloads, bad files, import as leads."""

import csv
import io
import re
import time

import pytest
from web_testlib import upload, wait_done, wait_imported

from matcher.fields import LANGS
from web.extensions import db
from web.models import BatchJob, Lead

CSV = (
    "id,name,description,okved,training,employees\n"
    "1,Volga Robotics,Industrial robots,28.99,committed,120\n"
    "2,=cmd|' /C calc'!A0,software development,62.01,,\n"
    "3,Broken Ltd,robots,28.99,,many\n"
    "4,NordChip,microelectronics,26.11,committed,300\n"
)


@pytest.fixture
def finished_job(client, auth):
    auth.login()
    response = upload(client, CSV.encode())
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return job_id, wait_done(client, job_id)


def test_job_runs_to_completion(client, finished_job):
    job_id, status = finished_job
    assert status == {
        "id": job_id,
        "state": "done",
        "progress": 1.0,
        "rows": 4,
        "scored": 3,
        "errors": 1,
        "message": None,
        "import_state": None,
        "imported": 0,
    }
    html = client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "Volga Robotics" in html and "3 scored, 1 could not be scored" in html
    assert "batch.js" in html


@pytest.mark.parametrize(("lang", "label"), [("en", "done"), ("ru", "готово"), ("vi", "hoàn tất")])
def test_the_job_state_is_named_on_the_page_and_in_the_list(client, finished_job, lang, label):
    # The opportunities' own state labels (open, planned...) once replaced these on every page: blank badges.
    job_id, _ = finished_job
    badge = '<span class="state state-done" id="job-state" data-labels='
    page = client.get(f"/batch/{job_id}?lang={lang}").get_data(as_text=True)
    assert badge in page and re.search(rf'id="job-state" data-labels="[^"]*">{label}</span>', page)
    listing = client.get(f"/batch?lang={lang}").get_data(as_text=True)
    assert f'<span class="state state-done">{label}</span>' in listing


def test_downloads(client, finished_job):
    job_id, _ = finished_job
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        assert scored.status_code == 200 and "attachment" in scored.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(scored.get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["Volga Robotics", "'=cmd|' /C calc'!A0", "NordChip"]
    assert all(r["score"] and r["rank"] for r in rows)
    with client.get(f"/batch/{job_id}/errors.csv") as response:
        errors = response.get_data(as_text=True)
    assert "employees" in errors and "Broken Ltd" in errors
    assert client.get(f"/batch/{job_id}/other.csv").status_code == 404


def test_import_as_leads(client, finished_job, app):
    job_id, _ = finished_job
    response = client.post(f"/batch/{job_id}/import")
    assert response.status_code == 302 and response.headers["Location"] == f"/batch/{job_id}"
    assert wait_imported(client, job_id)["import_state"] == "done"
    with app.app_context():
        leads = db.session.execute(db.select(Lead).order_by(Lead.id)).scalars().all()
        assert [lead.source for lead in leads] == ["batch"] * 3
        assert {lead.name for lead in leads} == {"Volga Robotics", "=cmd|' /C calc'!A0", "NordChip"}
        assert db.session.get(BatchJob, job_id).imported == 3
    assert client.post(f"/batch/{job_id}/import").status_code == 400  # only once


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"inn,city\nA,B\n", "no &#39;name&#39; column"),
    ],
)
def test_unreadable_file_gets_the_readers_message(client, auth, data, message):
    auth.login()
    response = upload(client, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This file cannot be scored" in html and message in html


def test_wrong_extension_is_refused(client, auth):
    auth.login()
    html = upload(client, CSV.encode(), name="firms.xlsx").get_data(as_text=True)
    assert "Upload a .csv file" in html


def test_windows_1251_semicolon_file(client, auth):
    auth.login()
    data = "name;description;okved\nООО «Ромашка»;программное обеспечение;62.01\n".encode("cp1251")
    response = upload(client, data, lang="ru")
    status = wait_done(client, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert status["state"] == "done" and status["scored"] == 1


def test_a_utf8_file_with_a_stray_byte_is_scored_and_the_job_page_says_so(client, auth):
    # One byte that is not UTF-8 (a row pasted from elsewhere) is read as U+FFFD; the page names it in each language.
    auth.login()
    data = "name;description\nООО «Ромашка»;программное обеспечение\n".encode() + b"Caf\xe9 Noir;coffee\n"
    job_id = int(upload(client, data, lang="ru").headers["Location"].rsplit("/", 1)[1])
    status = wait_done(client, job_id)
    assert status["state"] == "done" and status["scored"] == 2 and status["message"] == "stray_bytes"
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        assert "ООО «Ромашка»" in scored.get_data(as_text=True) and "Caf\ufffd Noir" in scored.get_data(as_text=True)
    for lang, words in (("en", "each was read as"), ("ru", "каждый из них прочитан как"), ("vi", "được đọc thành")):
        assert words in client.get(f"/batch/{job_id}?lang={lang}").get_data(as_text=True)
    assert "job-stray-bytes" not in client.get(f"/batch/{upload_done(client)}").get_data(as_text=True)


def upload_done(client) -> int:
    """A clean UTF-8 upload, scored: its job id."""
    job_id = int(upload(client, CSV.encode()).headers["Location"].rsplit("/", 1)[1])
    wait_done(client, job_id)
    return job_id


def test_excel_unicode_text_file_is_scored_and_imported(client, auth, app):
    # Excel's "Save as Unicode text": UTF-16 with a BOM, tab-separated
    auth.login()
    data = "name\tdescription\tokved\nООО «Ромашка»\tпрограммное обеспечение\t62.01\n".encode("utf-16")
    response = upload(client, data, lang="ru")
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    status = wait_done(client, job_id)
    assert status["state"] == "done" and status["scored"] == 1
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        assert "ООО «Ромашка»" in scored.get_data(as_text=True)
    assert client.post(f"/batch/{job_id}/import").status_code == 302
    wait_imported(client, job_id)
    with app.app_context():
        names = db.session.execute(db.select(Lead.name).where(Lead.source == "batch")).scalars().all()
    assert names == ["ООО «Ромашка»"]


@pytest.mark.parametrize("newline", ["\r", "\r\n"], ids=["cr", "crlf"])
def test_cr_only_file_scores_and_imports_like_lf(client, auth, app, newline):
    # Old Mac files end lines with CR alone: the same rows, errors and leads as the LF file.
    auth.login()
    response = upload(client, CSV.replace("\n", newline).encode())
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    status = wait_done(client, job_id)
    assert (status["state"], status["rows"], status["scored"], status["errors"]) == ("done", 4, 3, 1)
    with client.get(f"/batch/{job_id}/errors.csv") as report:
        assert list(csv.reader(io.StringIO(report.get_data(as_text=True))))[1][:2] == ["4", "employees"]
    assert client.post(f"/batch/{job_id}/import").status_code == 302
    wait_imported(client, job_id)
    with app.app_context():
        assert db.session.get(BatchJob, job_id).imported == 3


@pytest.mark.parametrize(
    "data", [b"name,okved,description", b"name,okved,description\r"], ids=["no-final-newline", "cr"]
)
def test_header_only_file_is_a_job_with_no_rows(client, auth, data):
    auth.login()
    response = upload(client, data)
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    status = wait_done(client, job_id)
    assert (status["state"], status["rows"], status["scored"], status["errors"]) == ("done", 0, 0, 0)
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        assert scored.get_data(as_text=True).splitlines()[0].startswith('"name","okved","description","score"')


def test_other_requests_are_served_while_a_job_runs(client, auth, app, monkeypatch):
    import threading

    from web import jobs

    gate = threading.Event()
    original = jobs.score_file

    def slow(*args, **kwargs):
        gate.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(jobs, "score_file", slow)
    auth.login()
    job_id = int(upload(client, CSV.encode()).headers["Location"].rsplit("/", 1)[1])
    started = time.monotonic()
    assert client.get("/leads").status_code == 200
    assert client.get(f"/batch/{job_id}/status.json").get_json()["state"] in ("queued", "running")
    assert time.monotonic() - started < 5
    gate.set()
    assert wait_done(client, job_id)["state"] == "done"


def test_job_pages_need_login(client, finished_job, auth):
    job_id, _ = finished_job
    auth.logout()
    assert client.get(f"/batch/{job_id}/status.json").status_code == 302
    assert client.get(f"/batch/{job_id}/scored.csv").status_code == 302


# --- Russian and Vietnamese offices (issue 13) ---------------------------------------------------------

RU_CSV = (
    "Название;Инвестиции;Сотрудники;Передача технологий;Обучение;Местный партнёр;Экология;ОКВЭД;Комментарий\n"
    "ООО Ромашка;1 500 000;120;да;да;нет;да;26.11;перезвонить\n"
    "АО Бета;много;10;да;да;да;да;62.01;\n"
)


def upload_as(client, data: bytes, lang: str, output: str, name: str = "firms.csv"):
    return client.post(
        "/batch",
        data={"file": (io.BytesIO(data), name), "lang": lang, "output": output},
        content_type="multipart/form-data",
    )


def test_a_russian_office_file_comes_back_in_windows_1251_with_its_warnings_in_russian(client, auth, app):
    auth.login()
    response = upload_as(client, RU_CSV.encode("cp1251"), "ru", "input")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["scored"] == 1
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        assert scored.mimetype == "text/csv" and scored.mimetype_params["charset"] == "windows-1251"
        text = scored.get_data().decode("cp1251")  # strict: Windows-1251 through and through
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:9] == RU_CSV.splitlines()[0].split(";") and rows[1][0] == "ООО Ромашка"
    missing = rows[1][rows[0].index("missing")].split(";")  # the Russian headers were read
    assert not {"investment_usd", "employees", "tech_transfer", "training", "local_partner", "green"} & set(missing)
    with client.get(f"/batch/{job_id}/errors.csv") as report:
        errors = list(csv.reader(io.StringIO(report.get_data().decode("cp1251")), delimiter=";"))
    assert errors[1][:3] == [
        "3",
        "investment_usd",
        "ожидается сумма в долларах США, например 1500000, 1 500 000, 1.5m или 2bn",
    ]
    page = client.get(f"/batch/{job_id}?lang=ru").get_data(as_text=True)
    assert "ООО Ромашка" in page  # the preview finds the firm's name under its Russian header
    assert "1 столбец не учтён при оценке" in page and "<code>Комментарий</code>" in page
    assert "Windows-1251" in page and "точка с запятой" in page
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        assert (job.out_encoding, job.out_delimiter, job.ignored_columns) == ("cp1251", ";", ["Комментарий"])
        assert job.weights_version.startswith("v1 ") and f"версии весов {job.weights_version}" in page
    page = client.get(f"/batch/{job_id}?lang=vi").get_data(as_text=True)
    assert "1 cột không được dùng để chấm điểm" in page


def test_utf8_with_bom_on_request(client, auth):
    auth.login()
    response = upload_as(client, RU_CSV.encode("cp1251"), "vi", "utf-8-sig")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["state"] == "done"
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        raw = scored.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8-sig").startswith('"Название","Инвестиции"')
    with client.get(f"/batch/{job_id}/errors.csv") as report:
        assert "cần một số tiền USD" in report.get_data().decode("utf-8-sig")


def test_import_stores_the_jobs_own_results_under_its_weights_version(client, auth, app, monkeypatch):
    import matcher
    from web import services

    auth.login()
    job_id = int(upload(client, CSV.encode()).headers["Location"].rsplit("/", 1)[1])
    wait_done(client, job_id)
    with client.get(f"/batch/{job_id}/scored.csv") as scored:
        file_scores = {r["id"]: r["score"] for r in csv.DictReader(io.StringIO(scored.get_data(as_text=True)))}
    auth.logout()
    auth.login("admin")
    client.post("/admin/weights", data={"criteria.sector_fit": "5", "reason": "after the job"})

    def no_scoring(*args, **kwargs):
        raise AssertionError("the import must not score again")

    monkeypatch.setattr(matcher, "assess_many", no_scoring)
    monkeypatch.setattr(services, "assess_many", no_scoring)
    client.post(f"/batch/{job_id}/import")
    assert wait_imported(client, job_id)["import_state"] == "done"
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        leads = db.session.execute(db.select(Lead).order_by(Lead.id)).scalars().all()
        assert {lead.ext_id: f"{lead.score:.1f}" for lead in leads} == file_scores
        for lead in leads:
            assert (lead.latest.weights_version, lead.latest.weights_version_id) == (
                job.weights_version,
                job.weights_version_id,
            )
            assert set(lead.latest.texts) == set(LANGS) and lead.latest.explanation.startswith(
                f"{lead.score:.1f} of 100"
            )
        assert job.weights_version.startswith("v1 ")


def test_a_job_scored_before_results_were_kept_says_to_upload_again(client, finished_job, app):
    from web import jobs

    job_id, _ = finished_job
    with app.app_context():
        (jobs.job_dir(job_id) / "results.arrow").unlink()
    page = client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert 'id="job-import"' not in page and "upload the file again" in page
    assert client.post(f"/batch/{job_id}/import").status_code == 400

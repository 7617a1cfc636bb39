"""Importing a scored batch as leads: every scored row whatever the size, in chunks, resumable, honest counts.

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from web_testlib import run_bench, upload, wait_done, wait_imported

from web import imports, services
from web.extensions import db
from web.models import AuditLog, BatchJob, Lead

ROOT = Path(__file__).resolve().parents[2]


def batch_csv(n_good: int, n_bad: int = 0) -> bytes:
    """``n_good`` scorable rows, then every 100th row one the scorer refuses (``employees`` not a number)."""
    lines = ["id,name,description,okved,training,employees"]
    bad = 0
    for i in range(n_good):
        lines.append(f"G{i},Firm {i},industrial robots,28.99,committed,{10 + i % 500}")
        if bad < n_bad and i % 100 == 99:
            lines.append(f"X{bad},Broken {bad},robots,28.99,,many")
            bad += 1
    return ("\n".join(lines) + "\n").encode()


def scored_job(client, data: bytes, timeout: float = 60.0) -> int:
    response = upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id, timeout=timeout)["state"] == "done"
    return job_id


def job_row(app, job_id: int) -> BatchJob:
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        db.session.expunge(job)
        return job


def lead_ids(app) -> list[str]:
    """The ext_id of every batch lead (one per imported row)."""
    with app.app_context():
        return db.session.execute(db.select(Lead.ext_id).where(Lead.source == "batch")).scalars().all()


def import_audits(app, job_id: int) -> list[dict]:
    with app.app_context():
        return (
            db.session.execute(
                db.select(AuditLog.details)
                .where(AuditLog.action == "batch.import", AuditLog.object_id == job_id)
                .order_by(AuditLog.id)
            )
            .scalars()
            .all()
        )


@pytest.fixture
def staff(app, client, auth):
    auth.login()
    return client


# Werkzeug's test client spools a request body over 500 KB to a temporary file it never closes (the app
# closes its own copy of the upload): collected here, where its ResourceWarning is expected.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_large_batch_is_imported_whole(app, staff):
    # (20,000 rows: the browser test of test_browser_import.py; here 5,000, with every count checked)
    started = time.monotonic()
    job_id = scored_job(staff, batch_csv(5_000, 50), timeout=300)
    scored_at = time.monotonic()
    response = staff.post(f"/batch/{job_id}/import")
    assert response.status_code == 302 and time.monotonic() - scored_at < 5  # the request does not wait for it
    page = staff.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "Importing: " in page or "5000 rows imported as leads." in page
    status = wait_imported(staff, job_id, timeout=600)
    imported_at = time.monotonic()
    print(
        f"\n5,000 rows on {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}: "
        f"scored in {scored_at - started:.1f} s, imported in {imported_at - scored_at:.1f} s"
    )
    assert (status["import_state"], status["imported"], status["scored"], status["errors"]) == (
        "done",
        5_000,
        5_000,
        50,
    )
    ids = lead_ids(app)
    assert len(ids) == 5_000 and len(set(ids)) == 5_000 and not any(i.startswith("X") for i in ids)
    job = job_row(app, job_id)
    assert (job.imported, job.imported_rows) == (5_000, 5_050)
    page = staff.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "5000 rows imported as leads." in page and "50 rows were not imported" in page
    assert 'id="job-import"' not in page
    assert import_audits(app, job_id) == [
        {"leads": 5_000, "skipped": 50, "reasons": {"invalid employees": 50}, "state": "done"}
    ]
    assert staff.post(f"/batch/{job_id}/import").status_code == 400  # once
    assert len(lead_ids(app)) == 5_000
    gc.collect()


def test_an_import_failing_half_way_keeps_its_chunks_and_resumes(app, staff, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 10)
    job_id = scored_job(staff, batch_csv(45))
    original, calls = services.import_rows, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the disk is full")
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "import_rows", failing)
    assert staff.post(f"/batch/{job_id}/import").status_code == 302
    assert wait_imported(staff, job_id)["import_state"] == "failed"
    assert len(lead_ids(app)) == 20 and job_row(app, job_id).imported_rows == 20
    page = staff.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "The import stopped after 20 of 45 scored rows; the leads stored stay." in page
    assert "Continue the import" in page
    monkeypatch.undo()
    monkeypatch.setattr(imports, "CHUNK", 10)
    assert staff.post(f"/batch/{job_id}/import").status_code == 302
    assert wait_imported(staff, job_id)["import_state"] == "done"
    ids = lead_ids(app)
    assert sorted(ids) == sorted(f"G{i}" for i in range(45))  # each row once
    assert job_row(app, job_id).imported == 45
    assert [a["leads"] for a in import_audits(app, job_id)] == [20, 25]


def test_a_limit_is_said_before_and_the_rest_stays_importable(make_app):
    app = make_app(BATCH_IMPORT_LIMIT=20)
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    job_id = scored_job(client, batch_csv(45))
    page = client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "One import goes through at most 20 rows: import again to continue with the rest" in page
    for expected, state in ((20, "partial"), (40, "partial"), (45, "done")):
        assert client.post(f"/batch/{job_id}/import").status_code == 302
        status = wait_imported(client, job_id)
        assert (status["imported"], status["import_state"]) == (expected, state)
    assert sorted(lead_ids(app)) == sorted(f"G{i}" for i in range(45))
    assert "20 of 45 scored rows imported" not in client.get(f"/batch/{job_id}").get_data(as_text=True)


def test_two_chunks_at_the_same_place_are_stored_once(app, staff):
    job_id = scored_job(staff, batch_csv(8))
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        assert imports.start(job)
        db.session.commit()
        assert imports._claim(job_id, job.attempts, "app")
    with app.app_context():
        rows = list(imports.scored_rows(db.session.get(BatchJob, job_id)))
    barrier, outcomes = threading.Barrier(2, timeout=20), []
    original = services.stored_results

    def read_then_wait(*args, **kwargs):  # both have read the results before either moves the cursor
        results = original(*args, **kwargs)
        barrier.wait()
        return results

    def store():
        try:
            with app.app_context():
                outcome = services.import_rows(db.session.get(BatchJob, job_id), 0, rows)
                db.session.commit()
                outcomes.append(outcome)
        except Exception as exc:  # noqa: BLE001 -- reported by the assertion below
            outcomes.append(exc)
        finally:
            with app.app_context():
                db.session.remove()

    services.stored_results = read_then_wait
    try:
        threads = [threading.Thread(target=store) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        services.stored_results = original
    assert sorted(outcomes, key=lambda o: o is not None) == [None, {"leads": 8}], outcomes
    assert len(lead_ids(app)) == 8 and job_row(app, job_id).imported == 8


def test_imported_leads_are_written_as_prepared_rows_with_ids_of_their_own(app, staff):
    # On PostgreSQL, the ids come from the sequences first, so leads, assessments and audit entries are each
    # written as one statement for many rows (executemany), not as one INSERT of every row's values with
    # RETURNING, which psycopg parsed in Python: 40 % of a batch import's CPU at 1,000 leads a chunk.
    from sqlalchemy import event

    from web.models import Assessment

    job_id = scored_job(staff, batch_csv(30))
    seen: list[tuple[str, bool]] = []

    def record(_conn, _cursor, statement, _params, _context, executemany):
        if statement.startswith("INSERT INTO"):
            seen.append((statement, executemany))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert staff.post(f"/batch/{job_id}/import").status_code == 302
        assert wait_imported(staff, job_id)["imported"] == 30
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inserts = {
        table: [(st, many) for st, many in seen if st.startswith(f"INSERT INTO {table} ")]
        for table in ("leads", "assessments", "audit_log")
    }
    assert all(inserts.values()), seen
    if engine.dialect.name == "postgresql":  # the job's own entries (import started, done) are single rows
        for table, statements in inserts.items():
            many = [st for st, executemany in statements if executemany]
            assert many and not any("RETURNING" in st for st in many), (table, statements)
        assert all(executemany for _st, executemany in inserts["leads"] + inserts["assessments"]), seen
    with app.app_context():
        leads = db.session.execute(db.select(Lead).where(Lead.source == "batch")).scalars().all()
        assert len({lead.id for lead in leads}) == 30
        for lead in leads:  # each lead's own assessment and creation entry
            assert [a.lead_id for a in lead.assessments] == [lead.id]
        created = (
            db.session.execute(
                db.select(AuditLog.object_id).where(AuditLog.action == "lead.create", AuditLog.object_type == "lead")
            )
            .scalars()
            .all()
        )
        assert {lead.id for lead in leads} <= set(created)
        assert db.session.execute(db.select(db.func.count()).select_from(Assessment)).scalar() >= 30
    # a lead added the usual way afterwards takes a number after them (the sequence moved on)
    with app.app_context():
        profile = {"name": "After the import", "okved": "26.11"}
        after = services.create_lead(profile, services.score(profile), "form")
        db.session.commit()
        assert after.id > max(lead.id for lead in leads)


# Runs an import in a process of its own, 10 rows a chunk, slowly, to be killed half-way.
RUNNER = """
import json, sys, time
from web import create_app, imports, services
imports.CHUNK = 10
original = services.import_rows
def slow(*args, **kwargs):
    time.sleep(0.2)
    return original(*args, **kwargs)
services.import_rows = slow
app = create_app(json.loads(sys.argv[1]))
print(imports.run_import(app, int(sys.argv[2]), int(sys.argv[3])), flush=True)
"""


def test_a_killed_import_resumes_where_it_stopped(app, staff):
    job_id = scored_job(staff, batch_csv(100))
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        assert imports.start(job)
        db.session.commit()
        attempt = job.attempts
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "BATCH_DIR", "SECRET_KEY")}
    config |= {"TESTING": True, "AUTO_UPGRADE": False}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(config), str(job_id), str(attempt)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while job_row(app, job_id).imported < 30:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    stopped_at = job_row(app, job_id).imported
    assert 30 <= stopped_at < 100 and len(lead_ids(app)) == stopped_at
    assert job_row(app, job_id).import_state == "running"  # its heartbeat is fresh: not known as stopped yet
    app.config["BATCH_STALE_AFTER"] = 0.3
    time.sleep(0.5)
    page = staff.get(f"/batch/{job_id}").get_data(as_text=True)  # the process is gone: the import stopped
    assert f"The import stopped after {stopped_at} of 100 scored rows" in page and "Continue the import" in page
    app.config["BATCH_STALE_AFTER"] = 30.0
    assert staff.post(f"/batch/{job_id}/import").status_code == 302
    assert wait_imported(staff, job_id)["import_state"] == "done"
    assert sorted(lead_ids(app)) == sorted(f"G{i}" for i in range(100))


def test_the_import_benchmark_runs_on_both_databases(tmp_path):
    # bench/bench_import.py, a few rows: it stores every row as a lead on SQLite and PostgreSQL and says so
    out = run_bench("bench_import.py", "--rows", "200", cwd=tmp_path)
    figures = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("SQLite", "Post"))}
    assert set(figures) == {"SQLite", "PostgreSQL"}, out
    assert all(row[4] == "200" for row in figures.values()), out


def test_dispatch_waits_for_the_runs_on_its_threads(app, monkeypatch):
    # what the fixtures' teardown relies on: a run still going when its database engine is disposed would keep
    # a connection that nothing closes
    from types import SimpleNamespace

    from web import dispatch, jobs

    release, ran = threading.Event(), []

    def blocked(_app, job_id, attempt):
        try:
            release.wait(20)
            ran.append(job_id)
        finally:
            jobs.heart.release(job_id, attempt)

    monkeypatch.setitem(dispatch.RUNNERS, "run", blocked)
    with app.app_context():
        dispatch.submit(SimpleNamespace(id=10**6, attempts=1, queue_id=None))
    started = time.monotonic()
    assert dispatch.wait(0.2) is False and time.monotonic() - started < 5  # still running: it says so
    release.set()
    assert dispatch.wait(20) is True and ran == [10**6]
    assert dispatch.wait(0) is True  # nothing left

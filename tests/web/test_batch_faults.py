"""Batch jobs under faults: a process killed half-way, re-runs, stale queue entries, imports failing half-way,
a missed heartbeat of a live process, the database cut as a job ends.

The killed process is real: a Python subprocess running :func:`web.jobs.run` on a large CSV
(scoring slowed down so that it is surely mid-job), SIGKILLed. A job is stopped only when its
own process is gone. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from test_db_outage import outage  # noqa: F401 -- the database cut fixture (PostgreSQL proxy, SQLite lock)
from web_testlib import upload, wait_done, wait_imported

from web import jobs, liveness, services
from web.extensions import db
from web.models import AuditLog, BatchJob, Lead, utcnow

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "matcher" / "data" / "sample_profiles.csv"
BIG_ROWS = 20_000

# Runs one job in a process of its own, as an app process or a worker would, with slow chunks.
RUNNER = """
import functools, json, sys, time
import matcher.batch as mb
from web import create_app, jobs
original = mb._score_chunk
def slow(*args, **kwargs):
    time.sleep(0.1)
    return original(*args, **kwargs)
mb._score_chunk = slow
jobs.score_file = functools.partial(mb.score_file, block_bytes=64 << 10)
app = create_app(json.loads(sys.argv[1]))
print(jobs.run(app, int(sys.argv[2]), int(sys.argv[3])), flush=True)
"""


def sample_rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(SAMPLES, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def make_job(app, n_rows: int) -> int:
    """A queued job (attempt 1) whose input is ``n_rows`` sample rows, written straight to BATCH_DIR."""
    header, rows = sample_rows()
    with app.app_context():
        job = jobs.prepare(BatchJob(filename="big.csv", lang="en"))
        db.session.add(job)
        db.session.commit()
        folder = jobs.job_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "input.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            for i in range(n_rows):
                writer.writerow({**rows[i % len(rows)], "id": f"B{i}"})
        return job.id


def job_row(app, job_id: int) -> BatchJob:
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        db.session.expunge(job)
        return job


def n_leads(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Lead.id))).scalar_one()


@pytest.fixture
def runner_process(app):
    """Start a subprocess running one attempt of a job; always killed and reaped at teardown."""
    procs = []

    def start(job_id: int, attempt: int = 1) -> subprocess.Popen:
        config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "BATCH_DIR", "SECRET_KEY")}
        config |= {"TESTING": True, "AUTO_UPGRADE": False}
        proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, json.dumps(config), str(job_id), str(attempt)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_killed_process_shows_failed_and_runs_again(app, client, auth, runner_process):
    auth.login()
    job_id = make_job(app, BIG_ROWS)
    proc = runner_process(job_id)
    deadline = time.monotonic() + 60
    while True:  # wait until the subprocess is surely mid-job
        job = job_row(app, job_id)
        if job.state == "running" and job.progress >= 0.05:
            break
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"the job did not start: {job.state} {job.progress}"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert job.worker.startswith("app@") and job.attempts == 1

    # A fresh heartbeat: still shown as running. After the (shortened) stale timeout: failed.
    assert client.get(f"/batch/{job_id}/status.json").get_json()["state"] == "running"
    app.config["BATCH_STALE_AFTER"] = 0.5
    time.sleep(0.7)
    html = client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "The process running this job stopped; nothing was imported; you can run it again." in html
    assert f'action="/batch/{job_id}/rerun"' in html
    status = client.get(f"/batch/{job_id}/status.json").get_json()
    assert status["state"] == "failed" and status["message"] == jobs.STOPPED
    assert n_leads(app) == 0
    assert not (jobs_dir(app, job_id) / "scored.csv").exists()

    app.config["BATCH_STALE_AFTER"] = 30.0
    assert client.post(f"/batch/{job_id}/rerun").status_code == 302
    status = wait_done(client, job_id, timeout=60)
    assert status["state"] == "done", status
    assert status["rows"] == BIG_ROWS and status["scored"] + status["errors"] == BIG_ROWS and status["scored"] > 0
    job = job_row(app, job_id)
    assert job.attempts == 2 and job.message is None and job.progress == 1.0
    folder = jobs_dir(app, job_id)
    with open(folder / "scored.csv", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.reader(handle)) == status["scored"] + 1
    assert not list(folder.glob("run-*"))  # the dead run's scratch folder was cleared
    assert "Attempt 2" in client.get(f"/batch/{job_id}").get_data(as_text=True)
    # A done job cannot be re-run; the audit log has the re-run.
    assert client.post(f"/batch/{job_id}/rerun").status_code == 302
    assert job_row(app, job_id).attempts == 2
    with app.app_context():
        actions = db.session.execute(db.select(AuditLog.action).where(AuditLog.object_id == job_id)).scalars().all()
    assert "batch.rerun" in actions


def jobs_dir(app, job_id: int):
    with app.app_context():
        return jobs.job_dir(job_id)


def test_an_old_run_cannot_overwrite_a_new_attempt(app):
    job_id = make_job(app, 10)
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        job.state, job.message = "failed", jobs.STOPPED
        db.session.commit()
        assert jobs.requeue(job) and job.attempts == 2
        db.session.commit()
    assert jobs.run(app, job_id, 1) == ""  # a stale queue message of attempt 1 does nothing
    assert job_row(app, job_id).state == "queued"
    assert jobs.run(app, job_id, 2) == "done"
    assert jobs.run(app, job_id, 2) == ""  # delivered twice: runs once
    job = job_row(app, job_id)
    assert (job.state, job.rows, job.attempts) == ("done", 10, 2)


def test_stale_queued_job_of_a_dead_app_process(app, client, auth):
    auth.login()
    job_id = make_job(app, 3)  # queued, held by no process
    with app.app_context():
        db.session.get(BatchJob, job_id).heartbeat_at = utcnow() - timedelta(seconds=60)
        db.session.commit()
    html = client.get("/batch").get_data(as_text=True)  # the recent jobs list reads it too
    assert job_row(app, job_id).state == "failed"
    assert f'href="/batch/{job_id}"' in html


def test_job_waiting_on_the_redis_queue_is_not_stale(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:6379/0", BATCH_QUEUE=f"test-faults-{uuid.uuid4().hex}")
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    response = upload(client, b"name,okved\nVolga Robotics,28.99\n")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    from web import taskqueue

    with app.app_context():
        queue = taskqueue.queue()
        try:
            job = db.session.get(BatchJob, job_id)
            assert job.queue_id in queue.job_ids and job.state == "queued"
            job.heartbeat_at = utcnow() - timedelta(seconds=60)
            db.session.commit()
            # No worker listens: it waits on the queue, and is still queued when read.
            assert client.get(f"/batch/{job_id}/status.json").get_json()["state"] == "queued"
            assert job_row(app, job_id).heartbeat_at > utcnow() - timedelta(seconds=10)
            queue.empty()  # the queue lost it (Redis flushed): now it is stopped
            db.session.get(BatchJob, job_id).heartbeat_at = utcnow() - timedelta(seconds=60)
            db.session.commit()
            assert client.get(f"/batch/{job_id}/status.json").get_json()["state"] == "failed"
        finally:
            queue.delete(delete_jobs=True)
            taskqueue.connection().close()


CSV = "name,okved,training\n" + "".join(f"Firm {i},28.99,committed\n" for i in range(8)) + "Bad,28.99,perhaps\n"


@pytest.fixture
def done_job(client, auth):
    auth.login()
    job_id = int(upload(client, CSV.encode()).headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["scored"] == 8
    return job_id


def test_a_chunk_failing_half_way_stores_none_of_its_rows(app, client, done_job, monkeypatch):
    original, calls = services.new_lead, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("the disk is full")
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "new_lead", failing)
    assert client.post(f"/batch/{done_job}/import").status_code == 302
    assert wait_imported(client, done_job)["import_state"] == "failed"
    page = client.get(f"/batch/{done_job}").get_data(as_text=True)
    assert "The import stopped after 0 of 8 scored rows" in page
    assert len(calls) == 5 and n_leads(app) == 0
    assert (job_row(app, done_job).imported, job_row(app, done_job).imported_rows) == (0, 0)
    monkeypatch.undo()
    assert client.post(f"/batch/{done_job}/import").status_code == 302
    assert wait_imported(client, done_job)["import_state"] == "done"
    assert n_leads(app) == 8 and job_row(app, done_job).imported == 8
    assert client.post(f"/batch/{done_job}/import").status_code == 400
    assert n_leads(app) == 8


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the several-machines set-up; saves time
def test_worker_runs_queued_jobs_and_marks_dead_ones_failed(make_app, db_url):
    """``matcher worker --burst``: marks a job whose process died as failed, then runs the queued one."""
    queue_name = f"test-worker-{uuid.uuid4().hex}"
    app = make_app(REDIS_URL="redis://127.0.0.1:6379/0", BATCH_QUEUE=queue_name)
    dead, queued = make_job(app, 5), make_job(app, 7)
    from web import taskqueue

    with app.app_context():
        job = db.session.get(BatchJob, dead)
        job.state, job.heartbeat_at = "running", utcnow() - timedelta(seconds=120)
        db.session.commit()
        job = db.session.get(BatchJob, queued)
        taskqueue.enqueue(job.queue_id, job.id, job.attempts)
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=app.config["REDIS_URL"],
        MATCHER_BATCH_QUEUE=queue_name,
        MATCHER_BATCH_DIR=app.config["BATCH_DIR"],
        MATCHER_RATELIMIT_ENABLED="false",
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "matcher.cli", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        with app.app_context():
            taskqueue.queue().delete(delete_jobs=True)
            taskqueue.connection().close()
    assert (job_row(app, dead).state, job_row(app, dead).message) == ("failed", jobs.STOPPED)
    job = job_row(app, queued)
    assert (job.state, job.rows) == ("done", 7) and job.worker.startswith("rq@")


def test_a_dead_work_horse_fails_its_job_at_once(app, monkeypatch):
    from web import worker

    job_id = make_job(app, 3)
    with app.app_context():
        jobs._set(job_id, 1, ("queued",), state="running", heartbeat_at=utcnow())
    monkeypatch.setattr(worker, "_app", app)
    worker._horse_killed(type("RQJob", (), {"args": (job_id, 1)})(), 0, 9, None)
    job = job_row(app, job_id)
    assert (job.state, job.message) == ("failed", jobs.STOPPED)


# --- a job is stopped only when its own process is gone -------------------------------------------------


def held_by(app, job_id: int, pid: int) -> Path:
    """Make the job running in process ``pid`` (this host) with a heartbeat a minute old; its scratch output."""
    with app.app_context():
        jobs._set(
            job_id,
            1,
            ("queued",),
            state="running",
            heartbeat_at=utcnow() - timedelta(seconds=60),
            **liveness.identity(pid),
        )
        work = jobs.job_dir(job_id) / "run-1"
    work.mkdir(parents=True, exist_ok=True)
    (work / "scored.csv").write_text("name,score\nVolga,50.0\n")
    return work


def test_a_missed_heartbeat_of_a_live_process_is_not_a_stop(app, client, auth):
    auth.login()
    job_id = make_job(app, 3)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        work = held_by(app, job_id, process.pid)
        assert client.get(f"/batch/{job_id}/status.json").get_json()["state"] == "running"
        assert "process running this job stopped" not in client.get(f"/batch/{job_id}").get_data(as_text=True)
        assert (work / "scored.csv").exists() and job_row(app, job_id).state == "running"
    finally:
        process.kill()
        process.wait(10)
    status = client.get(f"/batch/{job_id}/status.json").get_json()  # now its process is gone
    assert (status["state"], status["message"]) == ("failed", jobs.STOPPED)


def test_a_job_marked_stopped_while_alive_still_records_its_outcome(app):
    """Another host's reader can only go by the heartbeat: a live run it marked stopped keeps its output."""
    job_id = make_job(app, 3)
    with app.app_context():
        jobs._set(
            job_id,
            1,
            ("queued",),
            state="running",
            heartbeat_at=utcnow() - timedelta(seconds=60),
            worker_host="another-host",
            worker_pid=1,
            worker_started="1",
        )
        assert jobs.check_stale(db.session.get(BatchJob, job_id))
        work = jobs.job_dir(job_id) / "run-1"
        work.mkdir(parents=True, exist_ok=True)
        (work / "scored.csv").write_text("name,score\nVolga,50.0\n")
        assert jobs._finish(job_id, 1, work, state="done", progress=1.0, rows=1, scored=1, errors=0) == "done"
        assert (jobs.job_dir(job_id) / "scored.csv").exists()
    job = job_row(app, job_id)
    assert (job.state, job.message, job.scored) == ("done", None, 1)


def test_a_database_cut_while_a_job_finishes(outage, monkeypatch):  # noqa: F811 -- the imported fixture
    """The database goes away as scoring ends and comes back 1.5 s later: the job ends done, output kept."""
    app, switch = outage
    job_id = make_job(app, 20)
    scored, cut = threading.Event(), threading.Event()
    original = jobs.score_file

    def score_then_lose_the_database(*args, **kwargs):
        summary = original(*args, **kwargs)
        scored.set()
        assert cut.wait(20)
        return summary

    monkeypatch.setattr(jobs, "score_file", score_then_lose_the_database)
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(jobs.run(app, job_id, 1)))
    runner.start()
    try:
        assert scored.wait(60)
        switch.cut()
        cut.set()
        time.sleep(1.5)
    finally:
        cut.set()
        switch.restore()
        runner.join(60)
    assert outcome == ["done"]
    job = job_row(app, job_id)
    assert (job.state, job.rows) == ("done", 20)
    assert (jobs_dir(app, job_id) / "scored.csv").exists()


def test_a_dead_work_horse_fails_its_import_at_once(app, monkeypatch):
    from web import taskqueue, worker

    job_id = make_job(app, 3)
    with app.app_context():
        jobs._set(job_id, 1, ("queued",), state="done", import_state="running", imported_rows=1, imported=1)
    monkeypatch.setattr(worker, "_app", app)
    horse = type("RQJob", (), {"args": (job_id, 1), "func_name": taskqueue.TASKS["run_import"]})()
    worker._horse_killed(horse, 0, 9, None)
    job = job_row(app, job_id)
    assert (job.state, job.import_state, job.imported_rows) == ("done", "failed", 1)  # resumable where it stopped

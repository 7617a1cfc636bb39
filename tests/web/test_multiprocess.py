"""Several machines' worth of processes on one PostgreSQL database and one Redis: no write is lost.

Two app processes (``matcher serve`` and gunicorn, on two free ports of 127.0.0.1, both with
the same ``DATABASE_URL``, ``SECRET_KEY`` and ``BATCH_DIR``) and one ``matcher worker`` share
a fresh PostgreSQL schema and a Redis queue of their own. Clients drive both apps at once, with
real CSRF tokens: public self-assessments submitted as leads, notes and status changes on leads,
a batch upload on one app polled to completion and imported from the other (twice at once: it
must be stored once). Then the database must hold every write exactly once.

PostgreSQL (127.0.0.1:5432, database ``test``) and Redis (127.0.0.1:6379) must be reachable:
the test fails otherwise.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_DB = 11  # with a queue name of the run's own, parallel runs do not meet
PASSWORD = "mp-admin-pass-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Forms(HTMLParser):
    """The hidden inputs of every form of a page, by the form's action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._action: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._action = attrs.get("action") or ""
            self.forms.setdefault(self._action, {})
        elif tag == "input" and self._action is not None and attrs.get("type") == "hidden" and attrs.get("name"):
            self.forms[self._action][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._action = None


def hidden_fields(session: requests.Session, url: str, action: str) -> dict[str, str]:
    """GET ``url`` and return the hidden fields (CSRF token, row version) of its form posting to ``action``."""
    page = session.get(url, timeout=30)
    assert page.status_code == 200, (url, page.status_code)
    parser = _Forms()
    parser.feed(page.text)
    forms = {key or urlsplit(url).path: fields for key, fields in parser.forms.items()}  # "": posts to itself
    assert action in forms, (action, list(forms))
    return forms[action]


def login(base: str) -> requests.Session:
    session = requests.Session()
    fields = hidden_fields(session, f"{base}/login", "/login")
    response = session.post(
        f"{base}/login", data={**fields, "username": "admin", "password": PASSWORD}, allow_redirects=False, timeout=30
    )
    assert response.status_code == 302, response.text[:500]
    return session


def wait_healthy(base: str, procs: list[subprocess.Popen], logs: list[Path], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} did not start: " + " ".join(log.read_text()[-2000:] for log in logs))


@pytest.fixture
def cluster(tmp_path):
    """Two app processes and a worker on a fresh schema and queue; all killed and dropped at teardown."""
    schema, queue_name = f"web_mp_{os.getpid()}_{uuid.uuid4().hex[:6]}", f"mp-{uuid.uuid4().hex}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:  # fails (not skips) without PostgreSQL
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    rconn = redis.Redis.from_url(redis_url)
    rconn.ping()  # fails (not skips) without Redis
    sep = "&" if "?" in PG_URL else "?"
    env = dict(
        os.environ,
        DATABASE_URL=f"{PG_URL}{sep}options=-csearch_path%3D{schema}",
        REDIS_URL=redis_url,
        SECRET_KEY="mp-secret-for-two-processes",
        MATCHER_ADMIN_PASSWORD=PASSWORD,
        MATCHER_BATCH_DIR=str(tmp_path / "batch"),
        MATCHER_BATCH_QUEUE=queue_name,
        MATCHER_RATELIMIT_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    ports, procs, logs = (free_port(), free_port()), [], []

    def start(name: str, *argv: str) -> None:
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as handle:
            procs.append(
                subprocess.Popen(
                    argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        logs.append(log)

    matcher = [sys.executable, "-m", "matcher.cli"]
    try:
        # All start at once: the schema upgrade runs under a lock, one process after the other.
        start("serve", *matcher, "serve", "--port", str(ports[0]))  # also loads the samples and the admin
        start(
            "gunicorn",
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "-w",
            "1",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{ports[1]}",
            "--log-level",
            "warning",
        )
        start("worker", *matcher, "worker", "--name", queue_name)
        for port in ports:
            wait_healthy(f"http://127.0.0.1:{port}", procs, logs)
        yield {
            "bases": [f"http://127.0.0.1:{p}" for p in ports],
            "engine": engine,
            "schema": schema,
            "procs": procs,
            "logs": logs,
        }
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        from rq import Queue

        Queue(queue_name, connection=rconn).delete(delete_jobs=True)
        rconn.close()
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def assess_and_submit(base: str, name: str) -> int:
    """A firm's self-assessment on ``base``, submitted as a lead; returns its reference."""
    session = requests.Session()
    fields = hidden_fields(session, f"{base}/assess", "/assess")
    profile = {
        "name": name,
        "description": "Industrial robots and automation lines",
        "okved": "28.99",
        "training": "committed",
        "investment_usd": "2m",
        "city": "Kazan",
    }
    result = session.post(f"{base}/assess", data={**fields, **profile}, timeout=60)
    assert result.status_code == 200 and name in result.text
    submit = session.post(
        f"{base}/assess/submit",
        data={**fields, **profile, "consent": "y", "contact_email": "invest@example.org"},
        timeout=60,
    )
    assert submit.status_code == 200, submit.text[:1000]
    return int(re.search(r"\b(\d+)\b", submit.text.split(name, 1)[-1]).group(1)) if name in submit.text else 0


def add_notes(bases: list[str], lead_ids: list[int], tag: str) -> list[str]:
    """Notes on shared leads, alternating between the app processes; returns their bodies."""
    sessions = [login(base) for base in bases]
    # A session's CSRF token is good for all its forms: read it once from a light page.
    tokens = [hidden_fields(s, f"{b}/batch", "/batch")["csrf_token"] for s, b in zip(sessions, bases, strict=True)]
    bodies = []
    for i, lead_id in enumerate(lead_ids):
        base, session = bases[i % 2], sessions[i % 2]
        body = f"note {tag}-{i} on lead {lead_id}"
        response = session.post(
            f"{base}/leads/{lead_id}/notes",
            data={"note-csrf_token": tokens[i % 2], "note-body": body},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, response.text[:500]
        bodies.append(body)
    return bodies


def walk_statuses(bases: list[str], lead_id: int) -> None:
    """Move one lead through the pipeline, each step on the other app than the one before."""
    sessions = [login(base) for base in bases]
    for i, status in enumerate(("contacted", "meeting", "proposal")):
        base, session = bases[i % 2], sessions[i % 2]
        fields = hidden_fields(session, f"{base}/leads/{lead_id}", f"/leads/{lead_id}/status")
        response = session.post(
            f"{base}/leads/{lead_id}/status",
            data={**fields, "status-status": status},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, response.text[:500]


def batch_csv(n: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "name", "description", "okved", "training", "employees"])
    for i in range(n):
        writer.writerow(
            [
                f"M{i}",
                f"Batch firm {i}",
                "software and data centres",
                "62.01",
                "committed",
                "many" if i % 10 == 9 else str(10 + i),
            ]
        )
    return out.getvalue().encode()


def run_batch(bases: list[str], n_rows: int) -> dict:
    """Upload on the first app, poll on the second, import from both at once; returns the final status."""
    first, second = login(bases[0]), login(bases[1])
    fields = hidden_fields(first, f"{bases[0]}/batch", "/batch")
    response = first.post(
        f"{bases[0]}/batch",
        data={**fields, "lang": "en"},
        files={"file": ("firms.csv", batch_csv(n_rows), "text/csv")},
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 302, response.text[:1000]
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 30
    while True:
        status = second.get(f"{bases[1]}/batch/{job_id}/status.json", timeout=30).json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["state"] == "done", status
    scored = second.get(f"{bases[1]}/batch/{job_id}/scored.csv", timeout=30)
    assert scored.status_code == 200 and len(list(csv.reader(io.StringIO(scored.text)))) == status["scored"] + 1
    imports = [
        hidden_fields(s, f"{b}/batch/{job_id}", f"/batch/{job_id}/import")
        for s, b in ((first, bases[0]), (second, bases[1]))
    ]
    with ThreadPoolExecutor(2) as pool:
        codes = list(
            pool.map(
                lambda args: (
                    args[0]
                    .post(f"{args[1]}/batch/{job_id}/import", data=args[2], allow_redirects=False, timeout=60)
                    .status_code
                ),
                [(first, bases[0], imports[0]), (second, bases[1], imports[1])],
            )
        )
    assert sorted(codes) in ([302, 302], [302, 400]), codes
    deadline = time.monotonic() + 120  # the import runs on the worker
    while True:
        status = second.get(f"{bases[1]}/batch/{job_id}/status.json", timeout=30).json()
        if status["import_state"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["import_state"] == "done", status
    return {**status, "id": job_id}


def test_two_app_processes_and_a_worker_lose_no_write(cluster):
    bases, engine, schema = cluster["bases"], cluster["engine"], cluster["schema"]
    with engine.connect() as conn:
        conn.execute(text(f'SET search_path TO "{schema}"'))
        sample_ids = conn.execute(text("SELECT id FROM leads ORDER BY id")).scalars().all()
    assert len(sample_ids) >= 12
    names = [f"MP firm {uuid.uuid4().hex[:8]} {i}" for i in range(12)]
    shared, owned = sample_ids[:6], sample_ids[6:12]
    n_rows = 400
    with ThreadPoolExecutor(8) as pool:
        batch = pool.submit(run_batch, bases, n_rows)
        submitted = [pool.submit(assess_and_submit, bases[i % 2], name) for i, name in enumerate(names)]
        notes = [pool.submit(add_notes, bases, shared * 2, f"t{t}") for t in range(3)]
        walks = [pool.submit(walk_statuses, bases, lead_id) for lead_id in owned]
        refs = [f.result() for f in submitted]
        bodies = [body for f in notes for body in f.result()]
        for f in walks:
            f.result()
        status = batch.result()

    with engine.connect() as conn:
        conn.execute(text(f'SET search_path TO "{schema}"'))

        def rows(sql: str, **params):
            return conn.execute(text(sql), params).all()

        found = dict(rows("SELECT name, count(*) FROM leads WHERE name LIKE 'MP firm %' GROUP BY name"))
        assert found == dict.fromkeys(names, 1)
        assert all(ref for ref in refs)
        noted = dict(rows("SELECT body, count(*) FROM notes GROUP BY body"))
        assert noted == dict.fromkeys(bodies, 1) and len(bodies) == 3 * 12
        for lead_id in owned:
            assert rows("SELECT status FROM leads WHERE id = :id", id=lead_id) == [("proposal",)]
            changes = rows(
                "SELECT count(*) FROM audit_log WHERE action = 'lead.status' AND object_id = :id", id=lead_id
            )
            assert changes == [(3,)]
        job = rows(
            "SELECT state, rows, scored, errors, imported, worker, attempts FROM batch_jobs WHERE id = :id",
            id=status["id"],
        )[0]
        assert job.state == "done" and job.rows == n_rows == job.scored + job.errors and job.errors == n_rows // 10
        assert job.worker.startswith("rq@") and job.attempts == 1  # the worker ran it, not an app process
        batch_leads = rows("SELECT count(*) FROM leads WHERE source = 'batch'")[0][0]
        assert batch_leads == job.scored == job.imported  # imported once, although asked twice at once
        imports = rows("SELECT count(*) FROM audit_log WHERE action = 'batch.import'")[0][0]
        assert imports == 1
    for proc, log in zip(cluster["procs"], cluster["logs"], strict=True):
        assert proc.poll() is None, log.read_text()[-3000:]

"""Helpers shared by the web tests: upload a CSV to /batch and wait for its job, run a benchmark (plain functions)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, cwd: Path, timeout: float = 180) -> str:
    """Run ``bench/<script>`` with ``args`` in a process of its own (its own databases: no ``DATABASE_URL`` or
    ``REDIS_URL`` from the environment); its standard output, once it exited with status 0."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def upload(client, data: bytes, name: str = "firms.csv", lang: str = "en"):
    """POST a CSV file to ``/batch`` as the upload form does."""
    return client.post(
        "/batch", data={"file": (io.BytesIO(data), name), "lang": lang}, content_type="multipart/form-data"
    )


def wait_done(client, job_id: int, timeout: float = 30.0) -> dict:
    """Poll a job's ``status.json`` until it is done or failed; return that status."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = client.get(f"/batch/{job_id}/status.json").get_json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def wait_imported(client, job_id: int, timeout: float = 60.0) -> dict:
    """Poll a job's ``status.json`` until its import is no longer queued or running; return that status."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = client.get(f"/batch/{job_id}/status.json").get_json()
        if status["import_state"] not in ("queued", "running"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id}: the import did not end: {status}")

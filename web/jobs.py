"""Background scoring of uploaded CSV files: a small thread pool in the app process.

Job state lives in the database (:class:`~web.models.BatchJob`), so any app process can show
progress. Each job is its own unit of work and commits its own state changes.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import update

from matcher import InputFileError
from matcher.batch import score_file

from .extensions import db
from .models import BatchJob, utcnow
from .scoring import get_scorer

log = logging.getLogger(__name__)
_pool: ThreadPoolExecutor | None = None
PROGRESS_EVERY = 0.5  # seconds between progress writes


def job_dir(job_id: int) -> Path:
    """Folder of a job's files: input.csv, scored.csv, scored.errors.csv."""
    return Path(current_app.config["BATCH_DIR"]) / str(job_id)


def submit(job_id: int):
    """Queue a job on the app's worker threads; returns the future."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=current_app.config.get("BATCH_WORKERS", 2),
                                   thread_name_prefix="batch")
    app = current_app._get_current_object()
    return _pool.submit(run, app, job_id)


def _set(job_id: int, **values) -> None:
    db.session.execute(update(BatchJob).where(BatchJob.id == job_id).values(**values))
    db.session.commit()


def run(app: Flask, job_id: int) -> None:
    """Score a job's input file and record the outcome."""
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        folder, lang = job_dir(job_id), job.lang
        _set(job_id, state="running", progress=0.0)
        size = max((folder / "input.csv").stat().st_size, 1)
        last = [0.0]

        def progress(done: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                _set(job_id, progress=min(0.99, done / size))

        try:
            summary = score_file(folder / "input.csv", folder / "scored.csv", get_scorer(), lang=lang,
                                 progress=progress)
        except InputFileError as exc:
            db.session.rollback()
            _set(job_id, state="failed", message=str(exc), finished_at=utcnow())
        except Exception as exc:  # noqa: BLE001 -- a job must end in a state, whatever happened
            log.exception("batch job %s failed", job_id)
            db.session.rollback()
            _set(job_id, state="failed", message=f"{type(exc).__name__}: {exc}", finished_at=utcnow())
        else:
            _set(job_id, state="done", progress=1.0, rows=summary.rows, scored=summary.scored,
                 errors=summary.errors, finished_at=utcnow())
        finally:
            db.session.remove()

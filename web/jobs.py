"""Background scoring of uploaded CSV files: in the app process, or on RQ workers when ``REDIS_URL`` is set.

Job state lives in the database (:class:`~web.models.BatchJob`), so any app process can show
progress; files live under ``BATCH_DIR/<job id>/`` (one folder every process shares). Without
``REDIS_URL`` a small thread pool in each app process runs the jobs it was given (nothing to
set up); with it, jobs go to a Redis queue and ``matcher worker`` processes run them
(:mod:`web.worker`).

Each run of a job is an *attempt* (``attempts`` counts them). A run claims its job only while it
is queued at that attempt, and writes progress, heartbeat and outcome only while it still holds
it, so a stale queue message or a slow old run never overwrites a newer one. A process holding a
job (queued on its threads, or running it) writes ``heartbeat_at`` every few seconds; a queued or
running job whose heartbeat is older than ``BATCH_STALE_AFTER`` seconds lost its process and is
marked failed when it is next read (:func:`check_stale`). Outputs are written to
``run-<attempt>/`` and moved into place only when the run is recorded as done.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import or_, update
from sqlalchemy.exc import OperationalError

from matcher import InputFileError
from matcher.batch import score_file

from .extensions import db
from .models import BatchJob, utcnow
from .scoring import get_scorer

log = logging.getLogger(__name__)
_pool: ThreadPoolExecutor | None = None
PROGRESS_EVERY = 0.5  # seconds between progress writes (each one is also a heartbeat)
ACTIVE = ("queued", "running")
OUTPUTS = ("scored.csv", "scored.errors.csv")
#: Stored as the message of a job whose process stopped; the job page words it in the user's language.
STOPPED = "the process running this job stopped; nothing was imported; you can run it again"
#: Stored as the message of a job that could not be put on the Redis queue.
UNQUEUED = "the task queue could not be reached; the job was not started; you can run it again"


def job_dir(job_id: int) -> Path:
    """Folder of a job's files: input.csv, scored.csv, scored.errors.csv."""
    return Path(current_app.config["BATCH_DIR"]) / str(job_id)


def stale_after(config=None) -> float:
    """Seconds without a heartbeat after which a queued or running job counts as stopped."""
    return float((config or current_app.config).get("BATCH_STALE_AFTER", 30.0))


def beat_every(config) -> float:
    """Seconds between heartbeats: ``BATCH_HEARTBEAT_EVERY``, and at least three per stale timeout."""
    return max(0.05, min(float(config.get("BATCH_HEARTBEAT_EVERY", 2.0)), stale_after(config) / 3))


def process_name(kind: str) -> str:
    """Which process holds a job, for the ``worker`` column: kind, host and pid."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"[:80]


def _where(job_id: int, attempt: int, *states: str) -> list:
    return [BatchJob.id == job_id, BatchJob.attempts == attempt, *([BatchJob.state.in_(states)] if states else [])]


def _update(job_id: int, attempt: int, states: tuple[str, ...], **values) -> bool:
    """One conditional UPDATE of the job's row (not committed); whether it matched."""
    statement = update(BatchJob).where(*_where(job_id, attempt, *states)).values(**values)
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1


def _set(job_id: int, attempt: int, states: tuple[str, ...], **values) -> bool:
    """Conditional update in a transaction of its own."""
    matched = _update(job_id, attempt, states, **values)
    db.session.commit()
    return matched


def prepare(job: BatchJob) -> BatchJob:
    """Fill in a new job's first attempt: queued now, with its queue message id when Redis is used."""
    job.state, job.attempts, job.heartbeat_at = "queued", 1, utcnow()
    job.queue_id = uuid.uuid4().hex if current_app.config.get("REDIS_URL") else None
    return job


def requeue(job: BatchJob) -> bool:
    """Make a failed job queued again as its next attempt (not committed); False if it is not failed (any more)."""
    queue_id = uuid.uuid4().hex if current_app.config.get("REDIS_URL") else None
    matched = _update(job.id, job.attempts, ("failed",), state="queued", attempts=job.attempts + 1, progress=0.0,
                      rows=0, scored=0, errors=0, message=None, finished_at=None, heartbeat_at=utcnow(),
                      worker=None, queue_id=queue_id)
    if matched:
        db.session.refresh(job)
    return matched


def clear_outputs(job: BatchJob) -> None:
    """Remove the result files of earlier attempts (the input stays)."""
    folder = job_dir(job.id)
    for name in OUTPUTS:
        (folder / name).unlink(missing_ok=True)
    for run_dir in folder.glob("run-*"):
        if run_dir.name != f"run-{job.attempts}":
            shutil.rmtree(run_dir, ignore_errors=True)


def submit(job: BatchJob):
    """Start the committed job's current attempt: on Redis when ``REDIS_URL`` is set, else on this process."""
    if current_app.config.get("REDIS_URL"):
        from . import worker

        try:
            worker.enqueue(job.queue_id or uuid.uuid4().hex, job.id, job.attempts)
        except worker.QueueUnavailable as exc:
            log.error("batch job %s: cannot enqueue: %s", job.id, exc)
            _set(job.id, job.attempts, ACTIVE, state="failed", message=UNQUEUED, finished_at=utcnow())
        return None
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=current_app.config.get("BATCH_WORKERS", 2),
                                   thread_name_prefix="batch")
    app = current_app._get_current_object()
    heart.hold(app, job.id, job.attempts)
    return _pool.submit(run, app, job.id, job.attempts)


def run(app: Flask, job_id: int, attempt: int | None = None, kind: str = "app") -> str:
    """Run one attempt of a job (default: its current one) in this process; returns the state it ended in.

    ``kind`` says what runs it (``app`` process or ``rq`` worker), for the ``worker`` column.
    Returns ``""`` when the attempt is not the job's to run (already claimed, re-run or gone).
    """
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        attempt = attempt or (job.attempts if job else 0)
        try:
            return _run(app, job, attempt, kind) if job is not None else ""
        finally:
            heart.release(job_id, attempt)
            db.session.remove()


def _run(app: Flask, job: BatchJob, attempt: int, kind: str) -> str:
    job_id, lang, folder = job.id, job.lang, job_dir(job.id)
    if not _set(job_id, attempt, ("queued",), state="running", progress=0.0, heartbeat_at=utcnow(),
                worker=process_name(kind)):
        log.info("batch job %s attempt %s is not queued any more: not run", job_id, attempt)
        return ""
    heart.hold(app, job_id, attempt)
    work = folder / f"run-{attempt}"
    work.mkdir(parents=True, exist_ok=True)
    size, last = max((folder / "input.csv").stat().st_size, 1), [0.0]

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            try:
                _set(job_id, attempt, ("running",), progress=min(0.99, done / size), heartbeat_at=utcnow())
            except OperationalError:  # a busy database delays the progress bar, never the job
                db.session.rollback()
                log.warning("batch job %s: progress not written", job_id, exc_info=True)

    try:
        summary = score_file(folder / "input.csv", work / "scored.csv", get_scorer(), lang=lang, progress=progress)
    except InputFileError as exc:
        return _finish(job_id, attempt, work, state="failed", message=str(exc))
    except Exception as exc:  # noqa: BLE001 -- a job must end in a state, whatever happened
        log.exception("batch job %s failed", job_id)
        return _finish(job_id, attempt, work, state="failed", message=f"{type(exc).__name__}: {exc}")
    else:
        return _finish(job_id, attempt, work, state="done", progress=1.0, rows=summary.rows,
                       scored=summary.scored, errors=summary.errors)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _finish(job_id: int, attempt: int, work: Path, **values) -> str:
    """Record the outcome if this run still holds the job, moving its outputs into place; the state or ``""``."""
    db.session.rollback()
    now = utcnow()
    if not _update(job_id, attempt, ("running",), finished_at=now, heartbeat_at=now, **values):
        db.session.rollback()
        log.warning("batch job %s attempt %s was taken over before it ended: outcome dropped", job_id, attempt)
        return ""
    if values["state"] == "done":  # the row stays locked until the commit: nobody re-runs it meanwhile
        for name in OUTPUTS:
            if (work / name).exists():
                os.replace(work / name, work.parent / name)
    db.session.commit()
    return values["state"]


def mark_stopped(job_id: int, attempt: int) -> bool:
    """Mark an attempt failed because its process died (the queue saw its work horse die); commits."""
    return _set(job_id, attempt, ACTIVE, state="failed", message=STOPPED, finished_at=utcnow())


def check_stale(job: BatchJob) -> bool:
    """Mark a queued or running job failed if the process holding it stopped; returns whether it did.

    A job waiting on the Redis queue has no process yet: it is stale only once the queue no longer
    holds it. Commits when it changes anything.
    """
    if job.state not in ACTIVE:
        return False
    cutoff = utcnow() - timedelta(seconds=stale_after())
    if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
        return False
    if job.state == "queued" and job.queue_id and current_app.config.get("REDIS_URL"):
        from . import worker

        if worker.waiting(job.queue_id):
            _set(job.id, job.attempts, ("queued",), heartbeat_at=utcnow())
            db.session.refresh(job)
            return False
    statement = update(BatchJob).where(
        *_where(job.id, job.attempts, *ACTIVE), or_(BatchJob.heartbeat_at.is_(None), BatchJob.heartbeat_at < cutoff),
    ).values(state="failed", message=STOPPED, finished_at=utcnow())
    stopped = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1
    db.session.commit()
    db.session.refresh(job)
    if stopped:
        log.warning("batch job %s attempt %s: no heartbeat since %s; marked failed", job.id, job.attempts,
                    job.heartbeat_at)
    return stopped


def reap_stale() -> int:
    """Check every queued or running job (see :func:`check_stale`); returns how many were marked failed."""
    active = db.session.execute(db.select(BatchJob).where(BatchJob.state.in_(ACTIVE))).scalars().all()
    return sum(check_stale(job) for job in active)


class _Heart:
    """Writes the heartbeat of every job this process holds, from one daemon thread per process."""

    def __init__(self) -> None:
        self._pid = 0
        self._held: dict[tuple[int, int], Flask] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def hold(self, app: Flask, job_id: int, attempt: int) -> None:
        """Beat for this attempt until :meth:`release`."""
        if self._pid != os.getpid():  # first use, or a forked child: the parent's thread is not here
            self._pid, self._held, self._lock = os.getpid(), {}, threading.Lock()
            threading.Thread(target=self._loop, args=(self._pid,), name="batch-heartbeat", daemon=True).start()
        with self._lock:
            self._held[(job_id, attempt)] = app
        self._wake.set()

    def release(self, job_id: int, attempt: int) -> None:
        """Stop beating for this attempt."""
        if self._pid == os.getpid():
            with self._lock:
                self._held.pop((job_id, attempt), None)

    def _loop(self, pid: int) -> None:
        while self._pid == pid:
            with self._lock:
                held = list(self._held.items())
            if not held:
                self._wake.wait(5.0)
                self._wake.clear()
                continue
            time.sleep(min(beat_every(app.config) for _key, app in held))
            with self._lock:
                held = list(self._held.items())
            for app in {id(app): app for _key, app in held}.values():
                self._beat(app, [key for key, owner in held if owner is app])

    def _beat(self, app: Flask, keys: list[tuple[int, int]]) -> None:
        try:
            with app.app_context():
                try:
                    for job_id, attempt in keys:
                        _update(job_id, attempt, ACTIVE, heartbeat_at=utcnow())
                    db.session.commit()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 -- a missed beat is retried; the database may be briefly away
            log.warning("batch heartbeat failed for %s", keys, exc_info=True)


heart = _Heart()

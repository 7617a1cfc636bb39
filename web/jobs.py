"""Background scoring of uploaded CSV files: in the app process, or on RQ workers when ``REDIS_URL`` is set.

Job state lives in the database (:class:`~web.models.BatchJob`), so any app process can show
progress; files live under ``BATCH_DIR/<job id>/`` (one folder every process shares). Without
``REDIS_URL`` a small thread pool in each app process runs the jobs it was given (nothing to
set up); with it, jobs go to a Redis queue and ``matcher worker`` processes run them
(:mod:`web.worker`). :func:`web.dispatch.submit` starts an attempt either way.

Each run of a job is an *attempt* (``attempts`` counts them). A run claims its job only while it
is queued at that attempt, and writes progress, heartbeat and outcome only while it still holds
it, so a stale queue message or a slow old run never overwrites a newer one. A process holding a
job (queued on its threads, or running it) writes ``heartbeat_at`` every few seconds; a queued or
running job whose heartbeat is older than ``BATCH_STALE_AFTER`` seconds *may* have lost its
process: it is marked failed when it is next read (:func:`check_stale`) only if that process is
verifiably gone (same host: its pid, see :mod:`web.liveness`) or, on another host, cannot be
looked at. Outputs are written to ``run-<attempt>/`` and moved into place only when the run is
recorded as done; a run marked stopped by mistake (its process was alive) still records its
outcome, unless the job was run again meanwhile. The writes that end a run are retried across a
short database outage (``BATCH_DB_RETRY`` seconds).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import uuid
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import and_, or_, update
from sqlalchemy.exc import InterfaceError, OperationalError

from matcher import InputFileError
from matcher.batch import score_file

from . import liveness, versions
from .extensions import db
from .heart import heart, stale_after
from .models import BatchJob, utcnow

log = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5  # seconds between progress writes (each one is also a heartbeat)
ACTIVE = ("queued", "running")
#: What a run leaves: the scored file, the error report, and every scored row's full result (the import reads it).
OUTPUTS = ("scored.csv", "scored.errors.csv", "results.arrow")
#: Stored as the message of a job whose process stopped; the job page words it in the user's language.
STOPPED = "the process running this job stopped; nothing was imported; you can run it again"
#: Stored as the message of a done job whose file was UTF-8 but for a few bytes (each read as U+FFFD); the job
#: page words it in the user's language.
STRAY_BYTES = "stray_bytes"
#: Stored as the message of a job that could not be put on the Redis queue.
UNQUEUED = "the task queue could not be reached; the job was not started; you can run it again"


def job_dir(job_id: int) -> Path:
    """Folder of a job's files: input.csv, scored.csv, scored.errors.csv."""
    return Path(current_app.config["BATCH_DIR"]) / str(job_id)


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


def holder() -> dict[str, object]:
    """Who holds a job queued now: this process (its threads run it), or nobody yet on the Redis queue."""
    if current_app.config.get("REDIS_URL"):
        return {"worker_host": None, "worker_pid": None, "worker_started": None}
    return liveness.identity()


def prepare(job: BatchJob) -> BatchJob:
    """Fill in a new job's first attempt: queued now, with its queue message id when Redis is used."""
    job.state, job.attempts, job.heartbeat_at = "queued", 1, utcnow()
    job.queue_id = uuid.uuid4().hex if current_app.config.get("REDIS_URL") else None
    for key, value in holder().items():
        setattr(job, key, value)
    return job


def retrying(action, what: str):
    """``action()`` (database writes that commit), tried again across a short outage; its result.

    A lost connection or a locked database is retried for ``BATCH_DB_RETRY`` seconds (default 60),
    then raised. Any other error is raised at once.
    """
    deadline = time.monotonic() + float(current_app.config.get("BATCH_DB_RETRY", 60.0))
    delay = 0.1
    while True:
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            _rollback()
            if time.monotonic() + delay > deadline:
                raise
            log.warning("batch: %s: database unavailable (%s); trying again", what, str(exc).splitlines()[0])
            time.sleep(delay)
            delay = min(2 * delay, 2.0)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 -- the connection is gone: the next try gets a new one
        db.session.remove()


def requeue(job: BatchJob) -> bool:
    """Make a failed job queued again as its next attempt (not committed); False if it is not failed (any more)."""
    queue_id = uuid.uuid4().hex if current_app.config.get("REDIS_URL") else None
    matched = _update(
        job.id,
        job.attempts,
        ("failed",),
        state="queued",
        attempts=job.attempts + 1,
        progress=0.0,
        rows=0,
        scored=0,
        errors=0,
        message=None,
        finished_at=None,
        heartbeat_at=utcnow(),
        worker=None,
        queue_id=queue_id,
        **holder(),
    )
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


def mark_unqueued(job_id: int, attempt: int, importing: bool = False) -> None:
    """The attempt (or its import) could not be put on the task queue: mark it failed (committed)."""
    if importing:
        _set(job_id, attempt, (), import_state="failed")
    else:
        _set(job_id, attempt, ACTIVE, state="failed", message=UNQUEUED, finished_at=utcnow())


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
    job_id, lang, output, folder = job.id, job.lang, job.output or "utf-8", job_dir(job.id)
    # One snapshot: the scorer and the version the job records always agree.
    version = versions.snapshot()
    factor = float(versions.get_setting("unverified_factor"))
    scorer = versions.scorer_for(version, factor=factor)
    if not _set(
        job_id,
        attempt,
        ("queued",),
        state="running",
        progress=0.0,
        heartbeat_at=utcnow(),
        worker=process_name(kind),
        weights_version=version.label,
        weights_version_id=version.id,
        unverified_factor=factor,
        **liveness.identity(),
    ):
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
        summary = score_file(
            folder / "input.csv",
            work / "scored.csv",
            scorer,
            lang=lang,
            progress=progress,
            out_encoding=output,
            results_path=work / "results.arrow",
        )
    except InputFileError as exc:
        return _finish(job_id, attempt, work, state="failed", message=str(exc))
    except Exception as exc:  # noqa: BLE001 -- a job must end in a state, whatever happened
        log.exception("batch job %s failed", job_id)
        return _finish(job_id, attempt, work, state="failed", message=f"{type(exc).__name__}: {exc}")
    else:
        return _finish(
            job_id,
            attempt,
            work,
            state="done",
            progress=1.0,
            rows=summary.rows,
            scored=summary.scored,
            errors=summary.errors,
            out_encoding=summary.encoding,
            out_delimiter=summary.delimiter,
            ignored_columns=summary.ignored,
            message=STRAY_BYTES if summary.stray_bytes else None,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _finish(job_id: int, attempt: int, work: Path, **values) -> str:
    """Record the outcome if this run still holds the job, moving its outputs into place; the state or ``""``.

    Tried again across a short database outage. A run marked stopped while it was alive (its
    heartbeat missed) still holds its attempt: only a re-run (the next attempt) takes it over.
    """
    return retrying(lambda: _record(job_id, attempt, work, **values), f"job {job_id} outcome")


def _record(job_id: int, attempt: int, work: Path, **values) -> str:
    if values["state"] == "done":
        values.setdefault("message", None)  # not "stopped": it was alive after all
    db.session.rollback()
    now = utcnow()
    held = or_(BatchJob.state == "running", and_(BatchJob.state == "failed", BatchJob.message == STOPPED))
    statement = (
        update(BatchJob).where(*_where(job_id, attempt), held).values(finished_at=now, heartbeat_at=now, **values)
    )
    if db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount != 1:
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
    """Mark a queued or running job (or import) failed if the process holding it stopped; whether it did.

    Stopped means: no heartbeat for ``BATCH_STALE_AFTER`` seconds, and the holding process is
    gone (this host) or cannot be looked at (another host). A job waiting on the Redis queue has
    no process yet: it is stale only once the queue no longer holds it. Nothing is deleted here.
    Commits when it changes anything.
    """
    importing = job.state == "done" and job.import_state in ACTIVE
    if job.state not in ACTIVE and not importing:
        return False
    cutoff = utcnow() - timedelta(seconds=stale_after())
    if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
        return False
    if _waits_on_queue(job, importing) or _holder_alive(job):
        return False
    old = or_(BatchJob.heartbeat_at.is_(None), BatchJob.heartbeat_at < cutoff)
    if importing:
        statement = (
            update(BatchJob)
            .where(*_where(job.id, job.attempts), BatchJob.import_state.in_(ACTIVE), old)
            .values(import_state="failed")
        )
    else:
        statement = (
            update(BatchJob)
            .where(*_where(job.id, job.attempts, *ACTIVE), old)
            .values(state="failed", message=STOPPED, finished_at=utcnow())
        )
    stopped = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1
    db.session.commit()
    db.session.refresh(job)
    if stopped:
        log.warning(
            "batch job %s attempt %s%s: no heartbeat since %s, its process gone or elsewhere; marked failed",
            job.id,
            job.attempts,
            " (import)" if importing else "",
            job.heartbeat_at,
        )
    return stopped


def _waits_on_queue(job: BatchJob, importing: bool) -> bool:
    """Whether the job (or its import) still waits on the Redis queue; its heartbeat is renewed if so."""
    queued = (job.import_state if importing else job.state) == "queued"
    if not (queued and job.queue_id and current_app.config.get("REDIS_URL")):
        return False
    from . import taskqueue  # Redis and RQ only when the app uses them

    if not taskqueue.waiting(job.queue_id):
        return False
    _set(job.id, job.attempts, (), heartbeat_at=utcnow())
    db.session.refresh(job)
    return True


def _holder_alive(job: BatchJob) -> bool:
    """Whether the process holding the job verifiably still holds it (this process) or runs (this host)."""
    if job.worker_pid == os.getpid() and job.worker_host == liveness.identity()["worker_host"]:
        return heart.holds(job.id, job.attempts)
    return bool(liveness.alive(job.worker_host, job.worker_pid, job.worker_started))


def reap_stale() -> int:
    """Check every queued or running job or import (see :func:`check_stale`); how many were marked failed."""
    active = (
        db.session.execute(
            db.select(BatchJob).where(or_(BatchJob.state.in_(ACTIVE), BatchJob.import_state.in_(ACTIVE)))
        )
        .scalars()
        .all()
    )
    return sum(check_stale(job) for job in active)

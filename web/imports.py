"""Import a scored batch job's rows as leads: in the background, in chunks, resumable.

The import stores the job's own results (``results.arrow``: each scored row's input, result and
wording, from the scores of the scored file; nothing is scored again) with the job's weights
version, and skips the rows of the error report, counting their reasons; ``CHUNK`` input rows
per transaction. Each
chunk moves the job's cursor (``imported_rows``) in the same transaction as its leads
(:func:`web.services.import_rows`), so an import that stops (process killed, database error)
keeps what it stored, and the next import continues after it: never a row twice. It runs like
scoring does (:func:`web.dispatch.submit`: RQ worker or a thread), with a heartbeat and progress
(``imported`` of ``scored``) the job page polls. ``BATCH_IMPORT_LIMIT`` (default: none) caps the
input rows one import goes through; the rest stays importable.
"""

from __future__ import annotations

import csv
import itertools
import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
from flask import Flask, current_app
from sqlalchemy import or_, update

from matcher.stored import kept_headers

from . import jobs, liveness, services
from .extensions import db
from .models import BatchJob, utcnow

log = logging.getLogger(__name__)
CHUNK = 1000  # input rows per transaction
RESUMABLE = ("partial", "failed")  # an import in these states (or none yet) may start again


def start(job: BatchJob) -> bool:
    """Queue the job's import (not committed); False if it is done or under way already (any process)."""
    values = {
        "import_state": "queued",
        "heartbeat_at": utcnow(),
        **jobs.holder(),
        "queue_id": uuid.uuid4().hex if current_app.config.get("REDIS_URL") else None,
    }
    statement = update(BatchJob).where(
        BatchJob.id == job.id,
        BatchJob.attempts == job.attempts,
        BatchJob.state == "done",
        or_(BatchJob.import_state.is_(None), BatchJob.import_state.in_(RESUMABLE)),
    )
    matched = db.session.execute(statement.values(**values), execution_options={"synchronize_session": False})
    if matched.rowcount != 1:
        return False
    db.session.refresh(job)
    return True


def run_import(app: Flask, job_id: int, attempt: int, kind: str = "app") -> str:
    """Run the job's queued import in this process; the import state it ended in (``""`` if not ours)."""
    with app.app_context():
        try:
            return _run(app, job_id, attempt, kind)
        finally:
            jobs.heart.release(job_id, attempt)
            db.session.remove()


def _run(app: Flask, job_id: int, attempt: int, kind: str) -> str:
    if not _claim(job_id, attempt, kind):
        log.info("batch job %s: import not queued any more: not run", job_id)
        return ""
    jobs.heart.hold(app, job_id, attempt)
    row = db.session.get(BatchJob, job_id)
    # plain values: the session is emptied after each chunk
    job = SimpleNamespace(
        id=row.id,
        lang=row.lang,
        attempts=row.attempts,
        weights_version=row.weights_version,
        weights_version_id=row.weights_version_id,
        unverified_factor=row.unverified_factor,
        out_encoding=row.out_encoding,
        out_delimiter=row.out_delimiter,
    )
    first, counts = row.imported_rows, Counter()
    limit = current_app.config.get("BATCH_IMPORT_LIMIT") or None
    try:
        position, ended = _import_chunks(job, first, limit, counts)
    except Exception:  # noqa: BLE001 -- the chunks stored stay; the import ends failed, resumable
        log.exception("batch job %s: import failed after %s leads", job_id, counts["leads"])
        jobs._rollback()
        return _end(job, "failed", counts)
    if position is None:
        log.warning("batch job %s: another import moved on (or this one was marked stopped): it stops", job_id)
        return ""
    return _end(job, "done" if ended else "partial", counts)


def _claim(job_id: int, attempt: int, kind: str) -> bool:
    statement = update(BatchJob).where(
        BatchJob.id == job_id, BatchJob.attempts == attempt, BatchJob.import_state == "queued"
    )
    values = {
        "import_state": "running",
        "heartbeat_at": utcnow(),
        "worker": jobs.process_name(kind),
        **liveness.identity(),
    }
    matched = db.session.execute(statement.values(**values), execution_options={"synchronize_session": False})
    db.session.commit()
    return matched.rowcount == 1


def _import_chunks(job: SimpleNamespace, position: int, limit: int | None, counts: Counter) -> tuple[int | None, bool]:
    """Import chunk after chunk from input row ``position``: (where it stopped, None if overtaken; at the end?)."""
    rows = scored_rows(job, position)
    try:
        stop = position + limit if limit else None
        while stop is None or position < stop:
            chunk = list(itertools.islice(rows, CHUNK if stop is None else min(CHUNK, stop - position)))
            if not chunk:
                return position, True
            outcome = jobs.retrying(lambda chunk=chunk, at=position: _store(job, at, chunk), f"job {job.id} import")
            if outcome is None:
                return None, False
            counts.update(outcome)
            position += len(chunk)
        return position, next(rows, False) is False
    finally:
        rows.close()


def _store(job: SimpleNamespace, position: int, chunk: list) -> Counter | None:
    """One chunk in one transaction (see :func:`web.services.import_rows`); the session is emptied after."""
    try:
        outcome = services.import_rows(job, position, chunk)
        db.session.commit()
        return outcome
    except BaseException:
        db.session.rollback()  # nothing of the chunk, its cursor move included
        raise
    finally:
        db.session.expunge_all()  # 1,000 leads a chunk: the session keeps none of them


def _end(job: SimpleNamespace, state: str, counts: Counter) -> str:
    """Record how the import ended, with its honest counts in the audit log; the state."""
    leads = counts.pop("leads", 0)
    skipped = sum(counts.values())

    def record() -> str:
        statement = update(BatchJob).where(
            BatchJob.id == job.id, BatchJob.attempts == job.attempts, BatchJob.import_state == "running"
        )
        if (
            db.session.execute(
                statement.values(import_state=state, heartbeat_at=utcnow()),
                execution_options={"synchronize_session": False},
            ).rowcount
            != 1
        ):
            db.session.rollback()
            return ""
        services.audit(
            "batch.import",
            db.session.get(BatchJob, job.id),
            None,
            leads=leads,
            skipped=skipped,
            reasons=dict(counts),
            state=state,
        )
        db.session.commit()
        return state

    outcome = jobs.retrying(record, f"job {job.id} import end")
    log.info(
        "batch job %s: import %s: %s leads stored, %s rows skipped %s",
        job.id,
        state or "overtaken",
        leads,
        skipped,
        dict(counts),
    )
    return outcome


def mark_stopped(job_id: int, attempt: int) -> bool:
    """Mark an import failed because its process died (its work horse was killed); commits."""
    statement = update(BatchJob).where(
        BatchJob.id == job_id, BatchJob.attempts == attempt, BatchJob.import_state.in_(jobs.ACTIVE)
    )
    matched = (
        db.session.execute(
            statement.values(import_state="failed"), execution_options={"synchronize_session": False}
        ).rowcount
        == 1
    )
    db.session.commit()
    return matched


def scored_rows(job: BatchJob | SimpleNamespace, start: int = 0) -> Iterator[dict[str, str] | str | None]:
    """The job's input records from number ``start`` on, each as the job left it.

    A scored record is its row of ``results.arrow`` (:mod:`matcher.stored`: input values and the
    numbers the job computed); a record of the error report is the reason it is skipped
    (``invalid employees``, ``malformed row``); a record that is neither (a blank line) is None.
    """
    reasons = _skip_reasons(job)
    with pa.memory_map(str(jobs.job_dir(job.id) / "results.arrow")) as source:
        reader = ipc.open_file(source)
        batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        scored = (row for batch in batches for row in _rows_from(batch, start))
        end = max(max(reasons, default=-1), _last_record(reader)) + 1
        pending = next(scored, None)
        for record in range(start, end):
            if pending is not None and pending["record"] == record:
                yield pending
                pending = next(scored, None)
            else:
                yield reasons.get(record)


def results_headers(job: BatchJob | SimpleNamespace) -> list[str]:
    """The input headers the job's results file keeps (its ``in0``, ``in1``… columns)."""
    return kept_headers(jobs.job_dir(job.id) / "results.arrow")


def _rows_from(batch: pa.RecordBatch, start: int) -> Iterator[dict]:
    """The rows of a batch of the results file whose record is ``start`` or later."""
    records = batch.column(0).to_numpy()
    first = int(np.searchsorted(records, start))
    if first < batch.num_rows:
        yield from batch.slice(first).to_pylist()


def _last_record(reader) -> int:
    """The last record number of the results file (-1 if it has no rows)."""
    for i in reversed(range(reader.num_record_batches)):
        batch = reader.get_batch(i)
        if batch.num_rows:
            return int(batch.column(0)[-1].as_py())
    return -1


def _skip_reasons(job: BatchJob | SimpleNamespace) -> dict[int, str]:
    """Record number -> why it was not scored, from the job's error report (in the job's output encoding)."""
    report = jobs.job_dir(job.id) / "scored.errors.csv"
    reasons: dict[int, str] = {}
    if not report.exists():
        return reasons
    with open(report, encoding=job.out_encoding or "utf-8", errors="replace", newline="") as handle:
        for row in itertools.islice(csv.reader(handle, delimiter=job.out_delimiter or ","), 1, None):
            if len(row) > 1 and row[0].isdigit():
                column = row[1].split("; ")[0]
                reasons[int(row[0]) - 2] = "malformed row" if column == "(row)" else f"invalid {column}"
    return reasons

"""Start a batch job's attempt, scoring or importing: on the Redis queue, or on this process's threads.

With ``REDIS_URL`` set the attempt goes to the task queue (:mod:`web.taskqueue`) and a
``matcher worker`` runs it; without, a small thread pool of this process does. The runs
themselves are :func:`web.jobs.run` (scoring) and :func:`web.imports.run_import` (importing);
this module sits above both, so neither has to import the other (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for

from flask import current_app

from . import imports, jobs
from .models import BatchJob

log = logging.getLogger("web.jobs")
_pool: ThreadPoolExecutor | None = None
_started: list[Future] = []  # this process's runs not yet seen ended (for wait)
_started_lock = threading.Lock()
#: What runs a task on this process's threads: ``run`` scores the file, ``run_import`` imports its rows.
RUNNERS = {"run": jobs.run, "run_import": imports.run_import}


def submit(job: BatchJob, task: str = "run") -> Future | None:
    """Start the committed job's current attempt: on Redis when ``REDIS_URL`` is set, else on this process.

    ``task`` is ``run`` (score the file) or ``run_import`` (import its rows as leads, :mod:`web.imports`).
    Returns the future of a run on this process's threads, ``None`` for a queued one.
    """
    if current_app.config.get("REDIS_URL"):
        from . import taskqueue  # Redis and RQ only when the app uses them

        try:
            taskqueue.enqueue(job.queue_id or uuid.uuid4().hex, job.id, job.attempts, task)
        except taskqueue.QueueUnavailable as exc:
            log.error("batch job %s: cannot enqueue: %s", job.id, exc)
            jobs.mark_unqueued(job.id, job.attempts, importing=task != "run")
        return None
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=current_app.config.get("BATCH_WORKERS", 2), thread_name_prefix="batch")
    app = current_app._get_current_object()
    jobs.heart.hold(app, job.id, job.attempts)
    future = _pool.submit(RUNNERS[task], app, job.id, job.attempts)
    with _started_lock:
        _started[:] = [f for f in _started if not f.done()]
        _started.append(future)
    return future


def wait(timeout: float = 30.0) -> bool:
    """Wait up to ``timeout`` seconds for the runs started on this process's threads; whether all ended.

    For tests and a clean stop: a run still going when its app's database engine is disposed keeps a
    connection that nothing closes.
    """
    with _started_lock:
        pending = [f for f in _started if not f.done()]
    return not wait_for(pending, timeout=timeout).not_done

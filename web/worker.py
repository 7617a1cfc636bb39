"""Batch jobs on a task queue: RQ on Redis (``REDIS_URL``), run by ``matcher worker`` processes.

The app enqueues ``run_job(job id, attempt)`` on the queue ``BATCH_QUEUE``; a worker forks a
work horse per job, which runs :func:`web.jobs.run` with the app's context. Every process (app
and worker, on any machine) must see the same database and the same ``BATCH_DIR``. When a work
horse dies, the worker marks its job failed at once; otherwise the heartbeat rule of
:mod:`web.jobs` finds it. A worker starting up marks the jobs whose processes died as failed.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from matcher.errors import MatcherError

from . import jobs
from .extensions import db
from .scoring import get_scorer

log = logging.getLogger(__name__)
_connections: dict[tuple[int, str, float], Redis] = {}
REDIS_TIMEOUT = 3.0  # seconds: default of REDIS_TIMEOUT for the app's own Redis calls
WORKER_REDIS_TIMEOUT = 30.0  # the worker's connection: RQ blocks on the queue for longer than a request would
_app: Flask | None = None  # the worker's app, inherited by its forked work horses
WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


class QueueUnavailable(RuntimeError):
    """Redis could not be reached to queue a job."""


def connection(url: str | None = None, timeout: float | None = None) -> Redis:
    """The Redis client for ``url`` (default: the app's ``REDIS_URL``), one per process and timeout.

    ``timeout`` bounds connecting and each command (default: the app's ``REDIS_TIMEOUT``, 3 s, so a
    request never waits long on Redis); the worker's own connection allows RQ's longer blocking pops.
    """
    url = url or current_app.config["REDIS_URL"]
    if timeout is None:
        timeout = float(current_app.config.get("REDIS_TIMEOUT", REDIS_TIMEOUT))
    key = (os.getpid(), url, timeout)
    if key not in _connections:
        _connections[key] = Redis.from_url(url, socket_connect_timeout=min(timeout, 5), socket_timeout=timeout)
    return _connections[key]


def check_redis() -> str:
    """``ok`` if ``REDIS_URL``'s server answers a ping within ``REDIS_TIMEOUT``, ``not configured``
    without ``REDIS_URL``, else ``unreachable`` (for the readiness check)."""
    if not current_app.config.get("REDIS_URL"):
        return "not configured"
    try:
        connection().ping()
        return "ok"
    except RedisError as error:
        log.warning("readiness: Redis unreachable: %s", error)
        return "unreachable"


def queue(config: Any = None) -> Queue:
    """The RQ queue of batch jobs (``BATCH_QUEUE``)."""
    config = config or current_app.config
    return Queue(config.get("BATCH_QUEUE", "matcher-batch"), connection=connection(config["REDIS_URL"]))


TASKS = {"run": "web.worker.run_job", "run_import": "web.worker.run_import_job"}


def enqueue(queue_id: str, job_id: int, attempt: int, task: str = "run") -> None:
    """Put one attempt of a batch job (``task`` run: score it, run_import: import it) on the queue as ``queue_id``."""
    config = current_app.config
    try:
        queue().enqueue(TASKS[task], job_id, attempt, job_id=queue_id,
                        job_timeout=int(config.get("BATCH_JOB_TIMEOUT", 6 * 3600)), result_ttl=3600,
                        failure_ttl=7 * 24 * 3600, description=f"batch job {job_id} attempt {attempt}")
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def waiting(queue_id: str) -> bool:
    """Whether the queue still holds this job, not started yet (True also if Redis cannot be asked now)."""
    try:
        return Job.fetch(queue_id, connection=connection()).get_status() in WAITING
    except NoSuchJobError:
        return False
    except RedisError:
        log.warning("cannot ask Redis about queued job %s", queue_id, exc_info=True)
        return True


def run_job(job_id: int, attempt: int) -> str:
    """The queued function: run one attempt of a batch job (in a work horse of ``matcher worker``)."""
    from . import create_app

    app = _app or create_app(serving=False)  # answers no request: signs no cookie
    with app.app_context():
        db.engine.dispose(close=False)  # pooled connections were opened by the parent process: not ours
    return jobs.run(app, job_id, attempt, kind="rq")


def run_import_job(job_id: int, attempt: int) -> str:
    """The queued function: import a scored batch job's rows as leads (in a work horse)."""
    from . import create_app
    from .imports import run_import

    app = _app or create_app(serving=False)  # answers no request: signs no cookie
    with app.app_context():
        db.engine.dispose(close=False)
    return run_import(app, job_id, attempt, kind="rq")


def _horse_killed(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """In the worker: the work horse running ``job`` died; mark the batch job failed at once."""
    if _app is None or len(job.args) < 2:
        return
    with _app.app_context():
        try:
            if getattr(job, "func_name", "") == TASKS["run_import"]:
                from .imports import mark_stopped

                mark_stopped(*job.args[:2])
            else:
                jobs.mark_stopped(*job.args[:2])
        finally:
            db.session.remove()


def work(app: Flask, burst: bool = False, name: str | None = None) -> bool:
    """Run an RQ worker on the app's queue until stopped (or, with ``burst``, until the queue is empty)."""
    global _app
    if not app.config.get("REDIS_URL"):
        raise MatcherError("REDIS_URL is not set: without it the app processes run batch jobs themselves")
    _app = app
    with app.app_context():
        stopped = jobs.reap_stale()
        if stopped:
            log.warning("%s batch jobs whose process stopped were marked failed", stopped)
        get_scorer()  # fitted once here; each forked work horse inherits it
        db.session.remove()
        db.engine.dispose()  # work horses open connections of their own
        redis = connection(app.config["REDIS_URL"], WORKER_REDIS_TIMEOUT)
        batch_queue = Queue(app.config.get("BATCH_QUEUE", "matcher-batch"), connection=redis)
        mail_queue = Queue(app.config.get("MAIL_QUEUE", "matcher-mail"), connection=redis)  # first: quick jobs
        rq_worker = Worker([mail_queue, batch_queue], connection=redis, name=name,
                           work_horse_killed_handler=_horse_killed)
    print(f"worker {rq_worker.name} on queues {app.config['MAIL_QUEUE']}, {app.config['BATCH_QUEUE']} "
          "(Ctrl+C to stop)", file=sys.stderr)
    return rq_worker.work(burst=burst, logging_level="INFO", with_scheduler=False)

"""The Redis task queue of batch jobs (RQ): the connection, putting a job on it, asking about a job.

The app side of :mod:`web.worker`: app processes enqueue here and ``matcher worker`` processes
run what they find. Nothing here runs a job, so :mod:`web.jobs` can ask the queue without importing
the worker (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from .appstate import app_state

log = logging.getLogger(__name__)
REDIS_TIMEOUT = 3.0  # seconds: default of REDIS_TIMEOUT for the app's own Redis calls
WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
#: The functions a work horse runs, by task name (named, not imported: the worker imports them).
TASKS = {"run": "web.worker.run_job", "run_import": "web.worker.run_import_job"}


class QueueUnavailable(RuntimeError):
    """Redis could not be reached to queue a job."""


def connection(url: str | None = None, timeout: float | None = None) -> Redis:
    """The Redis client for ``url`` (default: the app's ``REDIS_URL``), one per app, process and timeout
    (kept by the app's state, ``redis``: a forked work horse makes its own).

    ``timeout`` bounds connecting and each command (default: the app's ``REDIS_TIMEOUT``, 3 s, so a
    request never waits long on Redis); the worker's own connection allows RQ's longer blocking pops.
    """
    url = url or current_app.config["REDIS_URL"]
    if timeout is None:
        timeout = float(current_app.config.get("REDIS_TIMEOUT", REDIS_TIMEOUT))
    return app_state().redis.get_or_build(
        (os.getpid(), url, timeout),
        lambda: Redis.from_url(url, socket_connect_timeout=min(timeout, 5), socket_timeout=timeout),
    )


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


def enqueue(queue_id: str, job_id: int, attempt: int, task: str = "run") -> None:
    """Put one attempt of a batch job (``task`` run: score it, run_import: import it) on the queue as ``queue_id``."""
    config = current_app.config
    try:
        queue().enqueue(
            TASKS[task],
            job_id,
            attempt,
            job_id=queue_id,
            job_timeout=int(config.get("BATCH_JOB_TIMEOUT", 6 * 3600)),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"batch job {job_id} attempt {attempt}",
        )
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


#: Redis key (per queue) holding the queue id of the last ranks computation put on that queue.
RANKS_LAST = "matcher:ranks:last:{queue}"


def enqueue_ranks(config: Any = None) -> None:
    """Put a computation of the stored ranks (:mod:`web.ranks`) on the queue, unless one already waits there."""
    config = config or current_app.config
    try:
        redis, batch_queue = connection(config["REDIS_URL"]), queue(config)
        key = RANKS_LAST.format(queue=batch_queue.name)
        last = redis.get(key)
        if last is not None and waiting(last.decode()):
            return
        queue_id = f"ranks-{uuid.uuid4().hex}"
        batch_queue.enqueue(
            "web.worker.run_ranks_job",
            job_id=queue_id,
            result_ttl=600,
            failure_ttl=24 * 3600,
            job_timeout=int(config.get("RANKS_JOB_TIMEOUT", 3600)),
            description="stored ranks",
        )
        redis.set(key, queue_id, ex=24 * 3600)
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc

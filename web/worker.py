"""Batch jobs on a task queue: RQ on Redis (``REDIS_URL``), run by ``matcher worker`` processes.

The app enqueues ``run_job(job id, attempt)`` on the queue ``BATCH_QUEUE`` (:mod:`web.taskqueue`);
a worker forks a work horse per job, which runs :func:`web.jobs.run` with the app's context. Every
process (app and worker, on any machine) must see the same database and the same ``BATCH_DIR``.
When a work horse dies, the worker marks its job failed at once; otherwise the heartbeat rule of
:mod:`web.jobs` finds it. A worker starting up marks the jobs whose processes died as failed.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask
from rq import Queue, Worker
from rq.job import Job

from matcher.errors import MatcherError

from . import jobs
from .extensions import db
from .scoring import get_scorer
from .taskqueue import TASKS, connection

log = logging.getLogger(__name__)
WORKER_REDIS_TIMEOUT = 30.0  # the worker's connection: RQ blocks on the queue for longer than a request would
_app: Flask | None = None  # the worker's app, inherited by its forked work horses


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


def run_ranks_job() -> list[str]:
    """The queued function: compute the stored ranks that are due (in a work horse)."""
    from . import create_app, ranks

    app = _app or create_app(serving=False)
    ranks.yield_cpu(app)  # this work horse is a process of its own: requests served meanwhile go first
    with app.app_context():
        db.engine.dispose(close=False)
    return ranks.run(app)


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


def send_mail_job(message: dict[str, Any]) -> None:
    """The queued e-mail (:mod:`web.mail`): send one message with the worker's app settings."""
    from flask import has_app_context

    from .mail import deliver

    if has_app_context():
        deliver(message)
        return
    app = _app
    if app is None:
        from . import create_app

        app = create_app(serving=False)
    with app.app_context():
        deliver(message)


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
        rq_worker = Worker(
            [mail_queue, batch_queue], connection=redis, name=name, work_horse_killed_handler=_horse_killed
        )
    print(
        f"worker {rq_worker.name} on queues {app.config['MAIL_QUEUE']}, {app.config['BATCH_QUEUE']} (Ctrl+C to stop)",
        file=sys.stderr,
    )
    return rq_worker.work(burst=burst, logging_level="INFO", with_scheduler=False)

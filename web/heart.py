"""The heartbeat of batch jobs: one daemon thread per process writes ``heartbeat_at`` of every job it holds.

A process holds a job from the moment it takes it (queued on its threads, or running it, or
importing it) until the run ends; :mod:`web.jobs` reads the heartbeat to tell a live job from
one whose process stopped.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, current_app
from sqlalchemy import or_, update

from .extensions import db
from .models import BatchJob, utcnow

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running")


def stale_after(config=None) -> float:
    """Seconds without a heartbeat after which a queued or running job counts as stopped."""
    return float((config or current_app.config).get("BATCH_STALE_AFTER", 30.0))


def beat_every(config) -> float:
    """Seconds between heartbeats: ``BATCH_HEARTBEAT_EVERY``, and at least three per stale timeout."""
    return max(0.05, min(float(config.get("BATCH_HEARTBEAT_EVERY", 2.0)), stale_after(config) / 3))


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

    def holds(self, job_id: int, attempt: int) -> bool:
        """Whether this process beats for this attempt (it has it queued or running)."""
        with self._lock:
            return self._pid == os.getpid() and (job_id, attempt) in self._held

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
                        statement = (
                            update(BatchJob)
                            .where(
                                BatchJob.id == job_id,
                                BatchJob.attempts == attempt,
                                or_(BatchJob.state.in_(ACTIVE), BatchJob.import_state.in_(ACTIVE)),
                            )
                            .values(heartbeat_at=utcnow())
                        )
                        db.session.execute(statement, execution_options={"synchronize_session": False})
                    db.session.commit()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 -- a missed beat is retried; the database may be briefly away
            log.warning("batch heartbeat failed for %s", keys, exc_info=True)


heart = _Heart()

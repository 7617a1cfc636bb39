"""Ranks and their robustness, stored with the leads and computed in the background.

The list and lead pages read each lead's stored :class:`~web.models.LeadRank` (one row per
lead, joined by primary key) and never compute a ranking on a request. The computation runs
in the background: on the RQ queue when ``REDIS_URL`` is set (``matcher worker``), on a
thread of the app process otherwise. One :func:`work` call does what is due:

- a **full run** when the weights version or a ranking setting differs from the one the
  stored ranks are for (or when the leads ranked on their own since the last full run exceed
  ``RANKS_REFRESH_SHARE`` of it): every lead's sub-scores, then
  :func:`matcher.robustness.rank_robustness` over all of them (a block of distinct rows at a
  time, so memory stays under ``RANKS_MEMORY_MB``), written in one transaction;
- an **incremental run** for leads without a stored rank (new leads, or a lead whose evidence
  changed): their sub-scores only, ranked against the stored sub-scores of the others with
  the same weightings (``rows=`` of ``rank_robustness``). The others keep their ranks and
  their "as of" time until the next full run.

One computation at a time across processes: :func:`work` first takes a lease on the one
:class:`~web.models.RankState` row with a conditional UPDATE (SQLite and PostgreSQL alike),
renews it between steps and gives it back at the end; a lease left by a process that died
runs out after ``RANKS_LEASE_SECONDS``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from flask import Flask, current_app, g, has_request_context
from sqlalchemy import Text, cast, delete, event, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from matcher.robustness import QUANTILES, rank_robustness

from .appstate import app_state
from .extensions import db, read_rows
from .models import Lead, LeadRank, RankState, WeightsVersion, utcnow
from .versions import get_setting, scorer_for, snapshot

log = logging.getLogger(__name__)
STATE_ID = 1
CHUNK = 2000  # leads loaded and scored at a time
WRITE_CHUNK = 5000  # rank rows per INSERT
DEFAULTS = {
    "RANKS_LEASE_SECONDS": 300.0,
    "RANKS_MEMORY_MB": 128,
    "RANKS_REFRESH_SHARE": 0.1,
    "RANKS_BACKGROUND": True,
    "RANKS_MIN_INTERVAL": 10.0,
    "RANKS_JOB_SECONDS": 120.0,
    "RANKS_NICE": 10,  # scheduling niceness of a computation in a process of its own (an RQ work horse)
}
_pool: ThreadPoolExecutor | None = None
_futures: list[Future] = []
_pool_lock = threading.Lock()


def setting(key: str) -> Any:
    """A ``RANKS_*`` setting of the app, or its default."""
    return current_app.config.get(key, DEFAULTS[key])


# --- what the stored ranks are for ---------------------------------------------------------------


def current_key() -> str:
    """The weights version and ranking settings a full run computes for, as one string."""
    snap = snapshot()
    return "|".join(
        str(x)
        for x in (
            snap.id,
            snap.fingerprint,
            float(get_setting("spread")),
            int(get_setting("top_k")),
            float(get_setting("unverified_factor")),
            int(get_setting("n_samples")),
        )
    )


def state() -> RankState:
    """The row saying what the stored ranks are for (made if a database lacks it)."""
    row = db.session.get(RankState, STATE_ID)
    if row is None:  # made on first use (not by the migration: a database to restore into must be empty)
        with suppress(IntegrityError), db.session.begin_nested():  # IntegrityError: another process made it first
            db.session.add(RankState(id=STATE_ID, n_leads=0, n_added=0))
        row = db.session.get(RankState, STATE_ID)
    return row


_READ = object()


def overview(found: Any = _READ) -> dict[str, Any]:
    """What the list shows about the stored ranks: as of when, for which version, and whether a run is due.

    Two primary-key lookups and the state row's columns (:data:`OVERVIEW_COLUMNS`), in one statement built
    once per process: cheap enough for every list request. The largest lead id it reads is the request's
    :func:`web.listing.last_id` too (one statement fewer for the list). ``found``: that row, read by the
    caller with other figures (:func:`web.workspace.list_shell`; None: no state row yet).
    """
    if found is _READ:
        found = read_rows(_OVERVIEW).first()  # columns only: not through the ORM's execution (a fifth of the CPU)
    if found is None:
        return {"as_of": None, "version": None, "due": True, "n_leads": 0, "running": False}
    if has_request_context() and "matcher_last_lead" not in g:
        g.matcher_last_lead = found.last_lead or 0
    due = found.key != current_key() or (found.last_lead or 0) > (found.last_ranked or 0)
    return {
        "as_of": found.as_of,
        "version": found.version_label,
        "due": due,
        "n_leads": found.n_leads + found.n_added,
        "top_k": found.top_k,
        "spread": found.spread,
        "running": found.holder is not None and found.held_until is not None and found.held_until > utcnow(),
    }


#: The columns :func:`overview` reads, of the state row (``RankState.id == STATE_ID``).
OVERVIEW_COLUMNS = (
    *(getattr(RankState, c) for c in ("key", "as_of", "version_label", "n_leads", "n_added", "top_k", "spread")),
    RankState.holder,
    RankState.held_until,
    select(func.max(Lead.id)).scalar_subquery().label("last_lead"),
    select(func.max(LeadRank.lead_id)).scalar_subquery().label("last_ranked"),
)
_OVERVIEW = select(*OVERVIEW_COLUMNS).where(RankState.id == STATE_ID)


def stored_for(leads: list[Lead], info: dict[str, Any] | None = None) -> dict[int, dict[str, Any]]:
    """Per lead id among ``leads``: its stored rank, interval, share in the top k and "as of" time.

    Reads ``lead.rank`` (join it in the list's query: ``joinedload(Lead.rank)``) and the state row,
    or the :func:`overview` ``info`` read after the ranks by the same request.
    """
    if not leads:
        return {}
    return stored_from([(lead.id, lead.rank) for lead in leads], info)  # ranks first: then their run's state


def stored_from(found: list[tuple[int, Any]], info: dict[str, Any] | None = None) -> dict[int, dict[str, Any]]:
    """:func:`stored_for` of (lead id, rank) pairs already read; a rank is a :class:`LeadRank` or any object
    with its ``p_top_k``, ``low``, ``high``, ``median``, ``base`` and ``as_of`` (None: not ranked yet)."""
    if info is not None:
        top_k, spread, version = info.get("top_k"), info.get("spread"), info.get("version")
    else:
        row = db.session.get(RankState, STATE_ID)
        top_k, spread, version = (row.top_k, row.spread, row.version_label) if row is not None else (None,) * 3
    return {
        lead_id: {
            "p_top_k": r.p_top_k,
            "low": r.low,
            "high": r.high,
            "median": r.median,
            "base": r.base,
            "top_k": top_k,
            "spread": spread,
            "as_of": r.as_of,
            "version": version,
            "coverage": QUANTILES[-1] - QUANTILES[0],  # the share of weightings between low and high
        }
        for lead_id, r in found
        if r is not None
    }


# --- one computation at a time: a lease on the state row --------------------------------------------


def holder_name() -> str:
    """A name for one computation: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def acquire(name: str) -> bool:
    """Take the lease for ``name`` if nobody holds it (or the holder's ran out); commits; whether taken."""
    state()
    now = utcnow()
    statement = (
        update(RankState)
        .where(
            RankState.id == STATE_ID,
            or_(RankState.holder.is_(None), RankState.held_until.is_(None), RankState.held_until < now),
        )
        .values(holder=name, held_until=now + timedelta(seconds=float(setting("RANKS_LEASE_SECONDS"))))
    )
    taken = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1
    db.session.commit()
    return taken


def renew(name: str) -> bool:
    """Extend ``name``'s lease; commits; False if it lost it (ran out and taken over)."""
    statement = (
        update(RankState)
        .where(RankState.id == STATE_ID, RankState.holder == name)
        .values(held_until=utcnow() + timedelta(seconds=float(setting("RANKS_LEASE_SECONDS"))))
    )
    held = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount == 1
    db.session.commit()
    return held


def release(name: str) -> None:
    """Give the lease back (if ``name`` still holds it); commits."""
    db.session.rollback()
    db.session.execute(
        update(RankState)
        .where(RankState.id == STATE_ID, RankState.holder == name)
        .values(holder=None, held_until=None),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()


class LeaseLost(RuntimeError):
    """The lease ran out during a computation and another process took it: this one stops, storing nothing."""


def _keep(name: str) -> None:
    if not renew(name):
        raise LeaseLost(name)


# --- the computation ----------------------------------------------------------------------------------


def _fresh_settings() -> None:
    """Read the current version and settings again (a job runs longer than one request's snapshot)."""
    for key in ("snapshot", "weights_version", "scorer"):
        g.pop(key, None)


def _version() -> WeightsVersion:
    return db.session.get(WeightsVersion, snapshot().id)


def _rows_of(lead_ids: list[int], version: WeightsVersion, factor: float) -> np.ndarray:
    """Sub-score rows of the leads ``lead_ids`` (in this order), loaded and scored a chunk at a time."""
    from .ranking import subscore_rows

    parts = []
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start : start + CHUNK]
        leads = (
            db.session.execute(
                select(Lead).options(selectinload(Lead.evidence)).where(Lead.id.in_(chunk)).order_by(Lead.id)
            )
            .scalars()
            .all()
        )
        by_id = {lead.id: lead for lead in leads}
        found = [by_id[i] for i in chunk if i in by_id]
        parts.append((np.array([lead.id for lead in found], dtype=np.int64), subscore_rows(found, version, factor)))
        db.session.expunge_all()  # the objects are done with: memory stays one chunk's
    ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    width = len(scorer_for(version, (), 1.0).config_.criteria)
    matrix = np.vstack([p[1] for p in parts]) if parts else np.zeros((0, width))
    return ids, matrix


def _robustness(
    matrix: np.ndarray,
    weights: np.ndarray,
    rows: np.ndarray,
    n_samples: int,
    spread: float,
    top_k: int,
    name: str,
    counts: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """rank_robustness for ``rows`` of ``matrix`` (each row standing for ``counts`` leads, default 1), a block
    of distinct rows at a time within the memory budget."""
    distinct, first, inverse = np.unique(matrix[rows], axis=0, return_index=True, return_inverse=True)
    wanted = rows[first]
    block = max(1, int(setting("RANKS_MEMORY_MB")) * 2**20 // (4 * n_samples))
    n_distinct = len(distinct) if len(rows) == len(matrix) else len(np.unique(matrix, axis=0))
    # weightings ranked at once: few distinct rows would make the default chunk's score histogram
    # (one bin per grid step and weighting) take hundreds of MB; 256 keeps it near 40 MB
    chunk = min(256, max(8, (1 << 18) // max(1, n_distinct)))
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("base", "low", "median", "high", "p_top_k")}
    for start in range(0, len(wanted), block):
        result = rank_robustness(
            matrix,
            weights,
            n_samples=n_samples,
            spread=spread,
            top_k=top_k,
            random_state=0,
            rows=wanted[start : start + block],
            chunk_size=chunk,
            counts=counts,
        )
        for key, values in (
            ("base", result.base_rank),
            ("low", result.rank_low),
            ("median", result.rank_median),
            ("high", result.rank_high),
            ("p_top_k", result.p_top_k),
        ):
            out[key].append(values)
        _keep(name)
    return {key: np.concatenate(parts)[inverse.reshape(-1)] for key, parts in out.items()}


def _rank_rows(
    ids: np.ndarray, matrix: np.ndarray, figures: dict[str, np.ndarray], start: int, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "lead_id": int(ids[start + i]),
            "base": int(figures["base"][i]),
            "low": int(figures["low"][i]),
            "median": int(figures["median"][i]),
            "high": int(figures["high"][i]),
            "p_top_k": float(figures["p_top_k"][i]),
            "subscores": [float(x) for x in matrix[start + i]],
            "as_of": now,
        }
        for i in range(len(ids) - start)
    ]


def _insert(rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), WRITE_CHUNK):
        db.session.execute(insert(LeadRank), rows[start : start + WRITE_CHUNK])


def full_run(name: str) -> int:
    """Rank every lead under the current version and settings, store it all at once; the leads ranked."""
    key, version = current_key(), _version()
    factor, n_samples = float(get_setting("unverified_factor")), int(get_setting("n_samples"))
    spread, top_k = float(get_setting("spread")), int(get_setting("top_k"))
    lead_ids = list(db.session.execute(select(Lead.id).order_by(Lead.id)).scalars())
    ids, matrix = _rows_of(lead_ids, version, factor)
    _keep(name)
    weights = np.asarray(scorer_for(version, (), 1.0).weights_, dtype=np.float64)
    figures = _robustness(matrix, weights, np.arange(len(ids)), n_samples, spread, top_k, name) if len(ids) else {}
    now = utcnow()
    db.session.execute(delete(LeadRank))
    if len(ids):
        _insert(_rank_rows(ids, matrix, figures, 0, now))
    row = state()
    row.key, row.version_label, row.spread, row.top_k, row.n_samples = key, version.label, spread, top_k, n_samples
    row.n_leads, row.n_added, row.as_of, row.ranked_at = len(ids), 0, now, now
    _commit_holding(name)
    return len(ids)


def _commit_holding(name: str) -> None:
    """Commit only while ``name`` still holds the lease (the check locks the state row until the commit)."""
    held = (
        db.session.execute(
            update(RankState)
            .where(RankState.id == STATE_ID, RankState.holder == name)
            .values(held_until=utcnow() + timedelta(seconds=float(setting("RANKS_LEASE_SECONDS")))),
            execution_options={"synchronize_session": False},
        ).rowcount
        == 1
    )
    if not held:
        db.session.rollback()
        raise LeaseLost(name)
    db.session.commit()


def unranked(limit: int = CHUNK) -> list[int]:
    """Ids of leads without a stored rank (new, or changed since), oldest first."""
    query = (
        select(Lead.id)
        .outerjoin(LeadRank, LeadRank.lead_id == Lead.id)
        .where(LeadRank.lead_id.is_(None))
        .order_by(Lead.id)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def stored_groups(width: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct sub-score rows of the ranked leads and how many leads have each: the database groups
    them, so 100,000 leads of a few thousand distinct answers cost a few thousand rows to read (reading and
    parsing every row took 0.7 s of CPU per incremental run at 100,000 leads; 4 s before with a JSON parse each)."""
    text = cast(LeadRank.subscores, Text)
    found = db.session.execute(
        select(text, func.count()).join(Lead, Lead.id == LeadRank.lead_id).group_by(text).order_by(text)
    ).all()
    rows = json.loads("[" + ",".join(row[0] for row in found) + "]") if found else []
    counts = np.array([row[1] for row in found], dtype=np.int64)
    return np.array(rows, dtype=np.float64).reshape(len(rows), width), counts


def incremental_run(name: str, new_ids: list[int]) -> int:
    """Rank ``new_ids`` against the stored sub-scores of the ranked leads; the others keep theirs."""
    row = state()
    version = db.session.get(WeightsVersion, int(row.key.split("|")[0]))
    ids, fresh = _rows_of(new_ids, version, float(row.key.split("|")[4]))
    if not len(ids):
        return 0
    old, counts = stored_groups(fresh.shape[1])
    matrix = np.vstack([old, fresh])
    counts = np.concatenate([counts, np.ones(len(fresh), dtype=np.int64)])
    weights = np.asarray(scorer_for(version, (), 1.0).weights_, dtype=np.float64)
    rows = np.arange(len(old), len(matrix))
    figures = _robustness(matrix, weights, rows, row.n_samples, row.spread, row.top_k, name, counts)
    _insert(_rank_rows(np.concatenate([np.zeros(len(old), dtype=np.int64), ids]), matrix, figures, len(old), utcnow()))
    row = state()
    row.n_added, row.ranked_at = row.n_added + len(ids), utcnow()
    _commit_holding(name)
    return len(ids)


def _full_due(row: RankState) -> bool:
    if row.key != current_key():
        return True
    return row.n_added > max(100, float(setting("RANKS_REFRESH_SHARE")) * row.n_leads)


def step(name: str) -> str:
    """Do the next thing due (``full``, ``incremental``) while holding the lease; ``""`` when nothing is."""
    _fresh_settings()
    db.session.rollback()  # a new transaction: see what other processes committed
    if _full_due(state()):
        full_run(name)
        return "full"
    if not unranked(1):
        return ""
    _pause(name)  # leads arriving one by one are ranked together, every RANKS_MIN_INTERVAL seconds at most
    incremental_run(name, unranked())
    return "incremental"


def _pause(name: str) -> None:
    """Wait (holding the lease) until ``RANKS_MIN_INTERVAL`` seconds have passed since the last run ended."""
    last = state().ranked_at
    db.session.rollback()
    if last is not None:
        wait = (last - utcnow()).total_seconds() + float(setting("RANKS_MIN_INTERVAL"))
        if wait > 0:
            time.sleep(wait)
            _keep(name)


def due() -> bool:
    """Whether a computation is due (cheap: the state row and two primary-key lookups)."""
    _fresh_settings()
    db.session.rollback()
    return overview()["due"]


def work() -> list[str]:
    """Compute what is due, if no other process is computing (in an app context); the steps done.

    Returns ``["busy"]`` when another computation holds the lease: that one sees the same work.
    """
    done: list[str] = []
    deadline = time.monotonic() + float(setting("RANKS_JOB_SECONDS"))  # then a new job (queued meanwhile) goes on
    while time.monotonic() < deadline:
        name = holder_name()
        if not acquire(name):
            return done or ["busy"]
        try:
            while time.monotonic() < deadline:
                did = step(name)
                if not did:
                    break
                done.append(did)
        except LeaseLost:
            log.warning("ranks: the lease ran out during a computation and was taken over; nothing stored")
            return [*done, "lost"]
        finally:
            release(name)
        if not due():  # a lead added just before the release was seen by nobody: look again
            break
    return done


def yield_cpu(app: Flask) -> None:
    """Lower this process's CPU priority to ``RANKS_NICE`` (never raise it), for a computation in a process of
    its own: the pages served meanwhile go first. At 100,000 leads a new lead's ranking takes 0.6 s of CPU on
    both cores; at the default priority the lead list's requests of that second waited up to 230 ms (16
    clients, 2 cores), which was the list's p99. Not for a thread of the app process: a thread waiting for
    the CPU while it holds the interpreter lock would hold up the requests instead."""
    target = min(19, int(app.config.get("RANKS_NICE", DEFAULTS["RANKS_NICE"])))
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < target:
            os.setpriority(os.PRIO_PROCESS, 0, target)
    except OSError as exc:
        log.warning("ranks: cannot lower the priority of the computation: %s", exc)


def run(app: Flask) -> list[str]:
    """:func:`work` in an app context of its own (a thread of the app process, or an RQ work horse)."""
    with app.app_context():
        db.session.info[SERIAL] = True  # this context's session is the computation's own: see _serial
        try:
            return work()
        except RuntimeError as exc:
            if sys.is_finalizing() or "interpreter shutdown" in str(exc):  # the process is exiting: nothing to say
                log.info("ranks: stopped, the process is exiting")
                return ["stopped"]
            log.exception("ranks: computation failed")
            return ["failed"]
        except Exception:  # noqa: BLE001 -- a background computation must not kill its thread; the next one retries
            log.exception("ranks: computation failed")
            return ["failed"]
        finally:
            _end_session()


def _end_session() -> None:
    """Close the computation's session even when its connection died (the ROLLBACK of closing then fails: the
    connection is dropped and nothing is left to undo); the session leaves the registry either way."""
    try:
        db.session.remove()
    except Exception as exc:  # noqa: BLE001 -- a background thread's cleanup must not raise
        log.warning("ranks: the database connection was lost; the computation's session is dropped: %s", exc)
        db.session.registry.clear()


# --- starting a computation ----------------------------------------------------------------------


def schedule(app: Flask | None = None) -> None:
    """Start a computation in the background: on the RQ queue with ``REDIS_URL``, else on this process's thread.

    A thread computation already waiting to start is enough: it will see the new work.
    """
    app = app or current_app._get_current_object()
    if not app.config.get("RANKS_BACKGROUND", DEFAULTS["RANKS_BACKGROUND"]):
        return
    if app.config.get("REDIS_URL"):
        from . import taskqueue

        try:
            taskqueue.enqueue_ranks(app.config)
        except taskqueue.QueueUnavailable as exc:
            log.warning("ranks: cannot enqueue a computation: %s", exc)
        return
    global _pool
    with _pool_lock:
        _futures[:] = [f for f in _futures if not f.done()]
        if any(not f.running() for f in _futures):
            return
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ranks")
        _futures.append(_pool.submit(run, app))


def ensure(found: Any = _READ) -> dict[str, Any]:
    """The :func:`overview` of the stored ranks (of the row ``found``, if read), starting a computation when
    one is due."""
    info = overview(found)
    if info["due"] and not info["running"] and _first_in_a_second():
        schedule()
    return info


def _first_in_a_second() -> bool:
    """Whether no list view of this app process asked for a computation within the last second (while new
    leads wait, every view finds one due: asking the queue once a second is enough)."""
    own = app_state()
    now = time.monotonic()
    with _pool_lock:
        if now - own.ranks_asked < 1.0:
            return False
        own.ranks_asked = now
    return True


def wait(timeout: float = 60.0) -> None:
    """Wait for this process's computations (tests, and a clean stop)."""
    with _pool_lock:
        pending = list(_futures)
    for future in pending:
        future.result(timeout=timeout)


def mark(session: Session | None = None) -> None:
    """Start a computation once ``session`` (default ``db.session``) commits: the leads or the weights changed."""
    (session or db.session).info["ranks_due"] = True


#: A session whose transactions run their statements without PostgreSQL's parallel workers (:func:`_serial`).
SERIAL = "ranks_serial"


@event.listens_for(Session, "after_begin")
def _serial(session: Session, _transaction, connection) -> None:
    """The computation's statements on one core: without this, PostgreSQL spreads its scans and groupings over
    parallel workers on every core (the unranked-lead anti-join and the grouped read took both cores of the
    benchmark machine for 40-140 ms each), and the pages served meanwhile wait for them. ``SET LOCAL`` ends
    with the transaction: a pooled connection goes back to the requests as it was."""
    if session.info.get(SERIAL) and connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("ranks_due", False):
        try:
            schedule()
        except RuntimeError:  # no app context (a script's own session): the next list view starts it
            log.debug("ranks: no app to schedule on", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("ranks_due", None)

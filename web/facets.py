"""Facet counts beside the lead list's sector filter: leads per detected sector (main or secondary).

Under other filters the counts are computed for that query. Without filters (the first view of
``/leads``, the most frequent) they are a GROUP BY over all of ``lead_sectors``, which costs tens
of milliseconds at 100,000 leads; that result is kept per process for ``FACETS_CACHE_SECONDS``
(default 30) and dropped at once when this process commits a change to leads or their sectors.
Another process's change shows within that time.
"""

from __future__ import annotations

import threading
import time

from flask import current_app
from sqlalchemy import event, func
from sqlalchemy.orm import Session

from .extensions import db
from .models import Lead, LeadSector

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, int]]] = {}  # database URL -> (when, counts)


def sector_facets(f: dict, filtered_query) -> dict[str, int]:
    """How many leads matching the other filters have each sector among their detected ones.

    ``filtered_query``: the list's query for a dict of filters (:func:`web.leads.filtered_query`).
    """
    others = {key: value for key, value in f.items() if key not in ("sector", "sort", "dir") and value}
    if others:
        matching = filtered_query({**f, "sector": ""}).order_by(None).with_only_columns(Lead.id)
        return _count(LeadSector.lead_id.in_(matching))
    return _all_counts()


def _count(*conditions) -> dict[str, int]:
    query = db.select(LeadSector.sector, func.count()).where(*conditions).group_by(LeadSector.sector)
    return {sector: count for sector, count in db.session.execute(query)}  # noqa: C416 -- rows, not pairs


def _all_counts() -> dict[str, int]:
    """Counts over every lead, from this process's cache while fresh."""
    ttl = float(current_app.config.get("FACETS_CACHE_SECONDS", 30))
    key = str(db.engine.url)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        return dict(hit[1])
    counts = _count()
    with _lock:
        _cache[key] = (time.monotonic(), counts)
    return dict(counts)


def clear() -> None:
    """Forget every cached count (this process)."""
    with _lock:
        _cache.clear()


@event.listens_for(Session, "after_flush")
def _note_change(session: Session, _context) -> None:
    """A flush that adds, changes or deletes leads or sector rows: drop the counts once it commits."""
    if any(isinstance(obj, Lead | LeadSector) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["facets_stale"] = True


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session: Session) -> None:
    if session.info.pop("facets_stale", False):
        clear()


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    session.info.pop("facets_stale", None)

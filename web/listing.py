"""The order of the lead list, chosen so that an index serves it (``/leads`` and ``GET /api/v1/leads``).

Each sort is one column with the id as tie-break, both in the same direction: an index on
``(column, id)`` (:class:`web.models.Lead`) then gives any page in order by reading it forwards
or backwards, on SQLite and PostgreSQL alike, and rows with equal values (ties on the score)
keep one fixed order from page to page. The score sorts by ``sort_score``, the score as a
non-null key: ``score DESC NULLS LAST``, which PostgreSQL needs to put unscored leads last,
cannot be read from an index on the score (56 ms against 1.6 ms at 100,000 leads).

The number of matching leads (the list's heading, the API's ``total``) needs a scan of every
match: 40-120 ms at 100,000 leads. :func:`paginate` keeps it per app process and query while no
lead is added (the largest id, one index lookup, says so), for ``LEADS_COUNT_SECONDS`` at most
(default 10): a change of status or a deletion shows in the total within that time.
"""

from __future__ import annotations

import threading
import time

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select

from .extensions import db
from .models import Lead

_LOCK = threading.Lock()

#: Sort keys of the list and their column.
SORTS = {"score": Lead.sort_score, "name": Lead.name, "completeness": Lead.completeness, "status": Lead.status,
         "created": Lead.created_at, "sector": Lead.sector, "band": Lead.band}
#: Sorts that start with the smallest value unless told otherwise.
ASCENDING = ("name", "sector", "status")
#: Columns that may be empty and have no index: empty values go last on PostgreSQL as on SQLite.
NULLABLE = ("completeness", "sector", "band")


def sort_key(f: dict) -> tuple[str, bool]:
    """The sort of the filters ``f`` (score by default) and whether it is descending."""
    key = f.get("sort") if f.get("sort") in SORTS else "score"
    return key, (f.get("dir") or ("asc" if key in ASCENDING else "desc")) == "desc"


def ordering(f: dict) -> list:
    """The ORDER BY of the list: the sort column, then the id in the same direction."""
    key, descending = sort_key(f)
    column = SORTS[key]
    order = column.desc() if descending else column.asc()
    if key in NULLABLE and descending and db.engine.dialect.name == "postgresql":
        order = order.nulls_last()
    return [order, Lead.id.desc() if descending else Lead.id.asc()]


def paginate(query: Select, page: int, per_page: int) -> Pagination:
    """Page ``page`` of ``query`` (at most 200 a page; past the end: empty), with its total from :func:`total`."""
    result = db.paginate(query, page=page, per_page=per_page, max_per_page=200, error_out=False, count=False)
    result.total = total(query)
    return result


def total(query: Select) -> int:
    """How many rows ``query`` gives: counted, or remembered while no lead was added (see the module)."""
    seconds = float(current_app.config.get("LEADS_COUNT_SECONDS", 10.0))
    counted = query.order_by(None)
    if seconds <= 0:
        return _count(counted)
    compiled = counted.compile(db.engine)
    key = (str(compiled), repr(sorted(compiled.params.items())))
    last = db.session.execute(select(func.max(Lead.id))).scalar() or 0
    cache = current_app.extensions.setdefault("matcher.list_counts", {})
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[1] == last and now - hit[0] < seconds:
        return hit[2]
    n = _count(counted)
    with _LOCK:
        if len(cache) > 256:  # many filter sets: forget them all rather than grow
            cache.clear()
        cache[key] = (now, last, n)
    return n


def _count(query: Select) -> int:
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()

"""Pages of the lead list (``/leads`` and ``GET /api/v1/leads``), served by indexes, and their totals.

Each sort is one column with the id as tie-break, both in the same direction: an index on
``(column, id)`` (:class:`web.models.Lead`) gives the rows in order on SQLite and PostgreSQL
alike, and rows with equal values (ties on the score) keep one fixed order from page to page.
The score sorts by ``sort_score``, the score as a non-null key (``score DESC NULLS LAST`` cannot
be read from an index on the score: 56 ms against 1.6 ms at 100,000 leads). Pages are keyset
pages (:mod:`web.keyset`): ``?after=`` / ``?before=`` a cursor, never ``OFFSET``. ``?page=N``
still works for clients that page by number (``OFFSET``: slower the further down the list).

The number of matching leads (the list's heading, the API's ``total``) needs a scan of every
match: 40-120 ms at 100,000 leads under load. :func:`total` counts it once per query and app
(in the app's state, :mod:`web.appstate`), then keeps it for ``LEADS_COUNT_SECONDS`` (default 30)
and adds the leads added since, which it counts among the new ids only (an index range of a few
rows). So a new lead shows at once; a change of status or a deletion shows within that time (the
list says when it counted). While one thread counts again, the others use the previous figure.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, g, has_app_context
from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session

from . import keyset
from .appstate import app_state
from .audit import acting_user
from .extensions import db
from .models import Lead, LeadSector, utcnow

SORTS = keyset.SORTS
#: Sorts that start with the smallest value unless told otherwise.
ASCENDING = ("name", "sector", "status")
COUNT_SECONDS = 30.0


def sort_key(f: dict) -> tuple[str, bool]:
    """The sort of the filters ``f`` (score by default) and whether it is descending."""
    key = f.get("sort") if f.get("sort") in SORTS else "score"
    return key, (f.get("dir") or ("asc" if key in ASCENDING else "desc")) == "desc"


def ordering(f: dict) -> list:
    """The ORDER BY of the list: the sort column (empty values as the smallest), then the id in the same direction."""
    key, descending = sort_key(f)
    column = SORTS[key]
    order = column.desc() if descending else column.asc()
    if key in keyset.NULLABLE and db.engine.dialect.name == "postgresql":  # SQLite sorts NULL as the smallest
        order = order.nulls_last() if descending else order.nulls_first()
    return [order, Lead.id.desc() if descending else Lead.id.asc()]


@dataclass
class Page:
    """One page of the list: its leads, where it starts, and the cursors of the pages beside it."""

    items: list  # Lead objects, or rows of the columns the query selects
    per_page: int
    first: int  # position of the first item in the whole list (1 = the top)
    total: int
    counted_at: datetime | None
    next_cursor: str | None = None
    prev_cursor: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1

    @property
    def page(self) -> int:
        """The page number this page would have when paging by number."""
        return (self.first - 1) // self.per_page + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


Statement = keyset.Statement


def paginate(
    query: Select | Statement, f: dict, args, per_page: int, counted: Select | Callable[[], Select] | None = None
) -> Page:
    """The page of ``query`` (ordered by :func:`ordering` of ``f``) that ``args`` ask for.

    ``after`` / ``before``: a cursor (:mod:`web.keyset`); else ``page`` (by number; a number past the last page,
    as counted, is the last page: clamped, as every number from a query string is); else the first page.
    ``query`` selects :class:`Lead` objects, or columns including every sort column (rows, cheaper to
    read), or is a :class:`web.keyset.Statement` of such columns (built once per shape of filters);
    ``counted`` is the query whose rows the total counts, or what builds it when a count is due (default
    ``query``: give it when ``query`` joins other tables for its columns, or is a statement).
    """
    key, descending = sort_key(f)
    after = keyset.decode(args.get("after"), key, descending)
    before = None if after else keyset.decode(args.get("before"), key, descending)
    n, counted_at = total(query if counted is None else counted, f)
    if before is not None:  # read backwards from the first row of the page after this one
        found = keyset.seek(query, key, not descending, before, per_page + 1)
        more, items = len(found) > per_page, found[:per_page][::-1]
        first = max(1, before.position - len(items)) if more else 1
        if items:  # else nothing before it any more (deleted meanwhile): the first page
            return _page(items, key, descending, per_page, first, n, counted_at, more, True)
    if after is not None:
        found = keyset.seek(query, key, descending, after, per_page + 1)
        return _page(
            found[:per_page], key, descending, per_page, after.position + 1, n, counted_at, True, len(found) > per_page
        )
    # paging by number: OFFSET (the cursors of its neighbours let the client switch to keyset); a number past
    # the last page (as counted) is the last page
    start = min(_page_number(args) - 1, max(0, n - 1) // per_page) * per_page
    if start > 0:
        built = query.build() if isinstance(query, Statement) else query  # with this request's values
        found = keyset.fetch(built.offset(start).limit(per_page + 1))
        return _page(found[:per_page], key, descending, per_page, start + 1, n, counted_at, True, len(found) > per_page)
    found = keyset.seek(query, key, descending, None, per_page + 1)
    return _page(found[:per_page], key, descending, per_page, 1, n, counted_at, False, len(found) > per_page)


def _page_number(args) -> int:
    try:
        return max(1, min(2**31 - 1, int(args.get("page") or 1)))
    except ValueError:
        return 1


def _page(
    items: list[Lead],
    key: str,
    descending: bool,
    per_page: int,
    first: int,
    n: int,
    counted_at: datetime | None,
    has_prev: bool,
    has_next: bool,
) -> Page:
    # the count may be older than the rows (see the module): the total is at least the last row's position
    page = Page(items, per_page, first, max(n, first + len(items) - 1) if items else n, counted_at)
    if items and has_next:
        page.next_cursor = keyset.cursor_of(items[-1], key, descending, page.last).encode()
    if items and has_prev and first > 1:
        page.prev_cursor = keyset.cursor_of(items[0], key, descending, first).encode()
    return page


def last_id() -> int:
    """The largest lead id (one index lookup), read once per request (or by :func:`web.ranks.overview`)."""
    if "matcher_last_lead" not in g:
        g.matcher_last_lead = db.session.execute(_LAST_ID).scalar() or 0
    return g.matcher_last_lead


_LAST_ID = select(func.max(Lead.id))


def total(query: Select | Callable[[], Select], f: dict) -> tuple[int, datetime | None]:
    """How many rows ``query`` (the list's, for the filters ``f``; or what builds it, when it is counted) gives,
    and when it was counted (see the module)."""

    def counted() -> Select:
        return (query if isinstance(query, Select) else query()).order_by(None)

    seconds = float(current_app.config.get("LEADS_COUNT_SECONDS", COUNT_SECONDS))
    if seconds <= 0:
        return _count(counted()), utcnow()
    return remembered(
        ("total", *filter_key(f)),
        seconds,
        lambda: _count(counted()),
        lambda since, until: _count(counted().where(Lead.id > since, Lead.id <= until)),
    )


def filter_key(f: dict, leave_out: tuple[str, ...] = ("sort", "dir")) -> tuple:
    """The filters ``f`` as a key of remembered figures ("mine" is another list for each user)."""
    user = (g.get("api_user") or acting_user()) if f.get("mine") else None
    return (tuple(sorted((k, v) for k, v in f.items() if v and k not in leave_out)), user.id if user else None)


def remembered(key, seconds: float, count, count_new, add=operator.add) -> tuple:
    """A figure kept by the app's state (``counts``): ``count()`` every ``seconds``, plus ``count_new(since,
    until)`` (the figure for the leads with an id in that range) for leads added meanwhile; (figure, counted at).

    A commit of this process that changes or deletes leads forgets every figure (:func:`forget`); beyond
    the map's size the figures of the filter sets used longest ago are dropped.
    """
    counts = app_state().counts
    last, now = last_id(), time.monotonic()
    hit = counts.get(key)
    if hit is not None and (now - hit[0] < seconds or not counts.claim(key)):
        if hit[1] < last:  # leads added since: count them alone
            hit = counts.put(key, (hit[0], last, add(hit[2], count_new(hit[1], last)), hit[3]))
        return hit[2], hit[3]
    try:
        value = count()
    finally:
        counts.release(key)
    return counts.put(key, (time.monotonic(), last, value, utcnow()))[2:]


def forget() -> None:
    """Forget every remembered figure of this app (a lead was changed or deleted here)."""
    app_state().counts.clear()


@event.listens_for(Session, "after_flush")
def _note_change(session: Session, _context) -> None:
    """A flush that changes or deletes leads or their sectors: forget the figures once it commits (new
    leads are added to them by id)."""
    if any(isinstance(obj, Lead | LeadSector) for obj in (*session.dirty, *session.deleted)):
        session.info["list_counts_stale"] = True


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    if session.info.pop("list_counts_stale", False) and has_app_context():
        forget()


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    session.info.pop("list_counts_stale", None)


def _count(query: Select) -> int:
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()

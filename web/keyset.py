"""Keyset ("seek") pages of the lead list: a page starts after (or ends before) a row's sort value and id.

A cursor names the last row of a page (``after``, for the next page) or its first row
(``before``, for the previous one): the sort, its direction, that row's sort value and id, and
its position in the list (only for the "#" column and "26-50 of ..."; leads added meanwhile
shift it). The next page is then ``WHERE (column, id) < (value, id) ORDER BY column DESC, id
DESC LIMIT n + 1``, which the ``(column, id)`` index answers by seeking to the cursor: page
4,000 costs what page 1 does, where ``OFFSET`` reads and drops every row before it.

Columns that may be empty (completeness, sector, band) sort empty values as the smallest, on
SQLite and PostgreSQL alike: last when descending, first when ascending. Their rows come in
two segments, the filled ones by ``(column, id)`` and the empty ones by ``id``, each read from
the same index; a page that runs past the end of one continues in the next.

A cursor is opaque to clients (base64 of JSON). One for another sort or direction, or one that
does not decode, is ignored: the list starts at its first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, tuple_
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from .appstate import app_state
from .extensions import db, read_rows
from .models import Lead

#: Sort keys of the list and their column.
SORTS = {
    "score": Lead.sort_score,
    "name": Lead.name,
    "completeness": Lead.completeness,
    "status": Lead.status,
    "created": Lead.created_at,
    "sector": Lead.sector,
    "band": Lead.band,
}
#: Sort columns that may be empty: their empty values sort as the smallest (see the module).
NULLABLE = ("completeness", "sector", "band")
#: The Python type of each sort's values in a cursor.
KINDS = {"score": float, "completeness": float, "created": datetime}
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Cursor:
    """A row of the list as a place to page from: its sort value and id, and its position (1 = first)."""

    key: str
    descending: bool
    value: Any
    id: int
    position: int

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps([self.key, int(self.descending), value, self.id, self.position], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_of(lead: Lead, key: str, descending: bool, position: int) -> Cursor:
    """The cursor of ``lead`` (a :class:`Lead` or a row with the sort columns) in the list sorted by ``key``."""
    return Cursor(key, descending, getattr(lead, SORTS[key].key), lead.id, position)


def decode(token: str | None, key: str, descending: bool) -> Cursor | None:
    """The cursor ``token`` names, if it is well formed and for this sort and direction; else None."""
    if not token or len(token) > 16_000:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        k, d, value, row_id, position = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        return None
    if k != key or bool(d) != descending or type(row_id) is not int or type(position) is not int:
        return None
    value = _value(key, value)
    if value is _BAD or not 0 < row_id <= MAX_ID or not 0 < position <= MAX_ID:
        return None
    return Cursor(key, descending, value, row_id, position)


_BAD = object()


def _value(key: str, value: Any) -> Any:
    """A cursor's sort value as the column holds it (``_BAD`` when it cannot be one)."""
    if value is None:
        return None if key in NULLABLE else _BAD
    kind = KINDS.get(key, str)
    try:
        if kind is float:
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _BAD
        if kind is datetime:
            return datetime.fromisoformat(value) if isinstance(value, str) else _BAD
    except ValueError:
        return _BAD
    return value if isinstance(value, str) and len(value) <= 10_000 else _BAD


@dataclass(frozen=True)
class Segment:
    """Rows of the list read from one index range: the filled values of a column, or its empty ones."""

    where: list
    order: list
    empty: bool

    def after(self, column, cursor: Cursor, descending: bool):
        """Condition: the row comes after ``cursor`` in this segment read ``descending``."""
        if self.empty:
            return Lead.id < cursor.id if descending else Lead.id > cursor.id
        key, at = tuple_(column, Lead.id), tuple_(cursor.value, cursor.id)
        return key < at if descending else key > at


def segments(key: str, descending: bool) -> list[Segment]:
    """The list's order as index ranges, read in turn (one for a column that is never empty)."""
    column = SORTS[key]
    direction = (lambda c: c.desc()) if descending else (lambda c: c.asc())
    filled = Segment([column.is_not(None)] if key in NULLABLE else [], [direction(column), direction(Lead.id)], False)
    if key not in NULLABLE:
        return [filled]
    empty = Segment([column.is_(None)], [direction(Lead.id)], True)
    return [filled, empty] if descending else [empty, filled]  # empty values are the smallest


@dataclass(frozen=True)
class Statement:
    """A SELECT of rows of the list whose structure depends on ``shape`` only: ``build()`` builds it with
    this request's values as named parameters, ``params`` are those values by name. :func:`seek` builds
    each of its pages' statements once per app and shape, and runs it with ``params``."""

    shape: tuple
    build: Callable[[], Select]
    params: dict


def seek(query: Select | Statement, key: str, descending: bool, cursor: Cursor | None, limit: int) -> list[Lead]:
    """Up to ``limit`` leads of ``query`` in the order (key, id), ``descending`` or not, after ``cursor``."""
    column, rows = SORTS[key], []
    parts = segments(key, descending)
    if cursor is not None:  # start in the cursor's segment
        parts = parts[next(i for i, s in enumerate(parts) if s.empty == (cursor.value is None and key in NULLABLE)) :]
    for i, part in enumerate(parts):
        after = i == 0 and cursor is not None
        if isinstance(query, Statement):
            rows += _seek_rows(query, key, descending, part, cursor if after else None, limit - len(rows))
        else:
            q = query.order_by(None).where(*part.where).order_by(*part.order)
            if after:
                q = q.where(part.after(column, cursor, descending))
            rows += fetch(q.limit(limit - len(rows)))
        if len(rows) >= limit:
            break
    return rows


def _seek_rows(query: Statement, key: str, descending: bool, part: Segment, cursor: Cursor | None, limit: int):
    """The rows of one segment of a :class:`Statement`, run as built once per app, shape and segment."""
    shape = ("seek", query.shape, key, descending, part.empty, cursor is not None)
    statements = app_state().statements
    statement = statements.get(shape)
    if statement is None:
        statement = statements.put(shape, _seek_statement(query, key, descending, part, cursor is not None))
    params = {**query.params, "k_limit": limit}
    if cursor is not None:
        params.update(k_value=cursor.value, k_id=cursor.id)
    return read_rows(statement, params).all()


def _seek_statement(query: Statement, key: str, descending: bool, part: Segment, after: bool) -> Select:
    column = SORTS[key]
    q = query.build()
    named = {b.key for b in visitors.iterate(q) if isinstance(b, BindParameter) and str(b.key).startswith("f_")}
    if named != set(query.params):  # a value left out would be the first request's for every later one
        raise RuntimeError(f"the statement's parameters {sorted(named)} are not those given: {sorted(query.params)}")
    q = q.order_by(None).where(*part.where).order_by(*part.order)
    if after:
        value, row_id = bindparam("k_value", type_=column.type), bindparam("k_id", type_=Lead.id.type)
        if part.empty:
            q = q.where(Lead.id < row_id if descending else Lead.id > row_id)
        else:
            key_, at = tuple_(column, Lead.id), tuple_(value, row_id)
            q = q.where(key_ < at if descending else key_ > at)
    # Without filters the page's size is written into the statement: PostgreSQL can then plan the prepared
    # statement once (a parameter as the LIMIT makes it plan every run, 0.25 ms of its CPU a page). With
    # filters it stays a parameter, and each run is planned for its own values.
    return q.limit(bindparam("k_limit", type_=Integer, literal_execute=not query.params))


def fetch(query: Select) -> list:
    """The rows of ``query``: :class:`Lead` objects for a SELECT of the entity, named rows for one of columns.

    Through the session: a statement built for this page only, its rows read by name (the ORM's execution
    does not map the cached statement's columns to this one's, which a connection's would).
    """
    result = db.session.execute(query)
    described = query.column_descriptions
    return result.scalars().unique().all() if len(described) == 1 and described[0]["expr"] is Lead else result.all()

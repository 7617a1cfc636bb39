"""Hostile input made harmless at the edges: text cleaned, integers bounded, names cut to their column.

Text: every query argument, form field and JSON body of every request is read through
:class:`Request`, which applies :func:`matcher.values.clean_text` (no control characters but
tab, CR and LF; lone surrogates replaced), so no view sees a NUL. Rows made outside a request
(batch imports, commands) get the same cleaning in a ``before_flush`` hook on every text and
JSON column, so nothing the database cannot hold ever reaches it.

Integers: ids in URLs are bounded by :class:`web.RowIdConverter`; numbers from query strings
are read with :func:`int_arg`, which clamps them to a range the database can take.
"""

from __future__ import annotations

import re

from flask import Request as FlaskRequest
from flask import request
from sqlalchemy import JSON, String, Text, event, inspect
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from matcher.values import clean_data, clean_text

#: The largest id an INTEGER column holds, and so the largest page or id worth asking for.
MAX_INT = 2**31 - 1
#: What a JSON body must hold for one of its strings to need :func:`clean_text`: an escape (``\u0000``,
#: ``\ud800``), DEL or a C1 control character in UTF-8, or a NUL byte (the other control characters
#: are no valid JSON unescaped; a lone surrogate is no valid UTF-8; UTF-16 and UTF-32 bodies hold
#: NULs, so they are cleaned).
_MAY_NEED_CLEANING = re.compile(rb"[\\\x00\x7f]|\xc2[\x80-\x9f]")


class CleanMultiDict(ImmutableMultiDict):
    """Query arguments and form fields with :func:`clean_text` applied to names and values."""

    def __init__(self, mapping=None) -> None:
        if isinstance(mapping, MultiDict):
            pairs = mapping.items(multi=True)
        elif isinstance(mapping, dict):
            pairs = MultiDict(mapping).items(multi=True)
        else:
            pairs = mapping or ()
        super().__init__(
            [(clean_text(k) if isinstance(k, str) else k, clean_text(v) if isinstance(v, str) else v) for k, v in pairs]
        )


class Request(FlaskRequest):
    """The app's request: ``args``, ``form`` and ``get_json()`` give cleaned text (files are untouched)."""

    parameter_storage_class = CleanMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        """The JSON body with every string cleaned (None when it is absent and ``silent``).

        A body in which no string can need cleaning (:data:`_MAY_NEED_CLEANING`, one scan of its
        bytes) is returned as parsed, without walking it.
        """
        data = super().get_json(force=force, silent=silent, cache=cache)
        if data is None or (cache and not _MAY_NEED_CLEANING.search(self.get_data(cache=True))):
            return data
        return clean_data(data)


def int_arg(name: str, default: int, low: int = 1, high: int = MAX_INT) -> int:
    """The integer query argument ``name`` clamped to [low, high]; ``default`` when absent or unreadable."""
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return default
    return max(low, min(high, value))


def fit_name(name: str, limit: int = 255) -> str:
    """A file name cut to ``limit`` characters, keeping its extension (``.csv``) when it has a short one."""
    name = clean_text(name)
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16 or not stem:
        return name[:limit]
    return stem[: limit - len(ext) - 1] + "." + ext


def _clean_row(obj) -> None:
    """Clean the text and JSON attributes of one ORM object in place (only those that need it)."""
    for attr in inspect(obj).mapper.column_attrs:
        if not isinstance(attr.columns[0].type, (String, Text, JSON)) or attr.key not in obj.__dict__:
            continue  # not text, or not loaded (so not changed)
        value = obj.__dict__[attr.key]
        if isinstance(value, (str, dict, list)):
            cleaned = clean_data(value)
            if cleaned != value:
                setattr(obj, attr.key, cleaned)


def _before_flush(session: Session, flush_context, instances) -> None:
    for obj in (*session.new, *session.dirty):
        _clean_row(obj)


def init_app(app) -> None:
    """Read requests through :class:`Request` and clean every row before it is written."""
    app.request_class = Request
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)

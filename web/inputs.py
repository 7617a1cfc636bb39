"""Hostile input made harmless at the edges: text cleaned, integers bounded, names cut to their column.

Text: every query argument, form field and JSON body of every request is read through
:class:`Request`, which applies :func:`matcher.values.clean_text` (no control characters but
tab, CR and LF; lone surrogates replaced), so no view sees a NUL. Rows made outside a request
(batch imports, commands) get the same cleaning in a ``before_flush`` hook on every text and
JSON column, so nothing the database cannot hold ever reaches it.

JSON: bodies are read, and responses written, with orjson where it gives what the standard library
gives (:class:`JSONProvider`), else with the standard library.

Integers: ids in URLs are bounded by :class:`web.RowIdConverter`; numbers from query strings
are read with :func:`int_arg`, which clamps them to a range the database can take.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import Request as FlaskRequest
from flask import Response, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import JSON, String, Text, event, inspect
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from matcher.fields import REGISTRY
from matcher.values import clean_data, clean_text

#: The largest id an INTEGER column holds, and so the largest page or id worth asking for.
MAX_INT = 2**31 - 1
#: What a JSON body must hold for one of its strings to need :func:`clean_text`: an escape of a control
#: character (``\u0000``-``\u001f``, ``\u007f``-``\u009f``, ``\b``, ``\f``) or of a surrogate
#: (``\ud800``), a C1 control character in UTF-8, or (:data:`_MAY_NEED_CLEANING_BYTES`) DEL or a NUL
#: byte (the other control characters are no valid JSON unescaped; a lone surrogate is no valid UTF-8;
#: UTF-16 and UTF-32 bodies hold NULs, so they are cleaned). Other escapes (``\u0416``, as most clients
#: send any non-ASCII letter) give letters, which need no cleaning. One pattern each: a pattern that
#: starts with a fixed text is searched for quickly, an alternation of several is not.
_MAY_NEED_CLEANING = (
    re.compile(rb"\\u00(?:[0189]|7[fF])"),
    re.compile(rb"\\u[dD][89a-fA-F]"),
    re.compile(rb"\\[bf]"),
    re.compile(rb"\xc2[\x80-\x9f]"),
)
_MAY_NEED_CLEANING_BYTES = (b"\x00", b"\x7f")


def may_need_cleaning(body: bytes) -> bool:
    """Whether a JSON body may hold a string that :func:`clean_text` changes (see :data:`_MAY_NEED_CLEANING`)."""
    return any(b in body for b in _MAY_NEED_CLEANING_BYTES) or any(p.search(body) for p in _MAY_NEED_CLEANING)


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

        A body in which no string can need cleaning (:func:`may_need_cleaning`, a few scans of its
        bytes) is returned as parsed, without walking it.
        """
        data = super().get_json(force=force, silent=silent, cache=cache)
        if data is None or (cache and not may_need_cleaning(self.get_data(cache=True))):
            return data
        return clean_data(data)


#: 19 digits in a row (once every digit is read as 0): a number orjson may read otherwise than
#: ``json.loads`` (an integer beyond 64 bits, which it reads as a float).
_LONG_NUMBER = b"0" * 19
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
#: Fewer brackets than this, so no deeper nesting: ``json.loads`` reads it within Python's recursion limit
#: (about 1000 deep less the frames of the request), as orjson does. Deeper, ``json.loads`` raises
#: RecursionError where orjson (which does not recurse) would read a body no view can walk.
_FEW_BRACKETS = 500
#: Sorted keys as Flask sorts them (by code point: UTF-8 bytes sort alike), a newline at the end as Flask
#: writes it. A date, dataclass or subclass of a JSON type goes to Flask's ``default`` as it does with the
#: standard library (a date as an HTTP date, a MultiDict by its ``items()``), or, if that cannot write
#: it, to the standard library itself (:meth:`JSONProvider.response`).
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _no_constant(name: str) -> None:
    """``NaN``, ``Infinity`` and ``-Infinity`` are no JSON (the standard library reads them; orjson does not)."""
    raise ValueError(f"{name} is not a JSON value")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, read and written by orjson (several times faster than the standard library).

    ``loads`` (``request.get_json``): the values ``json.loads`` gives, read by orjson where it can read
    the body (UTF-8 without BOM, no NaN nor Infinity, no number out of range, no lone surrogate), no
    number of 19 digits or more is in it (orjson reads an integer beyond 64 bits as a float) and it has
    fewer than :data:`_FEW_BRACKETS` brackets; else by ``json.loads``, which then also raises what it
    raises (RecursionError when nested too deep), and refuses ``NaN`` and ``Infinity`` as orjson does
    (no JSON: a body holding one is unreadable, not a profile with that field missing).

    ``response`` (``jsonify``): what Flask writes (compact, keys sorted, the same values), but with
    non-ASCII characters as UTF-8 rather than ``\\u`` escapes (valid JSON either way, and a third of
    the bytes for Russian or Vietnamese text), and floats below 1e-4 or from 1e16 on as ``0.00001``,
    ``1e16`` rather than ``1e-05``, ``1e+16``. Flask's own way where orjson cannot write the data (a
    key that is no string, an integer beyond 64 bits, a lone surrogate, a type neither it nor
    ``default`` writes), and when indenting (debug) or not sorting keys. A NaN or infinite float,
    which the standard library writes as ``NaN`` (no JSON), orjson writes as ``null``: no body of the
    app holds one.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        data = s.encode() if isinstance(s, str) else s
        if (
            not kwargs
            and data.count(b"[") + data.count(b"{") < _FEW_BRACKETS
            and _LONG_NUMBER not in data.translate(_DIGITS_AS_ZERO)
        ):
            with suppress(orjson.JSONDecodeError, TypeError):
                return orjson.loads(data)
        kwargs.setdefault("parse_constant", _no_constant)
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.sort_keys and (self.compact or (self.compact is None and not self._app.debug)):
            try:
                obj = self._prepare_response_obj(args, kwargs)
                body = orjson.dumps(obj, default=self.default, option=_ORJSON_OPTIONS)
            except orjson.JSONEncodeError:  # a TypeError: Flask's own writer, below
                body = None
            if body is not None:
                return self._app.response_class(body, mimetype=self.mimetype)
        return super().response(*args, **kwargs)


#: The most characters the JSON API reads of a contract field: the most the self-assessment form takes of
#: any (a description's 5,000; a few hundred OKVED codes fit too). Reading text costs time in proportion to
#: its length (a 20 MB description took 14 s of a worker's CPU); files of any length go to ``/batch``.
API_FIELD_LIMIT = max(f.max_length for f in REGISTRY)


def batch_profiles(body: object) -> object:
    """The profiles of a JSON batch body: the body itself (a list), or its ``profiles`` (an object)."""
    return body.get("profiles") if isinstance(body, dict) else body


#: What a path on this site may not hold: a backslash (browsers read it as a slash) or a control character (a
#: line break would end the Location header it goes into).
_UNSAFE_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/leads?sort=name``), else None: a ``next`` a form or link
    carries is only followed when it cannot lead to another host (no scheme, no ``//`` host) nor break the
    answer's headers."""
    if target and target.startswith("/") and not target.startswith("//") and not _UNSAFE_PATH.search(target):
        with suppress(ValueError):  # e.g. "//[" that urlsplit reads as a broken IPv6 host
            if not urlsplit(target).netloc:
                return target
    return None


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
    """Read requests through :class:`Request`, JSON through :class:`JSONProvider`, and clean every row before
    it is written."""
    app.request_class = Request
    app.json = JSONProvider(app)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)

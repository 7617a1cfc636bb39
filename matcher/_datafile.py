"""What the opportunity and incentive files share with ``sectors.yaml``: parse once, name the line.

:func:`parse` reads a YAML file (or text) into plain data beside its node tree, so that
the :class:`~matcher.config._Checker` of :mod:`matcher.config` can name the line of any key;
:func:`only_keys` refuses a key that is not known (a misspelt ``tragets`` would otherwise be
ignored and a park would silently target nothing).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .config import LANGS, _Checker
from .config import read_checked as parse  # noqa: F401 -- the data files' reader, shared with sectors.yaml

#: How sure a fact is (see the header of ``opportunities.yaml``).
CONFIDENCE = ("stated", "weak", "conflict", "unconfirmed", "inferred", "superseded")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def only_keys(check: _Checker, data: Any, keys: tuple[Any, ...], allowed: Iterable[str]) -> dict:
    """The mapping at ``keys``, refused if it holds a key not in ``allowed`` (naming that key's line)."""
    mapping = check.get(data, keys, dict)
    allowed = tuple(allowed)
    for key in mapping:
        if key not in allowed:
            raise check.fail((*keys, key), f"unknown key {key!r}; known: {', '.join(allowed)}")
    return mapping


def one_of(
    check: _Checker, data: Any, keys: tuple[Any, ...], choices: Iterable[str], required: bool = True
) -> str | None:
    """A text value that must be one of ``choices``."""
    value = check.get(data, keys, str, required=required)
    choices = tuple(choices)
    if value is not None and value not in choices:
        raise check.fail(keys, f"{value!r} is not one of {', '.join(choices)}")
    return value


def date_text(check: _Checker, data: Any, keys: tuple[Any, ...], required: bool = True) -> str | None:
    """A date as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` text (an unquoted YAML date is accepted too)."""
    value = check.get(data, keys, (str, int, _dt.date), required=required)
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, _dt.date) else str(value)
    if not _DATE.match(text):
        raise check.fail(keys, f"must be a date like 2025-12-14, 2025-12 or 2025, not {text!r}")
    return text


def optional_labels(check: _Checker, data: Any, keys: tuple[Any, ...]) -> dict[str, str]:
    """Labels in every language when the key is there, else an empty mapping."""
    if check.get(data, keys, dict, required=False) is None:
        return {}
    return check.labels(data, keys)


def source_list(
    check: _Checker, data: Any, keys: tuple[Any, ...], sources: Mapping[str, Any], required: bool
) -> tuple[str, ...]:
    """A list of source keys, each known; at least one when ``required``."""
    refs = check.get(data, keys, list, required=required) or []
    for i, ref in enumerate(refs):
        if ref not in sources:
            raise check.fail((*keys, i), f"unknown source {ref!r}; known: {', '.join(sources)}")
    if required and not refs:
        raise check.fail(keys, "must name at least one source")
    return tuple(refs)


def read_sources(check: _Checker, data: dict) -> dict[str, dict[str, Any]]:
    """The ``sources`` mapping: each with a title, and optionally publisher, date, url, weak."""
    out = {}
    for key in check.get(data, ("sources",), dict):
        keys = ("sources", key)
        only_keys(check, data, keys, ("title", "publisher", "date", "url", "weak"))
        out[key] = {
            "title": check.get(data, (*keys, "title"), str),
            "publisher": check.get(data, (*keys, "publisher"), str, required=False) or "",
            "date": str(check.get(data, (*keys, "date"), (str, int, _dt.date), required=False) or ""),
            "url": check.get(data, (*keys, "url"), str, required=False) or "",
            "weak": bool(check.get(data, (*keys, "weak"), bool, required=False)),
        }
    return out


def label(texts: Mapping[str, str], lang: str) -> str:
    """``texts`` in ``lang``, else English."""
    return texts.get(lang) or texts.get("en", "")


__all__ = [
    "CONFIDENCE",
    "LANGS",
    "date_text",
    "label",
    "one_of",
    "only_keys",
    "optional_labels",
    "parse",
    "read_sources",
    "source_list",
]

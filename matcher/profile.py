"""The profile data contract: field names, header matching and one-row helpers.

A CSV row, a JSON object and a form all become an Arrow table of string columns named
after :data:`FIELDS`; :mod:`matcher.frame` reads that table into typed columns. The fields, their
header spellings and labels are declared once in :mod:`matcher.fields`. The columns ``matcher
score`` writes are README's "CSV data contract"; the places a new field touches are listed in
docs/architecture.md ("Where to change what").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from .fields import REGISTRY, fields_of

#: Every field of the data contract, in output order; ``name`` is the only required one
#: (declared in the field registry, :mod:`matcher.fields`).
FIELDS = tuple(f.name for f in REGISTRY)
COMMITMENT_FIELDS = tuple(f.name for f in fields_of("commitment"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_DOT_THOUSANDS = re.compile(r"^[0-9]{1,3}\.[0-9]{3}$")
#: Header spellings staff use in spreadsheets, per contract field and language (from the registry).
#: The labels of :data:`matcher.messages.FIELD_LABELS` are accepted too. Matching ignores
#: case, spaces, punctuation, accents and ё/е (:func:`header_key`); ``tests/test_profile.py`` checks
#: that no two fields share a key.
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {f.name: dict(f.aliases) for f in REGISTRY}


def header_key(header: str) -> str:
    """A header as it is compared: letters and digits only, case, accents and ё/е ignored.

    Examples
    --------
    >>> header_key(" Местный партнёр: "), header_key("Vốn đầu tư (USD)"), header_key("tech_transfer")
    ('местныипартнер', 'vondautuusd', 'techtransfer')
    """
    text = unicodedata.normalize("NFKD", header.casefold().replace("ё", "е").replace("đ", "d"))
    return "".join(c for c in text if c.isalnum())


def _header_keys() -> dict[str, str]:
    """Every accepted spelling's :func:`header_key` -> its field (the field's own name first)."""
    from .messages import FIELD_LABELS

    keys = {header_key(name): name for name in FIELDS}
    for name, by_lang in HEADER_ALIASES.items():
        for spellings in by_lang.values():
            keys.update({header_key(s): name for s in spellings})
    for labels in FIELD_LABELS.values():
        keys.update({header_key(label): name for name, label in labels.items()})
    return keys


_HEADER_KEYS = _header_keys()


@lru_cache(maxsize=4096)
def field_for(header: str) -> str | None:
    """The contract field a CSV header names, or ``None`` to pass it through.

    Case, spaces, punctuation and accents do not count; Russian and Vietnamese spellings of
    :data:`HEADER_ALIASES` are accepted.

    Examples
    --------
    >>> field_for(" Investment_USD "), field_for("Notes"), field_for("Передача технологий"), field_for("Đào tạo")
    ('investment_usd', None, 'tech_transfer', 'training')
    """
    key = header_key(header)  # normalising costs more than the lookup: cached (an API request names ~10 keys)
    return _HEADER_KEYS.get(key) if key else None


def ignored_headers(headers: Iterable[str]) -> list[str]:
    """The headers that name no contract field: passed through to the output, not used for scoring.

    Examples
    --------
    >>> ignored_headers(["Название", "Комментарий", "ИНН", ""])
    ['Комментарий', 'ИНН', '']
    """
    return [h for h in headers if field_for(h) is None]


def header_map(headers: Iterable[str]) -> dict[int, str]:
    """Column position -> contract field, for the headers that name one (first wins)."""
    out: dict[int, str] = {}
    for i, header in enumerate(headers):
        name = field_for(header)
        if name and name not in out.values():
            out[i] = name
    return out


def to_cell(value: Any) -> str | None:
    """A JSON or form value as CSV text would give it (lists joined with ``;``, numbers without exponent).

    Examples
    --------
    >>> to_cell(True), to_cell(["62.01", "26.3"]), to_cell(2.5e7), to_cell(120.0), to_cell(1.5), to_cell(None)
    ('yes', '62.01;26.3', '25000000', '120', '1.5', None)
    >>> to_cell(-0.0)
    '0'
    """
    if type(value) is str:  # most values: as they are (what str() gives)
        return value
    if value is None or (isinstance(value, float) and value != value):  # None or NaN: unknown
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, float):  # 1e+20 and 1e-05 as digits: the money reader takes no exponent
        text = np.format_float_positional(value + 0.0, trim="-")  # + 0.0: -0.0 is 0, no sign
        # "1.234" would read as 1234 (a dot grouping thousands); "1.2340" is the number 1.234
        return text + "0" if _DOT_THOUSANDS.match(text) else text
    return str(value)


def valid_text(text: str) -> str:
    """``text`` with unpaired surrogates (which JSON allows, UTF-8 does not) replaced by U+FFFD.

    Examples
    --------
    >>> valid_text("Volga" + chr(0xD800)) == "Volga" + chr(0xFFFD)
    True
    """
    return _SURROGATE.sub("\ufffd", text)


def _string_array(values: list[str | None]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except UnicodeEncodeError:  # rare: only then pay for the clean-up
        return pa.array([None if v is None else valid_text(v) for v in values], pa.string())


@lru_cache(maxsize=4096)
def _column_name(key: str) -> str:
    """The column a key of a JSON object or form lands in (as :func:`table_from_mappings` names it)."""
    return valid_text(field_for(key) or key)


def row_cells(profile: Mapping[str, Any]) -> dict[str, str | None]:
    """The text :func:`table_from_mappings` puts into each column for this profile.

    A key that is the column's own name with a value wins (``{"company": "B", "name": "A"}`` is
    named A); else the first alias with a value (a later alias fills a ``None``). Unpaired
    surrogates become U+FFFD as in the Arrow table.
    """
    cells: dict[str, str | None] = {}
    own: set[str] = set()  # columns given a value under their own name
    for key, value in profile.items():
        name = _column_name(str(key))
        if name in own or (cells.get(name) is not None and key != name):
            continue
        cell = value if type(value) is str else to_cell(value)
        if cell is None and name in cells:
            continue
        cells[name] = cell if cell is None or cell.isascii() else valid_text(cell)
        if key == name and cell is not None:
            own.add(name)
    return cells


def table_from_mappings(rows: Iterable[Mapping[str, Any]]) -> tuple[pa.Table, list[list[str]]]:
    """Build a string table from JSON objects or form data, keeping unknown keys.

    Returns the table (contract fields renamed to their canonical names) and, per row,
    the original keys in order, for passing unknown keys through. Any JSON value is
    accepted: it becomes text, never an exception (one profile must not sink a batch).
    """
    rows = list(rows)
    n_rows = len(rows)
    columns: dict[str, list[str | None]] = {}
    for index, row in enumerate(rows):
        for name, cell in row_cells(row).items():
            column = columns.get(name)
            if column is None:  # a new column: filled once (a default built per cell made this quadratic)
                column = columns[name] = [None] * n_rows
            column[index] = cell
    arrays = {k: _string_array(v) for k, v in columns.items()}
    return pa.table(arrays or {"name": pa.array([None] * len(rows), pa.string())}), [list(r) for r in rows]

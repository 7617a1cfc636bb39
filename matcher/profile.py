"""The profile data contract: field names, header matching and one-row helpers.

A CSV row, a JSON object and a form all become an Arrow table of string columns named
after :data:`FIELDS`; :mod:`matcher.frame` reads that table into typed columns.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

#: Every field of the data contract, in output order; ``name`` is the only required one.
FIELDS = (
    "id", "name", "description", "okved", "sectors", "investment_usd", "employees",
    "tech_transfer", "training", "local_partner", "green", "esg_report", "vietnam_presence",
    "website", "contact_email", "city",
)
COMMITMENT_FIELDS = ("tech_transfer", "training", "local_partner", "green")
#: A few spellings staff use in spreadsheets, mapped to contract names.
ALIASES = {
    "company": "name", "firm": "name", "название": "name", "компания": "name", "tên": "name",
    "описание": "description", "mô tả": "description", "оквэд": "okved", "nace": "okved",
    "investment": "investment_usd", "email": "contact_email", "e-mail": "contact_email",
}


def field_for(header: str) -> str | None:
    """The contract field a CSV header names (case-insensitive), or ``None`` to pass it through.

    Examples
    --------
    >>> field_for(" Investment_USD "), field_for("Notes")
    ('investment_usd', None)
    """
    key = unicodedata.normalize("NFC", header).strip().lstrip("\ufeff").casefold().replace(" ", "_")
    if key in FIELDS:
        return key
    return ALIASES.get(key.replace("_", " "), ALIASES.get(key))


def header_map(headers: Iterable[str]) -> dict[int, str]:
    """Column position -> contract field, for the headers that name one (first wins)."""
    out: dict[int, str] = {}
    for i, header in enumerate(headers):
        name = field_for(header)
        if name and name not in out.values():
            out[i] = name
    return out


def to_cell(value: Any) -> str | None:
    """A JSON or form value as CSV text would give it (lists joined with ``;``)."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN: unknown
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def table_from_mappings(rows: Iterable[Mapping[str, Any]]) -> tuple[pa.Table, list[list[str]]]:
    """Build a string table from JSON objects or form data, keeping unknown keys.

    Returns the table (contract fields renamed to their canonical names) and, per row,
    the original keys in order, for passing unknown keys through.
    """
    rows = list(rows)
    columns: dict[str, list[str | None]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            name = field_for(str(key)) or str(key)
            col = columns.setdefault(name, [None] * len(rows))
            if col[index] is None:
                col[index] = to_cell(value)
    arrays = {k: pa.array(v, pa.string()) for k, v in columns.items()}
    return pa.table(arrays or {"name": pa.array([None] * len(rows), pa.string())}), [list(r) for r in rows]

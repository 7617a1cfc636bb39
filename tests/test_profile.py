"""matcher/profile.py: the table built from JSON objects or form data.

:func:`table_from_mappings` is checked against the plain reference below (the quadratic
version it replaced, which filled each new column with a list built per cell): same
columns, same order, same cells, same original keys, whatever the shape of the rows.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.profile import _string_array, row_cells, table_from_mappings


def reference_table(rows):
    """The table as the former implementation built it: a column list per cell, written in place."""
    rows = list(rows)
    columns: dict[str, list] = {}
    for index, row in enumerate(rows):
        for name, cell in row_cells(row).items():
            columns.setdefault(name, [None] * len(rows))[index] = cell
    arrays = {k: _string_array(v) for k, v in columns.items()}
    return pa.table(arrays or {"name": pa.array([None] * len(rows), pa.string())}), [list(r) for r in rows]


SHAPES = {
    "empty": [],
    "one empty row": [{}],
    "missing keys": [{"name": "A"}, {"description": "only text"}, {}, {"name": "D", "Notes": "x"}],
    "late column": [{"name": "A"}] * 5 + [{"name": "F", "city": "Hanoi"}],
    "aliases and case": [{"Company": "A", "NAME": "B"}, {" name ": None, "firm": "C"}, {"оквэд": "62.01"}],
    "hostile values": [
        {"name": "=1+1", "employees": float("nan"), "green": True, "okved": ["62.01", "26.3"]},
        {"name": "Volga" + chr(0xD800), "investment_usd": 1e20, "extra": {"nested": [1, 2]}},
        {"name": "x" * 10_000, "sectors": ("software",), "local_partner": False, 3: "int key"},
        {"name": None, "training": 0, "city": "", "description": "\x00\r\n\t"},
    ],
    "surrogate key": [{"name": "A", "k" + chr(0xDC00): "v"}],
}


@pytest.mark.parametrize("rows", SHAPES.values(), ids=SHAPES.keys())
def test_table_from_mappings_equals_the_reference(rows):
    table, keys = table_from_mappings(rows)
    expected, expected_keys = reference_table(rows)
    assert table.equals(expected) and table.schema == expected.schema
    assert keys == expected_keys


@pytest.mark.parametrize(
    ("profile", "cells"),
    [
        ({"company": "B", "name": "A"}, {"name": "A"}),  # the field's own name wins over an alias before it
        ({"name": "A", "company": "B"}, {"name": "A"}),
        ({"Employees": "50", "employees": "abc"}, {"employees": "abc"}),  # so its bad value is not hidden
        ({"company": "C", "name": None}, {"name": "C"}),  # an empty own name leaves the alias's value
        ({"name": None, "company": "C"}, {"name": "C"}),
        ({"Company": "A", "firm": "B"}, {"name": "A"}),  # among aliases, the first with a value
        ({"Company": None, "firm": "B"}, {"name": "B"}),
    ],
)
def test_a_fields_own_name_wins_over_its_aliases(profile, cells):
    assert row_cells(profile) == cells


def test_table_from_mappings_takes_a_generator_once():
    table, keys = table_from_mappings({"name": f"F{i}"} for i in range(3))
    assert table.column("name").to_pylist() == ["F0", "F1", "F2"] and keys == [["name"]] * 3


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6), st.lists(st.text(max_size=3), max_size=2)
)
keys = st.one_of(
    st.sampled_from(["name", "Name", "company", "okved", "employees", "green", "Notes"]), st.text(max_size=4)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(keys, scalars, max_size=5), max_size=6))
def test_any_rows_give_the_reference_table(rows):
    table, keys_ = table_from_mappings(rows)
    expected, expected_keys = reference_table(rows)
    assert table.equals(expected) and keys_ == expected_keys


def test_no_two_fields_share_a_header_spelling():
    from collections import defaultdict

    from matcher.fields import LANGS
    from matcher.messages import FIELD_LABELS
    from matcher.profile import FIELDS, HEADER_ALIASES, field_for, header_key

    owners = defaultdict(set)
    for name in FIELDS:
        owners[header_key(name)].add(name)
    for name, by_lang in HEADER_ALIASES.items():
        assert set(by_lang) <= set(LANGS) and name in FIELDS
        for spelling in (s for spellings in by_lang.values() for s in spellings):
            owners[header_key(spelling)].add(name)
            assert field_for(spelling) == name and field_for(spelling.upper() + " ") == name
    for labels in FIELD_LABELS.values():
        for name, label in labels.items():
            owners[header_key(label)].add(name)
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}
    assert set(HEADER_ALIASES) == set(FIELDS)  # every contract column has its RU and VI spellings


def test_headers_of_no_letters_name_no_field():
    from matcher.profile import field_for, ignored_headers

    assert [field_for(h) for h in ("", " ", "#", "—")] == [None] * 4
    assert ignored_headers(["name", "Название", "Note"]) == ["Note"]
